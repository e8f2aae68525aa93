#pragma once

#include <QLoggingCategory>

// opsdeck.secrets: enable with QT_LOGGING_RULES="opsdeck.secrets.debug=true".
Q_DECLARE_LOGGING_CATEGORY(lcSecrets)
