#pragma once

#include "runbook/Journal.h"
#include "runbook/LiveRuns.h"
#include "runbook/Plan.h"
#include "runbook/RunRecord.h"

#include <QDateTime>
#include <QDockWidget>
#include <QHash>

#include <functional>

class QSystemTrayIcon;
class QTimer;
class QToolButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace opsdeck {

class JournalWatcher;
class OperationRunner;

// Every operation started in this console, running or finished, like an IDE's background tasks: progress,
// ETA, the current step, cancel, and the report once it ends. Operations keep running while the admin browses.
// Below them, the runs of the other consoles on the same journal (the team's, or other processes on this machine),
// live: who runs what on which target, and which step it is at.
class RunsDock : public QDockWidget
{
    Q_OBJECT
public:
    explicit RunsDock(QWidget* parent = nullptr);
    ~RunsDock() override;

    // Takes the runner, starts the confirmed plan, and follows it.
    void start(OperationRunner* runner, const Plan& plan, const QString& confirmation);
    int running() const;
    // This console's runs that ended (or were refused), as listed now: what "Clear finished" takes away.
    int finished() const;
    // Reads the journal (off the GUI thread) for runs that have no outcome and whose console is gone, and lists
    // each as "unfinished — recover" (in place of those listed before). A run whose operation `recoverable` names
    // gets "Recover…" (recoverRequested); the others the command to type in a terminal, and why. Every such row has
    // "Copy recover command" in its context menu.
    void showUnfinished(
        const JournalLocation& journalLocation, std::function<bool(const QString& operation)> recoverable = {});

    // Follows `journalLocation` (in place of the journal followed before) for the runs of other consoles, and lists
    // each one, live, until it ended and LiveRuns forgets it. A run whose console died on this machine shows once
    // showUnfinished's list came (called first), and only if that list does not have it.
    void followOtherConsoles(const JournalLocation& journalLocation);
    // The other consoles' runs listed now.
    QList<LiveRun> runsElsewhere() const;
    // Which operations' runs can be taken back here: a finished run of one that kept an undo window gets "Undo…".
    void setRestorable(std::function<bool(const QString& operation)> restorable)
    {
        m_restorable = std::move(restorable);
    }

    // How a long run's end is told while no window of the console is in front: by default a tray message where there
    // is a system tray, else QApplication::alert on the window. Tests put their own here.
    using Notifier = std::function<void(const QString& title, const QString& message)>;
    void setNotifier(Notifier notifier) { m_notify = std::move(notifier); }
    // A run that took longer than this is told when it ends (if no window of the console is in front).
    void setNotifyAfter(qint64 milliseconds) { m_notifyAfterMs = milliseconds; }
    static constexpr qint64 kNotifyAfterMs = 10000;

public slots:
    // Takes away the rows of this console's runs that ended; the running ones, the unfinished ones to recover and the
    // other consoles' stay.
    void clearFinished();

signals:
    void runFinished(const opsdeck::RunRecord& record);
    // The other consoles' runs changed (one started, went on, ended or stopped).
    void runsElsewhereChanged(const QList<opsdeck::LiveRun>& runs);
    // "Recover…" of an unfinished run: the console routes it to the pane that recovers its operation.
    void recoverRequested(const opsdeck::Journal::UnfinishedRun& run);
    // "Undo…" of a finished run that kept an undo window: the console routes it to the pane that restores it.
    void restoreRequested(const opsdeck::RunRecord& record);

private:
    struct Row
    {
        OperationRunner* runner = nullptr;
        QTreeWidgetItem* item = nullptr;
        RunRecord record; // once finished
        QDateTime started;
        qint64 eta = -1; // seconds left as last reported; -1: unknown
        bool ended = false; // finished or refused
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
    void showRunsElsewhere(const QList<LiveRun>& runs);
    void showRunElsewhere(QTreeWidgetItem* item, const LiveRun& run);
    // A recovery of the listed run `runId` started (`runner`): its row says so until the recovery ends.
    void followRecovery(const QString& runId, OperationRunner* runner);
    void showContextMenu(const QPoint& position);
    // The row of `runner` (rows go when cleared, so they are found by their runner).
    Row* rowOf(const OperationRunner* runner);
    void updateClearButton();
    // Tells of `record`'s end if it took long and no window of the console is in front.
    void notifyEnded(const RunRecord& record, const QDateTime& started);
    void notify(const QString& title, const QString& message);
    // The Time column of a running row, from its last estimate and how long it has run.
    void showTime(const Row& row);
    // That of each running row; the clock stops once none runs.
    void showTimes();

    QTreeWidget* m_list;
    QToolButton* m_clear;
    QSystemTrayIcon* m_tray = nullptr; // made when first needed, where there is a tray
    Notifier m_notify;
    qint64 m_notifyAfterMs = kNotifyAfterMs;
    QList<Row> m_rows;
    QTimer* m_clock; // a step that prints nothing for minutes still shows its run's time going on
    QHash<QString, Unfinished> m_unfinished; // by run id
    QList<QTreeWidgetItem*> m_recovered; // rows of unfinished runs that a recovery here closed
    bool m_unfinishedRead = false; // showUnfinished's list came
    QString m_thisMachine = Journal::consoleIdentity().value(QStringLiteral("host")).toString();
    JournalWatcher* m_watcher = nullptr;
    QHash<QString, QTreeWidgetItem*> m_elsewhere; // the other consoles' runs, by run id
    std::function<bool(const QString& operation)> m_restorable;
};

} // namespace opsdeck
