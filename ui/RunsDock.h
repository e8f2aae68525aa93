#pragma once

#include "runbook/Plan.h"
#include "runbook/RunRecord.h"

#include <QDockWidget>
#include <QHash>

class QTreeWidget;
class QTreeWidgetItem;

namespace opsdeck {

class OperationRunner;

// Every operation started in this console, running or finished, like an IDE's background tasks: progress,
// ETA, the current step, cancel, and the report once it ends. Operations keep running while the admin browses.
class RunsDock : public QDockWidget
{
    Q_OBJECT
public:
    explicit RunsDock(QWidget* parent = nullptr);
    ~RunsDock() override;

    // Takes the runner, starts the confirmed plan, and follows it.
    void start(OperationRunner* runner, const Plan& plan, const QString& confirmation);
    int running() const;
    // Reads the journal (off the GUI thread) for runs that have no outcome and whose console is gone, and lists
    // each as "unfinished — recover", with the command that recovers it.
    void showUnfinished(const QString& journalPath);

signals:
    void runFinished(const opsdeck::RunRecord& record);

private:
    struct Row
    {
        OperationRunner* runner = nullptr;
        QTreeWidgetItem* item = nullptr;
        RunRecord record; // once finished
    };

    QTreeWidget* m_list;
    QList<Row> m_rows;
};

} // namespace opsdeck
