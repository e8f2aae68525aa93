#pragma once

#include <QLoggingCategory>

// opsdeck.runbook: enable with QT_LOGGING_RULES="opsdeck.runbook.debug=true".
Q_DECLARE_LOGGING_CATEGORY(lcRunbook)
