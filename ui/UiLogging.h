#pragma once

#include <QLoggingCategory>

// opsdeck.ui: enable with QT_LOGGING_RULES="opsdeck.ui.debug=true".
Q_DECLARE_LOGGING_CATEGORY(lcUi)
