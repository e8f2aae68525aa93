// The CLI as an admin meets it over SSH, without a display: the bare command, typos, a group's word alone, each
// subcommand's --help, a missing flag, a missing inventory, a run named by a prefix of its id, and the completion
// script and man page made from the same definitions. No server is needed: each case ends before one would be.
#include "CliHelp.h"
#include "Systems.h"
#include "TestRuns.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QProcess>
#include <QSet>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck;

class TestCliUsage : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void bareCommandWithoutDisplaySaysHowToGetTheConsole_data();
    void bareCommandWithoutDisplaySaysHowToGetTheConsole();
    void unknownSubcommandIsAUsageErrorWithoutAnyDisplay_data();
    void unknownSubcommandIsAUsageErrorWithoutAnyDisplay();
    void groupWithoutSubcommandListsItsSubcommands_data();
    void groupWithoutSubcommandListsItsSubcommands();
    void everySubcommandHasItsOwnHelp_data();
    void everySubcommandHasItsOwnHelp();
    void missingFlagOrBadOptionIsOneLine_data();
    void missingFlagOrBadOptionIsOneLine();
    void missingInventorySaysNoSuchFile();
    void runIdPrefix();
    void runListingsSayTheRunsName();
    void completionScriptIsValidBash();
    void manPageRenders();

private:
    // The built opsdeck with `arguments`, in an environment without a display (or with `display` as DISPLAY); with
    // `tracePlugins`, the platform plugins it loads are listed (and err has Qt's trace in it).
    struct Run
    {
        int exitCode = -1; // -1: it crashed or hung
        QString out;
        QString err;
        QStringList platforms; // the platform plugins Qt loaded
    };
    Run opsdeck(const QStringList& arguments, const QString& display = {}, bool tracePlugins = false) const;
    // Whether the run loaded no platform but the offscreen one (the CLI's, which needs no display).
    static bool onlyOffscreen(const Run& run);
    QString writeInventory(const QString& name, const QString& journalPath) const;
    QStringList runIds() const;

    QTemporaryDir m_temp;
    QList<CliCommand> m_commands;
};

void TestCliUsage::initTestCase()
{
    QVERIFY(m_temp.isValid());
    m_commands = Cli::commands(systemCommands());
}

TestCliUsage::Run TestCliUsage::opsdeck(const QStringList& arguments, const QString& display, bool tracePlugins) const
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    for (const QString& name : { u"DISPLAY"_s, u"WAYLAND_DISPLAY"_s, u"QT_QPA_PLATFORM"_s, u"OPSDECK_INVENTORY"_s })
        environment.remove(name);
    if (!display.isEmpty())
        environment.insert(u"DISPLAY"_s, display);
    // No inventory at the default place either: HOME is the test's own.
    environment.insert(u"HOME"_s, m_temp.path());
    environment.insert(u"XDG_CONFIG_HOME"_s, m_temp.filePath(u"config"_s));
    if (tracePlugins) {
        environment.insert(u"QT_DEBUG_PLUGINS"_s, u"1"_s);
        environment.insert(u"QT_MESSAGE_PATTERN"_s, u"qt-log %{category}: %{message}"_s);
    }
    QProcess process;
    process.setProcessEnvironment(environment);
    process.start(QStringLiteral(OPSDECK_BINARY), arguments);
    process.closeWriteChannel();
    Run run;
    if (!process.waitForFinished(30000)) {
        process.kill();
        process.waitForFinished();
    } else if (process.exitStatus() == QProcess::NormalExit) {
        run.exitCode = process.exitCode();
    }
    run.out = QString::fromUtf8(process.readAllStandardOutput());
    for (const QString& line : QString::fromUtf8(process.readAllStandardError()).split(u'\n', Qt::SkipEmptyParts)) {
        run.err += line + u'\n';
        if (line.startsWith(u"qt-log "_s) && line.contains(u"/platforms/"_s) && line.contains(u"loaded library"_s))
            run.platforms << line;
    }
    return run;
}

bool TestCliUsage::onlyOffscreen(const Run& run)
{
    return run.platforms.size() == 1 && run.platforms.first().contains(u"libqoffscreen"_s);
}

QString TestCliUsage::writeInventory(const QString& name, const QString& journalPath) const
{
    const QString path = m_temp.filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return {};
    file.write("journal:\n  path: " + journalPath.toUtf8() + "\n");
    return path;
}

void TestCliUsage::bareCommandWithoutDisplaySaysHowToGetTheConsole_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::newRow("bare") << QStringList {};
    QTest::newRow("--inventory FILE") << QStringList { u"--inventory"_s, u"/nonexistent/inventory.yaml"_s };
}

void TestCliUsage::bareCommandWithoutDisplaySaysHowToGetTheConsole()
{
    QFETCH(QStringList, arguments);
    const Run traced = opsdeck(arguments, {}, true);
    QCOMPARE(traced.exitCode, 2);
    QVERIFY2(onlyOffscreen(traced), qPrintable(traced.platforms.join(u'\n')));
    const Run run = opsdeck(arguments);
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.err.startsWith(u"opsdeck: the console needs a display"_s), qPrintable(run.err));
    QVERIFY2(run.err.contains(u"ssh -X"_s), qPrintable(run.err));
    // Then what works without one.
    for (const CliCommand& command : std::as_const(m_commands))
        QVERIFY2(run.err.contains(u"opsdeck "_s + command.name()), qPrintable(command.name()));
    QCOMPARE(run.out, QString());
}

void TestCliUsage::unknownSubcommandIsAUsageErrorWithoutAnyDisplay_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("display");
    QTest::addColumn<QString>("message");
    QTest::newRow("typo") << QStringList { u"frobnicate"_s } << QString() << u"unknown subcommand \"frobnicate\""_s;
    // A display that is set but not there: the typo must not try it (xcb aborts the process when it cannot connect).
    QTest::newRow("typo, DISPLAY set") << QStringList { u"frobnicate"_s } << u":97"_s
                                       << u"unknown subcommand \"frobnicate\""_s;
    QTest::newRow("unknown option") << QStringList { u"--frobnicate"_s } << u":97"_s
                                    << u"unknown option \"--frobnicate\""_s;
    QTest::newRow("inventory before the subcommand") << QStringList { u"--inventory"_s, u"x.yaml"_s, u"check"_s }
                                                     << u":97"_s << u"--inventory FILE goes after the subcommand"_s;
}

void TestCliUsage::unknownSubcommandIsAUsageErrorWithoutAnyDisplay()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, display);
    QFETCH(QString, message);
    const Run traced = opsdeck(arguments, display, true);
    QCOMPARE(traced.exitCode, 2);
    QVERIFY2(onlyOffscreen(traced), qPrintable(traced.platforms.join(u'\n')));
    const Run run = opsdeck(arguments, display);
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.err.contains(message), qPrintable(run.err));
    QVERIFY2(run.err.contains(u"see opsdeck help"_s), qPrintable(run.err));
    QCOMPARE(run.err.count(u'\n'), 1);
}

void TestCliUsage::groupWithoutSubcommandListsItsSubcommands_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QStringList>("subcommands");
    QMap<QString, QStringList> groups;
    for (const CliCommand& command : Cli::commands(systemCommands())) {
        if (command.words.size() > 1)
            groups[command.words.first()] << command.name();
    }
    QVERIFY(groups.contains(u"packit"_s) && groups.contains(u"plan"_s) && groups.contains(u"journal"_s));
    for (auto group = groups.cbegin(); group != groups.cend(); ++group)
        QTest::newRow(qPrintable(group.key())) << QStringList { group.key() } << group.value();
    QTest::newRow("packit, unknown") << QStringList { u"packit"_s, u"wipe"_s } << groups.value(u"packit"_s);
}

void TestCliUsage::groupWithoutSubcommandListsItsSubcommands()
{
    QFETCH(QStringList, arguments);
    QFETCH(QStringList, subcommands);
    const Run run = opsdeck(arguments);
    // A usage error, on stderr as git says them.
    QCOMPARE(run.exitCode, 2);
    QCOMPARE(run.out, QString());
    QVERIFY2(run.err.startsWith(u"opsdeck: "_s + arguments.first()), qPrintable(run.err));
    for (const QString& subcommand : subcommands)
        QVERIFY2(run.err.contains(u"opsdeck "_s + subcommand + u' '), qPrintable(subcommand + u"\n"_s + run.err));
    // Only the group's.
    QVERIFY2(!run.err.contains(u"opsdeck check"_s), qPrintable(run.err));
    // `opsdeck help GROUP` lists the same, as an answer.
    const Run help = opsdeck({ u"help"_s, arguments.first() });
    QCOMPARE(help.exitCode, 0);
    for (const QString& subcommand : subcommands)
        QVERIFY2(help.out.contains(u"opsdeck "_s + subcommand + u' '), qPrintable(subcommand + u"\n"_s + help.out));
}

void TestCliUsage::everySubcommandHasItsOwnHelp_data()
{
    QTest::addColumn<QStringList>("words");
    QTest::addColumn<QStringList>("options");
    QTest::addColumn<QStringList>("helps");
    for (const CliCommand& command : Cli::commands(systemCommands())) {
        QStringList options;
        QStringList helps;
        for (const CliOption& option : command.options) {
            options << option.dashed();
            helps << option.help.section(u' ', 0, 2); // its first words: the rest may wrap
        }
        QTest::newRow(qPrintable(command.name())) << command.words << options << helps;
    }
}

void TestCliUsage::everySubcommandHasItsOwnHelp()
{
    QFETCH(QStringList, words);
    QFETCH(QStringList, options);
    QFETCH(QStringList, helps);
    for (const QString& help : { u"--help"_s, u"-h"_s }) {
        const Run run = opsdeck(words + QStringList { help });
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.out.startsWith(u"usage: opsdeck "_s + words.join(u' ')), qPrintable(run.out));
        for (qsizetype i = 0; i < options.size(); ++i) {
            QVERIFY2(run.out.contains(options.at(i)), qPrintable(options.at(i) + u"\n"_s + run.out));
            QVERIFY2(run.out.contains(helps.at(i)), qPrintable(helps.at(i) + u"\n"_s + run.out));
        }
        QVERIFY2(run.out.contains(u"--inventory FILE"_s), qPrintable(run.out));
        // Its own help, not the whole usage.
        for (const CliCommand& other : std::as_const(m_commands)) {
            if (other.words != words)
                QVERIFY2(!run.out.contains(u"opsdeck "_s + cli::synopsis(other)), qPrintable(cli::synopsis(other)));
        }
    }
    // `opsdeck help WORDS` says the same.
    QCOMPARE(opsdeck(QStringList { u"help"_s } + words).out, opsdeck(words + QStringList { u"--help"_s }).out);
}

void TestCliUsage::missingFlagOrBadOptionIsOneLine_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("line");
    QTest::newRow("missing --instance")
        << QStringList { u"plan"_s, u"packit-wipe"_s, u"--host"_s, u"wpia-packit"_s }
        << u"opsdeck: plan packit-wipe: --instance is required (--instance INSTANCE: Packit instance on that host.); "
           "see opsdeck plan packit-wipe --help"_s;
    QTest::newRow("empty --context") << QStringList { u"plan"_s, u"datamon-purge"_s, u"--context"_s, u""_s }
                                     << u"opsdeck: plan datamon-purge: --context is required (--context NAME: "
                                        "Inventory datamon context.); see opsdeck plan datamon-purge --help"_s;
    QTest::newRow("unknown option") << QStringList { u"packit"_s, u"instances"_s, u"--hots"_s, u"x"_s }
                                    << u"opsdeck: packit instances: Unknown option 'hots'; see opsdeck packit "
                                       "instances --help"_s;
    QTest::newRow("value missing") << QStringList { u"report"_s, u"export"_s, u"abc"_s, u"--format"_s }
                                   << u"opsdeck: report export: Missing value after '--format'; see opsdeck report "
                                      "export --help"_s;
    QTest::newRow("argument missing") << QStringList { u"report"_s, u"export"_s, u"--format"_s, u"json"_s, u"-o"_s,
        u"x.json"_s } << u"opsdeck: report export: missing RUN_ID; see opsdeck report export --help"_s;
    QTest::newRow("argument too many") << QStringList { u"check"_s, u"extra"_s }
                                       << u"opsdeck: check: unexpected argument \"extra\"; see opsdeck check --help"_s;
}

void TestCliUsage::missingFlagOrBadOptionIsOneLine()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, line);
    const Run run = opsdeck(arguments);
    QCOMPARE(run.exitCode, 2);
    QCOMPARE(run.err, line + u'\n');
    QCOMPARE(run.out, QString());
}

void TestCliUsage::missingInventorySaysNoSuchFile()
{
    const QString path = m_temp.filePath(u"nope/inventory.yaml"_s);
    const Run run = opsdeck({ u"check"_s, u"--inventory"_s, path });
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.err.startsWith(path + u": no such file: "_s), qPrintable(run.err));
    QVERIFY2(run.err.contains(u"--inventory FILE"_s), qPrintable(run.err));
    QVERIFY2(!run.err.contains(u":0:0"_s), qPrintable(run.err));
    // The default place, when nothing names one: the test's own config folder.
    const Run byDefault = opsdeck({ u"check"_s });
    QCOMPARE(byDefault.exitCode, 2);
    QVERIFY2(byDefault.err.startsWith(m_temp.filePath(u"config/opsdeck/inventory.yaml: no such file"_s)),
        qPrintable(byDefault.err));
}

QStringList TestCliUsage::runIds() const
{
    Journal journal(m_temp.filePath(u"runs/journal.sqlite"_s));
    QString error;
    QStringList ids;
    if (!journal.open(&error))
        return ids;
    for (const RunRecord& run : journal.runs({}, &error))
        ids << run.id;
    return ids;
}

void TestCliUsage::runIdPrefix()
{
    // Real runs in a journal of their own, until two of them share a first character (a few: ids are UUIDs).
    const QString journalPath = m_temp.filePath(u"runs/journal.sqlite"_s);
    QDir().mkpath(m_temp.filePath(u"runs"_s));
    QString shared;
    for (int i = 0; i < 40 && shared.isEmpty(); ++i) {
        OperationRunner runner(std::make_unique<test::StepsOperation>(u"scripted"_s, u"host/thing"_s, u"thing"_s,
                                   QList<test::StepsOperation::Step> { { u"one"_s, u"One"_s, u"true"_s } }),
            journalPath);
        const test::DrivenRun run = test::driveRun(runner, u"thing"_s);
        QVERIFY(run.record);
        QSet<QChar> firsts;
        for (const QString& id : runIds()) {
            if (firsts.contains(id.front()))
                shared = id.front();
            firsts.insert(id.front());
        }
    }
    QVERIFY(!shared.isEmpty());
    const QString inventory = writeInventory(u"runs.yaml"_s, journalPath);
    const QStringList ids = runIds();
    QString unique;
    for (const QString& id : ids) {
        if (!id.startsWith(shared)) {
            unique = id;
            break;
        }
    }
    const QString report = m_temp.filePath(u"report.json"_s);
    const auto exportRun = [&](const QString& given) {
        return opsdeck({ u"report"_s, u"export"_s, given, u"--format"_s, u"json"_s, u"-o"_s, report, u"--inventory"_s,
            inventory });
    };

    // The whole id, and a unique prefix of it, are the same run.
    const QString whole = ids.first();
    for (const QString& given : { whole, whole.left(8) }) {
        QFile::remove(report);
        const Run run = exportRun(given);
        QCOMPARE(run.exitCode, 0);
        QFile file(report);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(QJsonDocument::fromJson(file.readAll()).object().value(u"id"_s).toString(), whole);
    }
    if (!unique.isEmpty())
        QCOMPARE(exportRun(unique.left(1)).exitCode, 0);

    // Ambiguous: a usage error that lists the runs it could be.
    QFile::remove(report);
    const Run ambiguous = exportRun(shared);
    QCOMPARE(ambiguous.exitCode, 2);
    QVERIFY2(ambiguous.err.contains(u"run id \""_s + shared + u"\" is ambiguous"_s), qPrintable(ambiguous.err));
    for (const QString& id : ids) {
        if (id.startsWith(shared))
            QVERIFY2(ambiguous.err.contains(id + u" (scripted on host/thing"_s), qPrintable(ambiguous.err));
    }
    QVERIFY(!QFile::exists(report));

    // None.
    const Run none = exportRun(u"zz"_s);
    QCOMPARE(none.exitCode, 2);
    QVERIFY2(none.err.contains(u"no run \"zz\""_s), qPrintable(none.err));
    QVERIFY(!QFile::exists(report));
}

// `journal list` names a run as the Runs dock and the Journal pane do (RunRecord::runName), with its operation's id in
// the last column; --json keeps its fields as they were.
void TestCliUsage::runListingsSayTheRunsName()
{
    const QString journalPath = m_temp.filePath(u"named/journal.sqlite"_s);
    QDir().mkpath(m_temp.filePath(u"named"_s));
    OperationRunner runner(
        std::make_unique<test::StepsOperation>(u"deploy-update"_s, u"reside-ic/packit-infra"_s, u"packit-infra"_s,
            QList<test::StepsOperation::Step> { { u"dispatch"_s, u"Dispatch"_s, u"true"_s } }),
        journalPath);
    const test::DrivenRun driven = test::driveRun(runner, u"packit-infra"_s);
    QVERIFY(driven.record);
    const QString inventory = writeInventory(u"named.yaml"_s, journalPath);

    const Run listed = opsdeck({ u"journal"_s, u"list"_s, u"--inventory"_s, inventory });
    QCOMPARE(listed.exitCode, 0);
    const QStringList lines = listed.out.split(u'\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 2);
    QCOMPARE(lines[0].simplified(), u"RUN STARTED NAME OUTCOME WHO OPERATION"_s);
    const QString name = RunRecord::runName(u"deploy-update"_s, u"reside-ic/packit-infra"_s);
    QCOMPARE(name, u"Trigger update workflow on reside-ic/packit-infra"_s);
    QVERIFY2(lines[1].startsWith(driven.record->id), qPrintable(lines[1]));
    QVERIFY2(lines[1].contains(name), qPrintable(lines[1]));
    QVERIFY2(lines[1].simplified().endsWith(u" deploy-update"_s), qPrintable(lines[1]));

    const Run json = opsdeck({ u"journal"_s, u"list"_s, u"--json"_s, u"--inventory"_s, inventory });
    QCOMPARE(json.exitCode, 0);
    const QJsonObject run = QJsonDocument::fromJson(json.out.toUtf8()).array().first().toObject();
    QCOMPARE(run.value(u"operation"_s).toString(), u"deploy-update"_s);
    QCOMPARE(run.value(u"target"_s).toString(), u"reside-ic/packit-infra"_s);
    QVERIFY(!run.contains(u"name"_s));
}

void TestCliUsage::completionScriptIsValidBash()
{
    const QString bash = QStandardPaths::findExecutable(u"bash"_s);
    if (bash.isEmpty())
        QSKIP("no bash here");
    const Run run = opsdeck({ u"completion"_s, u"bash"_s });
    QCOMPARE(run.exitCode, 0);
    const QString script = m_temp.filePath(u"opsdeck.bash"_s);
    QFile file(script);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(run.out.toUtf8());
    file.close();
    QProcess check;
    check.start(bash, { u"-n"_s, script });
    QVERIFY(check.waitForFinished());
    QCOMPARE(check.exitCode(), 0);
    QCOMPARE(check.readAllStandardError(), QByteArray());

    // What it offers at a few places of a command line.
    const auto complete = [&](const QString& line) {
        QProcess shell;
        shell.start(bash,
            { u"-c"_s,
                u"source \"$0\"; COMP_WORDS=(%1); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _opsdeck; "
                "printf '%s\\n' \"${COMPREPLY[@]}\""_s.arg(line),
                script });
        shell.waitForFinished();
        return QString::fromUtf8(shell.readAllStandardOutput()).split(u'\n', Qt::SkipEmptyParts);
    };
    QCOMPARE(complete(u"opsdeck pa"_s), QStringList { u"packit"_s });
    QCOMPARE(complete(u"opsdeck plan packit-"_s), QStringList { u"packit-wipe"_s });
    QCOMPARE(complete(u"opsdeck plan packit-wipe --ho"_s), QStringList { u"--host"_s });
    QCOMPARE(complete(u"opsdeck plan packit-wipe --host ''"_s), QStringList {});
    QVERIFY(complete(u"opsdeck report export x --"_s).contains(u"--format"_s));
}

void TestCliUsage::manPageRenders()
{
    const Run run = opsdeck({ u"help"_s, u"--man"_s });
    QCOMPARE(run.exitCode, 0);
    QVERIFY(run.out.startsWith(u".TH OPSDECK 1"_s));
    for (const CliCommand& command : std::as_const(m_commands)) {
        // Each word in bold, its dashes escaped.
        QStringList words;
        for (const QString& word : command.words)
            words << u"\\fB"_s + QString(word).replace(u'-', u"\\-"_s) + u"\\fR"_s;
        QVERIFY2(run.out.contains(u"\\fBopsdeck\\fR "_s + words.join(u' ')), qPrintable(command.name()));
    }
    const QString groff = QStandardPaths::findExecutable(u"groff"_s);
    if (groff.isEmpty())
        QSKIP("no groff here");
    QProcess render;
    render.start(groff, { u"-man"_s, u"-Tutf8"_s, u"-ww"_s, u"-z"_s });
    render.write(run.out.toUtf8());
    render.closeWriteChannel();
    QVERIFY(render.waitForFinished());
    QCOMPARE(render.exitCode(), 0);
    QCOMPARE(QString::fromUtf8(render.readAllStandardError()), QString());
}

QTEST_GUILESS_MAIN(TestCliUsage)
#include "tst_cliusage.moc"
