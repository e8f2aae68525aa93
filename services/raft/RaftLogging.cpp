#include "raft/RaftLogging.h"

Q_LOGGING_CATEGORY(lcRaft, "opsdeck.raft")
