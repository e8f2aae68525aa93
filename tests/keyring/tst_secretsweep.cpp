// Issue 11 point 6 end to end for the two sources the *Env tests cannot reach: secrets from the OS keyring and
// secrets typed at the terminal's prompt. Each planted secret is the sandbox's real password or token (so the
// operations work), the run's only source of it (no *Env variable), and the two the kill-query resolves are also
// quoted in the statement it kills, as a running `ALTER USER ... IDENTIFIED BY '...'` would quote one: without
// scrubbing they would reach the plan, the journal, the reports and the logs. The CLI runs with every opsdeck debug
// category on. Afterwards no secret may be in the journal, a report (the PDF's text included), any file the runs
// wrote under HOME, XDG_RUNTIME_DIR, TMPDIR or the sandbox, the runs' stdout and stderr, or the terminal.
// Runs through tests/keyring/with-keyring (a private keyring) with the sandbox fixtures.
#include "Sandbox.h"
#include "SecretTestSupport.h"
#include "SqlSleeper.h"
#include "Systems.h"

#include "config/InventoryLoader.h"
#include "core/SecretScrubber.h"

#include <QDateTime>
#include <QDeadlineTimer>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QProcess>
#include <QRegularExpression>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <pty.h>
#include <sys/ioctl.h>
#include <unistd.h>

using namespace Qt::StringLiterals;
using namespace opsdeck;
using namespace opsdeck::test;

namespace {

// A secret the test planted: its value and what it is (the key opsdeck keeps it under).
struct Planted
{
    SecretSpec spec;
    QString value;
};

// Output a run produced, named for the failure message.
struct Place
{
    QString name;
    QByteArray bytes;
};

// What a CLI run under a pseudo-terminal gave: its streams, what it wrote to the terminal, and the prompts it asked.
struct TerminalRun
{
    CliRun cli;
    QByteArray terminal;
    QStringList prompts;
};

// Kills the sleeper's statement if the test failed before it did, so that a failure does not wait its minute out.
void endSleeper(SqlSleeper* sleeper)
{
    if (!sleeper->done())
        QSqlQuery(QSqlDatabase::database(u"check"_s)).exec(u"KILL QUERY %1"_s.arg(sleeper->id()));
    delete sleeper;
}
using Sleeper = std::unique_ptr<SqlSleeper, decltype(&endSleeper)>;

// What the killed statement's two quoted secrets look like once scrubbed.
constexpr char masked[] = "'[secret]', '[secret]'";

QByteArray readFile(const QString& path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

// The text a QPdfWriter page shows: Qt draws each glyph as `<hex glyph> Tj` in the font `/F<object>` chosen by `Tf`,
// and maps the font's glyphs back to Unicode in its ToUnicode CMap. Every stream is FlateDecode'd.
QString pdfText(const QByteArray& pdf)
{
    // Each object's dictionary and (inflated) stream, by object number.
    QHash<int, std::pair<QByteArray, QByteArray>> objects;
    static const QRegularExpression objectPattern(
        u"(\\d+) 0 obj(.*?)(stream\\r?\\n|endobj)"_s, QRegularExpression::DotMatchesEverythingOption);
    const QString latin1 = QString::fromLatin1(pdf);
    for (auto it = objectPattern.globalMatch(latin1); it.hasNext();) {
        const QRegularExpressionMatch m = it.next();
        QByteArray stream;
        if (m.captured(3) != u"endobj"_s) {
            const qsizetype start = m.capturedEnd(3);
            const qsizetype end = pdf.indexOf("endstream", start);
            stream = pdf.mid(start, end - start);
            if (m.captured(2).contains(u"/FlateDecode"_s)) {
                // qUncompress wants zlib data behind a 4-byte size hint; it grows the buffer when the hint is short.
                stream = qUncompress(QByteArray("\x00\x01\x00\x00", 4) + stream);
            }
        }
        objects.insert(m.captured(1).toInt(), { m.captured(2).toLatin1(), stream });
    }

    // Glyph code -> text, per font object.
    QHash<int, QHash<uint, QString>> toUnicode;
    static const QRegularExpression toUnicodeRef(u"/ToUnicode (\\d+) 0 R"_s);
    static const QRegularExpression rangeArray(u"<([0-9a-fA-F]+)> <([0-9a-fA-F]+)> \\[([^\\]]*)\\]"_s);
    static const QRegularExpression rangeStart(
        u"^<([0-9a-fA-F]+)> <([0-9a-fA-F]+)> <([0-9a-fA-F]+)>$"_s, QRegularExpression::MultilineOption);
    static const QRegularExpression hexString(u"<([0-9a-fA-F]+)>"_s);
    const auto utf16 = [](const QString& hex) {
        QString text;
        for (qsizetype i = 0; i + 4 <= hex.size(); i += 4)
            text += QChar(char16_t(hex.mid(i, 4).toUInt(nullptr, 16)));
        return text;
    };
    for (auto object = objects.cbegin(); object != objects.cend(); ++object) {
        const QRegularExpressionMatch ref = toUnicodeRef.match(QString::fromLatin1(object->first));
        if (!ref.hasMatch())
            continue;
        const QString cmap = QString::fromLatin1(objects.value(ref.captured(1).toInt()).second);
        QHash<uint, QString>& map = toUnicode[object.key()];
        for (auto it = rangeArray.globalMatch(cmap); it.hasNext();) {
            const QRegularExpressionMatch m = it.next();
            uint code = m.captured(1).toUInt(nullptr, 16);
            for (auto each = hexString.globalMatch(m.captured(3)); each.hasNext();)
                map.insert(code++, utf16(each.next().captured(1)));
        }
        for (auto it = rangeStart.globalMatch(cmap); it.hasNext();) {
            const QRegularExpressionMatch m = it.next();
            const uint first = m.captured(1).toUInt(nullptr, 16);
            const uint last = m.captured(2).toUInt(nullptr, 16);
            const QString start = utf16(m.captured(3));
            for (uint code = first; code <= last && !start.isEmpty(); ++code)
                map.insert(code, QString(QChar(char16_t(start.at(0).unicode() + (code - first)))));
        }
    }

    QString text;
    static const QRegularExpression drawing(u"/F(\\d+) [\\d.]+ Tf|<([0-9a-fA-F]+)> Tj"_s);
    for (const auto& [dictionary, stream] : std::as_const(objects)) {
        if (stream.isEmpty() || !stream.contains(" Tj"))
            continue;
        int font = -1;
        for (auto it = drawing.globalMatch(QString::fromLatin1(stream)); it.hasNext();) {
            const QRegularExpressionMatch m = it.next();
            if (m.capturedLength(1) > 0) {
                font = m.captured(1).toInt();
                continue;
            }
            const QString hex = m.captured(2);
            for (qsizetype i = 0; i + 4 <= hex.size(); i += 4)
                text += toUnicode.value(font).value(hex.mid(i, 4).toUInt(nullptr, 16), u"\ufffd"_s);
        }
    }
    return text;
}

} // namespace

class TestSecretSweep : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void secretsFromTheKeyringAreNowhere();
    void secretsTypedAtThePromptAreNowhere();
    void cleanupTestCase();

private:
    // The sandbox's environment without any of the inventory's secret variables, with every opsdeck log category at
    // debug and temporary files under the test's own directory.
    QProcessEnvironment environment() const;
    CliRun cli(const QStringList& arguments);
    // Runs the CLI with a new pseudo-terminal as its controlling terminal (so /dev/tty is it) and answers each
    // prompt whose label a planted secret has, with that secret, as a user would type it.
    TerminalRun cliOnTerminal(const QStringList& arguments);
    // Starts a MariaDB session running a statement that quotes `secrets`, and waits until the server shows it.
    Sleeper statementQuoting(const QList<Planted>& secrets, const QString& tag);
    // `run pulumi-kill-query` of the sleeper's statement with a report at `reportPath`; the statement must have gone.
    void killWithReport(const SqlSleeper& sleeper, const QString& reportPath, const CliRun& run);
    void plantInKeyring(const QList<Planted>& secrets);
    void forgetInKeyring(const QList<Planted>& secrets);
    // The planted secrets the pulumi kill-query resolves: the bastion's SSH password and the MariaDB password.
    QList<Planted> killQuerySecrets() const;
    QString teamInventory() const { return m_sandbox.dir() + u"/inventory-team.yaml"_s; }
    // Every file where a run may write: the sandbox (the journal, the servers' logs), the test's directory (reports,
    // TMPDIR), and the HOME and XDG_RUNTIME_DIR that with-keyring made for this test.
    void forEachFile(const std::function<void(const QFileInfo&)>& visit) const;
    // Every place that holds a planted secret, as "PLACE holds the secret of KEY": `places` (the runs' outputs) and
    // each file that is new or changed since the test began.
    QStringList leaks(const QList<Planted>& secrets, const QList<Place>& places) const;

    Sandbox m_sandbox;
    QTemporaryDir m_temp;
    QHash<QString, QDateTime> m_filesBefore; // every file forEachFile() saw when the test began, and its mtime
    QList<Planted> m_planted; // every secret the inventory's systems ask for, each with its sandbox value
    QList<Place> m_outputs; // every run's stdout, stderr and terminal
};

void TestSecretSweep::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    if (qEnvironmentVariableIsEmpty("DBUS_SESSION_BUS_ADDRESS"))
        QFAIL("no session bus: run this test through tests/keyring/with-keyring");
    qunsetenv("DISPLAY");
    qunsetenv("WAYLAND_DISPLAY");
    QVERIFY(m_temp.isValid());
    QVERIFY(QDir(m_temp.path()).mkpath(u"tmp"_s));
    forEachFile([this](const QFileInfo& file) { m_filesBefore.insert(file.filePath(), file.lastModified()); });

    // Every secret of the sandbox's inventory, and of its team inventory (the team journal's password, its via host's
    // and the chain's key).
    const QProcessEnvironment sandboxEnvironment = m_sandbox.environment();
    QSet<QString> keys;
    for (const QString& path : { m_sandbox.inventoryPath(), teamInventory() }) {
        const InventoryLoadResult loaded = InventoryLoader::loadFile(path);
        QVERIFY(loaded.ok());
        for (const SecretSpec& spec : consoleSecrets(*loaded.inventory)) {
            const QString key = CredentialStore::keyFor(spec);
            if (keys.contains(key))
                continue;
            keys.insert(key);
            const QString value = sandboxEnvironment.value(spec.envVar);
            QVERIFY2(!value.isEmpty(), qPrintable(u"DIR/env has no %1 for %2"_s.arg(spec.envVar, key)));
            m_planted.append({ spec, value });
        }
    }
    QVERIFY(keys.contains(u"opsdeck/journal-key/team-journal/key"_s));
    // The team journal's schema, made once by its owner (with the sandbox's variables: not part of the sweep).
    const CliRun made
        = runCli({ u"journal"_s, u"verify"_s, u"--inventory"_s, m_sandbox.dir() + u"/inventory-team-owner.yaml"_s },
            sandboxEnvironment);
    QVERIFY2(made.exitCode == 0, made.err.constData());
    QVERIFY(killQuerySecrets().size() == 2);

    QSqlDatabase db = m_sandbox.mariadb().addMysqlConnection(u"check"_s, u"pulumi"_s);
    QVERIFY2(db.open(), qPrintable(db.lastError().text()));
}

void TestSecretSweep::cleanupTestCase()
{
    forgetInKeyring(m_planted);
    QSqlDatabase::database(u"check"_s).close();
    QSqlDatabase::removeDatabase(u"check"_s);
}

QProcessEnvironment TestSecretSweep::environment() const
{
    QProcessEnvironment environment = m_sandbox.environment();
    for (const Planted& planted : m_planted)
        environment.remove(planted.spec.envVar);
    environment.insert(u"QT_LOGGING_RULES"_s, u"opsdeck.*.debug=true"_s);
    environment.insert(u"TMPDIR"_s, m_temp.filePath(u"tmp"_s));
    return environment;
}

CliRun TestSecretSweep::cli(const QStringList& arguments)
{
    const CliRun run = runCli(arguments, environment(), 60000);
    const QString command = u"`opsdeck %1`"_s.arg(arguments.join(u' '));
    m_outputs.append({ command + u"'s stdout"_s, run.out });
    m_outputs.append({ command + u"'s stderr"_s, run.err });
    return run;
}

TerminalRun TestSecretSweep::cliOnTerminal(const QStringList& arguments)
{
    TerminalRun run;
    int terminal = -1;
    int side = -1;
    if (openpty(&terminal, &side, nullptr, nullptr, nullptr) != 0) {
        qWarning("no pseudo-terminal: %s", strerror(errno));
        return run;
    }
    fcntl(terminal, F_SETFD, FD_CLOEXEC);
    fcntl(terminal, F_SETFL, O_NONBLOCK);
    // The test keeps its side open too, so reading the terminal never fails with EIO between the CLI's opens.
    fcntl(side, F_SETFD, FD_CLOEXEC);

    QHash<QString, QString> answers;
    for (const Planted& planted : std::as_const(m_planted))
        answers.insert(planted.spec.label + u": "_s, planted.value);

    QProcess process;
    process.setProcessEnvironment(environment());
    // A session of its own with the pseudo-terminal as its controlling terminal, as a login shell's child has.
    process.setChildProcessModifier([side] {
        setsid();
        ioctl(side, TIOCSCTTY, 0);
    });
    process.start(QStringLiteral(OPSDECK_BINARY), arguments);
    process.closeWriteChannel();

    qsizetype answeredUpTo = 0;
    const auto readTerminal = [&] {
        char buffer[4096];
        for (ssize_t n; (n = ::read(terminal, buffer, sizeof buffer)) > 0;)
            run.terminal.append(buffer, n);
    };
    QDeadlineTimer deadline(60000);
    while (process.state() != QProcess::NotRunning && !deadline.hasExpired()) {
        process.waitForFinished(20);
        readTerminal();
        const QString shown = QString::fromUtf8(run.terminal.mid(answeredUpTo));
        for (auto it = answers.cbegin(); it != answers.cend(); ++it) {
            const qsizetype at = shown.indexOf(it.key());
            if (at < 0)
                continue;
            run.prompts << it.key().chopped(2);
            const QByteArray typed = it.value().toUtf8() + '\n';
            if (::write(terminal, typed.constData(), size_t(typed.size())) != typed.size())
                qWarning("could not type at the pseudo-terminal: %s", strerror(errno));
            answeredUpTo += (shown.left(at) + it.key()).toUtf8().size();
            break;
        }
    }
    if (process.state() != QProcess::NotRunning) {
        process.kill();
        process.waitForFinished();
    } else if (process.exitStatus() == QProcess::NormalExit) {
        run.cli.exitCode = process.exitCode();
    }
    readTerminal();
    ::close(terminal);
    ::close(side);
    run.cli.out = process.readAllStandardOutput();
    run.cli.err = process.readAllStandardError();
    const QString command = u"`opsdeck %1` (on a terminal)"_s.arg(arguments.join(u' '));
    m_outputs.append({ command + u"'s stdout"_s, run.cli.out });
    m_outputs.append({ command + u"'s stderr"_s, run.cli.err });
    m_outputs.append({ command + u"'s terminal"_s, run.terminal });
    return run;
}

QList<Planted> TestSecretSweep::killQuerySecrets() const
{
    QList<Planted> secrets;
    for (const Planted& planted : m_planted) {
        if ((planted.spec.kind == u"ssh"_s && planted.spec.target == u"bastion"_s)
            || (planted.spec.kind == u"db"_s && planted.spec.target == u"pulumi"_s))
            secrets.append(planted);
    }
    return secrets;
}

Sleeper TestSecretSweep::statementQuoting(const QList<Planted>& secrets, const QString& tag)
{
    // DIR/env's values never contain a quote.
    QString statement = u"SELECT SLEEP(60), '%1'"_s.arg(tag);
    for (const Planted& planted : secrets)
        statement += u", '%1'"_s.arg(planted.value);
    Sleeper sleeper(new SqlSleeper(m_sandbox.mariadb(), { statement }), endSleeper);
    QDeadlineTimer deadline(10000);
    while (!deadline.hasExpired()) {
        QSqlQuery query(QSqlDatabase::database(u"check"_s));
        query.prepare(u"SELECT INFO FROM information_schema.PROCESSLIST WHERE ID = ?"_s);
        query.addBindValue(sleeper->id());
        if (sleeper->id() > 0 && query.exec() && query.next() && query.value(0).toString() == statement)
            return sleeper;
        QTest::qWait(50);
    }
    return Sleeper(nullptr, endSleeper);
}

void TestSecretSweep::killWithReport(const SqlSleeper& sleeper, const QString& reportPath, const CliRun& run)
{
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QTRY_VERIFY_WITH_TIMEOUT(sleeper.done(), 10000);
    QVERIFY2(QFileInfo(reportPath).size() > 0, qPrintable(reportPath));
}

void TestSecretSweep::plantInKeyring(const QList<Planted>& secrets)
{
    CredentialStore store;
    for (const Planted& planted : secrets) {
        const auto stored = storeSecret(store, planted.spec, planted.value);
        QVERIFY(stored);
        QVERIFY2(stored->ok && stored->remembered, qPrintable(CredentialStore::keyFor(planted.spec)));
    }
}

void TestSecretSweep::forgetInKeyring(const QList<Planted>& secrets)
{
    CredentialStore store;
    for (const Planted& planted : secrets) {
        const auto forgotten = forgetSecret(store, planted.spec);
        QVERIFY(forgotten && forgotten->ok);
    }
}

void TestSecretSweep::forEachFile(const std::function<void(const QFileInfo&)>& visit) const
{
    QStringList roots = { m_sandbox.dir(), m_temp.path() };
    for (const char* variable : { "HOME", "XDG_RUNTIME_DIR" })
        roots << qEnvironmentVariable(variable);
    for (const QString& root : std::as_const(roots)) {
        for (QDirIterator it(root, QDir::Files | QDir::Hidden | QDir::NoSymLinks, QDirIterator::Subdirectories);
             it.hasNext();) {
            it.next();
            visit(it.fileInfo());
        }
    }
}

QStringList TestSecretSweep::leaks(const QList<Planted>& secrets, const QList<Place>& places) const
{
    QList<Place> swept = places;
    forEachFile([&](const QFileInfo& file) {
        const auto before = m_filesBefore.constFind(file.filePath());
        if (before != m_filesBefore.cend() && *before == file.lastModified())
            return;
        const QByteArray bytes = readFile(file.filePath());
        swept.append({ file.filePath(), bytes });
        if (bytes.startsWith("%PDF-"))
            swept.append({ file.filePath() + u" (its text)"_s, pdfText(bytes).toUtf8() });
    });
    // Several keys share a value (every Packit database has the sandbox's one PostgreSQL password).
    QMap<QString, QStringList> keysOf;
    for (const Planted& planted : secrets)
        keysOf[planted.value] << CredentialStore::keyFor(planted.spec);
    QStringList found;
    for (auto secret = keysOf.cbegin(); secret != keysOf.cend(); ++secret) {
        for (const Place& place : std::as_const(swept)) {
            if (place.bytes.contains(secret.key().toUtf8()))
                found << u"%1 holds the secret of %2"_s.arg(place.name, secret->join(u", "_s));
        }
    }
    return found;
}

void TestSecretSweep::secretsFromTheKeyringAreNowhere()
{
    plantInKeyring(m_planted);
    if (QTest::currentTestFailed())
        return;
    m_outputs.clear();

    // A read of every system, each with its secrets from the keyring only.
    const CliRun hosts = cli({ u"hosts"_s, u"--json"_s });
    QVERIFY2(hosts.exitCode == 0, hosts.err.constData());
    bool bastionReached = false; // the one host with password auth
    for (const QJsonValue& host : QJsonDocument::fromJson(hosts.out).array())
        bastionReached |= host[u"name"_s] == u"bastion"_s && host[u"reachable"_s].toBool();
    QVERIFY2(bastionReached, hosts.out.constData());
    const CliRun orgs = cli({ u"pulumi"_s, u"orgs"_s, u"--json"_s });
    QVERIFY2(orgs.exitCode == 0, orgs.err.constData());
    const QJsonArray organisations = QJsonDocument::fromJson(orgs.out).array();
    QVERIFY(!organisations.isEmpty());
    const QString org = organisations.first()[u"githubLogin"_s].toString();
    const CliRun purge = cli({ u"plan"_s, u"pulumi-purge"_s, u"--orgs"_s, org, u"--json"_s });
    QVERIFY2(purge.exitCode == 0, purge.err.constData());
    const CliRun instances = cli({ u"packit"_s, u"instances"_s, u"--host"_s, u"wpia-packit"_s, u"--json"_s });
    QVERIFY2(instances.exitCode == 0, instances.err.constData());
    const CliRun wipe = cli({ u"plan"_s, u"packit-wipe"_s, u"--host"_s, u"wpia-packit-dev"_s, u"--instance"_s,
        u"reside-dev"_s, u"--json"_s });
    QVERIFY2(wipe.exitCode == 0, wipe.err.constData());
    const CliRun matrix = cli({ u"deploy"_s, u"matrix"_s, u"--json"_s });
    QVERIFY2(matrix.exitCode == 0, matrix.err.constData());

    // The destructive run, reported in every format, killing a statement that quotes both secrets it resolved.
    QString runId;
    QList<QByteArray> plans;
    for (const QString& format : { u"json"_s, u"html"_s, u"csv"_s, u"pdf"_s }) {
        const auto sleeper = statementQuoting(killQuerySecrets(), u"opsdeck-sweep-keyring-"_s + format);
        QVERIFY(sleeper);
        const QString id = QString::number(sleeper->id());
        const CliRun plan = cli({ u"plan"_s, u"pulumi-kill-query"_s, u"--process"_s, id, u"--json"_s });
        QVERIFY2(plan.exitCode == 0, plan.err.constData());
        plans << plan.out;
        const QString report = m_temp.filePath(u"keyring-kill."_s + format);
        killWithReport(*sleeper, report,
            cli({ u"run"_s, u"pulumi-kill-query"_s, u"--process"_s, id, u"--confirm"_s, id, u"--report"_s, report }));
        if (QTest::currentTestFailed())
            return;
        if (format == u"json"_s)
            runId = QJsonDocument::fromJson(readFile(report)).object()[u"id"_s].toString();
    }
    QVERIFY(!runId.isEmpty());
    // The same run again, from the journal.
    for (const QString& format : { u"json"_s, u"html"_s, u"csv"_s, u"pdf"_s }) {
        const CliRun exported = cli({ u"report"_s, u"export"_s, runId, u"--format"_s, format, u"-o"_s,
            m_temp.filePath(u"keyring-export."_s + format) });
        QVERIFY2(exported.exitCode == 0, exported.err.constData());
    }
    QCOMPARE(cli({ u"journal"_s, u"list"_s, u"--json"_s }).exitCode, 0);

    // The same destructive run on the team journal (its password, the bastion's for its tunnel, and the chain's key,
    // from the keyring), then its chain verified with the key, its head and its locks.
    const auto sleeper = statementQuoting(killQuerySecrets(), u"opsdeck-sweep-keyring-team"_s);
    QVERIFY(sleeper);
    const QString id = QString::number(sleeper->id());
    const QString teamReport = m_temp.filePath(u"keyring-kill-team.json"_s);
    killWithReport(*sleeper, teamReport,
        cli({ u"run"_s, u"pulumi-kill-query"_s, u"--process"_s, id, u"--confirm"_s, id, u"--report"_s, teamReport,
            u"--inventory"_s, teamInventory() }));
    if (QTest::currentTestFailed())
        return;
    const CliRun verified = cli({ u"journal"_s, u"verify"_s, u"--inventory"_s, teamInventory() });
    QVERIFY2(verified.exitCode == 0 && verified.out.contains("with the team key"), verified.out.constData());
    QCOMPARE(cli({ u"journal"_s, u"anchor"_s, u"--inventory"_s, teamInventory() }).exitCode, 0);
    QCOMPARE(cli({ u"lock"_s, u"list"_s, u"--json"_s, u"--inventory"_s, teamInventory() }).exitCode, 0);

    const QStringList found = leaks(m_planted, m_outputs);
    QVERIFY2(found.isEmpty(), qPrintable(found.join(u'\n')));
    // Every secret came from the keyring: no run asked for one (the secrets category logs each question).
    for (const Place& place : std::as_const(m_outputs))
        QVERIFY2(!place.bytes.contains("asking for"), qPrintable(place.name));
    // The statement reached the plans and the reports, masked: the secrets were there to scrub.
    for (const QByteArray& plan : std::as_const(plans))
        QVERIFY2(plan.contains(masked), plan.constData());
    QVERIFY(readFile(m_temp.filePath(u"keyring-export.csv"_s)).contains(masked));
    // The PDF draws no spaces: only the masks themselves are in its text.
    QVERIFY(pdfText(readFile(m_temp.filePath(u"keyring-kill.pdf"_s))).count(SecretScrubber::kMask) >= 2);
}

void TestSecretSweep::secretsTypedAtThePromptAreNowhere()
{
    forgetInKeyring(m_planted);
    m_outputs.clear();

    const QList<Planted> secrets = killQuerySecrets();
    const auto sleeper = statementQuoting(secrets, u"opsdeck-sweep-prompt"_s);
    QVERIFY(sleeper);
    const QString id = QString::number(sleeper->id());
    const QString report = m_temp.filePath(u"prompt-kill.json"_s);
    const TerminalRun kill = cliOnTerminal(
        { u"run"_s, u"pulumi-kill-query"_s, u"--process"_s, id, u"--confirm"_s, id, u"--report"_s, report });
    killWithReport(*sleeper, report, kill.cli);
    if (QTest::currentTestFailed())
        return;
    QStringList asked = kill.prompts;
    asked.sort();
    QStringList labels = { secrets[0].spec.label, secrets[1].spec.label };
    labels.sort();
    QVERIFY2(asked == labels, kill.terminal.constData());
    // The debug categories were on: the secrets category logged its questions.
    for (const Planted& planted : secrets)
        QVERIFY2(kill.cli.err.contains("asking for \"" + CredentialStore::keyFor(planted.spec).toUtf8() + '"'),
            kill.cli.err.constData());
    const QString runId = QJsonDocument::fromJson(readFile(report)).object()[u"id"_s].toString();
    for (const QString& format : { u"html"_s, u"csv"_s, u"pdf"_s }) {
        const CliRun exported = cli({ u"report"_s, u"export"_s, runId, u"--format"_s, format, u"-o"_s,
            m_temp.filePath(u"prompt-export."_s + format) });
        QVERIFY2(exported.exitCode == 0, exported.err.constData());
    }

    // Packit's database passwords, one prompt per instance database of the host.
    forgetInKeyring(m_planted);
    const TerminalRun instances
        = cliOnTerminal({ u"packit"_s, u"instances"_s, u"--host"_s, u"wpia-packit-dev"_s, u"--json"_s });
    QVERIFY2(instances.cli.exitCode == 0, instances.cli.err.constData());
    QVERIFY2(!instances.prompts.isEmpty(), instances.terminal.constData());

    const QStringList found = leaks(m_planted, m_outputs);
    QVERIFY2(found.isEmpty(), qPrintable(found.join(u'\n')));
    QVERIFY(readFile(m_temp.filePath(u"prompt-export.csv"_s)).contains(masked));
}

QTEST_MAIN(TestSecretSweep)
#include "tst_secretsweep.moc"
