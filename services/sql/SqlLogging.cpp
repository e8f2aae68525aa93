#include "sql/SqlLogging.h"

Q_LOGGING_CATEGORY(lcSql, "opsdeck.sql")
