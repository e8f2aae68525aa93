#pragma once

#include "config/Inventory.h"
#include "sql/DatabaseTarget.h"

#include <QStringList>

#include <optional>

namespace opsdeck {

// One Packit instance with everything needed to reach it, resolved from the inventory. Secrets are filled in
// by the caller (environment, keychain or prompt) before the target is handed to a worker thread.
struct PackitTarget
{
    Host host;
    PackitInstance instance;
    Database database;
    QString sshSecret;
    QString databasePassword;

    enum class Problem
    {
        None,
        InvalidName,
        UnknownHost,
        UnknownInstance,
        UnsafeRoot
    };
    // Validates the names first (nothing with shell or path syntax gets further), then looks them up.
    static std::optional<PackitTarget> resolve(const Inventory& inventory,
        const QString& hostName,
        const QString& instanceName,
        Problem* problem,
        QString* error);

    QString id() const { return host.name + u'/' + instance.name; }
    QString outpackUnit() const { return QStringLiteral("outpack-") + instance.name; }
    QString apiUnit() const { return QStringLiteral("packit-api-") + instance.name; }
    QStringList units() const { return { outpackUnit(), apiUnit() }; }
    // The instance's database as PackitConnection reaches it: through a tunnel on the instance's host.
    DatabaseTarget databaseTarget() const { return { database, host, sshSecret, databasePassword }; }
};

} // namespace opsdeck
