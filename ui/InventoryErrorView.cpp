#include "InventoryErrorView.h"

#include "ListTable.h"
#include "StatusIcons.h"
#include "core/Counted.h"

#include <QFileInfo>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace opsdeck {

InventoryErrorView::InventoryErrorView(const QString& path, const QList<InventoryError>& errors, QWidget* parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("inventoryErrorView"));
    auto* layout = new QVBoxLayout(this);
    auto* heading = new QHBoxLayout;
    auto* icon = new QLabel(this);
    icon->setPixmap(StatusIcons::icon(StatusIcons::Kind::Error).pixmap(32, 32));
    heading->addWidget(icon);
    heading->addWidget(new QLabel(tr("<h2>The inventory cannot be used</h2>"), this), 1);
    layout->addLayout(heading);
    auto* explanation = new QLabel(tr("opsdeck reads its targets from <b>%1</b>. It found %2, listed below; "
                                      "nothing was connected to. Fix the file and reload, or open another "
                                      "inventory. <i>opsdeck check --inventory FILE</i> prints the same list.")
                                       .arg(path.toHtmlEscaped(), counted(errors.size(), tr("problem"))),
        this);
    explanation->setWordWrap(true);
    layout->addWidget(explanation);

    auto* list = new QTreeWidget(this);
    list->setObjectName(QStringLiteral("inventoryErrors"));
    list->setHeaderLabels({ tr("Where"), tr("Problem") });
    list->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    setUpListTree(list);
    for (const InventoryError& error : errors) {
        auto* item = new QTreeWidgetItem(list);
        item->setText(0, error.where());
        item->setText(1, error.message);
        item->setToolTip(1, error.toString());
    }
    fitColumns(list);
    layout->addWidget(list, 1);

    auto* buttons = new QHBoxLayout;
    buttons->addStretch(1);
    if (!QFileInfo::exists(path)) {
        // First run: there is no inventory yet, and the template is the quickest way to one.
        auto* create = new QPushButton(tr("Create it from the template"), this);
        buttons->addWidget(create);
        connect(create, &QPushButton::clicked, this, &InventoryErrorView::createRequested);
    }
    auto* open = new QPushButton(tr("Open another inventory…"), this);
    auto* reload = new QPushButton(tr("Reload"), this);
    reload->setDefault(true);
    buttons->addWidget(open);
    buttons->addWidget(reload);
    layout->addLayout(buttons);
    connect(reload, &QPushButton::clicked, this, &InventoryErrorView::reloadRequested);
    connect(open, &QPushButton::clicked, this, &InventoryErrorView::openRequested);
}

} // namespace opsdeck
