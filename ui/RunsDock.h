#pragma once

#include "runbook/Journal.h"
#include "runbook/Plan.h"
#include "runbook/RunRecord.h"

#include <QDateTime>
#include <QDockWidget>
#include <QHash>

#include <functional>

class QTimer;
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
    // each as "unfinished — recover" (in place of those listed before). A run whose operation `recoverable` names
    // gets "Recover…" (recoverRequested); the others the command to type in a terminal, and why. Every such row has
    // "Copy recover command" in its context menu.
    void showUnfinished(
        const JournalLocation& journalLocation, std::function<bool(const QString& operation)> recoverable = {});

signals:
    void runFinished(const opsdeck::RunRecord& record);
    // "Recover…" of an unfinished run: the console routes it to the pane that recovers its operation.
    void recoverRequested(const opsdeck::Journal::UnfinishedRun& run);

private:
    struct Row
    {
        OperationRunner* runner = nullptr;
        QTreeWidgetItem* item = nullptr;
        RunRecord record; // once finished
        QDateTime started;
        qint64 eta = -1; // seconds left as last reported; -1: unknown
    };

    // A run of the journal left without an outcome, listed until a recovery started here closes it.
    struct Unfinished
    {
        QTreeWidgetItem* item = nullptr;
        Journal::UnfinishedRun run;
        bool recoverable = false;
        bool recovering = false; // a recovery started here runs
    };

    void offerRecovery(const Unfinished& unfinished);
    // A recovery of the listed run `runId` started (`runner`): its row says so until the recovery ends.
    void followRecovery(const QString& runId, OperationRunner* runner);
    void showContextMenu(const QPoint& position);
    // The Time column of a running row, from its last estimate and how long it has run.
    void showTime(const Row& row);
    // That of each running row; the clock stops once none runs.
    void showTimes();

    QTreeWidget* m_list;
    QList<Row> m_rows;
    QTimer* m_clock; // a step that prints nothing for minutes still shows its run's time going on
    QHash<QString, Unfinished> m_unfinished; // by run id
};

} // namespace opsdeck
