#pragma once

#include <QLoggingCategory>

// opsdeck.http: enable with QT_LOGGING_RULES="opsdeck.http.debug=true".
Q_DECLARE_LOGGING_CATEGORY(lcHttp)
