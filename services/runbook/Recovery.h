#pragma once

#include "runbook/Operation.h"

#include <QString>

#include <functional>
#include <memory>

namespace opsdeck {

// What a system answers when asked to recover an unfinished run (Journal::UnfinishedRun): the operation that
// recovers it, its target re-validated against the inventory and its secrets filled in, or why there is none (then
// nothing was touched). The CLI's `opsdeck recover` and the console's Runs dock both ask this way; the recovery is
// then planned, confirmed and run as any operation, journaled as recovering that run (the plan's `recovers`).
using RecoveryDone = std::function<void(std::unique_ptr<Operation> recovery, const QString& error)>;

} // namespace opsdeck
