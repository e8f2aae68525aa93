#pragma once

#include <QLoggingCategory>

// opsdeck.pulumi: enable with QT_LOGGING_RULES="opsdeck.pulumi.debug=true".
Q_DECLARE_LOGGING_CATEGORY(lcPulumi)
