#include "core/Logging.h"

Q_LOGGING_CATEGORY(lcSecrets, "opsdeck.secrets")
Q_LOGGING_CATEGORY(lcSsh, "opsdeck.ssh")
Q_LOGGING_CATEGORY(lcUi, "opsdeck.ui")
Q_LOGGING_CATEGORY(lcRunbook, "opsdeck.runbook")
Q_LOGGING_CATEGORY(lcPackit, "opsdeck.packit")
Q_LOGGING_CATEGORY(lcHttp, "opsdeck.http")
Q_LOGGING_CATEGORY(lcDeploy, "opsdeck.deploy")
Q_LOGGING_CATEGORY(lcSql, "opsdeck.sql")
Q_LOGGING_CATEGORY(lcPulumi, "opsdeck.pulumi")
