#include "packit/PackitLogging.h"

Q_LOGGING_CATEGORY(lcPackit, "opsdeck.packit")
