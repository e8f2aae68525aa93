#pragma once

#include <QLoggingCategory>

// One category per module; enable with QT_LOGGING_RULES="opsdeck.ssh.debug=true".
Q_DECLARE_LOGGING_CATEGORY(lcSecrets)
Q_DECLARE_LOGGING_CATEGORY(lcSsh)
Q_DECLARE_LOGGING_CATEGORY(lcUi)
Q_DECLARE_LOGGING_CATEGORY(lcRunbook)
Q_DECLARE_LOGGING_CATEGORY(lcPackit)
Q_DECLARE_LOGGING_CATEGORY(lcHttp)
Q_DECLARE_LOGGING_CATEGORY(lcDeploy)
