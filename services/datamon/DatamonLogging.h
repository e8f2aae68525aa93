#pragma once

#include <QLoggingCategory>

// opsdeck.datamon: enable with QT_LOGGING_RULES="opsdeck.datamon.debug=true".
Q_DECLARE_LOGGING_CATEGORY(lcDatamon)
