#pragma once

#include "runbook/Plan.h"
#include "runbook/UndoWindow.h"

#include <QString>

namespace opsdeck {

class RunContext;

// A runbook turned into code. Both calls run on the runner's thread, so they may block on SSH and SQL.
class Operation
{
public:
    virtual ~Operation() = default;

    virtual QString name() const = 0;
    // Reads live state; changes nothing.
    virtual bool makePlan(Plan* plan, QString* error) = 0;
    // Runs the plan's steps through the context, verifying each, and recovers on its own when a step fails
    // after something was changed. Returns true when every step succeeded.
    virtual bool execute(const Plan& plan, RunContext& context) = 0;

    // Undo windows end when opsdeck next runs against their target, never by a timer: the runner lists the expired
    // windows this operation ends (those its system keeps on the target it runs on: an instance's, a database's) in
    // the plan, and before execute, under the target's lock, has each one's kept data deleted and journals it ended.
    virtual bool endsExpired(const UndoWindow&) const { return false; }
    // Why this run ends `window` although it is open (a datamon purge deletes the blobs a deleted repo's window
    // needs), for people; empty: it does not. The runner names these windows in the plan, so that the confirmation
    // names them, and before execute, under the target's lock, has each one's kept data deleted and journals it
    // ended; if one cannot be ended, nothing of the run starts.
    virtual QString endsOpen(const UndoWindow&) const { return {}; }
    // Deletes what `window` keeps on the target; false with *error if it could not (the window then stays).
    virtual bool endWindow(const UndoWindow&, QString* error)
    {
        *error = QStringLiteral("this operation cannot end undo windows");
        return false;
    }
};

} // namespace opsdeck
