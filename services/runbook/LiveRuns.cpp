#include "runbook/LiveRuns.h"

#include <QJsonArray>

#include <algorithm>

namespace opsdeck {

namespace {
QString text(const JournalEntry& entry, const char* key)
{
    return entry.data.value(QLatin1StringView(key)).toString();
}
} // namespace

QString LiveRun::stepText() const
{
    if (recovering)
        return QObject::tr("recovery: %1").arg(step);
    if (stepIndex < 0)
        return QObject::tr("starting");
    return QObject::tr("step %1 of %2: %3").arg(stepIndex + 1).arg(stepTitles.size()).arg(step);
}

LiveRuns::LiveRuns(QString ownHost, qint64 ownPid)
    : m_ownHost(std::move(ownHost))
    , m_ownPid(ownPid)
{
}

bool LiveRuns::add(const JournalEntry& entry)
{
    const QString action = text(entry, "action");
    bool staleStopped = false;
    // A lock taken over stops the run that held it (its console fails its next renewal): journaled under the run that
    // took it.
    if (entry.kind == QLatin1StringView("lock") && action == QLatin1StringView("taken-over")) {
        const auto stale = m_runs.find(text(entry, "staleRunId"));
        if (stale != m_runs.end() && !stale->run.ended() && !stale->stoppedByEntry) {
            stale->run.stopped
                = QObject::tr("its lock was taken over by %1: %2").arg(entry.user, text(entry, "reason"));
            stale->stoppedByEntry = true;
            staleStopped = shown(*stale);
        }
    }

    auto found = m_runs.find(entry.runId);
    if (found == m_runs.end()) {
        // A run is followed from its lock or its plan: the first entries any run writes.
        const bool starts = entry.kind == QLatin1StringView("plan")
            || (entry.kind == QLatin1StringView("lock")
                && (action == QLatin1StringView("acquired") || action == QLatin1StringView("taken-over")));
        if (!starts)
            return staleStopped;
        found = m_runs.insert(entry.runId, Followed {});
        found->firstSeq = entry.seq;
        found->run.runId = entry.runId;
        found->run.user = entry.user;
        found->run.startedAt = entry.at;
    } else if (entry.seq <= found->lastSeq) {
        return staleStopped; // taken in already
    }
    Followed& followed = *found;
    LiveRun& run = followed.run;
    followed.lastSeq = entry.seq;
    run.lastAt = entry.at;
    if (run.target.isEmpty())
        run.target = entry.target;
    if (!entry.operation.isEmpty())
        run.operation = entry.operation;

    if (entry.kind == QLatin1StringView("lock")) {
        if (action == QLatin1StringView("acquired") || action == QLatin1StringView("taken-over")) {
            run.lock = entry.target;
            followed.lockSeq = entry.seq;
        } else if (action == QLatin1StringView("broken") && text(entry, "brokenRunId") == run.runId && !run.ended()) {
            run.stopped = QObject::tr("its lock was broken by %1: %2").arg(entry.user, text(entry, "reason"));
            followed.stoppedByEntry = true;
        } else if (action == QLatin1StringView("released") && !shown(followed)) {
            m_runs.erase(found); // a lock taken and released without a run (a refused plan, a tool): nothing to show
            return staleStopped;
        }
    } else if (entry.kind == QLatin1StringView("plan")) {
        run.target = text(entry, "target");
        run.stepTitles.clear();
        followed.stepIds.clear();
        for (const QJsonValue& step : entry.data.value(QLatin1StringView("steps")).toArray()) {
            followed.stepIds << step.toObject().value(QLatin1StringView("id")).toString();
            run.stepTitles << step.toObject().value(QLatin1StringView("title")).toString();
        }
    } else if (entry.kind == QLatin1StringView("confirm")) {
        run.host = text(entry, "host");
        run.pid = entry.data.value(QLatin1StringView("pid")).toInteger();
        followed.confirmed = true;
        followed.own = run.host == m_ownHost && run.pid == m_ownPid;
    } else if (entry.kind == QLatin1StringView("step-start")) {
        run.stepIndex = int(followed.stepIds.indexOf(text(entry, "step")));
        run.step = run.stepIndex >= 0 ? run.stepTitles.at(run.stepIndex) : text(entry, "step");
        run.recovering = false;
    } else if (entry.kind == QLatin1StringView("recovery")) {
        const QString title = text(entry, "title");
        run.step = title.isEmpty() ? text(entry, "step") : title;
        run.recovering = true;
    } else if (entry.kind == QLatin1StringView("outcome")) {
        run.outcome = text(entry, "outcome");
        run.summary = text(entry, "summary");
        run.stopped.clear();
        forgetOldEnded(); // `followed` may be gone: it was this console's
        const auto kept = m_runs.constFind(entry.runId);
        return staleStopped || (kept != m_runs.cend() && shown(*kept));
    }
    return staleStopped || shown(followed);
}

bool LiveRuns::checkLocks(const QList<Journal::HeldLock>& locks, qint64 readAt)
{
    bool changed = false;
    for (Followed& followed : m_runs) {
        LiveRun& run = followed.run;
        if (run.ended() || followed.stoppedByEntry || run.lock.isEmpty() || followed.lockSeq > readAt)
            continue;
        const auto held = std::find_if(
            locks.cbegin(), locks.cend(), [&run](const Journal::HeldLock& lock) { return lock.target == run.lock; });
        QString stopped;
        if (held == locks.cend() || held->holder.runId != run.runId)
            stopped = QObject::tr("its lock is gone, and it journaled no outcome");
        else if (held->holderGoneHere)
            stopped = QObject::tr("its console, process %1 of this machine, is gone").arg(held->holder.pid);
        else if (held->leaseRanOut)
            stopped = QObject::tr("its console stopped renewing its lock (the lease ran out at %1): it may have died")
                          .arg(held->holder.leaseUntil.toLocalTime().toString(QStringLiteral("HH:mm:ss")));
        if (stopped != run.stopped) {
            run.stopped = stopped;
            changed = changed || shown(followed);
        }
    }
    if (changed)
        forgetOldEnded();
    return changed;
}

QList<LiveRun> LiveRuns::runs() const
{
    QList<const Followed*> shownRuns;
    for (const Followed& followed : m_runs) {
        if (shown(followed))
            shownRuns << &followed;
    }
    std::sort(shownRuns.begin(), shownRuns.end(),
        [](const Followed* a, const Followed* b) { return a->firstSeq < b->firstSeq; });
    QList<LiveRun> result;
    for (const Followed* followed : shownRuns)
        result << followed->run;
    return result;
}

void LiveRuns::forgetOldEnded()
{
    // This console's runs and unconfirmed ones are of no use once ended; of the others the newest kKeptEnded stay.
    QList<qint64> endedShown;
    for (auto it = m_runs.begin(); it != m_runs.end();) {
        if (it->run.running()) {
            ++it;
        } else if (!shown(*it)) {
            it = m_runs.erase(it);
        } else {
            endedShown << it->firstSeq;
            ++it;
        }
    }
    if (endedShown.size() <= kKeptEnded)
        return;
    std::sort(endedShown.begin(), endedShown.end());
    const qint64 oldestKept = endedShown.at(endedShown.size() - kKeptEnded);
    for (auto it = m_runs.begin(); it != m_runs.end();) {
        if (!it->run.running() && it->firstSeq < oldestKept)
            it = m_runs.erase(it);
        else
            ++it;
    }
}

} // namespace opsdeck
