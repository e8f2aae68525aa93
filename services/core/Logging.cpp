#include "core/Logging.h"

Q_LOGGING_CATEGORY(lcConfig, "opsdeck.config")
Q_LOGGING_CATEGORY(lcSecrets, "opsdeck.secrets")
Q_LOGGING_CATEGORY(lcSsh, "opsdeck.ssh")
Q_LOGGING_CATEGORY(lcSql, "opsdeck.sql")
Q_LOGGING_CATEGORY(lcCli, "opsdeck.cli")
Q_LOGGING_CATEGORY(lcUi, "opsdeck.ui")
