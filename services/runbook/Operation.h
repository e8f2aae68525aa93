#pragma once

#include "runbook/Plan.h"

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
};

} // namespace opsdeck
