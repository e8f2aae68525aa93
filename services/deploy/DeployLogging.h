#pragma once

#include <QLoggingCategory>

// opsdeck.deploy: enable with QT_LOGGING_RULES="opsdeck.deploy.debug=true".
Q_DECLARE_LOGGING_CATEGORY(lcDeploy)
