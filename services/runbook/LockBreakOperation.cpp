#include "runbook/LockBreakOperation.h"

#include "runbook/Journal.h"
#include "runbook/RunContext.h"

#include <QJsonArray>
#include <QSysInfo>

using namespace Qt::StringLiterals;

namespace opsdeck {

namespace {

const QString kBreakStep = u"break"_s;

QString local(const QDateTime& time)
{
    return time.isValid() ? time.toLocalTime().toString(u"yyyy-MM-dd HH:mm:ss"_s) : u"-"_s;
}

// What the holding run's entries say: what it was, how far it got, whether it ended.
struct HolderRun
{
    QString operation;
    QString lastStep; // the last step it started, "" if none
    QDateTime lastEntryAt;
    QString outcome; // "" while it has none
};

HolderRun readHolderRun(const Journal& journal, const QString& runId, QString* error)
{
    HolderRun run;
    for (const JournalEntry& entry : journal.entries(runId, error)) {
        run.lastEntryAt = entry.at;
        if (entry.kind == u"plan"_s)
            run.operation = entry.operation;
        else if (entry.kind == u"step-start"_s)
            run.lastStep = entry.data.value(u"step"_s).toString();
        else if (entry.kind == u"outcome"_s)
            run.outcome = entry.data.value(u"outcome"_s).toString();
    }
    return run;
}

} // namespace

LockBreakOperation::LockBreakOperation(JournalLocation journal, QString target, QString reason)
    : m_journal(std::move(journal))
    , m_target(std::move(target))
    , m_reason(std::move(reason))
{
}

QString LockBreakOperation::checkReason(const QString& reason)
{
    return reasonError(reason, u"the lock must be broken"_s);
}

bool LockBreakOperation::makePlan(Plan* plan, QString* error)
{
    if (const QString problem = checkReason(m_reason); !problem.isEmpty()) {
        *error = problem;
        return false;
    }
    if (m_target.isEmpty()) {
        *error = u"target: empty; name a lock as opsdeck lock list shows it"_s;
        return false;
    }
    Journal journal(m_journal);
    if (!journal.open(error))
        return false;
    QString failure;
    const auto held = journal.lock(m_target, &failure);
    if (!failure.isEmpty()) {
        *error = failure;
        return false;
    }
    if (!held) {
        *error = u"no lock is held on \"%1\" in the journal %2: nothing to break (opsdeck lock list shows the locks)"_s
                     .arg(m_target, journal.describe());
        return false;
    }
    const Journal::LockHolder& holder = held->holder;
    const HolderRun run = readHolderRun(journal, holder.runId, &failure);
    if (!failure.isEmpty()) {
        *error = failure;
        return false;
    }
    const qint64 leaseLeft
        = holder.leaseUntil.isValid() && !held->leaseRanOut ? held->judgedAt.secsTo(holder.leaseUntil) : 0;

    plan->operation = name();
    plan->target = m_target;
    plan->targetName = m_target;
    plan->lock = u"lock-break:"_s + m_target; // the target's own lock is the one being broken
    plan->verb = u"Break the lock on"_s;
    plan->typedConfirmation = true;
    plan->irreversible = true;
    plan->parameters
        = { { u"holderRunId"_s, holder.runId }, { u"holder"_s, holder.holder }, { u"reason"_s, m_reason } };
    plan->counts = { { u"locks"_s, u"Locks to break"_s, 1,
                         u"The journal's lock on the target, held by the run named in the parameters."_s },
        { u"leaseSecondsLeft"_s, u"Seconds left on its lease (0: none)"_s, leaseLeft,
            u"How long the lock would still hold by itself if its console stopped renewing it."_s } };
    plan->steps = { { kBreakStep, u"Break the lock on %1 held by run %2"_s.arg(m_target, holder.runId),
        u"DELETE FROM locks WHERE target = '%1' AND run_id = '%2'"_s.arg(
            QString(m_target).replace(u'\'', u"''"_s), holder.runId),
        u"the journal's lock on %1 no longer names run %2"_s.arg(m_target, holder.runId) } };

    const QString console = held->holderGoneHere ? u"no longer runs on this machine"_s
        : holder.machine == QSysInfo::machineHostName()
        ? u"still runs on this machine"_s
        : u"runs on %1, which cannot be checked from here"_s.arg(holder.machine);
    plan->detailText
        = u"Lock on %1\n  held by %2; its console %3\n  run %4: %5, last step %6, last journaled %7%8\n"
          "  since %9\n  lease: %10\n  reason: %11"_s.arg(m_target, holder.holder, console, holder.runId,
              run.operation.isEmpty() ? u"(no plan journaled)"_s : run.operation,
              run.lastStep.isEmpty() ? u"none"_s : run.lastStep, local(run.lastEntryAt),
              run.outcome.isEmpty() ? u", no outcome yet"_s : u", ended "_s + run.outcome, local(holder.since),
              !holder.leaseUntil.isValid() ? u"none (taken before leases: it never runs out)"_s
                  : held->leaseRanOut      ? u"ran out at %1"_s.arg(local(holder.leaseUntil))
                                           : u"renewed until %1"_s.arg(local(holder.leaseUntil)),
              m_reason);
    plan->details = { { u"holder"_s, holder.holder }, { u"runId"_s, holder.runId }, { u"machine"_s, holder.machine },
        { u"pid"_s, holder.pid }, { u"since"_s, holder.since.toString(Qt::ISODateWithMs) },
        { u"leaseUntil"_s, holder.leaseUntil.toString(Qt::ISODateWithMs) }, { u"leaseRanOut"_s, held->leaseRanOut },
        { u"operation"_s, run.operation }, { u"lastStep"_s, run.lastStep }, { u"outcome"_s, run.outcome } };

    if (holder.leaseUntil.isValid() && !held->leaseRanOut && !held->holderGoneHere)
        plan->warnings << u"Its console renews the lock (%1 s left on its lease): run %2 is probably still going. "
                          "Breaking the lock lets another run start on %3 while it does; its console stops it before "
                          "its next step when its next renewal fails, but a step in progress runs to its end. Stop "
                          "that console first if you can."_s.arg(leaseLeft)
                              .arg(holder.runId, m_target);
    if (held->leaseRanOut || held->holderGoneHere)
        plan->warnings << u"The next run on %1 takes this lock over on its own (%2): breaking it is not needed to "
                          "start one."_s.arg(m_target,
                              held->holderGoneHere ? u"its console no longer runs"_s : u"its lease ran out"_s);
    if (run.outcome.isEmpty())
        plan->warnings << u"Run %1 has no outcome: %2 may be half done. Check it (opsdeck journal unfinished, opsdeck "
                          "recover) before another operation runs on it."_s.arg(holder.runId, m_target);
    return true;
}

bool LockBreakOperation::execute(const Plan& plan, RunContext& context)
{
    const QString holderRunId = plan.parameters.value(u"holderRunId"_s).toString();
    const QString reason = plan.parameters.value(u"reason"_s).toString();
    context.begin(kBreakStep);
    Journal journal(m_journal);
    QString error;
    if (!journal.open(&error)) {
        context.fail(error);
        context.record().summary = u"The lock on %1 was not broken: %2"_s.arg(plan.target, error);
        return false;
    }
    QString breakError;
    const bool broke = journal.breakLock(plan.target, holderRunId, context.record().id, reason, &breakError);
    // What counts is the lock as it is now, read back, not what the call answered (a commit whose answer was lost
    // may have happened).
    QString readError;
    const auto now = journal.lock(plan.target, &readError);
    if (!readError.isEmpty()) {
        const QString why = u"%1; the lock could not be read back: %2. opsdeck lock list shows it."_s.arg(
            broke ? u"the lock was broken"_s : breakError, readError);
        context.fail(why);
        context.record().summary = u"Unknown whether the lock on %1 is broken: %2"_s.arg(plan.target, why);
        return false;
    }
    const QString state = !now
        ? u"%1 is not locked now"_s.arg(plan.target)
        : u"%1 is locked by %2 (run %3) now"_s.arg(plan.target, now->holder.holder, now->holder.runId);
    if (now && now->holder.runId == holderRunId) {
        context.fail(u"the lock still names run %1: %2"_s.arg(holderRunId, breakError), state);
        context.record().summary = u"The lock on %1 was not broken: %2."_s.arg(plan.target, breakError);
        return false;
    }
    if (!broke) {
        // Run holderRunId no longer holds it, but not by this run's doing: the plan's lock went meanwhile.
        context.fail(breakError, state);
        context.record().summary
            = u"Nothing was broken: %1. %2. Plan again if a lock still needs breaking."_s.arg(breakError, state);
        return false;
    }
    context.succeed(state);
    context.record().deleted.insert(u"locks"_s,
        QJsonArray { QJsonObject { { u"target"_s, plan.target }, { u"runId"_s, holderRunId },
            { u"holder"_s, plan.parameters.value(u"holder"_s).toString() } } });
    context.record().summary = u"Broke the lock on %1 held by %2 (run %3): %4. Its console stops that run before its "
                               "next step when it next tries to renew the lock."_s.arg(
                                   plan.target, plan.parameters.value(u"holder"_s).toString(), holderRunId, state);
    return true;
}

} // namespace opsdeck
