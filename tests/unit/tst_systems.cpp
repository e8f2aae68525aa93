// The list of systems (app/Systems.cpp) and the CLI's subcommands: none shadows another, each is in the help, and the
// secrets each system's targets need, with keys the credential store accepts.
#include "Systems.h"

#include "CliHelp.h"
#include "config/InventoryLoader.h"

#include <QFile>
#include <QSet>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck;

class TestSystems : public QObject
{
    Q_OBJECT

private slots:
    void everySubcommandIsUniqueAndInTheHelp();
    void secretsHaveValidKeys();
    void theConsolesSecretsIncludeTheJournals();
};

void TestSystems::everySubcommandIsUniqueAndInTheHelp()
{
    for (const SystemModule& module : systemModules()) {
        QVERIFY2(!module.cli.commands.isEmpty(), qPrintable(module.name));
        QVERIFY(module.pane.create);
        QVERIFY(module.secrets);
    }
    const QList<CliCommand> commands = Cli::commands(systemCommands());
    const QString usage = cli::usageText(commands);
    QSet<QString> seen;
    for (const CliCommand& command : commands) {
        const QString name = command.name();
        QVERIFY2(!seen.contains(name), qPrintable(name));
        seen.insert(name);
        QVERIFY2(command.handler, qPrintable(name));
        QVERIFY2(!command.summary.isEmpty(), qPrintable(name));
        QVERIFY2(usage.contains(u"opsdeck "_s + name), qPrintable(name));
        // The dispatcher takes the first command whose words begin the arguments: none may begin another's.
        for (const CliCommand& other : commands) {
            if (&other != &command && other.words.size() > command.words.size())
                QVERIFY2(other.words.mid(0, command.words.size()) != command.words, qPrintable(name));
        }
        QSet<QString> options { u"inventory"_s, u"help"_s, u"h"_s };
        for (const CliOption& option : command.options) {
            QVERIFY2(!options.contains(option.name), qPrintable(name + u": "_s + option.name));
            options.insert(option.name);
            QVERIFY2(!option.help.isEmpty(), qPrintable(name + u": "_s + option.name));
        }
    }
}

void TestSystems::secretsHaveValidKeys()
{
    const InventoryLoadResult loaded
        = InventoryLoader::loadFile(QStringLiteral(OPSDECK_TEST_DATA_DIR) + u"/inventory/full.yaml"_s);
    QVERIFY(loaded.ok());
    QHash<QString, QStringList> keys;
    for (const SystemModule& module : systemModules()) {
        for (const SecretSpec& spec : module.secrets(*loaded.inventory)) {
            const QString key = CredentialStore::keyFor(spec);
            QVERIFY2(!key.isEmpty(), qPrintable(module.name + u": "_s + spec.label));
            keys[module.name] << key;
        }
    }
    // The Pulumi database's password (its via host authenticates by agent), the deploy flow's GitHub token.
    QCOMPARE(keys.value(u"pulumi"_s), QStringList { u"opsdeck/db/pulumi/pulumi"_s });
    QVERIFY(keys.value(u"deploy"_s).contains(u"opsdeck/github/reside-ic/token"_s));
}

// A team journal on a PostgreSQL behind a host that logs in by password, keyed: its password, that host's password
// and the key are the console's secrets too.
void TestSystems::theConsolesSecretsIncludeTheJournals()
{
    QFile file(QStringLiteral(OPSDECK_TEST_DATA_DIR) + u"/inventory/full.yaml"_s);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QByteArray yaml = file.readAll();
    QVERIFY(yaml.contains("journal:\n  path: ~/opsdeck/journal.sqlite\n"));
    yaml.replace("journal:\n  path: ~/opsdeck/journal.sqlite\n",
        "journal:\n  database: team-journal\n  keyEnv: TEAM_JOURNAL_KEY\n");
    yaml.replace("databases:\n",
        "databases:\n  - name: team-journal\n    kind: postgres\n    via: pwd-host\n    address: "
        "db.internal.example.org\n"
        "    database: journal\n    user: ann\n    passwordEnv: TEAM_JOURNAL_PASSWORD\n");
    const InventoryLoadResult loaded = InventoryLoader::loadString(yaml, u"team.yaml"_s);
    QVERIFY2(loaded.ok(), qPrintable(loaded.errors.value(0).toString()));
    QStringList keys;
    for (const SecretSpec& spec : consoleSecrets(*loaded.inventory))
        keys << CredentialStore::keyFor(spec);
    QVERIFY2(keys.contains(u"opsdeck/db/team-journal/ann"_s), qPrintable(keys.join(u", "_s)));
    QVERIFY2(keys.contains(u"opsdeck/journal-key/team-journal/key"_s), qPrintable(keys.join(u", "_s)));
    QVERIFY2(std::any_of(keys.cbegin(), keys.cend(),
                 [](const QString& key) { return key.startsWith(u"opsdeck/ssh/pwd-host/"_s); }),
        qPrintable(keys.join(u", "_s)));
    QCOMPARE(keys.count(u"opsdeck/db/pulumi/pulumi"_s), 1);
    QCOMPARE(QSet<QString>(keys.cbegin(), keys.cend()).size(), keys.size()); // each once
    // The journal comes last; each system's secrets are there as before.
    QCOMPARE(keys.last(), u"opsdeck/journal-key/team-journal/key"_s);
    for (const SystemModule& module : systemModules()) {
        for (const SecretSpec& spec : module.secrets(*loaded.inventory))
            QVERIFY(keys.contains(CredentialStore::keyFor(spec)));
    }
}

QTEST_GUILESS_MAIN(TestSystems)
#include "tst_systems.moc"
