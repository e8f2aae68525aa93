// The list of systems (app/Systems.cpp): subcommands that cannot shadow each other, each in the help, and the
// secrets each system's targets need, with keys the credential store accepts.
#include "Systems.h"

#include "CliSupport.h"
#include "config/InventoryLoader.h"

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
};

void TestSystems::everySubcommandIsUniqueAndInTheHelp()
{
    cli::setUsageSystems(systemCommands());
    const QString usage = cli::usageText();
    QSet<QString> seen { u"check"_s, u"hosts"_s, u"journal list"_s, u"journal verify"_s, u"report export"_s };
    for (const SystemModule& module : systemModules()) {
        QVERIFY2(!module.cli.commands.isEmpty(), qPrintable(module.name));
        QVERIFY(module.pane.create);
        QVERIFY(module.secrets);
        for (const CliCommand& command : module.cli.commands) {
            const QString words = command.words.join(u' ');
            QVERIFY2(!seen.contains(words), qPrintable(words));
            seen.insert(words);
            QVERIFY2(usage.contains(u"opsdeck "_s + words), qPrintable(words));
            QVERIFY2(module.cli.usage.contains(words), qPrintable(words));
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

QTEST_GUILESS_MAIN(TestSystems)
#include "tst_systems.moc"
