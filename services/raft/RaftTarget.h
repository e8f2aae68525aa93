#pragma once

#include "kube/KubeTarget.h"

namespace opsdeck {

// A RAFT service's StatefulSets live in one namespace of one inventory cluster: the target is the cluster's
// (KubeTarget::resolve), with its token from resolveKubeSecrets.
using RaftTarget = KubeTarget;

} // namespace opsdeck
