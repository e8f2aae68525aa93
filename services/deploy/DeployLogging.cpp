#include "deploy/DeployLogging.h"

Q_LOGGING_CATEGORY(lcDeploy, "opsdeck.deploy")
