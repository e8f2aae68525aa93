#pragma once

#include "sql/DatabaseTarget.h"

#include <QString>

#include <optional>

namespace opsdeck {

// Where the journal lives: one admin's SQLite file, or the team's PostgreSQL database (a databases entry of the
// inventory, its secrets filled in), which every console of the team shares.
struct JournalLocation
{
    QString path; // the SQLite file, when there is no team database
    std::optional<DatabaseTarget> team;

    JournalLocation() = default;
    // A path is a local journal: what tests and tools that keep their own journal file mean.
    JournalLocation(const QString& sqlitePath) // NOLINT(google-explicit-constructor)
        : path(sqlitePath)
    {
    }
    explicit JournalLocation(DatabaseTarget teamDatabase)
        : team(std::move(teamDatabase))
    {
    }

    // The inventory's journal: its file (<user data dir>/journal.sqlite unless it names one), or its team database,
    // whose secrets are still to be filled in (resolveDatabaseSecrets). nullopt with *error if that database cannot
    // be resolved.
    static std::optional<JournalLocation> fromInventory(const Inventory& inventory, QString* error);
    // <AppDataLocation>/journal.sqlite
    static QString defaultPath();

    bool isTeam() const { return team.has_value(); }
    // For messages: "/home/ann/.local/share/opsdeck/journal.sqlite" or "team journal team (database journal as ann
    // via bastion)".
    QString describe() const;
    // Where this console keeps files of its own next to the journal (exports): the local journal's folder, or the
    // user data folder with a team journal.
    QString localDir() const;
};

} // namespace opsdeck
