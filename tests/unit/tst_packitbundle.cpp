// PackitBundle, the pure half of a Packit wipe's restore bundle: the six tables and their columns against the schema
// the sandbox replays (tests/sandbox/packit/schema.sql after all 11 migrations), the psql commands that export and
// import the bundle (quoting of odd directory names, through a real /bin/sh where a shell reads them), the argv for a
// host's psql template, and the reading back of what a session printed: sums, COPY counts, skipped rows, and which
// SHA256SUMS name a complete bundle.
#include "core/ShellQuote.h"
#include "packit/PackitBundle.h"

#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck;

using Sums = QMap<QString, QString>;

namespace {

const QString kDir = u"/var/lib/outpack/training.wiped-20261201/bundle"_s;
const QString kQuoteDir = u"/srv/it's here/bundle"_s;

QString hex(char c)
{
    return QString(64, QChar::fromLatin1(c));
}

// A complete bundle's sums with `parts` packet files.
QMap<QString, QString> completeSums(int parts)
{
    QMap<QString, QString> sums;
    const char digits[] = "0123456789abcdef";
    int n = 0;
    const auto add = [&](const QString& name) { sums.insert(name, hex(digits[n++ % 16])); };
    for (const QString& name :
        { u"packet_group"_s, u"role_permission"_s, u"packet_tag"_s, u"pin"_s, u"one_time_token"_s, u"sequences"_s })
        add(name + u".copy"_s);
    for (int i = 0; i < parts; ++i)
        add(u"packet.%1.copy"_s.arg(i, 4, 10, QChar(u'0')));
    return sums;
}

// The argument psql's \copy reads from a single-quoted word: '' is one quote. Empty if `word` is not one quoted word.
QString unquotePsql(const QString& word)
{
    if (word.size() < 2 || !word.startsWith(u'\'') || !word.endsWith(u'\''))
        return {};
    const QString inner = word.mid(1, word.size() - 2);
    QString out;
    for (qsizetype i = 0; i < inner.size(); ++i) {
        if (inner[i] == u'\'') {
            if (i + 1 >= inner.size() || inner[i + 1] != u'\'')
                return {}; // a lone quote would end the word early
            ++i;
        }
        out += inner[i];
    }
    return out;
}

// What follows `marker` in `command`, up to its end.
QString after(const QString& command, const QString& marker)
{
    const qsizetype at = command.indexOf(marker);
    return at < 0 ? QString() : command.mid(at + marker.size());
}

// Runs `commandLine` through /bin/sh; its stdout.
QByteArray runSh(const QString& commandLine)
{
    QProcess sh;
    sh.start(u"/bin/sh"_s, { u"-c"_s, commandLine });
    sh.waitForFinished();
    return sh.readAllStandardOutput();
}

// What psql -X -A -t printed for an export (settings, BEGIN, the COPYs, the sums) then a restore's SKIPPED and
// SEQUENCE rows, then lines that must be ignored.
const QString kSampleOutput = uR"(SET
SET
SET
SET
SET
SET
BEGIN
COPY 30
COPY 300
COPY 12
COPY 40
COPY 5
COPY 7
COPY 3
0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef  one_time_token.copy
1111111111111111111111111111111111111111111111111111111111111111  packet.0000.copy
2222222222222222222222222222222222222222222222222222222222222222  packet_group.copy
3333333333333333333333333333333333333333333333333333333333333333  packet_tag.copy
4444444444444444444444444444444444444444444444444444444444444444  pin.copy
5555555555555555555555555555555555555555555555555555555555555555  role_permission.copy
6666666666666666666666666666666666666666666666666666666666666666  sequences.copy
COPY 0
SKIPPED role_permission 12
SKIPPED packet_tag 40
SEQUENCE packet_group_id_seq unchanged
SEQUENCE packet_tag_id_seq recorded 41
SEQUENCE role_permission_id_seq past-max 90
COMMIT
          ?column?
-----------------------------
 SKIPPED role_permission 14
(1 row)

garbage line
COPY
COPY -1
COPY 12x
SKIPPED Role_permission 13
SKIPPED role_permission
777777777777777777777777777777777777777777777777777777777777777  short.copy
8888888888888888888888888888888888888888888888888888888888888888  ../x.copy
9999999999999999999999999999999999999999999999999999999999999999  sub/dir.copy
aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa  with space.copy
BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB  upper.copy
cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc *binary.copy
ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd  long.copy
eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee packet.0001.copy
)"_s;

} // namespace

class TestPackitBundle : public QObject
{
    Q_OBJECT

private slots:
    void tablesMatchTheSchema();
    void sequencesAreTheSerialOnes();
    void exportSelectsEveryColumnInIdOrder();
    void exportSplitsPacketsAndWritesSumsLast();
    void exportQuotesAQuoteInTheDirectory();
    void exportQuotedDirectoryReachesTheShellIntact();
    void importCopiesEachPacketPartInOrder();
    void importFiltersGrantsAndTagsThroughTempTables();
    void importOnlyRaisesSequences();
    void importQuotesAQuoteInTheDirectory();
    void psqlArgvPlainTemplate();
    void psqlArgvKeepsThePrefix();
    void parseReadsASession();
    void parseEmptyAndCrLf();
    void packetPartsInOrder();
    void checkSumsAcceptsCompleteBundles_data();
    void checkSumsAcceptsCompleteBundles();
    void checkSumsRefuses_data();
    void checkSumsRefuses();
    void parseSurvivesRandomBytes();
};

void TestPackitBundle::tablesMatchTheSchema()
{
    // By hand from tests/sandbox/packit/schema.sql: the CREATE TABLEs of V20240503 and V20250410/V20250623, less
    // packet.published (V20250325), plus packet.description (V20250706), in catalog order.
    const QList<std::pair<QString, QString>> expected = {
        { u"packet_group"_s, u"id, name"_s },
        { u"packet"_s, u"id, name, display_name, parameters, import_time, start_time, end_time, description"_s },
        { u"role_permission"_s, u"id, role_id, permission_id, packet_id, packet_group_id, tag_id"_s },
        { u"packet_tag"_s, u"id, packet_id, tag_id"_s },
        { u"pin"_s, u"id, packet_id"_s },
        { u"one_time_token"_s, u"id, packet_id, file_paths, expires_at"_s },
    };
    const QList<PackitBundle::Table>& tables = PackitBundle::tables();
    QCOMPARE(tables.size(), expected.size());
    for (qsizetype i = 0; i < tables.size(); ++i) {
        QCOMPARE(tables[i].name, expected[i].first);
        QCOMPARE(tables[i].columns, expected[i].second);
    }
    const auto& packet = tables[1];
    QVERIFY(!packet.columns.split(u", "_s).contains(u"published"_s));
    QVERIFY(packet.columns.split(u", "_s).contains(u"description"_s));

    // Only role_permission is taken in part: the global grants (all three scopes NULL) stay.
    for (const auto& table : tables) {
        if (table.name == u"role_permission")
            QCOMPARE(table.taken, u"packet_id IS NOT NULL OR packet_group_id IS NOT NULL"_s);
        else
            QVERIFY2(table.taken.isEmpty(), qPrintable(table.name));
    }
}

void TestPackitBundle::sequencesAreTheSerialOnes()
{
    // packet_group, role_permission and packet_tag have SERIAL ids; packet (TEXT), pin and one_time_token (UUID) not.
    QCOMPARE(PackitBundle::sequences(),
        QStringList({ u"packet_group_id_seq"_s, u"role_permission_id_seq"_s, u"packet_tag_id_seq"_s }));
}

void TestPackitBundle::exportSelectsEveryColumnInIdOrder()
{
    const QStringList commands = PackitBundle::exportCommands(kDir);
    QCOMPARE(commands.size(), 8); // six tables, the sequences, the sums
    QCOMPARE(
        commands[0], u"\\copy (SELECT id, name FROM packet_group ORDER BY id) TO '%1/packet_group.copy'"_s.arg(kDir));
    QVERIFY2(commands[1].startsWith(u"\\copy (SELECT id, name, display_name, parameters, import_time, start_time, "
                                    "end_time, description FROM packet ORDER BY id) TO PROGRAM "_s),
        qPrintable(commands[1]));
    QCOMPARE(commands[2],
        u"\\copy (SELECT id, role_id, permission_id, packet_id, packet_group_id, tag_id FROM role_permission WHERE "
        "packet_id IS NOT NULL OR packet_group_id IS NOT NULL ORDER BY id) TO '%1/role_permission.copy'"_s.arg(kDir));
    QCOMPARE(commands[3],
        u"\\copy (SELECT id, packet_id, tag_id FROM packet_tag ORDER BY id) TO '%1/packet_tag.copy'"_s.arg(kDir));
    QCOMPARE(commands[4], u"\\copy (SELECT id, packet_id FROM pin ORDER BY id) TO '%1/pin.copy'"_s.arg(kDir));
    QCOMPARE(commands[5],
        u"\\copy (SELECT id, packet_id, file_paths, expires_at FROM one_time_token ORDER BY id) TO "
        "'%1/one_time_token.copy'"_s.arg(kDir));
    QCOMPARE(commands[6],
        u"\\copy (SELECT 'packet_group_id_seq', last_value, is_called FROM packet_group_id_seq UNION ALL SELECT "
        "'role_permission_id_seq', last_value, is_called FROM role_permission_id_seq UNION ALL SELECT "
        "'packet_tag_id_seq', last_value, is_called FROM packet_tag_id_seq) TO '%1/sequences.copy'"_s.arg(kDir));
    // Only role_permission has a WHERE.
    for (qsizetype i = 0; i < 6; ++i)
        QCOMPARE(commands[i].contains(u" WHERE "_s), i == 2);
}

void TestPackitBundle::exportSplitsPacketsAndWritesSumsLast()
{
    const QStringList commands = PackitBundle::exportCommands(kDir);
    QCOMPARE(unquotePsql(after(commands[1], u" TO PROGRAM "_s)),
        u"split -l 20000 -d -a 4 --additional-suffix=.copy - %1/packet."_s.arg(kDir));
    QCOMPARE(PackitBundle::kPacketPartRows, 20000);

    QVERIFY2(commands.last().startsWith(u"\\copy (SELECT 1 WHERE false) TO PROGRAM "_s), qPrintable(commands.last()));
    QCOMPARE(unquotePsql(after(commands.last(), u" TO PROGRAM "_s)),
        u"cd %1 && sha256sum -- *.copy > SHA256SUMS.tmp && sync -- *.copy SHA256SUMS.tmp && mv -- SHA256SUMS.tmp "
        "SHA256SUMS && sync -- SHA256SUMS . && cat SHA256SUMS"_s.arg(kDir));
    QCOMPARE(QString(PackitBundle::kSumsFile), u"SHA256SUMS"_s);
    // Nothing but the last command mentions the sums.
    for (qsizetype i = 0; i + 1 < commands.size(); ++i)
        QVERIFY2(!commands[i].contains(u"SHA256SUMS"_s), qPrintable(commands[i]));
}

void TestPackitBundle::exportQuotesAQuoteInTheDirectory()
{
    const QStringList commands = PackitBundle::exportCommands(kQuoteDir);
    QCOMPARE(commands.size(), 8);
    // A plain file: the quote doubled for psql.
    QVERIFY2(commands[0].endsWith(u" TO '/srv/it''s here/bundle/packet_group.copy'"_s), qPrintable(commands[0]));
    QCOMPARE(unquotePsql(after(commands[0], u" TO "_s)), kQuoteDir + u"/packet_group.copy"_s);
    QVERIFY2(commands[6].endsWith(u" TO '/srv/it''s here/bundle/sequences.copy'"_s), qPrintable(commands[6]));
    for (qsizetype i : { 0, 2, 3, 4, 5, 6 })
        QVERIFY2(!unquotePsql(after(commands[i], u") TO "_s)).isEmpty(), qPrintable(commands[i]));

    // A program: shell-quoted first (' -> '\''), then every quote of that doubled for psql.
    QCOMPARE(after(commands[1], u" TO PROGRAM "_s),
        u"'split -l 20000 -d -a 4 --additional-suffix=.copy - ''/srv/it''\\''''s here/bundle/packet.'''"_s);
    QCOMPARE(unquotePsql(after(commands[1], u" TO PROGRAM "_s)),
        u"split -l 20000 -d -a 4 --additional-suffix=.copy - '/srv/it'\\''s here/bundle/packet.'"_s);
    QCOMPARE(unquotePsql(after(commands[7], u" TO PROGRAM "_s)),
        u"cd %1 && sha256sum -- *.copy > SHA256SUMS.tmp && sync -- *.copy SHA256SUMS.tmp && mv -- SHA256SUMS.tmp "
        "SHA256SUMS && sync -- SHA256SUMS . && cat SHA256SUMS"_s.arg(ShellQuote::quote(kQuoteDir)));
}

void TestPackitBundle::exportQuotedDirectoryReachesTheShellIntact()
{
    // What psql hands the shell, with the program swapped for printf: the directory arrives as one word.
    for (const QString& dir : { kQuoteDir, u"/srv/$(echo INJECTED); x"_s, u"/srv/'''"_s, u"/srv/a\\'b"_s }) {
        const QStringList commands = PackitBundle::exportCommands(dir);
        const QString split = unquotePsql(after(commands[1], u" TO PROGRAM "_s));
        const QString prefix = u"split -l 20000 -d -a 4 --additional-suffix=.copy - "_s;
        QVERIFY2(split.startsWith(prefix), qPrintable(split));
        QCOMPARE(QString::fromUtf8(runSh(u"printf '%s|' "_s + split.mid(prefix.size()))), dir + u"/packet.|"_s);

        const QString sums = unquotePsql(after(commands.last(), u" TO PROGRAM "_s));
        QVERIFY2(sums.startsWith(u"cd "_s), qPrintable(sums));
        const QString word = sums.mid(3, sums.indexOf(u" && sha256sum"_s) - 3);
        QCOMPARE(QString::fromUtf8(runSh(u"printf '%s|' "_s + word)), dir + u'|');
    }
}

void TestPackitBundle::importCopiesEachPacketPartInOrder()
{
    const QString packetColumns
        = u"id, name, display_name, parameters, import_time, start_time, end_time, description"_s;
    for (const QStringList& parts : { QStringList(), QStringList { u"packet.0000.copy"_s },
             QStringList { u"packet.0000.copy"_s, u"packet.0001.copy"_s, u"packet.0002.copy"_s } }) {
        const QStringList commands = PackitBundle::importCommands(kDir, parts);
        QStringList packetCopies;
        for (const QString& command : commands) {
            if (command.startsWith(u"\\copy packet "_s))
                packetCopies << command;
        }
        QCOMPARE(packetCopies.size(), parts.size());
        for (qsizetype i = 0; i < parts.size(); ++i)
            QCOMPARE(packetCopies[i], u"\\copy packet (%1) FROM '%2/%3'"_s.arg(packetColumns, kDir, parts[i]));

        // Parents first: packet_group, then the packet parts right after it, then the rest.
        QCOMPARE(commands[0], u"\\copy packet_group (id, name) FROM '%1/packet_group.copy'"_s.arg(kDir));
        for (qsizetype i = 0; i < parts.size(); ++i)
            QCOMPARE(commands[1 + i], packetCopies[i]);
        const auto indexOf = [&](const QString& start) {
            for (qsizetype i = 0; i < commands.size(); ++i) {
                if (commands[i].startsWith(start))
                    return i;
            }
            return qsizetype(-1);
        };
        const qsizetype rp = indexOf(u"INSERT INTO role_permission "_s);
        const qsizetype pt = indexOf(u"INSERT INTO packet_tag "_s);
        const qsizetype pin = indexOf(u"\\copy pin "_s);
        const qsizetype ott = indexOf(u"\\copy one_time_token "_s);
        QVERIFY(1 + parts.size() < rp && rp < pt && pt < pin && pin < ott);
        QCOMPARE(commands[pin], u"\\copy pin (id, packet_id) FROM '%1/pin.copy'"_s.arg(kDir));
        QCOMPARE(commands[ott],
            u"\\copy one_time_token (id, packet_id, file_paths, expires_at) FROM '%1/one_time_token.copy'"_s.arg(kDir));
        // The sequences come last.
        QVERIFY(commands.last().startsWith(u"WITH now "_s));
    }
}

void TestPackitBundle::importFiltersGrantsAndTagsThroughTempTables()
{
    const QStringList commands = PackitBundle::importCommands(kDir, { u"packet.0000.copy"_s });
    const QString rpParents = u"EXISTS (SELECT 1 FROM role x WHERE x.id = r.role_id) AND EXISTS (SELECT 1 FROM "
                              "permission x WHERE x.id = r.permission_id) AND (r.tag_id IS NULL OR EXISTS (SELECT 1 "
                              "FROM tag x WHERE x.id = r.tag_id))"_s;
    const QString ptParents = u"EXISTS (SELECT 1 FROM tag x WHERE x.id = r.tag_id)"_s;

    const qsizetype rp
        = commands.indexOf(u"CREATE TEMP TABLE opsdeck_restore_role_permission (LIKE role_permission) ON "
                           "COMMIT DROP"_s);
    QVERIFY(rp > 0);
    QCOMPARE(commands[rp + 1],
        u"\\copy opsdeck_restore_role_permission (id, role_id, permission_id, packet_id, packet_group_id, tag_id) FROM "
        "'%1/role_permission.copy'"_s.arg(kDir));
    QCOMPARE(commands[rp + 2],
        u"SELECT 'SKIPPED role_permission ' || r.id FROM opsdeck_restore_role_permission r WHERE NOT (%1) ORDER BY "
        "r.id"_s.arg(rpParents));
    QCOMPARE(commands[rp + 3],
        u"INSERT INTO role_permission (id, role_id, permission_id, packet_id, packet_group_id, tag_id) SELECT r.id, "
        "r.role_id, r.permission_id, r.packet_id, r.packet_group_id, r.tag_id FROM opsdeck_restore_role_permission r "
        "WHERE %1 ORDER BY r.id"_s.arg(rpParents));

    const qsizetype pt
        = commands.indexOf(u"CREATE TEMP TABLE opsdeck_restore_packet_tag (LIKE packet_tag) ON COMMIT DROP"_s);
    QCOMPARE(pt, rp + 4);
    QCOMPARE(commands[pt + 1],
        u"\\copy opsdeck_restore_packet_tag (id, packet_id, tag_id) FROM '%1/packet_tag.copy'"_s.arg(kDir));
    QCOMPARE(commands[pt + 2],
        u"SELECT 'SKIPPED packet_tag ' || r.id FROM opsdeck_restore_packet_tag r WHERE NOT (%1) ORDER BY r.id"_s.arg(
            ptParents));
    QCOMPARE(commands[pt + 3],
        u"INSERT INTO packet_tag (id, packet_id, tag_id) SELECT r.id, r.packet_id, r.tag_id FROM "
        "opsdeck_restore_packet_tag r WHERE %1 ORDER BY r.id"_s.arg(ptParents));

    // Neither goes in directly.
    for (const QString& command : commands) {
        QVERIFY2(!command.startsWith(u"\\copy role_permission"_s), qPrintable(command));
        QVERIFY2(!command.startsWith(u"\\copy packet_tag"_s), qPrintable(command));
    }
    // The skipped lines are what parse() reads back.
    QVERIFY(PackitBundle::parse("SKIPPED role_permission 12\nSKIPPED packet_tag 40\n").skipped
        == QStringList({ u"role_permission 12"_s, u"packet_tag 40"_s }));
}

void TestPackitBundle::importOnlyRaisesSequences()
{
    const QStringList commands = PackitBundle::importCommands(kDir, {});
    QCOMPARE(commands[commands.size() - 3],
        u"CREATE TEMP TABLE opsdeck_restore_sequence (name text, last_value bigint, is_called boolean) ON COMMIT "
        "DROP"_s);
    QCOMPARE(commands[commands.size() - 2], u"\\copy opsdeck_restore_sequence FROM '%1/sequences.copy'"_s.arg(kDir));
    const QString raise = commands.last();
    for (const QString& sequence : PackitBundle::sequences())
        QVERIFY2(raise.contains(u"SELECT '%1' AS name"_s.arg(sequence)), qPrintable(sequence));
    QVERIFY(raise.contains(u"(SELECT coalesce(max(id), 0) + 1 FROM packet_group) AS free FROM packet_group_id_seq"_s));
    QVERIFY(raise.contains(
        u"(SELECT coalesce(max(id), 0) + 1 FROM role_permission) AS free FROM role_permission_id_seq"_s));
    QVERIFY(raise.contains(u"(SELECT coalesce(max(id), 0) + 1 FROM packet_tag) AS free FROM packet_tag_id_seq"_s));
    // The CASE: nothing when the sequence already hands out at least both; else the recorded value, or past the max.
    QVERIFY2(raise.contains(u"SELECT 'SEQUENCE ' || n.name || ' ' || CASE WHEN n.next >= greatest(r.last_value + "
                            "r.is_called::int, n.free) THEN 'unchanged'"_s),
        qPrintable(raise));
    QVERIFY(
        raise.contains(u"WHEN r.last_value + r.is_called::int >= n.free THEN 'recorded ' || setval(n.name::regclass, "
                       "r.last_value, r.is_called)"_s));
    QVERIFY(raise.contains(u"ELSE 'past-max ' || setval(n.name::regclass, n.free - 1, true) END"_s));
    QCOMPARE(raise.count(u"setval("_s), 2);
    // Every setval sits behind the 'unchanged' branch.
    QVERIFY(raise.indexOf(u"'unchanged'"_s) < raise.indexOf(u"setval("_s));
    QVERIFY(raise.contains(u"JOIN opsdeck_restore_sequence r USING (name)"_s));
}

void TestPackitBundle::importQuotesAQuoteInTheDirectory()
{
    const QStringList commands = PackitBundle::importCommands(kQuoteDir, { u"packet.0000.copy"_s });
    int files = 0;
    for (const QString& command : commands) {
        if (!command.startsWith(u"\\copy "_s))
            continue;
        ++files;
        const QString file = unquotePsql(after(command, u" FROM "_s));
        QVERIFY2(file.startsWith(kQuoteDir + u'/'), qPrintable(command));
        QVERIFY2(command.contains(u"'/srv/it''s here/bundle/"_s), qPrintable(command));
    }
    QCOMPARE(files, 7); // packet_group, one packet part, two temp tables, pin, one_time_token, the sequences
}

void TestPackitBundle::psqlArgvPlainTemplate()
{
    Host host;
    host.commands.insert(u"psql"_s, { u"psql"_s, u"{database}"_s });
    const QStringList commands = { u"SET timezone = 'UTC'"_s, u"\\copy (SELECT 1) TO '/tmp/x y'"_s, u"COMMIT"_s };
    QCOMPARE(PackitBundle::psqlArgv(host, u"packit_training"_s, commands),
        QStringList({ u"psql"_s, u"packit_training"_s, u"-X"_s, u"-A"_s, u"-t"_s, u"-v"_s, u"ON_ERROR_STOP=1"_s,
            u"-c"_s, commands[0], u"-c"_s, commands[1], u"-c"_s, commands[2] }));
    QCOMPARE(PackitBundle::psqlArgv(host, u"db"_s, {}),
        QStringList({ u"psql"_s, u"db"_s, u"-X"_s, u"-A"_s, u"-t"_s, u"-v"_s, u"ON_ERROR_STOP=1"_s }));
}

void TestPackitBundle::psqlArgvKeepsThePrefix()
{
    Host host;
    host.commands.insert(u"psql"_s, { u"sudo"_s, u"-u"_s, u"postgres"_s, u"psql"_s, u"{database}"_s });
    // A database name is one argument, whatever it holds.
    QCOMPARE(PackitBundle::psqlArgv(host, u"odd {database} name"_s, { u"BEGIN"_s, u"COMMIT"_s }),
        QStringList({ u"sudo"_s, u"-u"_s, u"postgres"_s, u"psql"_s, u"odd {database} name"_s, u"-X"_s, u"-A"_s, u"-t"_s,
            u"-v"_s, u"ON_ERROR_STOP=1"_s, u"-c"_s, u"BEGIN"_s, u"-c"_s, u"COMMIT"_s }));
}

void TestPackitBundle::parseReadsASession()
{
    const PackitBundle::Output out = PackitBundle::parse(kSampleOutput.toUtf8());
    QMap<QString, QString> sums;
    sums.insert(u"one_time_token.copy"_s, u"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"_s);
    sums.insert(u"packet.0000.copy"_s, hex('1'));
    sums.insert(u"packet_group.copy"_s, hex('2'));
    sums.insert(u"packet_tag.copy"_s, hex('3'));
    sums.insert(u"pin.copy"_s, hex('4'));
    sums.insert(u"role_permission.copy"_s, hex('5'));
    sums.insert(u"sequences.copy"_s, hex('6'));
    QCOMPARE(out.sums, sums);
    QCOMPARE(out.copied, QList<qint64>({ 30, 300, 12, 40, 5, 7, 3, 0 }));
    // The last one from an aligned table (a psql without -A -t): its leading space is trimmed.
    QCOMPARE(out.skipped, QStringList({ u"role_permission 12"_s, u"packet_tag 40"_s, u"role_permission 14"_s }));
    QVERIFY(PackitBundle::checkSums(out.sums).isEmpty());
    QCOMPARE(PackitBundle::packetParts(out.sums), QStringList({ u"packet.0000.copy"_s }));
}

void TestPackitBundle::parseEmptyAndCrLf()
{
    const PackitBundle::Output empty = PackitBundle::parse({});
    QVERIFY(empty.sums.isEmpty());
    QVERIFY(empty.copied.isEmpty());
    QVERIFY(empty.skipped.isEmpty());

    // CR LF line ends (a pty) read the same.
    const QByteArray crlf = "COPY 2\r\n" + hex('a').toLatin1() + "  pin.copy\r\nSKIPPED packet_tag 7\r\n";
    const PackitBundle::Output out = PackitBundle::parse(crlf);
    QCOMPARE(out.copied, QList<qint64>({ 2 }));
    QCOMPARE(out.sums.value(u"pin.copy"_s), hex('a'));
    QCOMPARE(out.skipped, QStringList({ u"packet_tag 7"_s }));

    // The same file listed twice: the later line wins.
    const PackitBundle::Output twice
        = PackitBundle::parse(hex('1').toLatin1() + "  pin.copy\n" + hex('2').toLatin1() + "  pin.copy\n");
    QCOMPARE(twice.sums.size(), 1);
    QCOMPARE(twice.sums.value(u"pin.copy"_s), hex('2'));
}

void TestPackitBundle::packetPartsInOrder()
{
    QMap<QString, QString> sums = completeSums(0);
    QVERIFY(PackitBundle::packetParts(sums).isEmpty());
    for (const QString& name :
        { u"packet.0010.copy"_s, u"packet.0002.copy"_s, u"packet.0000.copy"_s, u"packet.0001.copy"_s })
        sums.insert(name, hex('f'));
    // Names that are not a part: another table, no number, a short number, a long one.
    for (const QString& name : { u"packet.copy"_s, u"packet.001.copy"_s, u"packet.00001.copy"_s, u"packet_tag.copy"_s,
             u"xpacket.0003.copy"_s, u"packet.0004.copy.tmp"_s })
        sums.insert(name, hex('e'));
    QCOMPARE(PackitBundle::packetParts(sums),
        QStringList({ u"packet.0000.copy"_s, u"packet.0001.copy"_s, u"packet.0002.copy"_s, u"packet.0010.copy"_s }));
}

void TestPackitBundle::checkSumsAcceptsCompleteBundles_data()
{
    QTest::addColumn<int>("parts");
    QTest::newRow("no packet") << 0;
    QTest::newRow("one part") << 1;
    QTest::newRow("three parts") << 3;
}

void TestPackitBundle::checkSumsAcceptsCompleteBundles()
{
    QFETCH(int, parts);
    const QMap<QString, QString> sums = completeSums(parts);
    QCOMPARE(PackitBundle::checkSums(sums), QString());
    QCOMPARE(PackitBundle::packetParts(sums).size(), parts);
    // The import then copies exactly those parts.
    const QStringList commands = PackitBundle::importCommands(kDir, PackitBundle::packetParts(sums));
    qsizetype copies = 0;
    for (const QString& command : commands)
        copies += command.startsWith(u"\\copy packet ("_s);
    QCOMPARE(copies, qsizetype(parts));
}

void TestPackitBundle::checkSumsRefuses_data()
{
    QTest::addColumn<Sums>("sums");
    QTest::addColumn<QStringList>("named"); // what the message must mention

    for (const QString& table :
        { u"packet_group"_s, u"role_permission"_s, u"packet_tag"_s, u"pin"_s, u"one_time_token"_s }) {
        QMap<QString, QString> sums = completeSums(1);
        sums.remove(table + u".copy"_s);
        QTest::addRow("no %s", qPrintable(table)) << sums << QStringList { table + u".copy"_s };
    }
    {
        QMap<QString, QString> sums = completeSums(1);
        sums.remove(u"sequences.copy"_s);
        QTest::newRow("no sequences") << sums << QStringList { u"sequences.copy"_s };
    }
    {
        QMap<QString, QString> sums = completeSums(0);
        sums.insert(u"packet.0000.copy"_s, hex('1'));
        sums.insert(u"packet.0002.copy"_s, hex('2'));
        QTest::newRow("gap 0000 0002") << sums << QStringList { u"packet"_s, u"0001"_s };
    }
    {
        QMap<QString, QString> sums = completeSums(0);
        sums.insert(u"packet.0001.copy"_s, hex('1'));
        QTest::newRow("no part 0000") << sums << QStringList { u"packet"_s, u"0000"_s };
    }
    {
        QMap<QString, QString> sums = completeSums(1);
        sums.insert(u"pin.copy"_s, u"not-a-sum"_s);
        QTest::newRow("non-hex sum") << sums << QStringList { u"pin.copy"_s, u"not-a-sum"_s };
    }
    {
        QMap<QString, QString> sums = completeSums(1);
        sums.insert(u"pin.copy"_s, hex('A'));
        QTest::newRow("upper-case sum") << sums << QStringList { u"pin.copy"_s };
    }
    {
        QMap<QString, QString> sums = completeSums(1);
        sums.insert(u"pin.copy"_s, hex('a').left(63));
        QTest::newRow("63-hex sum") << sums << QStringList { u"pin.copy"_s };
    }
    {
        QMap<QString, QString> sums = completeSums(1);
        sums.insert(u"pin.copy"_s, hex('g'));
        QTest::newRow("g is not hex") << sums << QStringList { u"pin.copy"_s };
    }
    for (const QString& name : { u"../x.copy"_s, u"evil.sh"_s, u"SHA256SUMS"_s, u"sub/pin.copy"_s, u".copy"_s,
             u"Pin.copy"_s, u"pin.copy.tmp"_s }) {
        QMap<QString, QString> sums = completeSums(1);
        sums.insert(name, hex('b'));
        QTest::addRow("unexpected %s", qPrintable(name)) << sums << QStringList { name };
    }
    QTest::newRow("empty") << QMap<QString, QString>() << QStringList { u"packet_group.copy"_s };
}

void TestPackitBundle::checkSumsRefuses()
{
    QFETCH(Sums, sums);
    QFETCH(QStringList, named);
    const QString why = PackitBundle::checkSums(sums);
    QVERIFY(!why.isEmpty());
    for (const QString& part : named)
        QVERIFY2(why.contains(part), qPrintable(why + u" does not mention "_s + part));
}

void TestPackitBundle::parseSurvivesRandomBytes()
{
    static const QRegularExpression sha(u"^[0-9a-f]{64}$"_s);
    static const QRegularExpression name(u"^[A-Za-z0-9_.]+$"_s);
    static const QRegularExpression skippedShape(u"^[a-z_]+ [0-9]+$"_s);
    // Random bytes, fragments of the lines parse() reads, and whole near-lines (a sum of 63, 64 or 65 hex digits,
    // some case, a separator, a good or bad name), some with a random byte overwritten.
    const QList<QByteArray> fragments
        = { "\n", "\r\n", "  ", " ", "COPY ", "SKIPPED ", "role_permission ", "packet.0000.copy", "pin.copy",
              "../x.copy", "/", "12", "-", "\xff", "\xc3\xa9", "\xe2\x80\xa8", QByteArray("\0", 1), hex('a').toLatin1(),
              hex('a').left(63).toLatin1(), hex('A').toLatin1(), "0123456789abcdef" };
    const QList<QByteArray> sums
        = { hex('0').toLatin1(), hex('f').toLatin1(), hex('F').toLatin1(), hex('9').left(63).toLatin1(),
              hex('9').toLatin1() + "9", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" };
    const QList<QByteArray> separators = { "  ", " ", " *", "\t", "   ", "  \0" };
    const QList<QByteArray> names = { "pin.copy", "packet.0001.copy", "../x.copy", "a b.copy", "sub/pin.copy",
        "evil.sh", "\xc3\xa9.copy", "", "pin.copy\r", " pin.copy" };
    const QList<QByteArray> others = { "COPY 12", "COPY 99999999999999999999999", "COPY -3", "SKIPPED packet_tag 4",
        "SKIPPED Packet_tag 4", "SKIPPED packet_tag", " SKIPPED role_permission 1 " };
    QRandomGenerator random(20261201);
    const auto pick = [&random](const QList<QByteArray>& list) { return list[random.bounded(int(list.size()))]; };
    int sawSums = 0;
    int sawCopies = 0;
    for (int round = 0; round < 2000; ++round) {
        QByteArray bytes;
        const int pieces = int(random.bounded(1, 40));
        for (int p = 0; p < pieces; ++p) {
            switch (random.bounded(4)) {
            case 0:
                bytes += pick(fragments);
                break;
            case 1: {
                QByteArray line = pick(sums) + pick(separators) + pick(names);
                if (random.bounded(3) == 0)
                    line[random.bounded(int(line.size()))] = char(random.bounded(256));
                bytes += line + '\n';
                break;
            }
            case 2:
                bytes += pick(others) + '\n';
                break;
            default: {
                const int n = int(random.bounded(0, 24));
                for (int i = 0; i < n; ++i)
                    bytes += char(random.bounded(256));
            }
            }
        }
        const PackitBundle::Output out = PackitBundle::parse(bytes);
        for (auto it = out.sums.cbegin(); it != out.sums.cend(); ++it) {
            QVERIFY2(sha.match(it.value()).hasMatch(), qPrintable(it.value()));
            QVERIFY2(name.match(it.key()).hasMatch(), qPrintable(it.key()));
            QVERIFY2(!it.key().contains(u'/'), qPrintable(it.key()));
        }
        for (qint64 copied : out.copied)
            QVERIFY(copied >= 0);
        for (const QString& skipped : out.skipped)
            QVERIFY2(skippedShape.match(skipped).hasMatch(), qPrintable(skipped));
        // Whatever the sums, checkSums and packetParts answer without crashing.
        (void)PackitBundle::checkSums(out.sums);
        (void)PackitBundle::packetParts(out.sums);
        sawSums += int(out.sums.size());
        sawCopies += int(out.copied.size());
    }
    // The fragments do make it through now and then, so the checks above did check something.
    QVERIFY2(sawSums > 0, "no random input produced a sum");
    QVERIFY2(sawCopies > 0, "no random input produced a COPY count");
}

QTEST_GUILESS_MAIN(TestPackitBundle)
#include "tst_packitbundle.moc"
