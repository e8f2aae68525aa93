#include "runbook/OperationRunner.h"

#include "core/Counted.h"
#include "runbook/Journal.h"
#include "runbook/LockHeartbeat.h"
#include "runbook/RunContext.h"
#include "runbook/RunbookLogging.h"
#include "runbook/UndoWindow.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QMutexLocker>
#include <QUuid>

namespace opsdeck {

OperationRunner::OperationRunner(
    std::unique_ptr<Operation> operation, const JournalLocation& journalLocation, QObject* parent)
    : QObject(parent)
    , m_operation(std::move(operation))
    , m_journalLocation(journalLocation)
    , m_thread(QStringLiteral("runner:") + m_operation->name())
{
    static const bool registered = [] {
        qRegisterMetaType<Plan>();
        qRegisterMetaType<RunRecord>();
        qRegisterMetaType<StepRecord>();
        return true;
    }();
    Q_UNUSED(registered)
    // The operation's connections were made on the runner thread: they end there, after its last job.
    m_thread.atExit([this] { m_operation.reset(); });
}

OperationRunner::~OperationRunner()
{
    // A run in progress is cancelled and finishes its recovery (which needs the thread's event loop) before the
    // thread stops (m_thread, on its way out); jobs not started yet never start.
    {
        QMutexLocker lock(&m_mutex);
        m_closing = true;
        if (m_context)
            m_context->requestCancel();
        while (m_busy > 0)
            m_idle.wait(&m_mutex);
    }
}

void OperationRunner::queue(std::function<void()> job)
{
    m_thread.post([this, job = std::move(job)] {
        {
            QMutexLocker lock(&m_mutex);
            if (m_closing)
                return;
            ++m_busy;
        }
        job();
        QMutexLocker lock(&m_mutex);
        --m_busy;
        m_idle.wakeAll();
    });
}

void OperationRunner::plan()
{
    queue([this] {
        Plan result;
        QString error;
        if (m_operation->makePlan(&result, &error)) {
            listEndedWindows(&result);
            emit planned(result);
        } else
            emit planFailed(error);
    });
}

// The windows this operation ends (those its system keeps on the plan's target: it says which): the expired ones, as
// the first step of its run; and open ones its run makes unrestorable, named in the plan's warnings, as the next.
void OperationRunner::listEndedWindows(Plan* plan) const
{
    Journal journal(m_journalLocation);
    QString error;
    if ((!m_journalLocation.isTeam() && !QFileInfo::exists(m_journalLocation.path)) || !journal.open(&error))
        return; // nothing journaled, nothing kept; a journal that cannot open refuses the run anyway
    const auto windows = UndoWindows::read(journal, &error);
    if (!windows)
        return;
    QJsonArray expired, open;
    QStringList expiredKept, openKept;
    for (const UndoWindow& window : *windows) {
        if (window.state == UndoWindow::State::Expired && m_operation->endsExpired(window)) {
            expired << window.runId;
            plan->undo.endsWindows << QStringLiteral("%1 (%2 by %3, expired %4): %5")
                                          .arg(window.runId, window.operation, window.user, utcMinuteText(window.until),
                                              window.where);
            expiredKept << window.where;
        } else if (window.state == UndoWindow::State::Open) {
            const QString why = m_operation->endsOpen(window);
            if (why.isEmpty())
                continue;
            open << window.runId;
            plan->undo.endsWindows << QStringLiteral("%1 (%2 on %3 by %4, open until %5): %6")
                                          .arg(window.runId, window.operation, window.target, window.user,
                                              utcMinuteText(window.until), why);
            plan->warnings << QStringLiteral("This run ends the undo window of run %1 (%2 on %3): %4. It can no "
                                             "longer be restored afterwards; %5 is deleted.")
                                  .arg(window.runId, window.operation, window.target, why, window.where);
            openKept << window.where;
        }
    }
    if (!open.isEmpty()) {
        plan->parameters.insert(QStringLiteral("endsOpen"), open);
        plan->steps.prepend({ QStringLiteral("end-open-windows"),
            QStringLiteral("End the %1 this run makes unrestorable")
                .arg(counted(open.size(), QStringLiteral("undo window"))),
            QStringLiteral("delete what each keeps: %1").arg(openKept.join(QStringLiteral("; "))),
            QStringLiteral("each is gone, and the journal says the window ended; else nothing else runs") });
    }
    if (!expired.isEmpty()) {
        plan->parameters.insert(QStringLiteral("endsExpired"), expired);
        plan->steps.prepend({ QStringLiteral("end-expired-windows"),
            QStringLiteral("End the %1 of %2")
                .arg(counted(expired.size(), QStringLiteral("expired undo window")), plan->target),
            QStringLiteral("delete what each keeps: %1").arg(expiredKept.join(QStringLiteral("; "))),
            QStringLiteral("each is gone, and the journal says the window ended") });
    }
}

// Before the run's own steps: the open windows the plan named, if they are still open. Each is ended before anything
// its run does makes it unrestorable, so one that cannot be ended stops the run.
bool OperationRunner::endOpenWindows(const Plan& plan, const Journal& journal, RunContext& context)
{
    const QJsonArray ids = plan.parameters.value(QStringLiteral("endsOpen")).toArray();
    if (ids.isEmpty())
        return true;
    context.begin(QStringLiteral("end-open-windows"));
    QString error;
    const auto windows = UndoWindows::read(journal, &error);
    if (!windows) {
        context.fail(QStringLiteral("cannot read the undo windows: %1").arg(error));
        return false;
    }
    QStringList done;
    for (const QJsonValue& id : ids) {
        const auto window = UndoWindows::find(*windows, id.toString());
        if (!window || window->state != UndoWindow::State::Open) {
            done << QStringLiteral("%1: %2 meanwhile, left as it is")
                        .arg(id.toString(), window ? window->stateText() : QStringLiteral("gone"));
            continue;
        }
        if (!m_operation->endWindow(*window, &error)) {
            const QString why
                = QStringLiteral("could not end the undo window of run %1 (%2)").arg(window->runId, error);
            context.fail(why + QStringLiteral("; nothing else was run"), done.join(u'\n'));
            context.record().summary
                = QStringLiteral("Nothing was run: %1. Run %2 can still be restored.").arg(why, window->runId);
            return false;
        }
        context.note(UndoWindow::kClosedKind,
            UndoWindows::closedData(window->runId, UndoWindow::State::Ended,
                QStringLiteral("run %1 (%2 on %3): %4")
                    .arg(context.record().id, plan.operation, plan.target, m_operation->endsOpen(*window))));
        if (!context.journalError().isEmpty()) {
            context.fail(context.journalError());
            return false;
        }
        done << QStringLiteral("%1: deleted %2").arg(window->runId, window->where);
    }
    context.succeed(done.join(u'\n'));
    return true;
}

// Before anything else of the run: the windows the plan listed, if they are still expired (not restored or ended by
// another console meanwhile). A failure is the step's, not the run's: the window stays, and the next run tries again.
void OperationRunner::endExpiredWindows(const Plan& plan, const Journal& journal, RunContext& context)
{
    const QJsonArray ids = plan.parameters.value(QStringLiteral("endsExpired")).toArray();
    if (ids.isEmpty())
        return;
    context.begin(QStringLiteral("end-expired-windows"));
    QString error;
    const auto windows = UndoWindows::read(journal, &error);
    if (!windows) {
        context.fail(QStringLiteral("cannot read the undo windows: %1").arg(error));
        return;
    }
    QStringList done;
    QStringList failed;
    for (const QJsonValue& id : ids) {
        const auto window = UndoWindows::find(*windows, id.toString());
        if (!window || window->state != UndoWindow::State::Expired) {
            done << QStringLiteral("%1: %2 meanwhile, left as it is")
                        .arg(id.toString(), window ? window->stateText() : QStringLiteral("gone"));
            continue;
        }
        if (!m_operation->endWindow(*window, &error)) {
            failed << QStringLiteral("%1: %2").arg(window->runId, error);
            continue;
        }
        context.note(UndoWindow::kClosedKind,
            UndoWindows::closedData(window->runId, UndoWindow::State::Ended,
                QStringLiteral("expired at %1; ended at the next run on %2")
                    .arg(utcMinuteText(window->until), plan.target)));
        done << QStringLiteral("%1: deleted %2").arg(window->runId, window->where);
    }
    if (failed.isEmpty())
        context.succeed(done.join(u'\n'));
    else
        context.fail(QStringLiteral("could not end %1; they stay, and the next run on %2 tries again")
                         .arg(failed.join(QStringLiteral("; ")), plan.target),
            done.join(u'\n'));
}

void OperationRunner::run(const Plan& plan, const QString& confirmation)
{
    queue([this, plan, confirmation] { execute(plan, confirmation); });
}

void OperationRunner::cancel()
{
    QMutexLocker lock(&m_mutex);
    if (m_context)
        m_context->requestCancel();
}

bool OperationRunner::isRunning() const
{
    QMutexLocker lock(&m_mutex);
    return m_context != nullptr;
}

void OperationRunner::execute(const Plan& plan, const QString& confirmation)
{
    if (const QString problem = plan.checkConfirmation(confirmation); !problem.isEmpty()) {
        emit refused(plan.readOnly ? Refusal::ReadOnly : Refusal::Confirmation, problem);
        return;
    }
    if (const QString problem = plan.checkUndo(); !problem.isEmpty()) {
        emit refused(Refusal::Undo, problem);
        return;
    }
    Journal journal(m_journalLocation);
    QString error;
    if (!journal.open(&error)) {
        emit refused(Refusal::Journal,
            QStringLiteral("cannot open the journal %1: %2. Nothing was run: every run must be journaled.")
                .arg(m_journalLocation.describe(), error));
        return;
    }
    RunRecord record;
    record.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    record.operation = plan.operation;
    record.target = plan.target;
    record.environment = plan.environment();
    record.user = Journal::localUser();
    record.confirmation = confirmation;
    record.parameters = plan.parameters;
    record.setCountWords(plan);
    record.startedAt = QDateTime::currentDateTimeUtc();
    record.undo = plan.undo;

    Journal::LockHolder holder;
    switch (journal.acquireLock(plan.lockName(), record.id, &holder, &error)) {
    case Journal::LockResult::Acquired:
        break;
    case Journal::LockResult::HeldByOther:
        emit refused(Refusal::Locked,
            QStringLiteral("%1 is locked by %2 since %3: another console is running an operation on it%4. "
                           "Nothing was run.")
                .arg(plan.lockName(), holder.holder, holder.since.toLocalTime().toString(Qt::ISODate),
                    holder.leaseUntil.isValid()
                        ? QStringLiteral(" (its console renews the lock; if it stops, the lock is free at %1)")
                              .arg(holder.leaseUntil.toLocalTime().toString(Qt::ISODate))
                        : QString()));
        return;
    case Journal::LockResult::Error:
        emit refused(Refusal::Journal, QStringLiteral("cannot lock %1 in the journal: %2").arg(plan.lockName(), error));
        return;
    }

    // A restore takes back a window that is open by the journal's clock, and a trash purge ends one, under the lock:
    // a second console's restore of it, or one that waited past its end, is refused here whatever its plan read.
    if (const QString restores = plan.parameters.value(QStringLiteral("restores"))
                                     .toString(plan.parameters.value(QStringLiteral("ends")).toString());
        !restores.isEmpty()) {
        const auto windows = UndoWindows::read(journal, &error);
        const auto window = windows ? UndoWindows::find(*windows, restores) : std::nullopt;
        if (!window || window->state != UndoWindow::State::Open) {
            journal.releaseLock(plan.lockName(), record.id);
            emit refused(windows ? Refusal::Undo : Refusal::Journal,
                !windows
                    ? QStringLiteral("cannot read the undo windows of the journal: %1. Nothing was run.").arg(error)
                    : window
                    ? QStringLiteral("the undo window of run %1 is %2: nothing was run.")
                          .arg(restores, window->stateText())
                    : QStringLiteral("run %1 kept no undo window in this journal: nothing was run.").arg(restores));
            return;
        }
    }

    RunContext context(&record, plan, &journal,
        [this](const StepRecord& step, double fraction, qint64 eta) { emit progressed(step, fraction, eta); });
    auto heartbeat = std::make_unique<LockHeartbeat>(m_journalLocation, plan.lockName(), record.id,
        [&context](const QString& why) { context.stopBeforeNextStep(why); });
    {
        QMutexLocker lock(&m_mutex);
        m_context = &context;
    }
    context.note(QStringLiteral("plan"), plan.toJson());
    // Who runs it, so that a console that died without an outcome is noticed (Journal::unfinishedRuns).
    QJsonObject confirm = Journal::consoleIdentity();
    confirm.insert(QStringLiteral("confirmation"), confirmation);
    if (plan.undo.available)
        confirm.insert(QStringLiteral("undo"),
            plan.undo.enabled ? QStringLiteral("kept")
                              : QStringLiteral("turned off: ") + plan.undo.offReason.trimmed());
    context.note(QStringLiteral("confirm"), confirm);
    qCInfo(lcRunbook) << "run" << record.id << plan.operation << "on" << plan.target << "by" << record.user;

    endExpiredWindows(plan, journal, context);
    const bool ok = endOpenWindows(plan, journal, context) && m_operation->execute(plan, context);
    heartbeat.reset(); // the lock is the run's until it is released below; its lease outlasts the bookkeeping
    context.skipRemaining();
    {
        QMutexLocker lock(&m_mutex);
        m_context = nullptr;
    }
    const QString journalError = context.journalError();
    record.outcome = !journalError.isEmpty() ? RunRecord::Outcome::Failed
        : context.cancelled()                ? RunRecord::Outcome::Cancelled
        : ok                                 ? RunRecord::Outcome::Succeeded
                                             : RunRecord::Outcome::Failed;
    if (!journalError.isEmpty())
        record.summary
            = QStringLiteral("Stopped: %1. No step was started after that. %2").arg(journalError, record.summary);
    record.finishedAt = QDateTime::currentDateTimeUtc();
    context.note(QStringLiteral("outcome"),
        { { QStringLiteral("outcome"), RunRecord::outcomeName(record.outcome) },
            { QStringLiteral("summary"), record.summary } });
    if (!context.leftOpen().isEmpty())
        context.note(QStringLiteral("left-open"), { { QStringLiteral("why"), context.leftOpen() } });
    // A recovery run closes the run it recovered once the target is safe again (until then that run stays listed
    // as unfinished).
    if (const QString recovered = plan.parameters.value(QStringLiteral("recovers")).toString(); !recovered.isEmpty()
        && record.outcome == RunRecord::Outcome::Succeeded
        && !journal.append(recovered, QStringLiteral("outcome"), plan.operation, plan.target,
            { { QStringLiteral("outcome"), RunRecord::outcomeName(RunRecord::Outcome::Failed) },
                { QStringLiteral("summary"),
                    QStringLiteral("Recovered by run %1: %2").arg(record.id, record.summary) } },
            &error))
        qCCritical(lcRunbook) << "could not close run" << recovered << "after recovering it:" << error;
    // A restore ends the window it took back, once it succeeded (until then the window stays open, to try again).
    if (const QString restored = plan.parameters.value(QStringLiteral("restores")).toString();
        !restored.isEmpty() && record.outcome == RunRecord::Outcome::Succeeded)
        context.note(
            UndoWindow::kClosedKind, UndoWindows::closedData(restored, UndoWindow::State::Restored, record.summary));
    if (!journal.saveRun(record, &error, &record.journalAnchor))
        qCCritical(lcRunbook) << "could not save the record of run" << record.id << ":" << error;
    journal.releaseLock(plan.lockName(), record.id);
    emit finished(record);
}

} // namespace opsdeck
