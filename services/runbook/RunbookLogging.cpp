#include "runbook/RunbookLogging.h"

Q_LOGGING_CATEGORY(lcRunbook, "opsdeck.runbook")
