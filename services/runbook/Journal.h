#pragma once

#include "core/ProcessIdentity.h"
#include "runbook/JournalLocation.h"
#include "runbook/RunRecord.h"

#include <QDateTime>
#include <QJsonObject>
#include <QLatin1StringView>
#include <QList>
#include <QString>
#include <QVariant>

#include <functional>
#include <optional>

class QObject;

namespace opsdeck {

// One line of the audit journal. hash is SHA-256 (hex) over a canonical serialisation of every other field and
// prevHash, which is the hash of the entry before it (64 zeros for the first entry), so that editing, deleting or
// reordering entries breaks the chain.
struct JournalEntry
{
    qint64 seq = 0; // 1, 2, 3, ... without gaps
    QDateTime at; // UTC, millisecond precision
    QString runId;
    // "plan", "confirm", "step-start", "step-end", "output", "recovery", "process", "outcome", "lock", "report", ...
    QString kind;
    QString operation;
    QString target;
    QString user; // "<login>@<machine>", filled in by the journal
    QJsonObject data;
    QString prevHash;
    QString hash;
};

// The append-only, hash-chained audit journal of every run, together with the per-target locks that keep two
// consoles (processes, possibly of different admins) off one target at once: in one SQLite file (one admin), or in
// the team's PostgreSQL database, which the consoles of every admin share.
//
// Thread-safe. A QSqlDatabase connection belongs to the thread that made it: a local journal opens a connection per
// call (cheap next to the fsync of a commit), and SQLite's own locking (WAL, a busy timeout, BEGIN IMMEDIATE for
// writes) orders threads and processes alike; a team journal keeps one connection per thread (a login, TLS or an SSH
// tunnel cost more than an append), and a transaction-scoped advisory lock orders every writer of the database.
// Call open() once before sharing the journal.
//
// Callers must never put secrets (passwords, tokens, keys) into entry data or run records: the journal is meant to
// be read and exported. As a second line of defence, keys that name a secret ("password", "dbPassword", "apiToken",
// "clientSecret", ...) are removed from data, at any depth, before it is stored, unless they hold a number or a list
// (a count, or deleted items, whose own keys are checked in turn); and every secret value this process resolved
// is masked in every string of the data (SecretScrubber), free text and list items included.
//
// The chain shows tampering by anyone who does not recompute it. Keyed (the inventory's journal.keyEnv), each entry
// also carries a MAC that only holders of the team key can compute, so that a rewrite by someone with write access to
// the database but without the key shows too; entries cut off the end show against an anchor kept elsewhere.
class Journal
{
public:
    struct RunFilter
    {
        QString target; // exact; empty matches all
        QString operation; // exact; empty matches all
        QString outcome; // RunRecord::outcomeName(); empty matches all
        QDateTime from; // startedAt >= from, when valid
        QDateTime to; // startedAt <= to, when valid
    };

    struct Verification
    {
        bool intact = true;
        qint64 firstBadSeq = 0; // when !intact; 0 when the journal could not be read at all
        QString problem; // when !intact: what is wrong, in words
        qint64 checked = 0; // entries found intact before the first problem
        qint64 macsChecked = 0; // of those, entries whose MAC was checked with the team key
        qint64 unkeyed = 0; // of those, entries written before the chain was keyed (they carry no MAC)
        qint64 macsUnchecked = 0; // of those, keyed entries whose MAC could not be checked: no key was given
        qint64 imported = 0; // of those, entries migrated from another journal, each checked against its own chain
        bool anchorChecked = false; // an anchor was given and the journal holds it
    };

    // The head of the chain at some moment: its last entry's number and hash, as "SEQ:HASH". Kept elsewhere (every
    // report records one; `opsdeck journal anchor` prints it), it lets verify() show that no entry up to it was
    // removed from the end or rewritten, which the chain alone cannot.
    struct Anchor
    {
        qint64 seq = 0;
        QString hash;

        QString text() const;
        // nullopt, with *error naming what is allowed, unless `text` is "SEQ:HASH" (HASH: 64 hex digits).
        static std::optional<Anchor> parse(const QString& text, QString* error);
    };

    struct LockHolder
    {
        QString holder; // "<login>@<machine> pid <N>"
        QString runId;
        QDateTime since;
        QDateTime leaseUntil; // invalid for a lock taken before leases (it never runs out)
        QString machine; // its console's
        qint64 pid = 0; // its console's process
    };

    // A lock as it stands, judged by the journal database's clock when it was read.
    struct HeldLock
    {
        QString target;
        LockHolder holder;
        bool leaseRanOut = false; // the next run on the target takes it over
        bool holderGoneHere = false; // its console was a process of this machine that no longer exists
        QDateTime judgedAt; // the journal database's time when it was read
    };

    // A run that started (its plan is journaled) but has no outcome, and whose console is gone.
    struct UnfinishedRun
    {
        QString runId;
        QString operation;
        QString target;
        QString confirmWith; // the run's own confirmation name (the plan's)
        QJsonObject parameters; // the plan's
        QDateTime startedAt;
        QString lastStep; // the last step it started ("" if none)
        QString lastStepState; // "running", or how it ended
        QString host; // the machine of its console
        qint64 pid = 0; // its console's process
        // The commands it started (entries of kind "process"), which may outlive their console: a recovery waits
        // for them before it reads the target.
        QList<ProcessIdentity> processes;
        QString leftOpen; // the run ended, but left its target for `opsdeck recover` (RunContext::leaveOpen): why
    };

    enum class LockResult
    {
        Acquired,
        HeldByOther,
        Error
    };

    // "<login>@<machine>", as recorded in every entry.
    static QString localUser();

    explicit Journal(JournalLocation location);

    const JournalLocation& location() const { return m_location; }
    // For messages: the file, or which team database.
    QString describe() const { return m_location.describe(); }

    // Creates the directory, the file and the schema if needed (a team database: the schema, if this user may).
    bool open(QString* error);

    bool append(const QString& runId,
        const QString& kind,
        const QString& operation,
        const QString& target,
        const QJsonObject& data,
        QString* error = nullptr);
    // Stores the run's record as an entry of kind "report" (so it is chained like the rest), with the chain's head
    // before it as its journalAnchor (also given in *anchor). Saving a run again supersedes the earlier record in run()
    // and runs(); the earlier one stays in the journal.
    bool saveRun(const RunRecord& run, QString* error = nullptr, QString* anchor = nullptr);

    std::optional<RunRecord> run(const QString& runId, QString* error = nullptr) const;
    // The latest record of every saved run that matches, newest start first.
    QList<RunRecord> runs(const RunFilter& filter = {}, QString* error = nullptr) const;
    // In order; all of them, or those of one run.
    QList<JournalEntry> entries(const QString& runId = {}, QString* error = nullptr) const;
    // In order, at most `limit` of those after entry number `seq`.
    QList<JournalEntry> entriesAfter(qint64 seq, int limit, QString* error = nullptr) const;
    // In order, those of the given kinds (read through the index on kind).
    QList<JournalEntry> entriesOfKinds(const QStringList& kinds, QString* error = nullptr) const;
    // The journal's clock (a team journal's database's, so that every console judges a time the same way; this
    // machine's for a local journal), to the millisecond; nullopt with *error if it cannot be read.
    std::optional<QDateTime> now(QString* error = nullptr) const;

    // The PostgreSQL channel a team journal announces each entry on (NOTIFY, at commit; the payload its number).
    static constexpr QLatin1StringView kAppendChannel { "opsdeck_journal" };
    enum class Listening
    {
        Started, // this thread's connection listens from now on: entries appended before may not have been announced
        Already, // it listened already, and has missed nothing since
        Failed // a local journal (SQLite has no notifications), or the team journal cannot be reached (*error)
    };
    // Calls `appended` on this thread (within `context`, whose thread's event loop must run) whenever any console
    // appends to the team journal, through this thread's connection to it. Call it again now and then: it notices
    // a connection opened again (the server restarted) and listens on it anew.
    Listening listen(QObject* context, const std::function<void()>& appended, QString* error = nullptr) const;
    // Runs with a plan and no outcome whose console ran on this machine and is no longer a live opsdeck process
    // (gone, or its pid reused by another program), oldest first. Those of other machines are left out: their
    // process cannot be checked from here.
    QList<UnfinishedRun> unfinishedRuns(QString* error = nullptr) const;
    // The console identity OperationRunner journals with each run, for unfinishedRuns(): {"pid", "host"}.
    static QJsonObject consoleIdentity();
    // Recomputes the whole chain in order, and each entry's MAC (HMAC-SHA256 of its hash with the team key) when this
    // journal has the key: an entry edited, removed or moved, even with the chain recomputed after it, shows at the
    // first entry that differs, unless whoever did it had the key. With `anchor`, also that the journal still holds
    // that entry, unchanged: entries cut off the end show.
    Verification verify(const std::optional<Anchor>& anchor = std::nullopt) const;
    // The chain's head now (seq 0 and the first entry's previous hash for an empty journal).
    std::optional<Anchor> head(QString* error = nullptr) const;

    // Atomic across processes and machines. A lock holds for a lease (leaseMs()) from when it was taken or last
    // renewed, by the journal database's clock, which every console of a team journal shares. It is taken over (and
    // the journal says so) once its lease ran out, or at once when its holder was a process of this machine that no
    // longer exists; a holder on another machine that still renews it keeps it. Acquiring a lock this run already
    // holds succeeds, and renews it.
    LockResult acquireLock(const QString& target, const QString& runId, LockHolder* heldBy, QString* error = nullptr);
    // Extends this run's lock by a lease. False if the run no longer holds it (taken over after its lease ran out) or
    // the journal cannot be reached; *error says which.
    bool renewLock(const QString& target, const QString& runId, QString* error = nullptr);
    // A lock's lease: 60 s, or OPSDECK_LOCK_LEASE_MS (at least 1000) for tests that wait for one to run out.
    static qint64 leaseMs();
    // Releases the lock only if this run holds it; returns whether it did.
    bool releaseLock(const QString& target, const QString& runId);
    // Every lock held now, by target.
    QList<HeldLock> locks(QString* error = nullptr) const;
    // The lock on `target`, if one is held.
    std::optional<HeldLock> lock(const QString& target, QString* error = nullptr) const;
    struct Migration
    {
        qint64 copied = 0; // entries copied by this call
        qint64 alreadyCopied = 0; // entries of the source copied by an earlier call
        Anchor sourceHead; // the source's head, verified before copying
    };
    // Copies every entry of `source` (another journal, its chain intact) not copied yet into this one, in order: each
    // keeps its run, kind, operation, target and data, and carries its place in the source's chain ("imported": the
    // source, its number, time, user and hashes), so that verify() checks the source's chain inside this one too. A
    // "migration" entry records what was copied from where. Copying again copies only what the source gained since.
    std::optional<Migration> migrateFrom(const Journal& source, QString* error = nullptr);

    // Removes the lock on `target` only if `holderRunId` still holds it (compare and delete: a lock released, taken
    // over or broken since it was read is left alone), and journals it in the same transaction: an entry of kind
    // "lock", action "broken", under `runId` (the breaking run) with what the lock held and `reason`, and one under
    // the broken run, so that its own history says so. That run's console fails its next renewal and stops before
    // its next step. False, with *error, if the lock is no longer that run's or the journal cannot be reached.
    bool breakLock(const QString& target,
        const QString& holderRunId,
        const QString& runId,
        const QString& reason,
        QString* error = nullptr);

private:
    // Entries by `where` (SQL after FROM entries: a WHERE and ORDER BY with ? for each of `values`).
    QList<JournalEntry> readEntries(const QString& where, const QVariantList& values, QString* error) const;

    JournalLocation m_location;
    bool m_open = false;
};

} // namespace opsdeck
