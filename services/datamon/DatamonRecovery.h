#pragma once

#include "config/Inventory.h"
#include "runbook/Journal.h"
#include "runbook/Recovery.h"

#include <QObject>
#include <QStringList>

namespace opsdeck {

class CredentialStore;

// The operations whose unfinished runs resolveDatamonRecovery recovers: the repo delete, the purge and the restore.
QStringList datamonRecoveredOperations();

// The recovery of `run`, a repo delete or a purge whose console died (or whose recovery could not finish): its
// context comes from the run's plan, re-validated against the inventory, and the rest (the repo's planned bundles
// and labels, the purge's mode and index) from the same plan; the host's secret and the Jobs cluster's token are
// looked up as resolveDatamonSecrets does (on the calling thread). `done` runs on `context`'s thread, never inside
// this call.
void resolveDatamonRecovery(CredentialStore* store,
    const Inventory& inventory,
    const Journal::UnfinishedRun& run,
    QObject* context,
    RecoveryDone done);

} // namespace opsdeck
