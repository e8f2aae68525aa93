#include "runbook/JournalLocation.h"

#include <QFileInfo>
#include <QStandardPaths>

namespace opsdeck {

std::optional<JournalLocation> JournalLocation::fromInventory(const Inventory& inventory, QString* error)
{
    if (inventory.journal.database.isEmpty())
        return JournalLocation(inventory.journal.path.isEmpty() ? defaultPath() : inventory.journal.path);
    auto target = DatabaseTarget::resolve(inventory, inventory.journal.database, error);
    if (!target)
        return std::nullopt;
    return JournalLocation(std::move(*target));
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
