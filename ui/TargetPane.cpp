#include "TargetPane.h"

#include "ListTable.h"
#include "NaturalSortProxyModel.h"
#include "PaneHeader.h"
#include "TargetStatusModel.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QStackedWidget>
#include <QTableView>
#include <QVBoxLayout>

namespace opsdeck {

TargetPane::TargetPane(const Text& text, TargetStatusModel* model, QWidget* parent)
    : SystemPane(parent)
    , m_text(text)
    , m_model(model)
    , m_proxy(new NaturalSortProxyModel(this))
    , m_view(new QTableView(this))
    , m_filter(new QLineEdit(this))
    , m_emptyLabel(new QLabel(text.empty, this))
    , m_hostKeyButton(new QPushButton(tr("Review host &key…"), this))
    , m_checkAgainButton(new QPushButton(tr("Check &again"), this))
    , m_body(new QStackedWidget(this))
    , m_header(new PaneHeader(text.title, this))
{
    model->setParent(this);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_header);
    auto* summary = new QLabel(text.summary, this);
    summary->setWordWrap(true);
    layout->addWidget(summary);
    if (!text.scope.isEmpty()) {
        auto* scope = new QLabel(text.scope, this);
        scope->setObjectName(QStringLiteral("scopeNotice"));
        scope->setWordWrap(true);
        scope->setStyleSheet(QStringLiteral("QLabel { background: #fff8e1; border: 1px solid #ffcc80; "
                                            "border-radius: 4px; padding: 6px; color: #5d4037; }"));
        layout->addWidget(scope);
    }

    auto* bar = new QHBoxLayout;
    m_filter->setPlaceholderText(tr("Filter…"));
    m_filter->setClearButtonEnabled(true);
    bar->addWidget(m_filter, 1);
    m_checkAgainButton->setToolTip(tr("Connect to the hosts of this pane again (F5 checks every host)"));
    bar->addWidget(m_checkAgainButton);
    m_hostKeyButton->setToolTip(tr("Review the selected host's key: trust an unknown key, or see why a changed key "
                                   "is refused"));
    m_hostKeyButton->setEnabled(false);
    bar->addWidget(m_hostKeyButton);
    layout->addLayout(bar);

    m_proxy->setSourceModel(model);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_proxy->setFilterKeyColumn(-1);
    m_view->setObjectName(QStringLiteral("hosts"));
    m_view->setModel(m_proxy);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(0, Qt::AscendingOrder);
    setUpListTable(m_view);
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    // The table and the "nothing declared" note share one slot that takes the spare height.
    m_emptyLabel->setAlignment(Qt::AlignHCenter | Qt::AlignTop);
    m_emptyLabel->setStyleSheet(QStringLiteral("color: palette(mid); padding: 24px;"));
    m_body->addWidget(m_view);
    m_body->addWidget(m_emptyLabel);
    layout->addWidget(m_body, 1);

    connect(m_filter, &QLineEdit::textChanged, m_proxy, &QSortFilterProxyModel::setFilterFixedString);
    connect(m_checkAgainButton, &QPushButton::clicked, this, [this] { emit checkAgainRequested(hosts()); });
    connect(m_hostKeyButton, &QPushButton::clicked, this, [this] { emit hostKeyRequested(selectedHost()); });
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, &TargetPane::selectionChanged);
    connect(this, &TargetPane::selectionChanged, this, [this] {
        const TargetStatusModel::Target* target = selectedTarget();
        m_header->setProduction(target && target->production, target ? target->cells.value(0) : QString());
    });
    connect(model, &QAbstractItemModel::modelReset, this, &TargetPane::updateEmptyState);
    connect(model, &QAbstractItemModel::dataChanged, this, [this] { fitColumns(m_view); });
    updateEmptyState();
}

const TargetStatusModel::Target* TargetPane::selectedTarget() const
{
    const QModelIndexList rows = m_view->selectionModel()->selectedRows();
    return rows.isEmpty() ? nullptr : &m_model->target(m_proxy->mapToSource(rows.first()).row());
}

QString TargetPane::selectedHost() const
{
    const TargetStatusModel::Target* target = selectedTarget();
    return target ? target->host : QString();
}

void TargetPane::setHostKeyActionEnabled(bool enabled)
{
    m_hostKeyButton->setEnabled(enabled);
}

QStringList TargetPane::hosts() const
{
    QStringList names;
    for (int row = 0; row < m_model->rowCount(); ++row) {
        const QString host = m_model->target(row).host;
        if (!host.isEmpty() && !names.contains(host))
            names << host;
    }
    return names;
}

void TargetPane::updateHost(const HostStatus& status)
{
    m_model->updateHost(status);
}

void TargetPane::updateEmptyState()
{
    const bool empty = m_model->rowCount() == 0;
    m_body->setCurrentWidget(empty ? static_cast<QWidget*>(m_emptyLabel) : m_view);
    m_filter->setEnabled(!empty);
    m_checkAgainButton->setEnabled(!hosts().isEmpty());
    fitColumns(m_view);
}

QAbstractItemView* TargetPane::targetView() const
{
    return m_view;
}

} // namespace opsdeck
