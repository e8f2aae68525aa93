#pragma once

#include "config/Inventory.h"
#include "runbook/Journal.h"
#include "runbook/Recovery.h"

#include <QObject>
#include <QStringList>

namespace opsdeck {

class CredentialStore;

// The operations whose unfinished runs resolveRaftRecovery recovers: the RAFT reset.
QStringList raftRecoveredOperations();

// The recovery of `run`, a reset whose console died or whose recovery could not finish: its cluster and namespace,
// the saved annotation, image, replicas and pod timeout come from the run's plan, the cluster re-validated against
// the inventory; the token is looked up as resolveKubeSecrets does (on the calling thread). `done` runs on
// `context`'s thread, never inside this call.
void resolveRaftRecovery(CredentialStore* store,
    const Inventory& inventory,
    const Journal::UnfinishedRun& run,
    QObject* context,
    RecoveryDone done);

} // namespace opsdeck
