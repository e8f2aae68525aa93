#pragma once

#include <QLoggingCategory>

// opsdeck.ssh: enable with QT_LOGGING_RULES="opsdeck.ssh.debug=true".
Q_DECLARE_LOGGING_CATEGORY(lcSsh)
