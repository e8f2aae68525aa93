#include "runbook/RunContext.h"

#include "core/SecretScrubber.h"
#include "runbook/Journal.h"
#include "runbook/RunbookLogging.h"

#include <QDeadlineTimer>
#include <QFileInfo>
#include <QMutexLocker>
#include <QThread>
#include <QThreadPool>

namespace opsdeck {

namespace {

constexpr qsizetype kOutputExcerpt = 4000; // characters of a step's output kept in the record
constexpr int kHoldLimitMs = 120000;

// Fault tests kill the console, or its connection, while a given step is under way, and most steps last
// milliseconds. With OPSDECK_HOLD_AT_STEP=<step id> and OPSDECK_HOLD_WHILE=<file>, the run waits after that step's
// start is journaled and before its action, while the file exists (two minutes at most, or until cancelled), so
// that the fault lands exactly there. Holding only delays; without both variables nothing changes.
void holdForFaultTest(const QString& stepId, const std::atomic_bool& cancelled)
{
    static const QString holdAt = qEnvironmentVariable("OPSDECK_HOLD_AT_STEP");
    static const QString holdWhile = qEnvironmentVariable("OPSDECK_HOLD_WHILE");
    if (holdAt.isEmpty() || holdWhile.isEmpty() || stepId != holdAt)
        return;
    qCWarning(lcRunbook) << "holding before the action of step" << stepId << "while" << holdWhile
                         << "exists (OPSDECK_HOLD_AT_STEP, a fault test)";
    const QDeadlineTimer limit(kHoldLimitMs);
    while (QFileInfo::exists(holdWhile) && !limit.hasExpired() && !cancelled.load())
        QThread::msleep(20);
}

} // namespace

RunContext::RunContext(RunRecord* record, const Plan& plan, Journal* journal, ProgressFn progress)
    : m_record(record)
    , m_plan(plan)
    , m_journal(journal)
    , m_progress(std::move(progress))
{
    for (const Plan::Step& step : plan.steps) {
        StepRecord recordStep;
        recordStep.id = step.id;
        recordStep.title = step.title;
        recordStep.command = step.command;
        recordStep.verification = step.verification;
        m_record->steps << recordStep;
    }
    m_clock.start();
}

void RunContext::requestCancel()
{
    if (m_cancelled.exchange(true))
        return;
    QMutexLocker lock(&m_hookMutex);
    if (m_cancelHook)
        QThreadPool::globalInstance()->start(m_cancelHook);
}

void RunContext::setCancelHook(std::function<void()> hook)
{
    QMutexLocker lock(&m_hookMutex);
    m_cancelHook = std::move(hook);
}

void RunContext::begin(const QString& stepId)
{
    for (int i = 0; i < m_record->steps.size(); ++i) {
        if (m_record->steps[i].id == stepId && !m_record->steps[i].recovery) {
            m_current = i;
            StepRecord& step = m_record->steps[i];
            step.state = StepRecord::State::Running;
            step.startedAt = QDateTime::currentDateTimeUtc();
            note(QStringLiteral("step-start"),
                { { QStringLiteral("step"), step.id }, { QStringLiteral("command"), step.command } });
            m_stepFraction = 0;
            m_stepOpenEnded = false;
            report(0);
            holdForFaultTest(stepId, m_cancelled);
            return;
        }
    }
    qFatal("opsdeck: operation %s has no step %s", qPrintable(m_record->operation), qPrintable(stepId));
}

void RunContext::beginRecovery(const QString& id, const QString& title, const QString& command)
{
    StepRecord step;
    step.id = id;
    step.title = title;
    step.command = command;
    step.recovery = true;
    step.state = StepRecord::State::Running;
    step.startedAt = QDateTime::currentDateTimeUtc();
    m_record->steps << step;
    m_current = int(m_record->steps.size()) - 1;
    note(QStringLiteral("recovery"),
        { { QStringLiteral("step"), id }, { QStringLiteral("title"), title }, { QStringLiteral("command"), command } });
    report(0);
}

void RunContext::succeed(const QString& output)
{
    finishStep(StepRecord::State::Succeeded, {}, output);
}

void RunContext::fail(const QString& error, const QString& output)
{
    finishStep(StepRecord::State::Failed, error, output);
}

void RunContext::cancelStep(const QString& why)
{
    finishStep(StepRecord::State::Cancelled, why, {});
}

void RunContext::finishStep(StepRecord::State state, const QString& error, const QString& output)
{
    if (m_current < 0)
        return;
    StepRecord& step = m_record->steps[m_current];
    step.state = state;
    step.finishedAt = QDateTime::currentDateTimeUtc();
    step.error = SecretScrubber::scrub(error);
    // A step that streamed its output (output()) keeps it unless it passes a final text.
    const QString all = output.isEmpty() ? step.output : SecretScrubber::scrub(output);
    step.output = all.size() > kOutputExcerpt ? QStringLiteral("…") + all.right(kOutputExcerpt) : all;
    note(QStringLiteral("step-end"),
        { { QStringLiteral("step"), step.id }, { QStringLiteral("state"), StepRecord::stateName(state) },
            { QStringLiteral("error"), step.error }, { QStringLiteral("output"), step.output } });
    report(1);
    m_current = -1;
}

void RunContext::progress(double stepFraction)
{
    m_stepFraction = std::clamp(stepFraction, 0.0, 1.0);
    report(m_stepFraction);
}

void RunContext::progressUnknown()
{
    m_stepOpenEnded = true;
    report(0);
}

void RunContext::output(const QString& text)
{
    if (m_current < 0)
        return;
    constexpr qsizetype kKeep = 64 * 1024;
    QString& kept = m_record->steps[m_current].output;
    // Scrubbed as a whole: a secret may be split across two pieces of a stream.
    kept = SecretScrubber::scrub(kept + text);
    if (kept.size() > kKeep)
        kept = kept.right(kKeep).section(u'\n', 1);
    report(m_stepFraction);
}

void RunContext::skipRemaining()
{
    for (StepRecord& step : m_record->steps) {
        if (step.state == StepRecord::State::Pending)
            step.state = StepRecord::State::Skipped;
    }
}

bool RunContext::anyStepSucceeded(const QStringList& ids) const
{
    for (const StepRecord& step : m_record->steps) {
        if (ids.contains(step.id) && step.state == StepRecord::State::Succeeded)
            return true;
    }
    return false;
}

QString RunContext::journalError() const
{
    QMutexLocker lock(&m_hookMutex);
    return m_journalError;
}

void RunContext::note(const QString& kind, const QJsonObject& data)
{
    QString error;
    if (!m_journal || m_journal->append(m_record->id, kind, m_record->operation, m_record->target, data, &error))
        return;
    qCCritical(lcRunbook) << "journal append failed for run" << m_record->id
                          << ", stopping it before its next step:" << error;
    stopBeforeNextStep(QStringLiteral("the journal %1 could not be written (%2 entry: %3); fix the journal before "
                                      "running again")
                           .arg(m_journal->describe(), kind, error));
}

bool RunContext::openUndoWindow(UndoWindow window)
{
    QString error;
    const auto now = m_journal ? m_journal->now(&error) : std::optional(QDateTime::currentDateTimeUtc());
    if (!now) {
        stopBeforeNextStep(QStringLiteral("the journal %1 could not give the time the undo window opens (%2); fix the "
                                          "journal before running again")
                               .arg(m_journal->describe(), error));
        return false;
    }
    window.until = now->addSecs(m_plan.undo.retentionSeconds);
    note(UndoWindow::kOpenedKind, window.entryData());
    if (!journalError().isEmpty())
        return false;
    m_record->undoOpened = true;
    m_record->undo.until = window.until;
    m_record->undo.where = window.where;
    m_record->undo.bytesHeld = window.bytes;
    m_record->undo.bytesEstimated = false; // what the window keeps, measured
    m_record->undo.restorable = window.restorable;
    m_record->undo.notRestorable = window.notRestorable;
    return true;
}

void RunContext::stopBeforeNextStep(const QString& why)
{
    {
        QMutexLocker lock(&m_hookMutex);
        if (m_journalError.isEmpty())
            m_journalError = why;
    }
    // Stops the operation between steps; what is in flight finishes, so that the step's outcome is known.
    m_cancelled = true;
}

// Progress counts plan steps evenly; the ETA extrapolates from the time spent so far.
void RunContext::report(double stepFraction)
{
    if (!m_progress || m_current < 0)
        return;
    const qsizetype planned = m_plan.steps.size();
    const double done = m_record->steps[m_current].recovery
        ? 1.0
        : (double(std::min<qsizetype>(m_current, planned)) + stepFraction) / double(std::max<qsizetype>(planned, 1));
    const qint64 elapsed = m_clock.elapsed() / 1000;
    const qint64 eta = done > 0.05 && !m_stepOpenEnded ? qint64(double(elapsed) / done) - elapsed : -1;
    m_progress(m_record->steps[m_current], done, eta);
}

} // namespace opsdeck
