#include "runbook/UndoWindowEndOperation.h"

#include "runbook/RunContext.h"

using namespace Qt::StringLiterals;

namespace opsdeck {

namespace {

const QString kEndStep = u"end-window"_s;
const QString kRemoveStep = u"remove-kept"_s;

} // namespace

UndoWindowEndOperation::UndoWindowEndOperation(
    UndoWindow window, QString lock, QString reason, std::optional<KeptData> kept)
    : m_window(std::move(window))
    , m_lock(std::move(lock))
    , m_reason(std::move(reason))
    , m_kept(std::move(kept))
{
}

bool UndoWindowEndOperation::makePlan(Plan* plan, QString* error)
{
    if (const QString problem = reasonError(m_reason, u"the undo window ends early"_s); !problem.isEmpty()) {
        *error = problem;
        return false;
    }
    if (m_window.bytes != 0 && !m_kept) {
        *error = u"the undo window of run %1 holds data on %2: ending it deletes that data, which %3's own trash "
                 "purge does; this opsdeck has none"_s.arg(m_window.runId, m_window.target, m_window.operation);
        return false;
    }
    plan->operation = name();
    plan->target = m_window.target;
    plan->targetName = m_window.confirmWith;
    plan->lock = m_lock;
    plan->verb = u"End the undo window of"_s;
    plan->typedConfirmation = true; // it takes the admin's way back away
    plan->irreversible = true;
    plan->parameters = { { u"ends"_s, m_window.runId }, { u"reason"_s, m_reason } };
    if (m_kept) {
        plan->counts = m_kept->counts;
        plan->steps << Plan::Step { kRemoveStep, u"Delete %1"_s.arg(m_kept->where), u"rm -r %1"_s.arg(m_kept->where),
            u"it does not exist any more"_s };
        plan->warnings << u"Run %1 can no longer be restored once this ends its window."_s.arg(m_window.runId);
    }
    plan->steps << Plan::Step { kEndStep,
        u"Journal that the undo window of run %1 (%2) ends now"_s.arg(m_window.runId, m_window.operation),
        u"undo-closed {window: %1, state: ended}"_s.arg(m_window.runId), u"the journal lists the window as ended"_s };
    plan->detailText = (m_kept ? u"Run %1 (%2 on %3 by %4) can be taken back until %5. What it keeps at %6 is "
                                 "deleted; once ended, opsdeck restore refuses it.\nReason: %7"_s
                               : u"Run %1 (%2 on %3 by %4) can be taken back until %5. It keeps %6, so nothing on %3 "
                                 "is deleted; once ended, opsdeck restore refuses it.\nReason: %7"_s)
                           .arg(m_window.runId, m_window.operation, m_window.target, m_window.user,
                               utcMinuteText(m_window.until), m_window.where, m_reason);
    return true;
}

bool UndoWindowEndOperation::execute(const Plan& plan, RunContext& context)
{
    Q_UNUSED(plan);
    if (m_kept) {
        context.begin(kRemoveStep);
        QString error;
        if (!m_kept->remove(&error)) {
            context.fail(error);
            context.record().summary = u"The undo window of run %1 is still open: %2. Run the trash purge again."_s.arg(
                m_window.runId, error);
            return false;
        }
        context.succeed();
    }
    context.begin(kEndStep);
    context.note(UndoWindow::kClosedKind, UndoWindows::closedData(m_window.runId, UndoWindow::State::Ended, m_reason));
    if (!context.journalError().isEmpty()) {
        context.fail(context.journalError());
        context.record().summary
            = u"The undo window of run %1 could not be ended: %2"_s.arg(m_window.runId, context.journalError());
        return false;
    }
    context.succeed();
    context.record().summary = m_kept
        ? u"The undo window of run %1 is ended: %2 is deleted (%3)."_s.arg(m_window.runId, m_kept->where, m_reason)
        : u"The undo window of run %1 is ended: it can no longer be taken back (%2)."_s.arg(m_window.runId, m_reason);
    return true;
}

} // namespace opsdeck
