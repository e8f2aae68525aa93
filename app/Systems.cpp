#include "Systems.h"

#include "DatamonCli.h"
#include "DatamonPane.h"
#include "DeployCli.h"
#include "DeployPane.h"
#include "PackitCli.h"
#include "PackitPane.h"
#include "PulumiCli.h"
#include "PulumiPane.h"
#include "RaftCli.h"
#include "RaftPane.h"
#include "kube/KubeSecrets.h"
#include "packit/PackitTarget.h"
#include "raft/RaftTarget.h"
#include "secrets/SecretSpecs.h"
#include "sql/DatabaseTarget.h"
#include "ssh/SshSecretSpecs.h"

#include <QSet>

namespace opsdeck {

namespace {

void addHost(QList<SecretSpec>* specs, const Host& host)
{
    if (SshSecretSpecs::hostNeedsSecret(host))
        specs->append(SshSecretSpecs::forHost(host));
}

void addDatabase(QList<SecretSpec>* specs, const Database& database)
{
    if (SecretSpecs::databaseNeedsSecret(database))
        specs->append(SecretSpecs::forDatabase(database));
}

SystemModule packit()
{
    return { QStringLiteral("packit"),
        { QObject::tr("Packit"),
            [](const PaneContext& c) {
                return new PackitPane(c.inventory, c.credentials, c.runs, c.journalLocation);
            } },
        cli::packitCli(), [](const Inventory& inventory) {
            QList<SecretSpec> specs;
            for (const Host& host : inventory.hosts) {
                for (const PackitInstance& instance : host.instances) {
                    PackitTarget::Problem problem = PackitTarget::Problem::None;
                    QString error;
                    if (const auto target
                        = PackitTarget::resolve(inventory, host.name, instance.name, &problem, &error)) {
                        addHost(&specs, target->host);
                        addDatabase(&specs, target->database);
                    }
                }
            }
            return specs;
        } };
}

SystemModule pulumi()
{
    return { QStringLiteral("pulumi"),
        { QObject::tr("Pulumi"),
            [](const PaneContext& c) {
                return new PulumiPane(c.inventory, c.credentials, c.runs, c.journalLocation);
            } },
        cli::pulumiCli(), [](const Inventory& inventory) {
            QList<SecretSpec> specs;
            for (const Database& database : inventory.databases) {
                QString error;
                const auto target = DatabaseTarget::resolve(inventory, database.name, &error);
                if (database.kind != DatabaseKind::Mysql || !target)
                    continue;
                if (target->via)
                    addHost(&specs, *target->via);
                addDatabase(&specs, target->database);
            }
            return specs;
        } };
}

SystemModule deploy()
{
    return { QStringLiteral("deploy"),
        { QObject::tr("Deploy"),
            [](const PaneContext& c) {
                return new DeployPane(c.inventory, c.credentials, c.runs, c.journalLocation);
            } },
        cli::deployCli(), [](const Inventory& inventory) {
            QList<SecretSpec> specs;
            for (const DeployMachine& machine : inventory.machines) {
                if (const Host* host = inventory.host(machine.host))
                    addHost(&specs, *host);
            }
            if (!inventory.deploy.repository.isEmpty())
                specs.append(SecretSpecs::forGithub(inventory.github, inventory.deploy));
            return specs;
        } };
}

SystemModule raft()
{
    return { QStringLiteral("raft"),
        { QObject::tr("RAFT"),
            [](const PaneContext& c) { return new RaftPane(c.inventory, c.credentials, c.runs, c.journalLocation); } },
        cli::raftCli(), [](const Inventory& inventory) {
            QList<SecretSpec> specs;
            // A cluster asks for a token only when its kubeconfig's user has none.
            for (const Cluster& cluster : inventory.clusters) {
                RaftTarget::Problem problem = RaftTarget::Problem::None;
                QString error;
                const auto target = RaftTarget::resolveCluster(inventory, cluster.name, &problem, &error);
                if (target && target->needsToken())
                    specs.append(kubeTokenSpec(cluster));
            }
            return specs;
        } };
}

SystemModule datamon()
{
    return { QStringLiteral("datamon"),
        { QObject::tr("datamon"),
            [](const PaneContext& c) {
                return new DatamonPane(c.inventory, c.credentials, c.runs, c.journalLocation);
            } },
        cli::datamonCli(), [](const Inventory& inventory) {
            QList<SecretSpec> specs;
            for (const DatamonContext& context : inventory.datamon) {
                if (const Host* host = inventory.host(context.host))
                    addHost(&specs, *host);
            }
            return specs;
        } };
}

// The journal's: a team journal's database and its via host, and the chain's key.
QList<SecretSpec> journalSecrets(const Inventory& inventory)
{
    QList<SecretSpec> specs;
    QString error;
    if (const auto target = inventory.journal.database.isEmpty()
            ? std::nullopt
            : DatabaseTarget::resolve(inventory, inventory.journal.database, &error)) {
        if (target->via)
            addHost(&specs, *target->via);
        addDatabase(&specs, target->database);
    }
    if (!inventory.journal.keyEnv.isEmpty())
        specs.append(SecretSpecs::forJournalKey(inventory.journal));
    return specs;
}

} // namespace

QList<SecretSpec> consoleSecrets(const Inventory& inventory)
{
    QList<SecretSpec> specs;
    QSet<QString> keys;
    const auto add = [&](const QList<SecretSpec>& more) {
        for (const SecretSpec& spec : more) {
            if (!keys.contains(CredentialStore::keyFor(spec))) {
                keys.insert(CredentialStore::keyFor(spec));
                specs.append(spec);
            }
        }
    };
    for (const SystemModule& module : systemModules())
        add(module.secrets(inventory));
    add(journalSecrets(inventory));
    return specs;
}

const QList<SystemModule>& systemModules()
{
    static const QList<SystemModule> modules = { packit(), pulumi(), deploy(), raft(), datamon() };
    return modules;
}

QList<PaneRegistration> systemPanes()
{
    QList<PaneRegistration> panes;
    for (const SystemModule& module : systemModules()) {
        if (module.pane.create)
            panes << module.pane;
    }
    return panes;
}

QList<CliModule> systemCommands()
{
    QList<CliModule> commands;
    for (const SystemModule& module : systemModules())
        commands << module.cli;
    return commands;
}

} // namespace opsdeck
