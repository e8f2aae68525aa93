#include "runbook/JournalLocation.h"

#include "secrets/SecretResolver.h"
#include "secrets/SecretSpecs.h"

#include <QFileInfo>
#include <QStandardPaths>

namespace opsdeck {

namespace {

// Short keys can be guessed from a MAC; 16 characters of a generated key are plenty, a passphrase needs more.
constexpr int kMinKeyLength = 16;

} // namespace

std::optional<JournalLocation> JournalLocation::fromInventory(const Inventory& inventory, QString* error)
{
    JournalLocation location;
    if (inventory.journal.database.isEmpty()) {
        location.path = inventory.journal.path.isEmpty() ? defaultPath() : inventory.journal.path;
    } else {
        location.team = DatabaseTarget::resolve(inventory, inventory.journal.database, error);
        if (!location.team)
            return std::nullopt;
    }
    location.keyEnv = inventory.journal.keyEnv;
    return location;
}

void resolveJournalSecrets(CredentialStore* store,
    JournalLocation location,
    QObject* context,
    std::function<void(std::optional<JournalLocation>, const QString& error)> done)
{
    // The key second: its spec needs only the location, and a team journal's password is the likelier to fail.
    const auto resolveKey = [store, context, done](JournalLocation resolved) {
        if (!resolved.isKeyed()) {
            done(std::move(resolved), {});
            return;
        }
        JournalConfig config;
        config.database = resolved.team ? resolved.team->database.name : QString();
        config.keyEnv = resolved.keyEnv;
        SecretResolver::resolve(store, { SecretSpecs::forJournalKey(config) }, context,
            [resolved = std::move(resolved), done](const QStringList& secrets, const QString& error) mutable {
                if (!error.isEmpty()) {
                    done(std::nullopt, error);
                    return;
                }
                if (secrets.value(0).size() < kMinKeyLength) {
                    done(std::nullopt,
                        QStringLiteral("the journal's key (journal keyEnv %1, or the keychain) is %2 characters; "
                                       "use at least %3, e.g. from openssl rand -base64 32")
                            .arg(resolved.keyEnv)
                            .arg(secrets.value(0).size())
                            .arg(kMinKeyLength));
                    return;
                }
                resolved.key = secrets.value(0);
                done(std::move(resolved), {});
            });
    };
    if (!location.team) {
        resolveKey(std::move(location));
        return;
    }
    resolveDatabaseSecrets(store, *location.team, context,
        [location, resolveKey, done](std::optional<DatabaseTarget> target, const QString& error) mutable {
            if (!target) {
                done(std::nullopt, error);
                return;
            }
            location.team = std::move(*target);
            resolveKey(std::move(location));
        });
}

QString JournalLocation::defaultPath()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/journal.sqlite");
}

QString JournalLocation::localDir() const
{
    return QFileInfo(team ? defaultPath() : path).absolutePath();
}

QString JournalLocation::describe() const
{
    if (!team)
        return path;
    const Database& d = team->database;
    return QStringLiteral("team journal %1 (database %2 as %3%4)")
        .arg(d.name, d.database, d.user, team->via ? QStringLiteral(" via ") + team->via->name : QString());
}

} // namespace opsdeck
