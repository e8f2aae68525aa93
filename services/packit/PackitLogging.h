#pragma once

#include <QLoggingCategory>

// opsdeck.packit: enable with QT_LOGGING_RULES="opsdeck.packit.debug=true".
Q_DECLARE_LOGGING_CATEGORY(lcPackit)
