#include "JournalWriters.h"
#include "KilledRun.h"
#include "runbook/Journal.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QSysInfo>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace Qt::StringLiterals;
using namespace opsdeck;

namespace {

// A second, independent connection to the journal's file: what someone tampering with it would use.
class RawFile
{
public:
    explicit RawFile(const QString& path)
    {
        m_db = QSqlDatabase::addDatabase(u"QSQLITE"_s, m_name);
        m_db.setDatabaseName(path);
        m_db.open();
    }
    ~RawFile()
    {
        m_db.close();
        m_db = QSqlDatabase();
        QSqlDatabase::removeDatabase(m_name);
    }
    RawFile(const RawFile&) = delete;
    RawFile& operator=(const RawFile&) = delete;

    QSqlDatabase db() const { return m_db; }
    bool exec(const QString& sql, QString* error = nullptr)
    {
        QSqlQuery query(m_db);
        const bool ok = query.exec(sql);
        if (!ok && error)
            *error = query.lastError().text();
        return ok;
    }

    // The journal refuses updates and deletes by trigger; someone tampering on purpose drops the triggers first.
    void dropGuards()
    {
        QVERIFY(exec(u"DROP TRIGGER entries_no_update"_s));
        QVERIFY(exec(u"DROP TRIGGER entries_no_delete"_s));
    }

private:
    QString m_name = u"tst_journal.raw"_s;
    QSqlDatabase m_db;
};

// What someone with write access and without the key does after changing entries: recomputes every hash from
// entry `from` on, as Journal does (SHA-256 of the JSON array of the fields and the previous hash), so that the
// chain alone shows nothing. The MACs it cannot recompute.
void recomputeChain(RawFile& raw, qint64 from)
{
    QSqlDatabase db = raw.db();
    QSqlQuery rows(db);
    QVERIFY(rows.exec(u"SELECT seq, at, run_id, kind, operation, target, \"user\", data FROM entries ORDER BY seq"_s));
    QString prevHash(64, u'0');
    QList<std::pair<qint64, std::pair<QString, QString>>> updates; // seq -> (prev_hash, hash)
    while (rows.next()) {
        const qint64 seq = rows.value(0).toLongLong();
        if (seq >= from) {
            QJsonArray fields { QString::number(seq) };
            for (int column = 1; column <= 7; ++column)
                fields.append(rows.value(column).toString());
            fields.append(prevHash);
            const QString hash = QString::fromLatin1(QCryptographicHash::hash(
                QJsonDocument(fields).toJson(QJsonDocument::Compact), QCryptographicHash::Sha256)
                                                         .toHex());
            updates.append({ seq, { prevHash, hash } });
            prevHash = hash;
        } else {
            QSqlQuery hash(db);
            QVERIFY(hash.exec(u"SELECT hash FROM entries WHERE seq = %1"_s.arg(seq)) && hash.next());
            prevHash = hash.value(0).toString();
        }
    }
    for (const auto& [seq, hashes] : std::as_const(updates))
        QVERIFY(raw.exec(u"UPDATE entries SET prev_hash = '%1', hash = '%2' WHERE seq = %3"_s.arg(
            hashes.first, hashes.second, QString::number(seq))));
}

JournalLocation keyed(const QString& path, const QString& key)
{
    JournalLocation location(path);
    location.keyEnv = u"OPSDECK_JOURNAL_KEY"_s;
    location.key = key;
    return location;
}

const QString kTeamKey = u"team-key-0123456789abcdef"_s;

RunRecord makeRun(const QString& id,
    const QString& operation,
    const QString& target,
    RunRecord::Outcome outcome,
    const QDateTime& startedAt)
{
    RunRecord run;
    run.id = id;
    run.operation = operation;
    run.target = target;
    run.outcome = outcome;
    run.startedAt = startedAt;
    run.finishedAt = startedAt.addSecs(60);
    run.user = Journal::localUser();
    run.planCounts = { { u"packets"_s, 3 } };
    return run;
}

QDateTime may(int day)
{
    return QDateTime(QDate(2024, 5, day), QTime(12, 0), Qt::UTC);
}

QStringList ids(const QList<RunRecord>& runs)
{
    QStringList result;
    for (const RunRecord& run : runs)
        result.append(run.id);
    return result;
}

} // namespace

class TestJournal : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void defaultPath();
    void openCreatesFoldersAndSchema();
    void refusesNewerSchema();
    void unopenedJournalFails();
    void appendAndEntries();
    void saveRunAndRun();
    void runsWithFilters();
    void verifyIntact();
    void verifyEmptyJournal();
    void entriesAreAppendOnly();
    void verifyDetectsEditedData();
    void verifyDetectsDeletedEntry();
    void verifyDetectsSwappedEntries();
    void verifyDetectsSwappedHashes();
    void aKeyedChainShowsARewriteByOneWithoutTheKey();
    void aKeyedChainNamesEntriesRemovedFromTheMiddle();
    void anAnchorShowsACutTail();
    void theWrongKeyOrNoKeyIsNamedAndWritesNothing();
    void anUnkeyedJournalBecomesKeyed();
    void anchorsAreParsedStrictly();
    void aJournalIsMigratedWithItsChain();
    void secretLookingKeysAreStripped();
    void lockAcquireAndRelease();
    void staleLockIsTakenOver();
    void lockFromAnotherMachineIsNotTakenOver();
    void lockWhoseLeaseRanOutIsTakenOver();
    void renewingExtendsTheLeaseUntilTheLockIsLost();
    void locksListsEveryLockWithItsLease();
    void aLockIsBrokenOnlyIfItsPlannedHolderStillHoldsIt();
    void aVersion1JournalIsMigrated();
    void concurrentAppendsKeepTheChain();
    void concurrentProcessesKeepTheChain();
    void unfinishedRunsAreThoseWhoseConsoleIsGone();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_path;
    std::unique_ptr<Journal> m_journal;
};

void TestJournal::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_path = m_dir->filePath(u"journal.sqlite"_s);
    m_journal = std::make_unique<Journal>(m_path);
    QString error;
    QVERIFY2(m_journal->open(&error), qPrintable(error));
}

void TestJournal::cleanup()
{
    m_journal.reset();
    m_dir.reset();
}

void TestJournal::defaultPath()
{
    QVERIFY(JournalLocation::defaultPath().endsWith(u"/journal.sqlite"_s));
    QVERIFY(Journal::localUser().endsWith(u'@' + QSysInfo::machineHostName()));
    QVERIFY(!Journal::localUser().startsWith(u'@'));
}

void TestJournal::openCreatesFoldersAndSchema()
{
    const QString path = m_dir->filePath(u"a/b/c/journal.sqlite"_s);
    Journal journal(path);
    QString error;
    QVERIFY2(journal.open(&error), qPrintable(error));
    QVERIFY(QFile::exists(path));
    // Opening again (another console on the same file) leaves it as it is.
    QVERIFY(journal.append(u"r1"_s, u"plan"_s, u"op"_s, u"t"_s, {}, &error));
    Journal again(path);
    QVERIFY2(again.open(&error), qPrintable(error));
    QCOMPARE(again.entries().size(), 1);
}

void TestJournal::refusesNewerSchema()
{
    {
        RawFile raw(m_path);
        QVERIFY(raw.exec(u"PRAGMA user_version = 99"_s));
    }
    Journal journal(m_path);
    QString error;
    QVERIFY(!journal.open(&error));
    QVERIFY2(error.contains(u"newer opsdeck"_s), qPrintable(error));
    QVERIFY(error.contains(m_path));
}

void TestJournal::unopenedJournalFails()
{
    Journal journal(m_dir->filePath(u"never.sqlite"_s));
    QString error;
    QVERIFY(!journal.append(u"r"_s, u"plan"_s, u"op"_s, u"t"_s, {}, &error));
    QVERIFY(error.contains(u"never.sqlite"_s));
    QVERIFY(!journal.verify().intact);
    Journal::LockHolder holder;
    QCOMPARE(journal.acquireLock(u"t"_s, u"r"_s, &holder, &error), Journal::LockResult::Error);
}

void TestJournal::appendAndEntries()
{
    const QDateTime before = QDateTime::currentDateTimeUtc().addMSecs(-1);
    QString error;
    QVERIFY2(m_journal->append(u"run-a"_s, u"plan"_s, u"packit-wipe"_s, u"host/one"_s, { { u"packets"_s, 3 } }, &error),
        qPrintable(error));
    QVERIFY(m_journal->append(u"run-b"_s, u"plan"_s, u"datamon-purge"_s, u"repo"_s, {}, &error));
    QVERIFY(m_journal->append(
        u"run-a"_s, u"confirm"_s, u"packit-wipe"_s, u"host/one"_s, { { u"typed"_s, u"one"_s } }, &error));
    QVERIFY(m_journal->append(
        u"run-a"_s, u"outcome"_s, u"packit-wipe"_s, u"host/one"_s, { { u"outcome"_s, u"succeeded"_s } }, &error));

    const QList<JournalEntry> all = m_journal->entries();
    QCOMPARE(all.size(), 4);
    for (qsizetype i = 0; i < all.size(); ++i) {
        const JournalEntry& entry = all.at(i);
        QCOMPARE(entry.seq, i + 1);
        QCOMPARE(entry.user, Journal::localUser());
        QVERIFY(entry.at >= before && entry.at <= QDateTime::currentDateTimeUtc());
        QCOMPARE(entry.at.timeSpec(), Qt::UTC);
        QVERIFY(QRegularExpression(u"^[0-9a-f]{64}$"_s).match(entry.hash).hasMatch());
        QCOMPARE(entry.prevHash, i == 0 ? QString(64, u'0') : all.at(i - 1).hash);
    }
    QCOMPARE(all.at(0).runId, u"run-a"_s);
    QCOMPARE(all.at(0).kind, u"plan"_s);
    QCOMPARE(all.at(0).operation, u"packit-wipe"_s);
    QCOMPARE(all.at(0).target, u"host/one"_s);
    QCOMPARE(all.at(0).data, QJsonObject({ { u"packets"_s, 3 } }));

    const QList<JournalEntry> runA = m_journal->entries(u"run-a"_s);
    QCOMPARE(runA.size(), 3);
    QCOMPARE(runA.at(0).seq, 1);
    QCOMPARE(runA.at(1).seq, 3);
    QCOMPARE(runA.at(1).data.value(u"typed"_s).toString(), u"one"_s);
    QCOMPARE(runA.at(2).kind, u"outcome"_s);
    QCOMPARE(m_journal->entries(u"run-b"_s).size(), 1);
    QVERIFY(m_journal->entries(u"nope"_s).isEmpty());
}

void TestJournal::saveRunAndRun()
{
    RunRecord run = makeRun(u"run-1"_s, u"packit-wipe"_s, u"h/i"_s, RunRecord::Outcome::Running, may(1));
    QString error;
    QVERIFY2(m_journal->saveRun(run, &error), qPrintable(error));
    run.outcome = RunRecord::Outcome::Succeeded;
    run.summary = u"done"_s;
    QVERIFY(m_journal->saveRun(run, &error));

    const std::optional<RunRecord> stored = m_journal->run(u"run-1"_s, &error);
    QVERIFY(stored.has_value());
    // With the chain's head it follows: the first record's entry, number 1.
    QVERIFY2(stored->journalAnchor.startsWith(u"1:"_s), qPrintable(stored->journalAnchor));
    run.journalAnchor = stored->journalAnchor;
    QCOMPARE(stored->toJson(), run.toJson());
    QVERIFY(!m_journal->run(u"run-2"_s).has_value());

    // Both records stay in the journal, chained like everything else.
    const QList<JournalEntry> entries = m_journal->entries(u"run-1"_s);
    QCOMPARE(entries.size(), 2);
    QCOMPARE(entries.at(1).kind, u"report"_s);
    QCOMPARE(entries.at(1).operation, u"packit-wipe"_s);
    QCOMPARE(entries.at(1).target, u"h/i"_s);
    QCOMPARE(m_journal->runs().size(), 1);
    QVERIFY(m_journal->verify().intact);
}

void TestJournal::runsWithFilters()
{
    using Outcome = RunRecord::Outcome;
    QVERIFY(m_journal->saveRun(makeRun(u"r1"_s, u"packit-wipe"_s, u"a"_s, Outcome::Succeeded, may(1))));
    QVERIFY(m_journal->saveRun(makeRun(u"r3"_s, u"datamon-purge"_s, u"b"_s, Outcome::Failed, may(3))));
    QVERIFY(m_journal->saveRun(makeRun(u"r2"_s, u"packit-wipe"_s, u"b"_s, Outcome::Cancelled, may(2))));
    QVERIFY(m_journal->saveRun(makeRun(u"r4"_s, u"packit-wipe"_s, u"a"_s, Outcome::Failed, may(4))));
    QVERIFY(m_journal->append(u"r4"_s, u"plan"_s, u"packit-wipe"_s, u"a"_s, {}));

    QCOMPARE(ids(m_journal->runs()), QStringList({ u"r4"_s, u"r3"_s, u"r2"_s, u"r1"_s }));

    Journal::RunFilter filter;
    filter.target = u"a"_s;
    QCOMPARE(ids(m_journal->runs(filter)), QStringList({ u"r4"_s, u"r1"_s }));

    filter = {};
    filter.operation = u"packit-wipe"_s;
    QCOMPARE(ids(m_journal->runs(filter)), QStringList({ u"r4"_s, u"r2"_s, u"r1"_s }));

    filter = {};
    filter.outcome = u"failed"_s;
    QCOMPARE(ids(m_journal->runs(filter)), QStringList({ u"r4"_s, u"r3"_s }));

    filter = {};
    filter.from = may(2);
    QCOMPARE(ids(m_journal->runs(filter)), QStringList({ u"r4"_s, u"r3"_s, u"r2"_s }));

    filter = {};
    filter.to = may(2);
    QCOMPARE(ids(m_journal->runs(filter)), QStringList({ u"r2"_s, u"r1"_s }));

    filter = {};
    filter.from = may(2);
    filter.to = may(3);
    QCOMPARE(ids(m_journal->runs(filter)), QStringList({ u"r3"_s, u"r2"_s }));

    filter = {};
    filter.target = u"b"_s;
    filter.operation = u"packit-wipe"_s;
    filter.outcome = u"cancelled"_s;
    QCOMPARE(ids(m_journal->runs(filter)), QStringList({ u"r2"_s }));

    filter = {};
    filter.target = u"c"_s;
    QVERIFY(m_journal->runs(filter).isEmpty());
}

void TestJournal::verifyIntact()
{
    for (int i = 0; i < 10; ++i)
        QVERIFY(m_journal->append(u"r"_s, u"output"_s, u"op"_s, u"t"_s, { { u"line"_s, i } }));
    QVERIFY(m_journal->saveRun(makeRun(u"r"_s, u"op"_s, u"t"_s, RunRecord::Outcome::Succeeded, may(1))));
    const Journal::Verification verification = m_journal->verify();
    QVERIFY2(verification.intact, qPrintable(verification.problem));
    QCOMPARE(verification.checked, 11);
    QCOMPARE(verification.firstBadSeq, 0);
}

void TestJournal::verifyEmptyJournal()
{
    const Journal::Verification verification = m_journal->verify();
    QVERIFY(verification.intact);
    QCOMPARE(verification.checked, 0);
}

void TestJournal::entriesAreAppendOnly()
{
    QVERIFY(m_journal->append(u"r"_s, u"plan"_s, u"op"_s, u"t"_s, {}));
    RawFile raw(m_path);
    QString error;
    QVERIFY(!raw.exec(u"UPDATE entries SET target = 'x'"_s, &error));
    QVERIFY2(error.contains(u"append-only"_s), qPrintable(error));
    QVERIFY(!raw.exec(u"DELETE FROM entries"_s, &error));
    QCOMPARE(m_journal->entries().size(), 1);
}

void TestJournal::verifyDetectsEditedData()
{
    for (int i = 0; i < 4; ++i)
        QVERIFY(m_journal->append(u"r"_s, u"step-end"_s, u"op"_s, u"t"_s, { { u"rows"_s, i } }));
    {
        RawFile raw(m_path);
        raw.dropGuards();
        QVERIFY(raw.exec(u"UPDATE entries SET data = '{\"rows\":100}' WHERE seq = 2"_s));
    }
    const Journal::Verification verification = m_journal->verify();
    QVERIFY(!verification.intact);
    QCOMPARE(verification.firstBadSeq, 2);
    QCOMPARE(verification.checked, 1);
    QVERIFY2(verification.problem.contains(u"changed"_s), qPrintable(verification.problem));
}

void TestJournal::verifyDetectsDeletedEntry()
{
    for (int i = 0; i < 5; ++i)
        QVERIFY(m_journal->append(u"r"_s, u"output"_s, u"op"_s, u"t"_s, { { u"line"_s, i } }));
    {
        RawFile raw(m_path);
        raw.dropGuards();
        QVERIFY(raw.exec(u"DELETE FROM entries WHERE seq = 3"_s));
    }
    Journal::Verification verification = m_journal->verify();
    QVERIFY(!verification.intact);
    QCOMPARE(verification.firstBadSeq, 4);
    QCOMPARE(verification.checked, 2);
    QVERIFY2(verification.problem.contains(u"missing"_s), qPrintable(verification.problem));

    // Renumbering to hide the gap breaks the chain instead.
    {
        RawFile raw(m_path);
        QVERIFY(raw.exec(u"UPDATE entries SET seq = seq - 1 WHERE seq > 3"_s));
    }
    verification = m_journal->verify();
    QVERIFY(!verification.intact);
    QCOMPARE(verification.firstBadSeq, 3);
}

void TestJournal::verifyDetectsSwappedEntries()
{
    for (int i = 0; i < 4; ++i)
        QVERIFY(m_journal->append(u"r"_s, u"output"_s, u"op"_s, u"t"_s, { { u"line"_s, i } }));
    {
        RawFile raw(m_path);
        raw.dropGuards();
        QVERIFY(raw.exec(u"UPDATE entries SET seq = -2 WHERE seq = 2"_s));
        QVERIFY(raw.exec(u"UPDATE entries SET seq = 2 WHERE seq = 3"_s));
        QVERIFY(raw.exec(u"UPDATE entries SET seq = 3 WHERE seq = -2"_s));
    }
    const Journal::Verification verification = m_journal->verify();
    QVERIFY(!verification.intact);
    QCOMPARE(verification.firstBadSeq, 2);
}

void TestJournal::verifyDetectsSwappedHashes()
{
    for (int i = 0; i < 4; ++i)
        QVERIFY(m_journal->append(u"r"_s, u"output"_s, u"op"_s, u"t"_s, { { u"line"_s, i } }));
    {
        RawFile raw(m_path);
        raw.dropGuards();
        QVERIFY(raw.exec(u"UPDATE entries SET hash = (SELECT hash FROM entries WHERE seq = 4) WHERE seq = 3"_s));
    }
    const Journal::Verification verification = m_journal->verify();
    QVERIFY(!verification.intact);
    QCOMPARE(verification.firstBadSeq, 3);
}

void TestJournal::aKeyedChainShowsARewriteByOneWithoutTheKey()
{
    Journal journal(keyed(m_path, kTeamKey));
    QString error;
    QVERIFY2(journal.open(&error), qPrintable(error));
    for (int i = 0; i < 5; ++i)
        QVERIFY(journal.append(u"r"_s, u"step-end"_s, u"op"_s, u"t"_s, { { u"rows"_s, i } }));
    Journal::Verification check = journal.verify();
    QVERIFY2(check.intact, qPrintable(check.problem));
    QCOMPARE(check.macsChecked, 5);
    check = m_journal->verify(); // the same file without the key: the chain, and MACs it cannot check
    QVERIFY(check.intact);
    QCOMPARE(check.macsUnchecked, 5);

    {
        RawFile raw(m_path);
        raw.dropGuards();
        QVERIFY(raw.exec(u"UPDATE entries SET data = '{\"rows\":100}' WHERE seq = 3"_s));
        recomputeChain(raw, 3);
    }
    QVERIFY(m_journal->verify().intact); // the chain alone no longer shows it
    check = journal.verify();
    QVERIFY(!check.intact);
    QCOMPARE(check.firstBadSeq, 3);
    QCOMPARE(check.checked, 2);
    QVERIFY2(
        check.problem.contains(u"Entry 3's MAC does not match"_s) && check.problem.contains(u"without the team key"_s),
        qPrintable(check.problem));

    // Stripping the MAC instead, to pass the entry off as written before the chain was keyed.
    {
        RawFile raw(m_path);
        QVERIFY(raw.exec(u"UPDATE entries SET mac = '', key_id = '' WHERE seq >= 3"_s));
    }
    check = journal.verify();
    QCOMPARE(check.firstBadSeq, 3);
    QVERIFY2(check.problem.contains(u"Entry 3 carries no MAC, though the chain is keyed since entry 1"_s),
        qPrintable(check.problem));
}

void TestJournal::aKeyedChainNamesEntriesRemovedFromTheMiddle()
{
    Journal journal(keyed(m_path, kTeamKey));
    QString error;
    QVERIFY2(journal.open(&error), qPrintable(error));
    for (int i = 0; i < 6; ++i)
        QVERIFY(journal.append(u"r"_s, u"output"_s, u"op"_s, u"t"_s, { { u"line"_s, i } }));
    {
        RawFile raw(m_path);
        raw.dropGuards();
        QVERIFY(raw.exec(u"DELETE FROM entries WHERE seq IN (3, 4)"_s));
    }
    Journal::Verification check = journal.verify();
    QCOMPARE(check.firstBadSeq, 5);
    QVERIFY2(check.problem.contains(u"Entry 5 follows entry 2: entries 3 to 4 are missing, removed from the middle"_s),
        qPrintable(check.problem));
    // Renumbered, with the chain recomputed: the MAC of the first moved entry no longer matches.
    {
        RawFile raw(m_path);
        QVERIFY(raw.exec(u"UPDATE entries SET seq = seq - 2 WHERE seq > 4"_s));
        recomputeChain(raw, 3);
    }
    QVERIFY(m_journal->verify().intact);
    check = journal.verify();
    QCOMPARE(check.firstBadSeq, 3);
    QVERIFY2(check.problem.contains(u"MAC does not match"_s), qPrintable(check.problem));
}

void TestJournal::anAnchorShowsACutTail()
{
    for (int i = 0; i < 5; ++i)
        QVERIFY(m_journal->append(u"r"_s, u"output"_s, u"op"_s, u"t"_s, { { u"line"_s, i } }));
    QString error;
    const auto anchor = m_journal->head(&error);
    QVERIFY2(anchor, qPrintable(error));
    QCOMPARE(anchor->seq, 5);
    Journal::Verification check = m_journal->verify(anchor);
    QVERIFY(check.intact);
    QVERIFY(check.anchorChecked);
    QVERIFY(m_journal->append(u"r"_s, u"output"_s, u"op"_s, u"t"_s, {}));
    QVERIFY(m_journal->verify(anchor).intact); // entries after an anchor are fine

    {
        RawFile raw(m_path);
        raw.dropGuards();
        QVERIFY(raw.exec(u"DELETE FROM entries WHERE seq >= 4"_s));
    }
    QVERIFY(m_journal->verify().intact); // a cut tail leaves a valid chain
    check = m_journal->verify(anchor);
    QVERIFY(!check.intact);
    QCOMPARE(check.firstBadSeq, 4);
    QVERIFY2(check.problem.contains(u"The journal ends at entry 3, but the anchor %1 names entry 5: entries 4 to 5 "
                                    "were cut off the end"_s.arg(anchor->text())),
        qPrintable(check.problem));

    // Entries put back with other content and the chain recomputed: the anchor's entry differs.
    for (int i = 0; i < 2; ++i)
        QVERIFY(m_journal->append(u"r"_s, u"output"_s, u"op"_s, u"t"_s, { { u"forged"_s, i } }));
    check = m_journal->verify(anchor);
    QCOMPARE(check.firstBadSeq, 5);
    QVERIFY2(check.problem.contains(u"Entry 5 differs from the anchor"_s), qPrintable(check.problem));
}

void TestJournal::theWrongKeyOrNoKeyIsNamedAndWritesNothing()
{
    Journal journal(keyed(m_path, kTeamKey));
    QString error;
    QVERIFY2(journal.open(&error), qPrintable(error));
    QVERIFY(journal.append(u"r"_s, u"output"_s, u"op"_s, u"t"_s, {}));

    Journal wrong(keyed(m_path, u"not-the-team-key-at-all"_s));
    QVERIFY2(wrong.open(&error), qPrintable(error)); // reading needs no key
    const Journal::Verification check = wrong.verify();
    QCOMPARE(check.firstBadSeq, 1);
    QVERIFY2(check.problem.contains(u"was made with the key of id"_s) && check.problem.contains(u"the key is wrong"_s),
        qPrintable(check.problem));
    QVERIFY(!wrong.append(u"r"_s, u"output"_s, u"op"_s, u"t"_s, {}, &error));
    QVERIFY2(error.contains(u"it is the wrong key. Nothing was written"_s), qPrintable(error));
    QVERIFY(!m_journal->append(u"r"_s, u"output"_s, u"op"_s, u"t"_s, {}, &error));
    QVERIFY2(error.contains(u"this console has no key"_s), qPrintable(error));
    Journal::LockHolder holder;
    QCOMPARE(m_journal->acquireLock(u"host/one"_s, u"r2"_s, &holder, &error), Journal::LockResult::Error);
    QCOMPARE(m_journal->entries().size(), 1);
    QVERIFY(!m_journal->lock(u"host/one"_s)); // the lock went with the refused entry's transaction
    // A keyed journal whose key this console did not get (the keychain refused, say) writes nothing either, though
    // the journal has no MAC yet.
    JournalLocation noKey = keyed(m_dir->filePath(u"fresh.sqlite"_s), QString());
    Journal fresh(noKey);
    QVERIFY(fresh.open(&error));
    QVERIFY(!fresh.append(u"r"_s, u"output"_s, u"op"_s, u"t"_s, {}, &error));
    QVERIFY2(error.contains(u"has not got the key"_s), qPrintable(error));
    // The secret is in no entry.
    for (const JournalEntry& entry : m_journal->entries())
        QVERIFY(!QJsonDocument(entry.data).toJson().contains(kTeamKey.toUtf8()));
}

void TestJournal::anUnkeyedJournalBecomesKeyed()
{
    QVERIFY(m_journal->append(u"r"_s, u"output"_s, u"op"_s, u"t"_s, {}));
    QVERIFY(m_journal->append(u"r"_s, u"output"_s, u"op"_s, u"t"_s, {}));
    Journal journal(keyed(m_path, kTeamKey));
    QString error;
    QVERIFY2(journal.open(&error), qPrintable(error));
    QVERIFY(journal.append(u"r"_s, u"output"_s, u"op"_s, u"t"_s, {}));
    const Journal::Verification check = journal.verify();
    QVERIFY2(check.intact, qPrintable(check.problem));
    QCOMPARE(check.unkeyed, 2);
    QCOMPARE(check.macsChecked, 1);
}

void TestJournal::anchorsAreParsedStrictly()
{
    QString error;
    const auto good = Journal::Anchor::parse(u"12:%1"_s.arg(QString(64, u'a')), &error);
    QVERIFY(good);
    QCOMPARE(good->seq, 12);
    QCOMPARE(good->text(), u"12:%1"_s.arg(QString(64, u'a')));
    for (const QString& bad :
        { QString(), u"12"_s, u"12:abc"_s, u"x:%1"_s.arg(QString(64, u'a')), u"12:%1"_s.arg(QString(64, u'A')),
            u"12:%1\n"_s.arg(QString(64, u'a')), u"-1:%1"_s.arg(QString(64, u'a')) }) {
        QVERIFY2(!Journal::Anchor::parse(bad, &error), qPrintable(bad));
        QVERIFY2(error.contains(u"expected SEQ:HASH"_s), qPrintable(error));
    }
}

void TestJournal::aJournalIsMigratedWithItsChain()
{
    QVERIFY(m_journal->saveRun(makeRun(u"r1"_s, u"packit-wipe"_s, u"a"_s, RunRecord::Outcome::Succeeded, may(1))));
    for (int i = 0; i < 3; ++i)
        QVERIFY(m_journal->append(u"r1"_s, u"output"_s, u"packit-wipe"_s, u"a"_s, { { u"line"_s, i } }));
    const QString teamPath = m_dir->filePath(u"team.sqlite"_s);
    Journal team(keyed(teamPath, kTeamKey));
    QString error;
    QVERIFY2(team.open(&error), qPrintable(error));
    QVERIFY(team.append(u"t1"_s, u"plan"_s, u"op"_s, u"t"_s, {}));

    auto migration = team.migrateFrom(*m_journal, &error);
    QVERIFY2(migration, qPrintable(error));
    QCOMPARE(migration->copied, 4);
    QCOMPARE(migration->alreadyCopied, 0);
    QCOMPARE(migration->sourceHead.seq, 4);
    // The runs read as they did, and the source's chain is checked inside the team's.
    QCOMPARE(team.run(u"r1"_s)->operation, u"packit-wipe"_s);
    QCOMPARE(team.entries(u"r1"_s).last().data.value(u"line"_s).toInt(), 2);
    Journal::Verification check = team.verify();
    QVERIFY2(check.intact, qPrintable(check.problem));
    QCOMPARE(check.imported, 4);
    QCOMPARE(check.macsChecked, 6); // t1, the four copies, the migration entry

    // Again: nothing new. After the source grew: only what it gained.
    migration = team.migrateFrom(*m_journal, &error);
    QCOMPARE(migration->copied, 0);
    QCOMPARE(migration->alreadyCopied, 4);
    QVERIFY(m_journal->append(u"r2"_s, u"plan"_s, u"op"_s, u"b"_s, {}));
    migration = team.migrateFrom(*m_journal, &error);
    QCOMPARE(migration->copied, 1);
    QCOMPARE(team.verify().imported, 5);

    // A copy edited in the team journal, with the team's chain recomputed (the MACs aside): the source's chain inside
    // it shows the edit.
    {
        RawFile raw(teamPath);
        raw.dropGuards();
        // Team entry 4 is the copy of the source's entry 3, line 1.
        QVERIFY(raw.exec(u"UPDATE entries SET data = replace(data, '\"line\":1', '\"line\":7') WHERE seq = 4"_s));
        recomputeChain(raw, 4);
    }
    Journal unkeyedView(teamPath);
    QVERIFY(unkeyedView.open(&error));
    check = unkeyedView.verify();
    QCOMPARE(check.firstBadSeq, 4);
    QVERIFY2(check.problem.contains(u"no longer matches that journal's chain"_s), qPrintable(check.problem));

    // A source that is not intact is not copied.
    {
        RawFile raw(m_path);
        raw.dropGuards();
        QVERIFY(raw.exec(u"UPDATE entries SET data = '{}' WHERE seq = 2"_s));
    }
    Journal other(m_dir->filePath(u"other.sqlite"_s));
    QVERIFY(other.open(&error));
    QVERIFY(!other.migrateFrom(*m_journal, &error));
    QVERIFY2(error.contains(u"is not intact (entry 2"_s) && error.contains(u"Nothing was copied"_s), qPrintable(error));
    QVERIFY(other.entries().isEmpty());
}

void TestJournal::secretLookingKeysAreStripped()
{
    const QJsonObject data {
        { u"password"_s, u"hunter2"_s },
        { u"DB_PASSWORD"_s, u"x"_s },
        { u"sshPassphrase"_s, u"x"_s },
        { u"connection"_s,
            QJsonObject { { u"apiToken"_s, u"x"_s }, { u"host"_s, u"db1"_s }, { u"privateKey"_s, u"x"_s } } },
        { u"items"_s, QJsonArray { QJsonObject { { u"clientSecret"_s, u"x"_s }, { u"id"_s, 7 } } } },
        { u"oneTimeTokens"_s, 3 },
        { u"secretName"_s, u"db-credentials"_s },
        { u"tokenFile"_s, u"/run/token"_s },
        { u"kubernetesSecret"_s, QJsonObject { { u"data"_s, u"x"_s } } },
        // A count and a list of deleted items under a secret-looking name stay; the items' tokens go.
        { u"oneTimeToken"_s, QJsonArray { QJsonObject { { u"id"_s, 1 }, { u"token"_s, u"x"_s } } } },
        { u"planCounts"_s, QJsonObject { { u"oneTimeToken"_s, 1 } } },
    };
    QVERIFY(m_journal->append(u"r"_s, u"plan"_s, u"op"_s, u"t"_s, data));
    const QJsonObject expected {
        { u"connection"_s, QJsonObject { { u"host"_s, u"db1"_s } } },
        { u"items"_s, QJsonArray { QJsonObject { { u"id"_s, 7 } } } },
        { u"oneTimeTokens"_s, 3 },
        { u"secretName"_s, u"db-credentials"_s },
        { u"tokenFile"_s, u"/run/token"_s },
        { u"oneTimeToken"_s, QJsonArray { QJsonObject { { u"id"_s, 1 } } } },
        { u"planCounts"_s, QJsonObject { { u"oneTimeToken"_s, 1 } } },
    };
    QCOMPARE(m_journal->entries().at(0).data, expected);

    RunRecord run = makeRun(u"r"_s, u"op"_s, u"t"_s, RunRecord::Outcome::Succeeded, may(1));
    run.parameters = { { u"host"_s, u"h"_s }, { u"passphrase"_s, u"x"_s } };
    QVERIFY(m_journal->saveRun(run));
    QCOMPARE(m_journal->run(u"r"_s)->parameters, QJsonObject({ { u"host"_s, u"h"_s } }));

    // Nothing of the values anywhere in the file.
    QVERIFY(m_journal->verify().intact);
    m_journal.reset();
    RawFile raw(m_path);
    QVERIFY(raw.exec(u"PRAGMA wal_checkpoint(TRUNCATE)"_s));
    QFile file(m_path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QVERIFY(!file.readAll().contains("hunter2"));
}

void TestJournal::lockAcquireAndRelease()
{
    const QDateTime before = QDateTime::currentDateTimeUtc().addMSecs(-1);
    Journal::LockHolder holder;
    QString error;
    QVERIFY2(m_journal->acquireLock(u"host/one"_s, u"run-a"_s, &holder, &error) == Journal::LockResult::Acquired,
        qPrintable(error));
    // Again by the same run: still ours.
    QCOMPARE(m_journal->acquireLock(u"host/one"_s, u"run-a"_s, &holder, &error), Journal::LockResult::Acquired);
    // Another target is independent.
    QCOMPARE(m_journal->acquireLock(u"host/two"_s, u"run-c"_s, &holder, &error), Journal::LockResult::Acquired);

    QCOMPARE(m_journal->acquireLock(u"host/one"_s, u"run-b"_s, &holder, &error), Journal::LockResult::HeldByOther);
    QCOMPARE(
        holder.holder, u"%1 pid %2"_s.arg(Journal::localUser(), QString::number(QCoreApplication::applicationPid())));
    QCOMPARE(holder.runId, u"run-a"_s);
    QVERIFY(holder.since >= before && holder.since <= QDateTime::currentDateTimeUtc());

    // Only the holder releases.
    QVERIFY(!m_journal->releaseLock(u"host/one"_s, u"run-b"_s));
    QCOMPARE(m_journal->acquireLock(u"host/one"_s, u"run-b"_s, &holder, &error), Journal::LockResult::HeldByOther);
    QVERIFY(m_journal->releaseLock(u"host/one"_s, u"run-a"_s));
    QVERIFY(!m_journal->releaseLock(u"host/one"_s, u"run-a"_s));
    QCOMPARE(m_journal->acquireLock(u"host/one"_s, u"run-b"_s, &holder, &error), Journal::LockResult::Acquired);

    QStringList actions;
    for (const JournalEntry& entry : m_journal->entries()) {
        QCOMPARE(entry.kind, u"lock"_s);
        actions.append(u"%1 %2 %3"_s.arg(entry.runId, entry.target, entry.data.value(u"action"_s).toString()));
    }
    QCOMPARE(actions,
        QStringList({ u"run-a host/one acquired"_s, u"run-c host/two acquired"_s, u"run-a host/one released"_s,
            u"run-b host/one acquired"_s }));
    QVERIFY(m_journal->verify().intact);
}

void TestJournal::staleLockIsTakenOver()
{
    const qint64 deadPid = test::goneProcessId();
    QVERIFY(deadPid > 0);
    {
        RawFile raw(m_path);
        QVERIFY(raw.exec(u"INSERT INTO locks (target, run_id, holder, pid, machine, since) VALUES "
                         "('host/one', 'crashed-run', 'bob@%1 pid %2', %2, '%1', '2024-05-01T12:00:00.000Z')"_s.arg(
                             QSysInfo::machineHostName(), QString::number(deadPid))));
    }
    Journal::LockHolder holder;
    QString error;
    QCOMPARE(m_journal->acquireLock(u"host/one"_s, u"run-a"_s, &holder, &error), Journal::LockResult::Acquired);
    QCOMPARE(m_journal->acquireLock(u"host/one"_s, u"run-b"_s, &holder, &error), Journal::LockResult::HeldByOther);
    QCOMPARE(holder.runId, u"run-a"_s);

    const QList<JournalEntry> entries = m_journal->entries();
    QCOMPARE(entries.size(), 2);
    QCOMPARE(entries.at(0).kind, u"lock"_s);
    QCOMPARE(entries.at(0).runId, u"run-a"_s);
    QCOMPARE(entries.at(0).data.value(u"action"_s).toString(), u"taken-over"_s);
    QCOMPARE(entries.at(0).data.value(u"staleRunId"_s).toString(), u"crashed-run"_s);
    QVERIFY(entries.at(0).data.value(u"staleHolder"_s).toString().startsWith(u"bob@"_s));
    QVERIFY(entries.at(0).data.value(u"reason"_s).toString().contains(QString::number(deadPid)));
    QCOMPARE(entries.at(1).data.value(u"action"_s).toString(), u"acquired"_s);
}

void TestJournal::lockFromAnotherMachineIsNotTakenOver()
{
    const qint64 deadPid = test::goneProcessId();
    QVERIFY(deadPid > 0);
    {
        RawFile raw(m_path);
        QVERIFY(raw.exec(u"INSERT INTO locks (target, run_id, holder, pid, machine, since) VALUES "
                         "('host/one', 'remote-run', 'carol@elsewhere pid %1', %1, 'elsewhere.invalid', "
                         "'2024-05-01T12:00:00.000Z')"_s.arg(deadPid)));
    }
    Journal::LockHolder holder;
    QCOMPARE(m_journal->acquireLock(u"host/one"_s, u"run-a"_s, &holder), Journal::LockResult::HeldByOther);
    QCOMPARE(holder.holder, u"carol@elsewhere pid %1"_s.arg(deadPid));
    QCOMPARE(holder.since, may(1));
    QVERIFY(m_journal->entries().isEmpty());
}

// Another machine's console: its process cannot be checked from here, but its lease can.
void TestJournal::lockWhoseLeaseRanOutIsTakenOver()
{
    {
        RawFile raw(m_path);
        QVERIFY(raw.exec(u"INSERT INTO locks (target, run_id, holder, pid, machine, since, lease_until) VALUES "
                         "('host/one', 'gone-run', 'carol@elsewhere pid 7', 7, 'elsewhere.invalid', "
                         "'2024-05-01T12:00:00.000Z', '2024-05-01T12:01:00.000Z'), "
                         "('host/two', 'live-run', 'dave@elsewhere pid 8', 8, 'elsewhere.invalid', "
                         "'2024-05-01T12:00:00.000Z', '2999-01-01T00:00:00.000Z')"_s));
    }
    Journal::LockHolder holder;
    QString error;
    QCOMPARE(m_journal->acquireLock(u"host/two"_s, u"run-a"_s, &holder, &error), Journal::LockResult::HeldByOther);
    QCOMPARE(holder.runId, u"live-run"_s);
    QCOMPARE(holder.leaseUntil, QDateTime(QDate(2999, 1, 1), QTime(0, 0), Qt::UTC));

    const QDateTime before = QDateTime::currentDateTimeUtc();
    QVERIFY2(m_journal->acquireLock(u"host/one"_s, u"run-a"_s, &holder, &error) == Journal::LockResult::Acquired,
        qPrintable(error));
    const QList<JournalEntry> entries = m_journal->entries();
    QCOMPARE(entries.size(), 2);
    QCOMPARE(entries.at(0).data.value(u"action"_s).toString(), u"taken-over"_s);
    QCOMPARE(entries.at(0).data.value(u"staleRunId"_s).toString(), u"gone-run"_s);
    QCOMPARE(entries.at(0).data.value(u"reason"_s).toString(),
        u"its lease ran out at 2024-05-01T12:01:00.000Z: its console stopped renewing it"_s);
    // The new holder's lease: a lease from now.
    QCOMPARE(m_journal->acquireLock(u"host/one"_s, u"run-b"_s, &holder, &error), Journal::LockResult::HeldByOther);
    QVERIFY(holder.leaseUntil >= before.addMSecs(Journal::leaseMs() - 1000));
    QVERIFY(holder.leaseUntil <= QDateTime::currentDateTimeUtc().addMSecs(Journal::leaseMs()));
}

void TestJournal::renewingExtendsTheLeaseUntilTheLockIsLost()
{
    QString error;
    Journal::LockHolder holder;
    QCOMPARE(m_journal->acquireLock(u"host/one"_s, u"run-a"_s, &holder, &error), Journal::LockResult::Acquired);
    QCOMPARE(m_journal->acquireLock(u"host/one"_s, u"run-b"_s, &holder, &error), Journal::LockResult::HeldByOther);
    const QDateTime first = holder.leaseUntil;
    QTest::qWait(20);
    QVERIFY2(m_journal->renewLock(u"host/one"_s, u"run-a"_s, &error), qPrintable(error));
    QCOMPARE(m_journal->acquireLock(u"host/one"_s, u"run-b"_s, &holder, &error), Journal::LockResult::HeldByOther);
    QVERIFY(holder.leaseUntil > first);
    QCOMPARE(m_journal->entries().size(), 1); // renewals are not journaled: only "acquired"

    QVERIFY(!m_journal->renewLock(u"host/two"_s, u"run-a"_s, &error));
    QVERIFY2(error.contains(u"run-a no longer holds the lock on host/two"_s), qPrintable(error));
    {
        RawFile raw(m_path);
        QVERIFY(raw.exec(u"UPDATE locks SET run_id = 'run-c' WHERE target = 'host/one'"_s));
    }
    QVERIFY(!m_journal->renewLock(u"host/one"_s, u"run-a"_s, &error));
    QVERIFY2(error.contains(u"another console took it over"_s), qPrintable(error));
}

void TestJournal::locksListsEveryLockWithItsLease()
{
    const qint64 deadPid = test::goneProcessId();
    QVERIFY(deadPid > 0);
    {
        RawFile raw(m_path);
        QVERIFY(raw.exec(u"INSERT INTO locks (target, run_id, holder, pid, machine, since, lease_until) VALUES "
                         "('a/ran-out', 'r1', 'carol@elsewhere pid 7', 7, 'elsewhere.invalid', "
                         "'2024-05-01T12:00:00.000Z', '2024-05-01T12:01:00.000Z'), "
                         "('b/live', 'r2', 'dave@elsewhere pid 8', 8, 'elsewhere.invalid', "
                         "'2024-05-01T12:00:00.000Z', '2999-01-01T00:00:00.000Z'), "
                         "('c/no-lease', 'r3', 'erin@elsewhere pid 9', 9, 'elsewhere.invalid', "
                         "'2024-05-01T12:00:00.000Z', ''), "
                         "('d/gone-here', 'r4', 'fay pid %1', %1, '%2', '2024-05-01T12:00:00.000Z', "
                         "'2999-01-01T00:00:00.000Z')"_s.arg(QString::number(deadPid), QSysInfo::machineHostName())));
    }
    QString error;
    const QList<Journal::HeldLock> locks = m_journal->locks(&error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QCOMPARE(locks.size(), 4);
    QCOMPARE(locks.at(0).target, u"a/ran-out"_s);
    QVERIFY(locks.at(0).leaseRanOut);
    QVERIFY(!locks.at(0).holderGoneHere);
    QCOMPARE(locks.at(1).holder.machine, u"elsewhere.invalid"_s);
    QCOMPARE(locks.at(1).holder.pid, 8);
    QVERIFY(!locks.at(1).leaseRanOut);
    QVERIFY(!locks.at(2).holder.leaseUntil.isValid());
    QVERIFY(!locks.at(2).leaseRanOut); // a lock from before leases never runs out
    QVERIFY(locks.at(3).holderGoneHere);
    QVERIFY(locks.at(3).judgedAt.isValid());
    QCOMPARE(m_journal->lock(u"b/live"_s)->holder.runId, u"r2"_s);
    QVERIFY(!m_journal->lock(u"e/none"_s));
}

void TestJournal::aLockIsBrokenOnlyIfItsPlannedHolderStillHoldsIt()
{
    QString error;
    Journal::LockHolder holder;
    QCOMPARE(m_journal->acquireLock(u"host/one"_s, u"run-a"_s, &holder, &error), Journal::LockResult::Acquired);

    // A break planned against another holder (the lock changed since it was read) touches nothing.
    QVERIFY(!m_journal->breakLock(u"host/one"_s, u"run-x"_s, u"breaker"_s, u"hung console"_s, &error));
    QVERIFY2(error.contains(u"no longer held by run run-x"_s), qPrintable(error));
    QCOMPARE(m_journal->lock(u"host/one"_s)->holder.runId, u"run-a"_s);
    QVERIFY(!m_journal->breakLock(u"host/none"_s, u"run-a"_s, u"breaker"_s, u"hung console"_s, &error));
    QCOMPARE(m_journal->entries().size(), 1); // only "acquired"

    QVERIFY2(
        m_journal->breakLock(u"host/one"_s, u"run-a"_s, u"breaker"_s, u"hung console"_s, &error), qPrintable(error));
    QVERIFY(!m_journal->lock(u"host/one"_s));
    // Journaled under the breaking run and under the broken one, with what the lock held and why.
    const QList<JournalEntry> entries = m_journal->entries();
    QCOMPARE(entries.size(), 3);
    for (const JournalEntry& entry : entries.mid(1)) {
        QCOMPARE(entry.kind, u"lock"_s);
        QCOMPARE(entry.target, u"host/one"_s);
        QCOMPARE(entry.data.value(u"action"_s).toString(), u"broken"_s);
        QCOMPARE(entry.data.value(u"brokenRunId"_s).toString(), u"run-a"_s);
        QCOMPARE(entry.data.value(u"brokenByRunId"_s).toString(), u"breaker"_s);
        QCOMPARE(entry.data.value(u"reason"_s).toString(), u"hung console"_s);
        QVERIFY(entry.data.value(u"brokenHolder"_s).toString().startsWith(Journal::localUser()));
    }
    QCOMPARE(QStringList({ entries.at(1).runId, entries.at(2).runId }), QStringList({ u"breaker"_s, u"run-a"_s }));
    // The broken run's console learns it at its next renewal, and its release changes nothing.
    QVERIFY(!m_journal->renewLock(u"host/one"_s, u"run-a"_s, &error));
    QVERIFY2(error.contains(u"an admin broke it"_s), qPrintable(error));
    QVERIFY(!m_journal->releaseLock(u"host/one"_s, u"run-a"_s));
    QVERIFY(m_journal->verify().intact);
}

// A journal written before locks had leases and entries MACs: its locks get a lease column whose empty value never
// runs out, its entries empty MACs (written unkeyed).
void TestJournal::aVersion1JournalIsMigrated()
{
    QVERIFY(m_journal->append(u"old-run"_s, u"plan"_s, u"op"_s, u"t"_s, {}));
    {
        RawFile raw(m_path);
        QVERIFY(raw.exec(u"ALTER TABLE locks DROP COLUMN lease_until"_s));
        QVERIFY(raw.exec(u"ALTER TABLE entries DROP COLUMN mac"_s));
        QVERIFY(raw.exec(u"ALTER TABLE entries DROP COLUMN key_id"_s));
        QVERIFY(raw.exec(u"INSERT INTO locks (target, run_id, holder, pid, machine, since) VALUES ('host/one', "
                         "'old-run', 'carol@elsewhere pid 7', 7, 'elsewhere.invalid', '2024-05-01T12:00:00.000Z')"_s));
        QVERIFY(raw.exec(u"PRAGMA user_version = 1"_s));
    }
    Journal journal(m_path);
    QString error;
    QVERIFY2(journal.open(&error), qPrintable(error));
    Journal::LockHolder holder;
    QCOMPARE(journal.acquireLock(u"host/one"_s, u"run-a"_s, &holder, &error), Journal::LockResult::HeldByOther);
    QVERIFY(!holder.leaseUntil.isValid());
    QCOMPARE(journal.acquireLock(u"host/two"_s, u"run-a"_s, &holder, &error), Journal::LockResult::Acquired);
    QVERIFY(journal.verify().intact);
    {
        RawFile raw(m_path);
        QVERIFY(raw.exec(u"SELECT lease_until FROM locks"_s));
    }
    QVERIFY2(journal.open(&error), qPrintable(error)); // again: nothing left to migrate
}

void TestJournal::concurrentAppendsKeepTheChain()
{
    constexpr int kPerThread = 200;
    const auto appendMany = [this](const QString& runId, QStringList* failures) {
        for (int i = 0; i < kPerThread; ++i) {
            QString error;
            if (!m_journal->append(runId, u"output"_s, u"op"_s, u"t"_s, { { u"line"_s, i } }, &error))
                failures->append(error);
        }
    };
    const QStringList failures = test::appendOnThreads({ u"thread-a"_s, u"thread-b"_s }, appendMany);
    QVERIFY2(failures.isEmpty(), qPrintable(failures.join(u'\n')));

    QCOMPARE(m_journal->entries(u"thread-a"_s).size(), kPerThread);
    QCOMPARE(m_journal->entries(u"thread-b"_s).size(), kPerThread);
    // Each thread's entries are in its own order.
    const QList<JournalEntry> entriesA = m_journal->entries(u"thread-a"_s);
    for (int i = 0; i < kPerThread; ++i)
        QCOMPARE(entriesA.at(i).data.value(u"line"_s).toInt(), i);
    const Journal::Verification verification = m_journal->verify();
    QVERIFY2(verification.intact, qPrintable(verification.problem));
    QCOMPARE(verification.checked, 2 * kPerThread);
}

void TestJournal::concurrentProcessesKeepTheChain()
{
    constexpr int kPerProcess = 200;
    QList<std::shared_ptr<QProcess>> children;
    for (const QString& runId : { u"process-a"_s, u"process-b"_s }) {
        auto child = std::make_shared<QProcess>();
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(u"TST_JOURNAL_APPEND"_s, u"%1|%2|%3"_s.arg(m_path, runId).arg(kPerProcess));
        child->setProcessEnvironment(environment);
        child->setProcessChannelMode(QProcess::ForwardedChannels);
        child->start(QCoreApplication::applicationFilePath(), {});
        QVERIFY(child->waitForStarted());
        children.append(child);
    }
    // This process appends meanwhile, through the same file.
    for (int i = 0; i < kPerProcess; ++i)
        QVERIFY(m_journal->append(u"parent"_s, u"output"_s, u"op"_s, u"t"_s, { { u"line"_s, i } }));
    for (const auto& child : std::as_const(children)) {
        QVERIFY(child->waitForFinished(120000));
        QCOMPARE(child->exitStatus(), QProcess::NormalExit);
        QCOMPARE(child->exitCode(), 0);
    }
    QCOMPARE(m_journal->entries(u"process-a"_s).size(), kPerProcess);
    QCOMPARE(m_journal->entries(u"process-b"_s).size(), kPerProcess);
    const Journal::Verification verification = m_journal->verify();
    QVERIFY2(verification.intact, qPrintable(verification.problem));
    QCOMPARE(verification.checked, 3 * kPerProcess);
}

// Runs without an outcome are listed only when their console, on this machine, is no longer a live opsdeck process.
void TestJournal::unfinishedRunsAreThoseWhoseConsoleIsGone()
{
    // A finished process (its pid is free), a live process named opsdeck, and this test (alive, not opsdeck).
    QProcess finished;
    finished.start(u"true"_s);
    QVERIFY(finished.waitForFinished());
    const qint64 gonePid = finished.processId() > 0 ? finished.processId() : 999999;
    const QString opsdeck = m_dir->filePath(u"opsdeck"_s);
    QVERIFY(QFile::copy(u"/bin/sleep"_s, opsdeck));
    QProcess console;
    console.start(opsdeck, { u"30"_s });
    QVERIFY(console.waitForStarted());
    const QString here = QSysInfo::machineHostName();
    const auto start = [&](const QString& runId, qint64 pid, const QString& host) {
        QVERIFY(m_journal->append(runId, u"plan"_s, u"packit-wipe"_s, u"h/i"_s,
            { { u"confirmWith"_s, u"i"_s }, { u"parameters"_s, QJsonObject { { u"runTag"_s, u"0123abcd"_s } } } }));
        QVERIFY(m_journal->append(runId, u"confirm"_s, u"packit-wipe"_s, u"h/i"_s,
            { { u"confirmation"_s, u"i"_s }, { u"pid"_s, pid }, { u"host"_s, host } }));
        QVERIFY(m_journal->append(runId, u"step-start"_s, u"packit-wipe"_s, u"h/i"_s, { { u"step"_s, u"stop"_s } }));
    };
    start(u"killed"_s, gonePid, here);
    start(u"reused-pid"_s, QCoreApplication::applicationPid(), here);
    start(u"still-running"_s, console.processId(), here);
    start(u"other-machine"_s, gonePid, u"elsewhere.example"_s);
    start(u"done"_s, gonePid, here);
    QVERIFY(m_journal->append(u"done"_s, u"outcome"_s, u"packit-wipe"_s, u"h/i"_s, { { u"outcome"_s, u"failed"_s } }));
    QVERIFY(m_journal->append(u"killed"_s, u"step-end"_s, u"packit-wipe"_s, u"h/i"_s,
        { { u"step"_s, u"stop"_s }, { u"state"_s, u"succeeded"_s } }));
    QVERIFY(
        m_journal->append(u"killed"_s, u"step-start"_s, u"packit-wipe"_s, u"h/i"_s, { { u"step"_s, u"move-root"_s } }));
    // Runs that ended but left their target for a recovery stay listed, whether their console lives on or not, until
    // a recovery closes them with a second outcome.
    for (const QString& runId : { u"left-open"_s, u"left-open-recovered"_s }) {
        start(runId, console.processId(), here);
        QVERIFY(m_journal->append(runId, u"outcome"_s, u"raft-reset"_s, u"h/i"_s, { { u"outcome"_s, u"failed"_s } }));
        QVERIFY(m_journal->append(
            runId, u"left-open"_s, u"raft-reset"_s, u"h/i"_s, { { u"why"_s, u"the API did not answer"_s } }));
    }
    QVERIFY(m_journal->append(
        u"left-open-recovered"_s, u"outcome"_s, u"raft-reset"_s, u"h/i"_s, { { u"outcome"_s, u"failed"_s } }));

    QString error;
    const QList<Journal::UnfinishedRun> runs = m_journal->unfinishedRuns(&error);
    console.kill();
    console.waitForFinished();
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QStringList ids;
    for (const Journal::UnfinishedRun& run : runs)
        ids << run.runId;
    QCOMPARE(ids, (QStringList { u"killed"_s, u"reused-pid"_s, u"left-open"_s }));
    QCOMPARE(runs.last().leftOpen, u"the API did not answer"_s);
    QVERIFY(runs.first().leftOpen.isEmpty());
    const Journal::UnfinishedRun& killed = runs.first();
    QCOMPARE(killed.operation, u"packit-wipe"_s);
    QCOMPARE(killed.target, u"h/i"_s);
    QCOMPARE(killed.confirmWith, u"i"_s);
    QCOMPARE(killed.parameters.value(u"runTag"_s).toString(), u"0123abcd"_s);
    QCOMPARE(killed.lastStep, u"move-root"_s);
    QCOMPARE(killed.lastStepState, u"running"_s);
    QCOMPARE(killed.pid, gonePid);
    QVERIFY(killed.startedAt.isValid());
}

namespace {

// The child side of concurrentProcessesKeepTheChain: "<path>|<runId>|<count>".
int appendAsChild(const QString& spec)
{
    const QStringList parts = spec.split(u'|');
    return test::appendAsChild(Journal(parts.value(0)), parts.value(1), parts.value(2).toInt());
}

} // namespace

// QTEST_GUILESS_MAIN, plus the child mode that lets one test append from other processes.
int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    const QString childSpec = qEnvironmentVariable("TST_JOURNAL_APPEND");
    if (!childSpec.isEmpty())
        return appendAsChild(childSpec);
    TestJournal test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}
#include "tst_journal.moc"
