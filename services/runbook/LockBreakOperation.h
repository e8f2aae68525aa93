#pragma once

#include "runbook/JournalLocation.h"
#include "runbook/Operation.h"

namespace opsdeck {

// Breaks one target's journal lock: for the case that needs a human, a console that hangs while it renews its lease,
// or a lock taken before leases, which never runs out (a lock whose lease ran out is taken over by the next run on
// its own). Planned from the lock as it stands and the holding run's entries, confirmed with the target typed, and
// journaled with the admin's reason, under this run and under the broken one. The break is a compare and delete of
// the lock the plan showed: a lock released or taken by another run since is left alone.
class LockBreakOperation : public Operation
{
public:
    // `reason` (required) says why, for the journal and the report.
    LockBreakOperation(JournalLocation journal, QString target, QString reason);

    QString name() const override { return QStringLiteral("lock-break"); }
    bool makePlan(Plan* plan, QString* error) override;
    bool execute(const Plan& plan, RunContext& context) override;

    // Empty if `reason` may be journaled as one; else what is wrong with it (for the field named "reason").
    static QString checkReason(const QString& reason);

private:
    JournalLocation m_journal;
    QString m_target;
    QString m_reason;
};

} // namespace opsdeck
