#include "kube/KubeLogging.h"

Q_LOGGING_CATEGORY(lcKube, "opsdeck.kube")
