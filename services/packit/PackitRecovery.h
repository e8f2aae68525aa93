#pragma once

#include "config/Inventory.h"
#include "runbook/Journal.h"
#include "runbook/Recovery.h"

#include <QObject>
#include <QStringList>

namespace opsdeck {

class CredentialStore;

// The operations whose unfinished runs resolvePackitRecovery recovers: a wipe, and a recovery of one.
QStringList packitRecoveredOperations();

// The recovery of `run`, a wipe (or a recovery of one) whose console died without an outcome: its host and instance
// and its moved-aside root come from the run's plan, re-validated against the inventory; the secrets are looked up
// as resolvePackitSecrets does (on the calling thread, with its store's prompter). `done` runs on `context`'s thread.
void resolvePackitRecovery(CredentialStore* store,
    const Inventory& inventory,
    const Journal::UnfinishedRun& run,
    QObject* context,
    RecoveryDone done);

} // namespace opsdeck
