#include "ssh/SshLogging.h"

Q_LOGGING_CATEGORY(lcSsh, "opsdeck.ssh")
