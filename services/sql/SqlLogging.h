#pragma once

#include <QLoggingCategory>

// opsdeck.sql: enable with QT_LOGGING_RULES="opsdeck.sql.debug=true".
Q_DECLARE_LOGGING_CATEGORY(lcSql)
