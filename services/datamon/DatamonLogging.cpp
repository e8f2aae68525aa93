#include "datamon/DatamonLogging.h"

Q_LOGGING_CATEGORY(lcDatamon, "opsdeck.datamon")
