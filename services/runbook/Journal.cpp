#include "runbook/Journal.h"

#include "core/ProcessIdentity.h"
#include "core/SecretScrubber.h"
#include "runbook/RunbookLogging.h"
#include "sql/DatabaseConnection.h"
#include "sql/PreparedStatements.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMessageAuthenticationCode>
#include <QMutex>
#include <QMutexLocker>
#include <QRegularExpression>
#include <QSet>
#include <QSqlDatabase>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QSysInfo>
#include <QThreadStorage>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <utility>

#include <pwd.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace opsdeck {

namespace {

// 1: entries and locks; 2: locks hold for a lease (lease_until, "" for a lock taken before: it never runs out);
// 3: entries carry a MAC made with the team key (mac and key_id, "" for an entry written unkeyed).
constexpr int kSchemaVersion = 3;
const QString kAddLease = u"ALTER TABLE locks ADD COLUMN lease_until TEXT NOT NULL DEFAULT ''"_s;
const QStringList kAddMac = { u"ALTER TABLE entries ADD COLUMN mac TEXT NOT NULL DEFAULT ''"_s,
    u"ALTER TABLE entries ADD COLUMN key_id TEXT NOT NULL DEFAULT ''"_s };

// What each older schema needs to become kSchemaVersion.
QStringList migrationFrom(int version)
{
    QStringList statements;
    if (version < 2)
        statements << kAddLease;
    if (version < 3)
        statements += kAddMac;
    return statements;
}
// Long enough to outlast another console's append or lock, short enough that a stuck writer shows as an error (SQLite's
// busy timeout, PostgreSQL's lock_timeout).
constexpr int kBusyTimeoutMs = 10000;
const QString kReportKind = u"report"_s;
const QString kLockKind = u"lock"_s;
const QString kMigrationKind = u"migration"_s;
// In an entry copied from another journal (Journal::migrateFrom): its place in that journal's chain.
const QString kImportedKey = u"imported"_s;
constexpr int kMigrationBatch = 500;
const QString kFirstPrevHash = QString(64, u'0');
// The advisory lock key every writer of a team journal takes ("opsdeck" in ASCII): one per database.
constexpr qint64 kTeamWriteLock = 0x6f70736465636b;

QString sqlError(const QString& what, const QSqlError& error)
{
    return u"%1: %2"_s.arg(what, error.text());
}

void setError(QString* error, const QString& message)
{
    if (error)
        *error = message;
}

// What a kept connection was made for: one made with other TLS settings must never serve.
QString teamKey(const DatabaseTarget& target)
{
    const Database& d = target.database;
    return QStringList { d.name, d.address, QString::number(d.port), d.socket, d.database, d.user, d.tls, d.caFile,
        target.via ? target.via->name : QString() }
        .join(u'\x1f');
}

// Connections to team journals that threads left when they ended, by teamKey, for the next thread that needs one: a
// login through a tunnel, TLS and SCRAM cost more than a run's every entry, and a command's notice thread ends just
// before its run needs the journal. Closed when the application goes.
namespace parked {

constexpr int kPerJournal = 2; // enough for a console's threads that come and go; more would only hold sessions
QMutex s_mutex; // guards s_connections and s_closed
std::multimap<QString, std::unique_ptr<DatabaseConnection>> s_connections;
bool s_closed = false; // the application is going: nothing is parked any more

// Whether a connection may be parked: only while the application runs. One parked later would outlive it, and be
// closed by the static destructors, after the tunnel's thread and Qt's SQL drivers are gone.
bool accepting()
{
    return !s_closed && QCoreApplication::instance() && !QCoreApplication::closingDown();
}

void closeAll()
{
    QMutexLocker lock(&s_mutex);
    s_closed = true;
    s_connections.clear(); // each is adopted by this thread and closed
}

// Keeps `connection` (released from the thread that ends) unless the application is going or enough are kept.
void keep(const QString& key, std::unique_ptr<DatabaseConnection> connection)
{
    QMutexLocker lock(&s_mutex);
    if (!accepting() || s_connections.count(key) >= kPerJournal)
        return;
    static const bool closedAtExit = (qAddPostRoutine(closeAll), true);
    Q_UNUSED(closedAtExit)
    s_connections.emplace(key, std::move(connection));
}

bool canPark()
{
    QMutexLocker lock(&s_mutex);
    return accepting();
}

// A kept connection for `key`, adopted by this thread; null if none is kept.
std::unique_ptr<DatabaseConnection> take(const QString& key)
{
    QMutexLocker lock(&s_mutex);
    const auto found = s_connections.find(key);
    if (found == s_connections.end())
        return nullptr;
    std::unique_ptr<DatabaseConnection> connection = std::move(found->second);
    s_connections.erase(found);
    connection->adopt();
    return connection;
}

} // namespace parked

// This thread's connections to team journals, by teamKey, kept while the thread lives: QThreadStorage deletes them in
// the thread when it ends (the main thread's when the application goes), as a QSqlDatabase must be, and those that
// can serve another thread are parked for it (not one that listens for appends: its subscription is its thread's).
class TeamConnections
{
public:
    ~TeamConnections()
    {
        if (!parked::canPark())
            return; // closed here, as before the application's end
        for (auto& [key, connection] : m_kept) {
            const QSqlDatabase db = connection->database();
            const bool listens = db.driver() && !db.driver()->subscribedToNotifications().isEmpty();
            if (!listens && connection->release())
                parked::keep(key, std::move(connection));
        }
    }

    // This thread's connection for `target`: kept, else one another thread left, else a new one (not open yet).
    DatabaseConnection& connection(const DatabaseTarget& target)
    {
        const QString key = teamKey(target);
        auto& kept = m_kept[key];
        if (!kept)
            kept = parked::take(key);
        if (!kept)
            kept = std::make_unique<DatabaseConnection>(target, DatabaseConnection::Tunnel::Shared);
        return *kept;
    }

private:
    std::map<QString, std::unique_ptr<DatabaseConnection>> m_kept;
};

TeamConnections& teamConnections()
{
    static QThreadStorage<TeamConnections*> storage;
    if (!storage.hasLocalData())
        storage.setLocalData(new TeamConnections);
    return *storage.localData();
}

// What a connection to the journal is for.
enum class Use
{
    Read,
    Write // in a WriteTransaction, whose first batch shows whether a kept connection still works (begin())
};

// A use of the journal's database on this thread: a local journal's own connection (a QSqlDatabase belongs to the
// thread that opened it, and a connection per call cannot outlive or cross its thread; opening an SQLite file is
// cheap next to the fsync of a commit), or this thread's kept connection to the team database, opened again after
// the server or the tunnel went away.
class Connection
{
public:
    explicit Connection(const JournalLocation& location, Use use = Use::Read)
        : m_team(location.isTeam())
    {
        if (m_team) {
            DatabaseConnection& kept = teamConnections().connection(*location.team);
            // A write's first batch is its ping: one round trip fewer for every entry.
            if (!kept.open(&m_error,
                    use == Use::Write ? DatabaseConnection::Liveness::Assume : DatabaseConnection::Liveness::Check))
                return; // "cannot open database NAME via HOST: why"
            m_kept = &kept;
            m_db = kept.database();
            return;
        }
        m_name = u"opsdeck.journal.%1"_s.arg(s_nextId.fetch_add(1));
        m_db = QSqlDatabase::addDatabase(u"QSQLITE"_s, m_name);
        m_db.setDatabaseName(location.path);
        m_db.setConnectOptions(u"QSQLITE_BUSY_TIMEOUT=%1"_s.arg(kBusyTimeoutMs));
        if (!m_db.open()) {
            m_error = sqlError(u"Cannot open the journal %1"_s.arg(location.path), m_db.lastError());
            return;
        }
        // An entry is on disk when append() returns, before the step it announces changes anything: FULL syncs the
        // WAL at every commit (SQLite's default, which a build may change, and per connection).
        QSqlQuery synchronous(m_db);
        if (!synchronous.exec(u"PRAGMA synchronous = FULL"_s))
            m_error = sqlError(
                u"Cannot set the journal %1 to synchronous writes"_s.arg(location.path), synchronous.lastError());
    }

    ~Connection()
    {
        if (m_team)
            return; // kept for the thread's next call
        m_prepared.clear();
        m_db.close();
        m_db = QSqlDatabase();
        QSqlDatabase::removeDatabase(m_name);
    }

    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    bool isOpen() const { return m_error.isEmpty(); }
    bool isTeam() const { return m_team; }
    // After a statement failed on a team journal's kept connection that was not checked first (Use::Write): whether
    // it had gone away (the server restarted, the tunnel dropped) and is open again, so that the statement may be
    // tried once more. False, with *error saying why, when it is still gone; false when it works and the statement
    // failed for another reason.
    bool reopenedAfterFailure(QString* error)
    {
        if (!m_kept)
            return false;
        m_db = QSqlDatabase(); // nothing may hold the connection if it is made anew
        m_kept->takeReconnectReason(); // only this check's counts
        const bool open = m_kept->open(error);
        m_db = m_kept->database();
        return open && !m_kept->takeReconnectReason().isEmpty();
    }
    QString error() const { return m_error; }
    QSqlDatabase& db() { return m_db; }
    // `statement`, prepared once: for as long as a team journal's kept connection lasts (DatabaseConnection::prepared),
    // for this call on a local journal (preparing costs SQLite nothing). Null, with *error set, if it cannot be.
    QSqlQuery* prepared(const QString& statement, QString* error)
    {
        if (m_kept)
            return m_kept->prepared(statement, error);
        QSqlError failure;
        QSqlQuery* query = m_prepared.get(m_db, statement, &failure);
        if (!query)
            setError(error, sqlError(u"Cannot prepare a statement on the journal"_s, failure));
        return query;
    }

private:
    static inline std::atomic<quint64> s_nextId { 0 };
    bool m_team = false;
    DatabaseConnection* m_kept = nullptr; // a team journal's connection, kept for the thread's next call
    QString m_name;
    QSqlDatabase m_db;
    PreparedStatements m_prepared; // a local journal's, for this call
    QString m_error;
};

QString timeText(const QDateTime& time)
{
    return time.toUTC().toString(Qt::ISODateWithMs);
}

// The time leases are judged by: the database's clock for a team journal (one clock for every console, whatever their
// own say), this machine's for a local one (its only clock). Millisecond precision, as stored.
QDateTime leaseTime(const QDateTime& time)
{
    return QDateTime::fromString(timeText(time), Qt::ISODateWithMs).toUTC();
}

// The team journal database's clock, as timeText() writes: the statement's time, not the transaction's, which may
// have begun before the writers' lock was had.
const QString kTeamClock = u"to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"_s;

// Runs PostgreSQL `statements` as one batch, in one round trip. QPSQL reports the first statement's outcome and keeps
// the others' queued: each is checked here (a COMMIT that failed after a SELECT that did not is a failure), and the
// last one's rows are left to read.
bool execBatch(QSqlQuery& query, const QStringList& statements)
{
    if (!query.exec(statements.join(u"; "_s)))
        return false;
    for (qsizetype i = 1; i < statements.size(); ++i) {
        if (!query.nextResult())
            return false;
    }
    return true;
}

// Where the chain ends: its last entry (seq 0 and the first entry's previous hash when it has none), and the key id
// of that entry's MAC ("" if unkeyed).
struct ChainEnd
{
    qint64 seq = 0;
    QString hash = kFirstPrevHash;
    QString keyId;
};

// Takes the journal's write lock up front, so that reading the last hash and inserting after it cannot interleave
// with another writer, in this process or another: SQLite's BEGIN IMMEDIATE, or on PostgreSQL an advisory lock that
// the transaction's end releases (it needs no privilege, where LOCK TABLE would need UPDATE on the table). Rolls back
// unless committed.
class WriteTransaction
{
public:
    explicit WriteTransaction(Connection& connection)
        : m_connection(connection)
    {
    }

    ~WriteTransaction() { rollBack(); }

    WriteTransaction(const WriteTransaction&) = delete;
    WriteTransaction& operator=(const WriteTransaction&) = delete;

    enum class Chain
    {
        Read, // where the chain ends and the database's time, under the lock: for chainEnd() and now()
        Absent // the schema may not exist yet
    };

    // A team journal's statements go as one batch, the chain's end and the clock read under the lock with them (one
    // round trip: through a tunnel, each costs).
    bool begin(QString* error, Chain chain = Chain::Read)
    {
        m_active = true; // a batch that failed midway may have begun: the destructor rolls back in any case
        const bool readChain = chain == Chain::Read;
        QStringList team { u"BEGIN"_s, u"SET LOCAL lock_timeout = %1"_s.arg(kBusyTimeoutMs),
            u"SELECT pg_advisory_xact_lock(%1)"_s.arg(kTeamWriteLock) };
        if (readChain)
            team << kTeamChainEnd;
        const auto tryBegin = [&](QSqlQuery& query) {
            return m_connection.isTeam()
                ? execBatch(query, team)
                : query.exec(u"BEGIN IMMEDIATE"_s) && (!readChain || query.exec(kLocalChainEnd));
        };
        std::optional<QSqlQuery> query(m_connection.db());
        // The batch changes nothing: when it failed because the connection had gone away, it runs again on a new one.
        if (!tryBegin(*query)) {
            const QSqlError failure = query->lastError();
            query.reset();
            rollBack(); // a batch that failed on a working connection left its transaction aborted
            QString reopenError;
            if (!m_connection.reopenedAfterFailure(&reopenError)) {
                setError(error,
                    sqlError(u"Cannot lock the journal for writing"_s, failure)
                        + (reopenError.isEmpty() ? QString() : u" (%1)"_s.arg(reopenError)));
                return false;
            }
            query.emplace(m_connection.db());
            m_active = true;
            if (!tryBegin(*query)) {
                setError(error, sqlError(u"Cannot lock the journal for writing"_s, query->lastError()));
                return false;
            }
        }
        if (!readChain)
            return true;
        m_now = leaseTime(QDateTime::currentDateTimeUtc());
        if (query->next()) {
            if (!query->isNull(0))
                m_end = { query->value(0).toLongLong(), query->value(1).toString(), query->value(2).toString() };
            if (m_connection.isTeam())
                m_now = leaseTime(QDateTime::fromString(query->value(3).toString(), Qt::ISODateWithMs));
        }
        return true;
    }

    Connection& connection() { return m_connection; }
    // Read by begin() under the writers' lock, and moved on by appended().
    const ChainEnd& chainEnd() const { return m_end; }
    // The time leases are judged by (leaseTime), as begin() read it under the lock.
    QDateTime now() const { return m_now; }
    // Entry `end.seq` was appended: the chain ends there now, and a team journal announces it at commit (pg_notify is
    // delivered then, not before), so that every console watching hears of it (JournalWatcher); the payload is only
    // a hint, each reads what is new.
    void appended(const ChainEnd& end)
    {
        m_end = end;
        m_appended = true;
    }

    bool commit(QString* error)
    {
        QSqlQuery query(m_connection.db());
        if (!(m_connection.isTeam() && m_appended ? execBatch(
                  query, { u"SELECT pg_notify('%1', '%2')"_s.arg(Journal::kAppendChannel).arg(m_end.seq), u"COMMIT"_s })
                                                  : query.exec(u"COMMIT"_s))) {
            setError(error, sqlError(u"Cannot commit to the journal"_s, query.lastError()));
            return false;
        }
        m_active = false;
        return true;
    }

private:
    void rollBack()
    {
        if (std::exchange(m_active, false))
            QSqlQuery(m_connection.db()).exec(u"ROLLBACK"_s);
    }

    // The clock is read with the end, after the lock was had.
    static inline const QString kTeamChainEnd = u"SELECT e.seq, e.hash, e.key_id, "_s + kTeamClock
        + u" FROM (SELECT 1) AS one LEFT JOIN (SELECT seq, hash, key_id FROM entries ORDER BY seq DESC LIMIT 1) AS e "
          "ON true"_s;
    static inline const QString kLocalChainEnd = u"SELECT seq, hash, key_id FROM entries ORDER BY seq DESC LIMIT 1"_s;

    Connection& m_connection;
    bool m_active = false;
    bool m_appended = false;
    ChainEnd m_end;
    QDateTime m_now;
};

bool execAll(QSqlDatabase& db, const QStringList& statements, QString* error)
{
    for (const QString& statement : statements) {
        QSqlQuery query(db);
        if (!query.exec(statement)) {
            setError(error, sqlError(u"Cannot set up the journal %1"_s.arg(db.databaseName()), query.lastError()));
            return false;
        }
    }
    return true;
}

// A JSON array of strings: unambiguous (every field is quoted and escaped) and easy to reproduce anywhere.
// The data is hashed as the exact text stored, so any edit to it shows.
QString entryHash(qint64 seq,
    const QString& at,
    const QString& runId,
    const QString& kind,
    const QString& operation,
    const QString& target,
    const QString& user,
    const QString& dataText,
    const QString& prevHash)
{
    const QJsonArray fields { QString::number(seq), at, runId, kind, operation, target, user, dataText, prevHash };
    const QByteArray canonical = QJsonDocument(fields).toJson(QJsonDocument::Compact);
    return QString::fromLatin1(QCryptographicHash::hash(canonical, QCryptographicHash::Sha256).toHex());
}

// An entry's MAC: HMAC-SHA256 of its hash with the team key. Over the hash, which covers every field and the chain
// before it, so that rewriting any entry, or recomputing the chain after one, needs the key.
QString entryMac(const QString& key, const QString& hash)
{
    return QString::fromLatin1(
        QMessageAuthenticationCode::hash(hash.toLatin1(), key.toUtf8(), QCryptographicHash::Sha256).toHex());
}

// Which key made a MAC, without revealing it: entries keep it, so that a wrong key is told apart from a rewrite.
QString keyId(const QString& key)
{
    return entryMac(key, u"opsdeck journal key id"_s).left(16);
}

// Matched on the end of the key with case and separators ignored, so that "dbPassword" and "api_token" go while
// "oneTimeTokens" and "secretName" stay. Numbers and lists under such a key stay too: they are counts and deleted
// items (Packit has a one_time_token table), and the items' own keys are checked in turn.
bool isSecret(const QString& key, const QJsonValue& value)
{
    if (value.isDouble() || value.isBool() || value.isArray())
        return false;
    static const QStringList kSecretWords { u"password"_s, u"passwd"_s, u"passphrase"_s, u"secret"_s, u"token"_s,
        u"apikey"_s, u"privatekey"_s, u"credential"_s };
    QString normalised;
    for (const QChar c : key) {
        if (c.isLetterOrNumber())
            normalised += c.toLower();
    }
    return std::any_of(kSecretWords.cbegin(), kSecretWords.cend(),
        [&normalised](const QString& word) { return normalised.endsWith(word); });
}

QJsonValue withoutSecrets(const QJsonValue& value, QStringList* removed);

QJsonObject withoutSecrets(const QJsonObject& object, QStringList* removed)
{
    QJsonObject result;
    for (auto it = object.constBegin(); it != object.constEnd(); ++it) {
        if (isSecret(it.key(), it.value()))
            removed->append(it.key());
        else
            result.insert(it.key(), withoutSecrets(it.value(), removed));
    }
    return result;
}

QJsonValue withoutSecrets(const QJsonValue& value, QStringList* removed)
{
    if (value.isObject())
        return withoutSecrets(value.toObject(), removed);
    if (value.isArray()) {
        QJsonArray result;
        for (const QJsonValue& element : value.toArray())
            result.append(withoutSecrets(element, removed));
        return result;
    }
    return value;
}

// Only inside a WriteTransaction.
bool insertEntry(WriteTransaction& transaction,
    const JournalLocation& location,
    const QString& runId,
    const QString& kind,
    const QString& operation,
    const QString& target,
    const QJsonObject& data,
    QString* error)
{
    const QString& key = location.key;
    if (location.isKeyed() && key.isEmpty()) {
        setError(error,
            u"The journal %1 is keyed (journal keyEnv %2), and this console has not got the key: give it the team's "
            u"key "
            "(docs/team-journal.md). Nothing was written"_s.arg(location.describe(), location.keyEnv));
        return false;
    }
    // Once keyed, the chain stays keyed with one key: an unkeyed or otherwise keyed entry after it would read as a
    // rewrite.
    const ChainEnd& end = transaction.chainEnd();
    if (!end.keyId.isEmpty() && key.isEmpty()) {
        setError(error,
            u"The journal's entries carry MACs made with the team key (key id %1), and this console has no key: set "
            "journal.keyEnv in the inventory and give it the team's key (docs/team-journal.md). Nothing was written"_s
                .arg(end.keyId));
        return false;
    }
    if (!end.keyId.isEmpty() && end.keyId != keyId(key)) {
        setError(error,
            u"The journal's entries carry MACs made with the key of id %1, and this console's key has id %2: it is the "
            "wrong key. Nothing was written"_s.arg(end.keyId, keyId(key)));
        return false;
    }
    const qint64 seq = end.seq + 1;
    const QString prevHash = end.hash;

    QStringList removed;
    const QJsonObject stored = withoutSecrets(data, &removed);
    if (!removed.isEmpty()) {
        qCWarning(lcRunbook).noquote() << "Removed secret-looking keys" << removed.join(u", "_s) << "from a" << kind
                                       << "entry of run" << runId << "before journaling it";
    }
    // Key names catch a field meant as a secret; a secret value in free text (a command's output, an error, a
    // list item) only the values this process resolved can catch.
    const QString dataText
        = QString::fromUtf8(QJsonDocument(SecretScrubber::scrub(stored)).toJson(QJsonDocument::Compact));
    const QString at = timeText(QDateTime::currentDateTimeUtc());
    const QString user = Journal::localUser();
    const QString hash = entryHash(seq, at, runId, kind, operation, target, user, dataText, prevHash);
    const QString mac = key.isEmpty() ? QString(u""_s) : entryMac(key, hash);
    const QString macKey = key.isEmpty() ? QString(u""_s) : keyId(key);

    // A null QString binds as NULL; the hash took it as "", so the row must hold "" too.
    QSqlQuery* insert = transaction.connection().prepared(
        u"INSERT INTO entries (seq, at, run_id, kind, operation, target, \"user\", data, prev_hash, hash, "
        "mac, key_id) VALUES (?, ?, coalesce(?, ''), coalesce(?, ''), coalesce(?, ''), coalesce(?, ''), ?, ?, "
        "?, ?, ?, ?)"_s,
        error);
    if (!insert)
        return false;
    int column = 0;
    for (const QVariant& value :
        { QVariant(seq), QVariant(at), QVariant(runId), QVariant(kind), QVariant(operation), QVariant(target),
            QVariant(user), QVariant(dataText), QVariant(prevHash), QVariant(hash), QVariant(mac), QVariant(macKey) })
        insert->bindValue(column++, value);
    if (!insert->exec()) {
        setError(error, sqlError(u"Cannot append to the journal"_s, insert->lastError()));
        return false;
    }
    transaction.appended({ seq, hash, macKey });
    return true;
}

// A killed process whose parent has not reaped it yet (or never will, under a container's init) is a zombie: it
// holds nothing any more, and ProcessIdentity::of() does not count it.
bool processExists(qint64 pid)
{
    return ProcessIdentity::of(pid).has_value();
}

QString machineName()
{
    return QSysInfo::machineHostName();
}

qint64 ownPid()
{
    return QCoreApplication::applicationPid();
}

// Whether pid is a live opsdeck process of this machine (the console that journals a run is the opsdeck
// executable, the GUI and the CLI alike).
bool isLiveConsole(qint64 pid)
{
    if (!processExists(pid))
        return false;
    QFile comm(u"/proc/%1/comm"_s.arg(pid));
    return !comm.open(QIODevice::ReadOnly) || comm.readAll().trimmed() == "opsdeck";
}

QString notOpenError(const JournalLocation& location)
{
    return u"The journal %1 is not open"_s.arg(location.describe());
}

// A connection to an opened journal; null, with *error set, when the journal was not opened or cannot be reached.
std::unique_ptr<Connection> connectTo(bool opened, const JournalLocation& location, QString* error, Use use = Use::Read)
{
    if (!opened) {
        setError(error, notOpenError(location));
        return nullptr;
    }
    auto connection = std::make_unique<Connection>(location, use);
    if (!connection->isOpen()) {
        setError(error, connection->error());
        return nullptr;
    }
    return connection;
}

bool knownVersion(const JournalLocation& location, int version, QString* error)
{
    if (version <= kSchemaVersion)
        return true;
    setError(error,
        u"The journal %1 was written by a newer opsdeck (schema %2, this one knows %3); update opsdeck"_s.arg(
            location.describe(), QString::number(version), QString::number(kSchemaVersion)));
    return false;
}

bool openLocalSchema(Connection& connection, const JournalLocation& location, QString* error)
{
    QSqlDatabase& db = connection.db();
    const QString where = location.describe();
    // WAL lets readers (a Journal pane, a report) go on while a run appends. It cannot change inside a transaction.
    {
        QSqlQuery wal(db);
        if (!wal.exec(u"PRAGMA journal_mode=WAL"_s) || !wal.next()) {
            setError(error, sqlError(u"Cannot set up the journal %1"_s.arg(where), wal.lastError()));
            return false;
        }
        if (wal.value(0).toString() != u"wal"_s)
            qCWarning(lcRunbook) << "The journal" << where << "cannot use WAL mode; readers will wait for writers";
    }

    WriteTransaction transaction(connection);
    if (!transaction.begin(error, WriteTransaction::Chain::Absent))
        return false;
    int version = 0;
    {
        QSqlQuery query(db);
        if (!query.exec(u"PRAGMA user_version"_s) || !query.next()) {
            setError(error, sqlError(u"Cannot read the journal %1"_s.arg(where), query.lastError()));
            return false;
        }
        version = query.value(0).toInt();
    }
    if (!knownVersion(location, version, error))
        return false;
    // The triggers stop accidents (a tool or a bug updating rows); deliberate tampering is the chain's job.
    const QStringList schema {
        u"CREATE TABLE IF NOT EXISTS entries ("
        "seq INTEGER PRIMARY KEY, at TEXT NOT NULL, run_id TEXT NOT NULL, kind TEXT NOT NULL, "
        "operation TEXT NOT NULL, target TEXT NOT NULL, \"user\" TEXT NOT NULL, data TEXT NOT NULL, "
        "prev_hash TEXT NOT NULL, hash TEXT NOT NULL, mac TEXT NOT NULL DEFAULT '', key_id TEXT NOT NULL DEFAULT '')"_s,
        u"CREATE INDEX IF NOT EXISTS entries_by_run ON entries (run_id, seq)"_s,
        u"CREATE INDEX IF NOT EXISTS entries_by_kind ON entries (kind, seq)"_s,
        u"CREATE TRIGGER IF NOT EXISTS entries_no_update BEFORE UPDATE ON entries "
        "BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END"_s,
        u"CREATE TRIGGER IF NOT EXISTS entries_no_delete BEFORE DELETE ON entries "
        "BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END"_s,
        u"CREATE TABLE IF NOT EXISTS locks ("
        "target TEXT PRIMARY KEY, run_id TEXT NOT NULL, holder TEXT NOT NULL, pid INTEGER NOT NULL, "
        "machine TEXT NOT NULL, since TEXT NOT NULL, lease_until TEXT NOT NULL DEFAULT '')"_s,
    };
    const QStringList migration = version == 0 ? QStringList() : migrationFrom(version);
    return execAll(db, schema + migration + QStringList { u"PRAGMA user_version = %1"_s.arg(kSchemaVersion) }, error)
        && transaction.commit(error);
}

// The schema of a team journal: made once, by a user who may create tables (the database's owner), and only read by
// the consoles after that, whose users need no more than the grants below (docs/team-journal.md). Made under the
// writers' lock, so that consoles opening a new database at once do not race to create it.
bool openTeamSchema(Connection& connection, const JournalLocation& location, QString* error)
{
    QSqlDatabase& db = connection.db();
    const QString where = location.describe();
    WriteTransaction transaction(connection);
    if (!transaction.begin(error, WriteTransaction::Chain::Absent))
        return false;
    int version = 0;
    {
        // Two statements: PostgreSQL resolves every table a statement names before it runs any of it.
        QSqlQuery query(db);
        if (!query.exec(u"SELECT to_regclass('journal_schema') IS NOT NULL"_s) || !query.next()
            || (query.value(0).toBool()
                && (!query.exec(u"SELECT coalesce(max(version), 0) FROM journal_schema"_s) || !query.next()))) {
            setError(error, sqlError(u"Cannot read the %1"_s.arg(where), query.lastError()));
            return false;
        }
        version = query.value(0).toInt();
    }
    if (!knownVersion(location, version, error))
        return false;
    if (version == kSchemaVersion)
        return transaction.commit(error);
    if (version > 0) {
        QString failure;
        if (!execAll(db,
                migrationFrom(version)
                    + QStringList { u"UPDATE journal_schema SET version = %1"_s.arg(kSchemaVersion) },
                &failure)
            || !transaction.commit(&failure)) {
            setError(error,
                u"The %1 has schema %2, which this opsdeck must migrate to %3, and user %4 cannot (%5): open it once "
                "as the database's owner (docs/team-journal.md)"_s.arg(where, QString::number(version),
                    QString::number(kSchemaVersion), location.team->database.user, failure));
            return false;
        }
        qCInfo(lcRunbook).noquote() << "Migrated the schema of the" << where << "to version" << kSchemaVersion;
        return true;
    }
    // Consoles' users belong to the role opsdeck_console: they may read and append entries, never change or remove
    // them (the grants, and the trigger for the tables' owner), and take and release locks.
    const QStringList schema {
        u"CREATE TABLE entries (seq BIGINT PRIMARY KEY, at TEXT NOT NULL, run_id TEXT NOT NULL, kind TEXT NOT NULL, "
        "operation TEXT NOT NULL, target TEXT NOT NULL, \"user\" TEXT NOT NULL, data TEXT NOT NULL, "
        "prev_hash TEXT NOT NULL, hash TEXT NOT NULL, mac TEXT NOT NULL DEFAULT '', "
        "key_id TEXT NOT NULL DEFAULT '')"_s,
        u"CREATE INDEX entries_by_run ON entries (run_id, seq)"_s,
        u"CREATE INDEX entries_by_kind ON entries (kind, seq)"_s,
        u"CREATE FUNCTION journal_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$f$ BEGIN RAISE EXCEPTION 'the journal is append-only'; END $f$"_s,
        u"CREATE TRIGGER entries_no_change BEFORE UPDATE OR DELETE ON entries "
        "FOR EACH ROW EXECUTE FUNCTION journal_append_only()"_s,
        u"CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries "
        "FOR EACH STATEMENT EXECUTE FUNCTION journal_append_only()"_s,
        u"CREATE TABLE locks (target TEXT PRIMARY KEY, run_id TEXT NOT NULL, holder TEXT NOT NULL, "
        "pid BIGINT NOT NULL, machine TEXT NOT NULL, since TEXT NOT NULL, lease_until TEXT NOT NULL DEFAULT '')"_s,
        u"CREATE TABLE journal_schema (version INTEGER NOT NULL)"_s,
        u"INSERT INTO journal_schema VALUES (%1)"_s.arg(kSchemaVersion),
        u"DO $g$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'opsdeck_console') THEN "
        "REVOKE ALL ON entries, locks, journal_schema FROM PUBLIC; "
        "GRANT SELECT, INSERT ON entries TO opsdeck_console; "
        "GRANT SELECT, INSERT, UPDATE, DELETE ON locks TO opsdeck_console; "
        "GRANT SELECT ON journal_schema TO opsdeck_console; END IF; END $g$"_s,
    };
    QString failure;
    if (!execAll(db, schema, &failure) || !transaction.commit(&failure)) {
        setError(error,
            u"The %1 has no opsdeck schema yet, and user %2 cannot create it (%3): open it once as the database's "
            "owner (docs/team-journal.md)"_s.arg(where, location.team->database.user, failure));
        return false;
    }
    qCInfo(lcRunbook).noquote() << "Created the schema of the" << where;
    return true;
}

// leaseTime() now, read from the journal database's clock for a team journal.
std::optional<QDateTime> databaseNow(Connection& connection, QString* error)
{
    if (!connection.isTeam())
        return leaseTime(QDateTime::currentDateTimeUtc());
    QSqlQuery query(connection.db());
    if (!query.exec(u"SELECT "_s + kTeamClock) || !query.next()) {
        setError(error, sqlError(u"Cannot read the journal database's clock"_s, query.lastError()));
        return std::nullopt;
    }
    return leaseTime(QDateTime::fromString(query.value(0).toString(), Qt::ISODateWithMs));
}

// Sets the lease of `runId`'s lock on `target` to a lease from `now`; false, with *error, if the run does not hold it.
bool writeLease(
    Connection& connection, const QString& target, const QString& runId, const QDateTime& now, QString* error)
{
    QSqlQuery* renew
        = connection.prepared(u"UPDATE locks SET lease_until = ? WHERE target = ? AND run_id = ?"_s, error);
    if (!renew)
        return false;
    renew->bindValue(0, timeText(now.addMSecs(Journal::leaseMs())));
    renew->bindValue(1, target);
    renew->bindValue(2, runId);
    if (!renew->exec()) {
        setError(error, sqlError(u"Cannot renew the lock on %1"_s.arg(target), renew->lastError()));
        return false;
    }
    if (renew->numRowsAffected() < 1) {
        setError(error,
            u"run %1 no longer holds the lock on %2: another console took it over after its lease ran out, or an "
            "admin broke it (opsdeck journal list shows which)"_s.arg(runId, target));
        return false;
    }
    return true;
}

const QString kLockColumns = u"SELECT target, run_id, holder, pid, machine, since, lease_until FROM locks"_s;

// A row of kLockColumns, judged at `now` (databaseNow).
Journal::HeldLock heldLock(const QSqlQuery& row, const QDateTime& now)
{
    Journal::HeldLock held;
    held.target = row.value(0).toString();
    held.holder.runId = row.value(1).toString();
    held.holder.holder = row.value(2).toString();
    held.holder.pid = row.value(3).toLongLong();
    held.holder.machine = row.value(4).toString();
    held.holder.since = QDateTime::fromString(row.value(5).toString(), Qt::ISODateWithMs).toUTC();
    held.holder.leaseUntil = QDateTime::fromString(row.value(6).toString(), Qt::ISODateWithMs).toUTC();
    held.leaseRanOut = held.holder.leaseUntil.isValid() && held.holder.leaseUntil < now;
    held.holderGoneHere = held.holder.machine == machineName() && !processExists(held.holder.pid);
    held.judgedAt = now;
    return held;
}

// The chain's head: its last entry, or seq 0 and the first entry's previous hash.
std::optional<Journal::Anchor> readHead(QSqlDatabase& db, QString* error)
{
    QSqlQuery last(db);
    if (!last.exec(u"SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1"_s)) {
        setError(error, sqlError(u"Cannot read the end of the journal"_s, last.lastError()));
        return std::nullopt;
    }
    if (!last.next())
        return Journal::Anchor { 0, kFirstPrevHash };
    return Journal::Anchor { last.value(0).toLongLong(), last.value(1).toString() };
}

// Where the chain of a journal copied in (Journal::migrateFrom) got to, while verify() reads its entries.
struct ImportedChain
{
    qint64 seq = 0;
    QString hash = kFirstPrevHash;
};

// An entry copied from another journal, read by verify() (the columns of its query): whether it holds its place in
// that journal's chain, and whether its data is the data that chain covers. Empty if so, else what is wrong.
QString checkImported(qint64 seq, const QSqlQuery& row, const QString& dataText, QHash<QString, ImportedChain>* chains)
{
    QJsonObject data = QJsonDocument::fromJson(dataText.toUtf8()).object();
    const QJsonObject imported = data.take(kImportedKey).toObject();
    const QString sourceId = imported.value(u"sourceId"_s).toString();
    const qint64 sourceSeq = imported.value(u"seq"_s).toInteger();
    const QString originalData = imported.value(u"data"_s).toString();
    ImportedChain& chain = (*chains)[sourceId];
    if (sourceSeq != chain.seq + 1 || imported.value(u"prevHash"_s).toString() != chain.hash)
        return u"Entry %1 was copied from %2 as its entry %3, which does not follow its entry %4 there: the copied "
               "journal's chain is broken"_s.arg(QString::number(seq), imported.value(u"from"_s).toString(),
                   QString::number(sourceSeq), QString::number(chain.seq));
    const QString hash = entryHash(sourceSeq, imported.value(u"at"_s).toString(), row.value(2).toString(),
        row.value(3).toString(), row.value(4).toString(), row.value(5).toString(), imported.value(u"user"_s).toString(),
        originalData, chain.hash);
    if (hash != imported.value(u"hash"_s).toString() || QJsonDocument::fromJson(originalData.toUtf8()).object() != data)
        return u"Entry %1 was copied from %2 as its entry %3, and no longer matches that journal's chain"_s.arg(
            QString::number(seq), imported.value(u"from"_s).toString(), QString::number(sourceSeq));
    chain = { sourceSeq, hash };
    return {};
}

} // namespace

QString Journal::localUser()
{
    // The account, from the password database, rather than $USER, which any process can set; $USER only when
    // the account has no entry (as in some containers).
    QString login;
    if (const passwd* entry = ::getpwuid(::geteuid()))
        login = QString::fromLocal8Bit(entry->pw_name);
    if (login.isEmpty())
        login = qEnvironmentVariable("USER", u"unknown"_s);
    return login + u'@' + machineName();
}

Journal::Journal(JournalLocation location)
    : m_location(std::move(location))
{
}

bool Journal::open(QString* error)
{
    if (!m_location.isTeam()) {
        const QString dir = QFileInfo(m_location.path).absolutePath();
        if (!QDir().mkpath(dir)) {
            setError(error, u"Cannot create the journal's folder %1"_s.arg(dir));
            return false;
        }
    }
    Connection connection(m_location);
    if (!connection.isOpen()) {
        setError(error, connection.error());
        return false;
    }
    if (!(m_location.isTeam() ? openTeamSchema(connection, m_location, error)
                              : openLocalSchema(connection, m_location, error)))
        return false;
    m_open = true;
    return true;
}

bool Journal::append(const QString& runId,
    const QString& kind,
    const QString& operation,
    const QString& target,
    const QJsonObject& data,
    QString* error)
{
    const auto connection = connectTo(m_open, m_location, error, Use::Write);
    if (!connection)
        return false;
    WriteTransaction transaction(*connection);
    return transaction.begin(error) && insertEntry(transaction, m_location, runId, kind, operation, target, data, error)
        && transaction.commit(error);
}

bool Journal::saveRun(const RunRecord& run, QString* error, QString* anchorText)
{
    const auto connection = connectTo(m_open, m_location, error, Use::Write);
    if (!connection)
        return false;
    WriteTransaction transaction(*connection);
    if (!transaction.begin(error))
        return false;
    // The report records the chain's head it follows (under the writers' lock, so that it is the entry before it):
    // an anchor that every copy of the report carries.
    RunRecord record = run;
    record.journalAnchor = Anchor { transaction.chainEnd().seq, transaction.chainEnd().hash }.text();
    if (!insertEntry(transaction, m_location, run.id, kReportKind, run.operation, run.target, record.toJson(), error)
        || !transaction.commit(error))
        return false;
    if (anchorText)
        *anchorText = record.journalAnchor;
    return true;
}

std::optional<RunRecord> Journal::run(const QString& runId, QString* error) const
{
    const auto connection = connectTo(m_open, m_location, error);
    if (!connection)
        return std::nullopt;
    QSqlQuery query(connection->db());
    query.prepare(u"SELECT data FROM entries WHERE kind = ? AND run_id = ? ORDER BY seq DESC LIMIT 1"_s);
    query.addBindValue(kReportKind);
    query.addBindValue(runId);
    if (!query.exec()) {
        setError(error, sqlError(u"Cannot read run %1 from the journal"_s.arg(runId), query.lastError()));
        return std::nullopt;
    }
    if (!query.next())
        return std::nullopt;
    return RunRecord::fromJson(QJsonDocument::fromJson(query.value(0).toString().toUtf8()).object());
}

QList<RunRecord> Journal::runs(const RunFilter& filter, QString* error) const
{
    const auto connection = connectTo(m_open, m_location, error);
    if (!connection)
        return {};
    QString sql = u"SELECT run_id, data FROM entries WHERE kind = ?"_s;
    QVariantList values { kReportKind };
    if (!filter.target.isEmpty()) {
        sql += u" AND target = ?"_s;
        values.append(filter.target);
    }
    if (!filter.operation.isEmpty()) {
        sql += u" AND operation = ?"_s;
        values.append(filter.operation);
    }
    sql += u" ORDER BY seq DESC"_s;

    QSqlQuery query(connection->db());
    query.setForwardOnly(true);
    query.prepare(sql);
    for (const QVariant& value : values)
        query.addBindValue(value);
    if (!query.exec()) {
        setError(error, sqlError(u"Cannot read runs from the journal"_s, query.lastError()));
        return {};
    }
    QList<RunRecord> result;
    QSet<QString> seen; // newest record first, so the first one seen of a run is the one that counts
    while (query.next()) {
        const QString runId = query.value(0).toString();
        if (seen.contains(runId))
            continue;
        seen.insert(runId);
        RunRecord run = RunRecord::fromJson(QJsonDocument::fromJson(query.value(1).toString().toUtf8()).object());
        if (!filter.outcome.isEmpty() && RunRecord::outcomeName(run.outcome) != filter.outcome)
            continue;
        if (filter.from.isValid() && !(run.startedAt >= filter.from))
            continue;
        if (filter.to.isValid() && !(run.startedAt <= filter.to))
            continue;
        result.append(std::move(run));
    }
    std::stable_sort(
        result.begin(), result.end(), [](const RunRecord& a, const RunRecord& b) { return a.startedAt > b.startedAt; });
    return result;
}

QList<JournalEntry> Journal::entries(const QString& runId, QString* error) const
{
    return readEntries(runId.isEmpty() ? u"ORDER BY seq"_s : u"WHERE run_id = ? ORDER BY seq"_s,
        runId.isEmpty() ? QVariantList() : QVariantList { runId }, error);
}

QList<JournalEntry> Journal::entriesAfter(qint64 seq, int limit, QString* error) const
{
    return readEntries(u"WHERE seq > ? ORDER BY seq LIMIT ?"_s, { seq, limit }, error);
}

QList<JournalEntry> Journal::entriesOfKinds(const QStringList& kinds, QString* error) const
{
    if (kinds.isEmpty())
        return {};
    QStringList marks;
    QVariantList values;
    for (const QString& kind : kinds) {
        marks << u"?"_s;
        values << kind;
    }
    return readEntries(u"WHERE kind IN (%1) ORDER BY seq"_s.arg(marks.join(u", "_s)), values, error);
}

std::optional<QDateTime> Journal::now(QString* error) const
{
    const auto connection = connectTo(m_open, m_location, error);
    if (!connection)
        return std::nullopt;
    return databaseNow(*connection, error);
}

QList<JournalEntry> Journal::readEntries(const QString& where, const QVariantList& values, QString* error) const
{
    const auto connection = connectTo(m_open, m_location, error);
    if (!connection)
        return {};
    QSqlQuery query(connection->db());
    query.setForwardOnly(true);
    query.prepare(
        u"SELECT seq, at, run_id, kind, operation, target, \"user\", data, prev_hash, hash FROM entries "_s + where);
    for (const QVariant& value : values)
        query.addBindValue(value);
    if (!query.exec()) {
        setError(error, sqlError(u"Cannot read the journal"_s, query.lastError()));
        return {};
    }
    QList<JournalEntry> result;
    while (query.next()) {
        JournalEntry entry;
        entry.seq = query.value(0).toLongLong();
        entry.at = QDateTime::fromString(query.value(1).toString(), Qt::ISODateWithMs).toUTC();
        entry.runId = query.value(2).toString();
        entry.kind = query.value(3).toString();
        entry.operation = query.value(4).toString();
        entry.target = query.value(5).toString();
        entry.user = query.value(6).toString();
        entry.data = QJsonDocument::fromJson(query.value(7).toString().toUtf8()).object();
        entry.prevHash = query.value(8).toString();
        entry.hash = query.value(9).toString();
        result.append(std::move(entry));
    }
    return result;
}

Journal::Listening Journal::listen(QObject* context, const std::function<void()>& appended, QString* error) const
{
    if (!m_location.isTeam())
        return Listening::Failed; // SQLite has no notifications: its watchers read on a timer
    const auto connection = connectTo(m_open, m_location, error);
    if (!connection)
        return Listening::Failed;
    QSqlDriver* driver = connection->db().driver();
    if (driver->subscribedToNotifications().contains(kAppendChannel))
        return Listening::Already;
    // A connection opened again (the server restarted, the tunnel dropped) has a new driver, which listens to
    // nothing yet: whatever was appended meanwhile was not announced to this console.
    if (!driver->subscribeToNotification(QString(kAppendChannel))) {
        setError(error, sqlError(u"Cannot listen to the journal's appends"_s, driver->lastError()));
        return Listening::Failed;
    }
    QObject::connect(driver, &QSqlDriver::notification, context, [appended](const QString& name) {
        if (name == kAppendChannel)
            appended();
    });
    return Listening::Started;
}

Journal::Verification Journal::verify(const std::optional<Anchor>& anchor) const
{
    Verification result;
    const auto fail = [&result](qint64 seq, const QString& problem) {
        result.intact = false;
        result.firstBadSeq = seq;
        result.problem = problem;
        return result;
    };
    if (!m_open)
        return fail(0, notOpenError(m_location));
    Connection connection(m_location);
    if (!connection.isOpen())
        return fail(0, connection.error());

    QSqlQuery query(connection.db());
    query.setForwardOnly(true);
    if (!query.exec(u"SELECT seq, at, run_id, kind, operation, target, \"user\", data, prev_hash, hash, mac, key_id "
                    "FROM entries ORDER BY seq"_s))
        return fail(0, sqlError(u"Cannot read the journal"_s, query.lastError()));

    const QString ourKeyId = m_location.key.isEmpty() ? QString() : keyId(m_location.key);
    QHash<QString, ImportedChain> sources; // the chains of the journals copied in, by source id
    qint64 expectedSeq = 1;
    QString expectedPrevHash = kFirstPrevHash;
    qint64 firstKeyed = 0;
    while (query.next()) {
        const qint64 seq = query.value(0).toLongLong();
        const QString prevHash = query.value(8).toString();
        const QString hash = query.value(9).toString();
        const QString mac = query.value(10).toString();
        const QString macKey = query.value(11).toString();
        if (seq != expectedSeq) {
            const QString missing = seq - expectedSeq == 1
                ? u"entry %1 is missing"_s.arg(expectedSeq)
                : u"entries %1 to %2 are missing"_s.arg(QString::number(expectedSeq), QString::number(seq - 1));
            return fail(seq,
                u"Entry %1 follows entry %2: %3, removed from the middle"_s.arg(
                    QString::number(seq), QString::number(expectedSeq - 1), missing));
        }
        if (prevHash != expectedPrevHash) {
            return fail(seq,
                u"Entry %1 does not continue the chain (its previous hash differs): an entry before it was "
                "removed, replaced or moved"_s.arg(seq));
        }
        const QString recomputed = entryHash(seq, query.value(1).toString(), query.value(2).toString(),
            query.value(3).toString(), query.value(4).toString(), query.value(5).toString(), query.value(6).toString(),
            query.value(7).toString(), prevHash);
        if (hash != recomputed)
            return fail(seq, u"Entry %1 was changed after it was written (its hash does not match)"_s.arg(seq));
        if (const QString dataText = query.value(7).toString(); dataText.contains(u"\"imported\":{"_s)) {
            const QString problem = checkImported(seq, query, dataText, &sources);
            if (!problem.isEmpty())
                return fail(seq, problem);
            ++result.imported;
        }
        if (macKey.isEmpty()) {
            if (firstKeyed > 0)
                return fail(seq,
                    u"Entry %1 carries no MAC, though the chain is keyed since entry %2: it was written or rewritten "
                    "by someone without the team key"_s.arg(QString::number(seq), QString::number(firstKeyed)));
            ++result.unkeyed;
        } else {
            if (firstKeyed == 0)
                firstKeyed = seq;
            if (ourKeyId.isEmpty()) {
                ++result.macsUnchecked;
            } else if (macKey != ourKeyId) {
                return fail(seq,
                    u"Entry %1's MAC was made with the key of id %2, not with this console's key (id %3): the key is "
                    "wrong, or the chain was rewritten from there with another key"_s.arg(
                        QString::number(seq), macKey, ourKeyId));
            } else if (mac != entryMac(m_location.key, hash)) {
                return fail(seq,
                    u"Entry %1's MAC does not match: the entry, or the chain up to it, was rewritten by someone "
                    "without the team key"_s.arg(seq));
            } else {
                ++result.macsChecked;
            }
        }
        if (anchor && seq == anchor->seq) {
            if (hash != anchor->hash)
                return fail(seq,
                    u"Entry %1 differs from the anchor %2: the journal was rewritten up to it, with the chain "
                    "recomputed"_s.arg(QString::number(seq), anchor->text()));
            result.anchorChecked = true;
        }
        expectedPrevHash = hash;
        ++expectedSeq;
        ++result.checked;
    }
    if (query.lastError().isValid())
        return fail(expectedSeq, sqlError(u"Cannot read the journal"_s, query.lastError()));
    if (anchor && anchor->seq > 0 && !result.anchorChecked)
        return fail(expectedSeq,
            u"The journal ends at entry %1, but the anchor %2 names entry %3: entries %4 to %3 were cut off the end"_s
                .arg(QString::number(expectedSeq - 1), anchor->text(), QString::number(anchor->seq),
                    QString::number(expectedSeq)));
    if (anchor && anchor->seq == 0)
        result.anchorChecked = true; // the anchor of an empty journal holds for any journal
    return result;
}

std::optional<Journal::Anchor> Journal::head(QString* error) const
{
    const auto connection = connectTo(m_open, m_location, error);
    if (!connection)
        return std::nullopt;
    return readHead(connection->db(), error);
}

QString Journal::Anchor::text() const
{
    return u"%1:%2"_s.arg(QString::number(seq), hash);
}

std::optional<Journal::Anchor> Journal::Anchor::parse(const QString& text, QString* error)
{
    static const QRegularExpression pattern(u"^([0-9]{1,18}):([0-9a-f]{64})\\z"_s);
    const QRegularExpressionMatch match = pattern.match(text);
    if (!match.hasMatch()) {
        setError(error,
            u"\"%1\" is not an anchor: expected SEQ:HASH, an entry's number, a colon and its 64 lowercase hex "
            "digits, as opsdeck journal anchor prints it"_s.arg(text));
        return std::nullopt;
    }
    return Anchor { match.captured(1).toLongLong(), match.captured(2) };
}

Journal::LockResult Journal::acquireLock(
    const QString& target, const QString& runId, LockHolder* heldBy, QString* error)
{
    const auto connection = connectTo(m_open, m_location, error, Use::Write);
    if (!connection)
        return LockResult::Error;
    WriteTransaction transaction(*connection);
    if (!transaction.begin(error))
        return LockResult::Error;
    const QDateTime now = transaction.now();

    QJsonObject takenOver;
    {
        QSqlQuery* current = connection->prepared(kLockColumns + u" WHERE target = ?"_s, error);
        if (!current)
            return LockResult::Error;
        current->bindValue(0, target);
        if (!current->exec()) {
            setError(error, sqlError(u"Cannot read the lock on %1"_s.arg(target), current->lastError()));
            return LockResult::Error;
        }
        const std::optional<HeldLock> found = current->next() ? std::optional(heldLock(*current, now)) : std::nullopt;
        current->finish();
        if (found) {
            const HeldLock& held = *found;
            if (held.holder.runId == runId && held.holder.machine == machineName()
                && held.holder.pid == ownPid()) // ours: renewed
                return writeLease(*connection, target, runId, now, error) && transaction.commit(error)
                    ? LockResult::Acquired
                    : LockResult::Error;
            if (!held.holderGoneHere && !held.leaseRanOut) {
                if (heldBy)
                    *heldBy = held.holder;
                return LockResult::HeldByOther;
            }
            takenOver = { { u"action"_s, u"taken-over"_s }, { u"staleRunId"_s, held.holder.runId },
                { u"staleHolder"_s, held.holder.holder }, { u"staleSince"_s, timeText(held.holder.since) },
                { u"reason"_s,
                    held.holderGoneHere ? u"process %1 on %2 no longer runs"_s.arg(
                        QString::number(held.holder.pid), held.holder.machine)
                                        : u"its lease ran out at %1: its console stopped renewing it"_s.arg(
                                            timeText(held.holder.leaseUntil)) } };
        }
    }

    if (!takenOver.isEmpty()) {
        qCWarning(lcRunbook).noquote() << "Taking over the lock on" << target << "held by"
                                       << takenOver.value(u"staleHolder"_s).toString() << ":"
                                       << takenOver.value(u"reason"_s).toString();
        if (!insertEntry(transaction, m_location, runId, kLockKind, QString(), target, takenOver, error))
            return LockResult::Error;
    }
    QSqlQuery* write = connection->prepared(u"INSERT INTO locks (target, run_id, holder, pid, machine, since, "
                                            "lease_until) VALUES (?, ?, ?, ?, ?, ?, ?) "
                                            "ON CONFLICT (target) DO UPDATE SET run_id = excluded.run_id, "
                                            "holder = excluded.holder, pid = excluded.pid, machine = excluded.machine, "
                                            "since = excluded.since, lease_until = excluded.lease_until"_s,
        error);
    if (!write)
        return LockResult::Error;
    int column = 0;
    for (const QVariant& value : { QVariant(target), QVariant(runId),
             QVariant(u"%1 pid %2"_s.arg(localUser(), QString::number(ownPid()))), QVariant(ownPid()),
             QVariant(machineName()), QVariant(timeText(now)), QVariant(timeText(now.addMSecs(leaseMs()))) })
        write->bindValue(column++, value);
    if (!write->exec()) {
        setError(error, sqlError(u"Cannot lock %1"_s.arg(target), write->lastError()));
        return LockResult::Error;
    }
    if (!insertEntry(
            transaction, m_location, runId, kLockKind, QString(), target, { { u"action"_s, u"acquired"_s } }, error)
        || !transaction.commit(error))
        return LockResult::Error;
    return LockResult::Acquired;
}

bool Journal::renewLock(const QString& target, const QString& runId, QString* error)
{
    const auto connection = connectTo(m_open, m_location, error, Use::Write);
    if (!connection)
        return false;
    WriteTransaction transaction(*connection);
    return transaction.begin(error) && writeLease(*connection, target, runId, transaction.now(), error)
        && transaction.commit(error);
}

qint64 Journal::leaseMs()
{
    bool ok = false;
    const qint64 fromEnvironment = qEnvironmentVariable("OPSDECK_LOCK_LEASE_MS").toLongLong(&ok);
    return ok && fromEnvironment >= 1000 ? fromEnvironment : 60000;
}

bool Journal::releaseLock(const QString& target, const QString& runId)
{
    QString error;
    const auto failed = [&](const QString& message) {
        qCWarning(lcRunbook).noquote() << "Cannot release the lock on" << target << "for run" << runId << ":"
                                       << message;
        return false;
    };
    if (!m_open)
        return failed(notOpenError(m_location));
    Connection connection(m_location, Use::Write);
    if (!connection.isOpen())
        return failed(connection.error());
    WriteTransaction transaction(connection);
    if (!transaction.begin(&error))
        return failed(error);
    QSqlQuery* remove = connection.prepared(u"DELETE FROM locks WHERE target = ? AND run_id = ?"_s, &error);
    if (!remove)
        return failed(error);
    remove->bindValue(0, target);
    remove->bindValue(1, runId);
    if (!remove->exec())
        return failed(remove->lastError().text());
    if (remove->numRowsAffected() < 1)
        return false; // not ours (any more): nothing to release, nothing to journal
    if (!insertEntry(
            transaction, m_location, runId, kLockKind, QString(), target, { { u"action"_s, u"released"_s } }, &error)
        || !transaction.commit(&error))
        return failed(error);
    return true;
}

QList<Journal::HeldLock> Journal::locks(QString* error) const
{
    const auto connection = connectTo(m_open, m_location, error);
    if (!connection)
        return {};
    const auto at = databaseNow(*connection, error);
    if (!at)
        return {};
    QSqlQuery query(connection->db());
    if (!query.exec(kLockColumns + u" ORDER BY target"_s)) {
        setError(error, sqlError(u"Cannot read the locks"_s, query.lastError()));
        return {};
    }
    QList<HeldLock> result;
    while (query.next())
        result << heldLock(query, *at);
    return result;
}

std::optional<Journal::HeldLock> Journal::lock(const QString& target, QString* error) const
{
    QString failure;
    const QList<HeldLock> held = locks(&failure);
    if (!failure.isEmpty()) {
        setError(error, failure);
        return std::nullopt;
    }
    const auto found
        = std::find_if(held.cbegin(), held.cend(), [&target](const HeldLock& lock) { return lock.target == target; });
    return found == held.cend() ? std::nullopt : std::optional(*found);
}

std::optional<Journal::Migration> Journal::migrateFrom(const Journal& source, QString* error)
{
    if (source.describe() == describe()) {
        setError(error, u"%1 is both the source and the destination: nothing to copy"_s.arg(describe()));
        return std::nullopt;
    }
    const Verification check = source.verify();
    if (!check.intact) {
        setError(error,
            u"The journal %1 is not intact (entry %2: %3): it is not copied, as a copy would carry the break on. "
            "Nothing was copied"_s.arg(source.describe(), QString::number(check.firstBadSeq), check.problem));
        return std::nullopt;
    }
    const auto from = connectTo(source.m_open, source.m_location, error);
    const auto to = connectTo(m_open, m_location, error);
    if (!from || !to)
        return std::nullopt;
    Migration result;
    const auto head = readHead(from->db(), error);
    if (!head)
        return std::nullopt;
    result.sourceHead = *head;
    QSqlQuery first(from->db());
    if (!first.exec(u"SELECT hash FROM entries WHERE seq = 1"_s)) {
        setError(error, sqlError(u"Cannot read the journal %1"_s.arg(source.describe()), first.lastError()));
        return std::nullopt;
    }
    if (!first.next())
        return result; // an empty journal: nothing to copy
    // A journal is known by its first entry's hash: the same journal under another path is the same source.
    const QString sourceId = first.value(0).toString();
    {
        QSqlQuery done(to->db());
        done.prepare(u"SELECT data FROM entries WHERE kind <> ? AND data LIKE ? ORDER BY seq DESC LIMIT 1"_s);
        done.addBindValue(kMigrationKind);
        done.addBindValue(u"%\"sourceId\":\"%1\"%"_s.arg(sourceId));
        if (!done.exec()) {
            setError(error, sqlError(u"Cannot read the journal %1"_s.arg(describe()), done.lastError()));
            return std::nullopt;
        }
        if (done.next())
            result.alreadyCopied = QJsonDocument::fromJson(done.value(0).toString().toUtf8())
                                       .object()
                                       .value(kImportedKey)
                                       .toObject()
                                       .value(u"seq"_s)
                                       .toInteger();
    }
    QSqlQuery rows(from->db());
    rows.setForwardOnly(true);
    rows.prepare(u"SELECT seq, at, run_id, kind, operation, target, \"user\", data, prev_hash, hash FROM entries "
                 "WHERE seq > ? ORDER BY seq"_s);
    rows.addBindValue(result.alreadyCopied);
    if (!rows.exec()) {
        setError(error, sqlError(u"Cannot read the journal %1"_s.arg(source.describe()), rows.lastError()));
        return std::nullopt;
    }
    // In batches, each its own transaction: other consoles may write between them, and a copy cut short resumes.
    bool more = rows.next();
    while (more) {
        WriteTransaction transaction(*to);
        if (!transaction.begin(error))
            return std::nullopt;
        for (int i = 0; i < kMigrationBatch && more; ++i, more = rows.next()) {
            QJsonObject data = QJsonDocument::fromJson(rows.value(7).toString().toUtf8()).object();
            data.insert(kImportedKey,
                QJsonObject { { u"from"_s, source.describe() }, { u"sourceId"_s, sourceId },
                    { u"seq"_s, rows.value(0).toLongLong() }, { u"at"_s, rows.value(1).toString() },
                    { u"user"_s, rows.value(6).toString() }, { u"data"_s, rows.value(7).toString() },
                    { u"prevHash"_s, rows.value(8).toString() }, { u"hash"_s, rows.value(9).toString() } });
            if (!insertEntry(transaction, m_location, rows.value(2).toString(), rows.value(3).toString(),
                    rows.value(4).toString(), rows.value(5).toString(), data, error))
                return std::nullopt;
            ++result.copied;
        }
        if (!more
            && !insertEntry(transaction, m_location, u"migration-"_s + sourceId.left(16), kMigrationKind, QString(),
                QString(),
                { { u"from"_s, source.describe() }, { u"sourceId"_s, sourceId },
                    { u"sourceHead"_s, result.sourceHead.text() }, { u"copied"_s, result.copied },
                    { u"alreadyCopied"_s, result.alreadyCopied } },
                error))
            return std::nullopt;
        if (!transaction.commit(error))
            return std::nullopt;
    }
    return result;
}

bool Journal::breakLock(
    const QString& target, const QString& holderRunId, const QString& runId, const QString& reason, QString* error)
{
    const auto connection = connectTo(m_open, m_location, error, Use::Write);
    if (!connection)
        return false;
    QSqlDatabase& db = connection->db();
    WriteTransaction transaction(*connection);
    if (!transaction.begin(error))
        return false;
    const QDateTime now = transaction.now();
    QSqlQuery current(db);
    current.prepare(kLockColumns + u" WHERE target = ? AND run_id = ?"_s);
    current.addBindValue(target);
    current.addBindValue(holderRunId);
    if (!current.exec()) {
        setError(error, sqlError(u"Cannot read the lock on %1"_s.arg(target), current.lastError()));
        return false;
    }
    if (!current.next()) {
        setError(error,
            u"the lock on %1 is no longer held by run %2: it was released, taken over or broken since it was read"_s
                .arg(target, holderRunId));
        return false;
    }
    const HeldLock held = heldLock(current, now);
    QSqlQuery remove(db);
    remove.prepare(u"DELETE FROM locks WHERE target = ? AND run_id = ?"_s);
    remove.addBindValue(target);
    remove.addBindValue(holderRunId);
    if (!remove.exec()) {
        setError(error, sqlError(u"Cannot break the lock on %1"_s.arg(target), remove.lastError()));
        return false;
    }
    const QJsonObject broken { { u"action"_s, u"broken"_s }, { u"brokenRunId"_s, holderRunId },
        { u"brokenHolder"_s, held.holder.holder }, { u"brokenSince"_s, timeText(held.holder.since) },
        { u"brokenLeaseUntil"_s, held.holder.leaseUntil.isValid() ? timeText(held.holder.leaseUntil) : QString() },
        { u"leaseRanOut"_s, held.leaseRanOut }, { u"brokenAt"_s, timeText(now) }, { u"brokenByRunId"_s, runId },
        { u"reason"_s, reason } };
    if (!insertEntry(transaction, m_location, runId, kLockKind, QString(), target, broken, error)
        || !insertEntry(transaction, m_location, holderRunId, kLockKind, QString(), target, broken, error)
        || !transaction.commit(error))
        return false;
    qCWarning(lcRunbook).noquote() << "Broke the lock on" << target << "held by" << held.holder.holder << "for run"
                                   << holderRunId << ":" << reason;
    return true;
}

QJsonObject Journal::consoleIdentity()
{
    return { { u"pid"_s, ownPid() }, { u"host"_s, machineName() } };
}

QList<Journal::UnfinishedRun> Journal::unfinishedRuns(QString* error) const
{
    const auto connection = connectTo(m_open, m_location, error);
    if (!connection)
        return {};
    QSqlQuery query(connection->db());
    query.setForwardOnly(true);
    // Only the runs that have no outcome, or one outcome and were left open (a recovery that succeeds adds the
    // second), and of those only the entries that tell what they were and how far they got. The runs are found from
    // their plan, outcome and left-open entries alone (entries_by_kind), a few a run: every console start reads this,
    // and a journal only grows.
    if (!query.exec(u"SELECT run_id, kind, operation, target, at, data FROM entries "
                    "WHERE run_id IN (SELECT run_id FROM entries WHERE kind IN ('plan', 'outcome', 'left-open') "
                    "GROUP BY run_id HAVING SUM(CASE WHEN kind = 'plan' THEN 1 ELSE 0 END) > 0 "
                    "AND (SUM(CASE WHEN kind = 'outcome' THEN 1 ELSE 0 END) = 0 "
                    "OR (SUM(CASE WHEN kind = 'left-open' THEN 1 ELSE 0 END) > 0 "
                    "AND SUM(CASE WHEN kind = 'outcome' THEN 1 ELSE 0 END) = 1))) "
                    "AND kind IN ('plan', 'confirm', 'step-start', 'step-end', 'recovery', 'process', 'left-open') "
                    "ORDER BY seq"_s)) {
        setError(error, sqlError(u"Cannot read the journal"_s, query.lastError()));
        return {};
    }
    QList<UnfinishedRun> runs;
    QHash<QString, qsizetype> index;
    while (query.next()) {
        const QString runId = query.value(0).toString();
        const QString kind = query.value(1).toString();
        const QJsonObject data = QJsonDocument::fromJson(query.value(5).toString().toUtf8()).object();
        if (kind == u"plan"_s) {
            UnfinishedRun run;
            run.runId = runId;
            run.operation = query.value(2).toString();
            run.target = query.value(3).toString();
            run.startedAt = QDateTime::fromString(query.value(4).toString(), Qt::ISODateWithMs).toUTC();
            run.confirmWith = data.value(u"confirmWith"_s).toString();
            run.parameters = data.value(u"parameters"_s).toObject();
            index.insert(runId, runs.size());
            runs.append(run);
            continue;
        }
        const auto found = index.constFind(runId);
        if (found == index.cend())
            continue;
        UnfinishedRun& run = runs[*found];
        if (kind == u"confirm"_s) {
            run.pid = data.value(u"pid"_s).toInteger();
            run.host = data.value(u"host"_s).toString();
        } else if (kind == u"step-end"_s) {
            run.lastStepState = data.value(u"state"_s).toString();
        } else if (kind == u"left-open"_s) {
            run.leftOpen = data.value(u"why"_s).toString();
        } else if (kind == u"process"_s) {
            if (const auto process = ProcessIdentity::fromJson(data))
                run.processes << *process;
        } else {
            run.lastStep = data.value(u"step"_s).toString();
            run.lastStepState = u"running"_s;
        }
    }
    const QString machine = machineName();
    // A run left open has ended: its console may live on (the GUI) without it.
    runs.removeIf([&](const UnfinishedRun& run) {
        return run.host != machine || (run.leftOpen.isEmpty() && isLiveConsole(run.pid));
    });
    return runs;
}

} // namespace opsdeck
