#include "pulumi/PulumiLogging.h"

Q_LOGGING_CATEGORY(lcPulumi, "opsdeck.pulumi")
