#pragma once

#include "sql/DatabaseTarget.h"

#include <QString>

#include <functional>
#include <optional>

namespace opsdeck {

// Where the journal lives: one admin's SQLite file, or the team's PostgreSQL database (a databases entry of the
// inventory, its secrets filled in), which every console of the team shares.
struct JournalLocation
{
    QString path; // the SQLite file, when there is no team database
    std::optional<DatabaseTarget> team;
    // The chain is keyed (the inventory's journal.keyEnv names where the key comes from, else the keychain): each
    // entry carries a MAC made with `key`, which resolveJournalSecrets fills in. Never logged, never stored.
    QString keyEnv;
    QString key;

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
    bool isKeyed() const { return !keyEnv.isEmpty(); }
    // For messages: "/home/ann/.local/share/opsdeck/journal.sqlite" or "team journal team (database journal as ann
    // via bastion)".
    QString describe() const;
    // Where this console keeps files of its own next to the journal (exports): the local journal's folder, or the
    // user data folder with a team journal.
    QString localDir() const;
    // Where undo windows kept on this console go (the Pulumi purge's restore files): localDir()/undo.
    QString undoDir() const { return localDir() + QStringLiteral("/undo"); }
};

class CredentialStore;

// Fills in what `location` needs before a journal can be opened: a team journal's password and its tunnel host's
// secret, and the chain's key (at least 16 characters). done(nullopt, why) if one cannot be had.
void resolveJournalSecrets(CredentialStore* store,
    JournalLocation location,
    QObject* context,
    std::function<void(std::optional<JournalLocation>, const QString& error)> done);

} // namespace opsdeck
