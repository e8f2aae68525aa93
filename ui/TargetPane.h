#pragma once

#include "SystemPane.h"
#include "TargetStatusModel.h"

class QLabel;
class QLineEdit;
class QPushButton;
class QSortFilterProxyModel;
class QStackedWidget;
class QTableView;

namespace opsdeck {

class PaneHeader;

// One system's pane: its inventory targets with the reachability of the hosts that reach them, a filter, and
// a plain statement of what the pane can do so far.
class TargetPane : public SystemPane
{
    Q_OBJECT
public:
    struct Text
    {
        QString title;
        QString summary; // what the system is and how opsdeck reaches it
        QString scope; // what this pane does not do yet, said plainly; empty when nothing is missing
        QString empty; // shown when the inventory has no targets for it
    };

    TargetPane(const Text& text, TargetStatusModel* model, QWidget* parent = nullptr);

    TargetStatusModel* model() const { return m_model; }
    QTableView* view() const { return m_view; }
    // The inventory host of the selected row, or empty.
    QString selectedHost() const override;
    void setHostKeyActionEnabled(bool enabled) override;
    // The inventory hosts that reach this pane's targets.
    QStringList hosts() const override;
    void updateHost(const HostStatus& status) override;
    QAbstractItemView* targetView() const override;

signals:
    void checkAgainRequested(const QStringList& hosts);
    void hostKeyRequested(const QString& host);
    void selectionChanged();

private:
    void updateEmptyState();
    const TargetStatusModel::Target* selectedTarget() const;

    Text m_text;
    TargetStatusModel* m_model;
    QSortFilterProxyModel* m_proxy;
    QTableView* m_view;
    QLineEdit* m_filter;
    QLabel* m_emptyLabel;
    QPushButton* m_hostKeyButton;
    QPushButton* m_checkAgainButton;
    QStackedWidget* m_body;
    PaneHeader* m_header;
};

} // namespace opsdeck
