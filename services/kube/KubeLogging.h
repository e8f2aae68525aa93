#pragma once

#include <QLoggingCategory>

// opsdeck.kube: enable with QT_LOGGING_RULES="opsdeck.kube.debug=true".
Q_DECLARE_LOGGING_CATEGORY(lcKube)
