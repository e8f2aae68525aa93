#pragma once

#include <QLoggingCategory>

// opsdeck.raft: enable with QT_LOGGING_RULES="opsdeck.raft.debug=true".
Q_DECLARE_LOGGING_CATEGORY(lcRaft)
