#pragma once

#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>

#include <optional>

namespace opsdeck {

// Where a value came from in the inventory file (1-based), so later errors can point at it.
struct SourcePos
{
    int line = 0;
    int column = 0;
};

// A tag set shared by every target kind. The engine refuses destructive runs on readOnly targets and asks
// for the typed target name on production ones.
struct Tags
{
    bool production = false;
    bool readOnly = false;
};

enum class AuthMethod
{
    Key,
    Agent,
    Password
};

// Secrets never live in the inventory: a key file's passphrase or a password is looked up in the keychain
// under opsdeck/ssh/<host>/<user>, unless secretEnv names an environment variable (for automation).
struct HostAuth
{
    AuthMethod method = AuthMethod::Key;
    QString identityFile; // AuthMethod::Key only
    QString secretEnv; // optional
};

struct PackitInstance
{
    QString name;
    int index = 0; // position on its host; packit-infra derives the ports from it
    quint16 outpackPort = 0;
    quint16 apiPort = 0;
    quint16 managementPort = 0;
    QString outpackRoot; // <host.outpackBase>/<name> unless given
    QString database; // name of a databases entry; empty means the instance's own PostgreSQL db on its host
    SourcePos pos;
};

// The undo window of a target: how long an operation keeps what it needs to take a run back (a Packit wipe's
// moved-aside root, for one), from the inventory's undo.retention. Off (0): the operations keep no undo window there.
struct UndoPolicy
{
    static constexpr qint64 kMaxRetentionSeconds = 365 * 24 * 3600;

    qint64 retentionSeconds = 7 * 24 * 3600;

    bool off() const { return retentionSeconds == 0; }
    // "7 days", "1 day", "12 hours", "90 minutes", "30 seconds" (the largest unit that divides it), or "off".
    QString describe() const;
    // A retention as the inventory writes it: <N>s, <N>m, <N>h or <N>d (N a positive integer without leading zeros
    // or spaces), from 1s to 365d, in seconds; or "off", 0. nullopt for anything else.
    static std::optional<qint64> parseRetention(const QString& text);

    friend bool operator==(const UndoPolicy&, const UndoPolicy&) = default;
};

// A command template is an argv list. "{name}" placeholders are replaced inside one argument; an argument
// that is exactly "{name...}" expands to several arguments. Nothing is ever pasted into a shell string:
// the argv is POSIX-quoted as a whole when it is sent.
using CommandTemplate = QStringList;

struct Host
{
    QString name;
    QString address;
    quint16 port = 22;
    QString user = QStringLiteral("root");
    HostAuth auth;
    QString knownHostsFile; // empty: the user's ~/.ssh/known_hosts
    Tags tags;
    QString outpackBase = QStringLiteral("/var/lib/outpack");
    QString metricsDir = QStringLiteral("/etc/metrics");
    QMap<QString, CommandTemplate> commands; // every known template, defaults filled in
    QList<PackitInstance> instances;
    UndoPolicy undo; // the top-level undo unless the entry has its own
    SourcePos pos;
};

enum class DatabaseKind
{
    Postgres,
    Mysql
};

struct Database
{
    QString name;
    DatabaseKind kind = DatabaseKind::Postgres;
    QString via; // host whose SSH tunnel reaches it; empty: direct
    QString address = QStringLiteral("127.0.0.1"); // as seen from the via host
    quint16 port = 0; // 0: the kind's default (5432 / 3306)
    QString socket; // Unix socket on the via host; used instead of address:port
    QString database;
    QString user;
    QString passwordEnv; // optional; else keychain opsdeck/db/<name>/<user>
    // PostgreSQL only: libpq's sslmode ("require", "verify-ca", "verify-full"; empty: libpq's default, prefer) and
    // the CA that signed the server's certificate (sslrootcert) for the verify modes.
    QString tls;
    QString caFile;
    Tags tags;
    UndoPolicy undo; // the top-level undo unless the entry has its own
    SourcePos pos;
};

// A Kubernetes / OpenShift cluster, reached through a kubeconfig context as kubectl and `oc login` set it up. The
// token is the kubeconfig's (token, tokenFile), else the variable tokenEnv names, else the keychain's
// opsdeck/k8s/<name>/token; a client certificate in the kubeconfig works too.
struct Cluster
{
    QString name;
    QStringList kubeconfig; // files merged as kubectl does; empty: $KUBECONFIG, then ~/.kube/config
    QString context; // empty: the kubeconfig's current-context
    QStringList namespaces; // those the console shows and acts on; empty: the context's namespace only
    QString tokenEnv; // optional
    Tags tags;
    UndoPolicy undo; // the top-level undo unless the entry has its own
    SourcePos pos;
};

// Where a datamon context's purge steps run as Kubernetes Jobs, as upstream ran its purge (k8s/purge/*).
struct DatamonJobs
{
    QString cluster; // a clusters entry
    QString jobNamespace; // the namespace the Jobs are created in
    QString image; // the datamon image, e.g. gcr.io/onec-co/datamon:v2.6.9
    QString binary = QStringLiteral("datamon"); // the CLI in the image (upstream's is /usr/bin/datamon)
    QString serviceAccount; // optional: the account whose credentials datamon uses
    QString volumeClaim; // optional: a PersistentVolumeClaim mounted at workDir; else an emptyDir
};

// A datamon context: the `datamon2` CLI reached on a host over SSH (a bastion near GCS), or on this machine.
struct DatamonContext
{
    QString name;
    QString context; // datamon --context value
    QString config; // datamon --config: the config bucket, without gs://
    QString host; // host to run the CLI on over SSH; empty: run locally
    QString binary = QStringLiteral("datamon2"); // a command on the host's PATH, or an absolute path
    QString gcloud = QStringLiteral("gcloud"); // reads the purge lock and the index, with datamon's credentials
    QString workDir = QStringLiteral("/var/tmp/opsdeck-datamon"); // absolute; each run's --local-work-dir is under it
    int minFreeGiB = 10; // what a purge needs free in workDir
    QString trash; // gs://BUCKET[/PREFIX] where repo deletes keep metadata for their undo windows; empty: the
                   // metadata bucket's opsdeck-trash/
    QStringList environment; // passed to datamon2 and gcloud besides ChildEnvironment's allowlist
    std::optional<DatamonJobs> jobs; // set: the purge steps run as Jobs there instead of detached on the host
    Tags tags;
    UndoPolicy undo; // the top-level undo unless the entry has its own
    SourcePos pos;
};

enum class MetricsSource
{
    Ssh,
    Http
};

// One machine of the deploy matrix (packit-infra's machines/<name>.nix). The deploy command names it; its
// deployed commit is read over SSH from its host or from its metrics proxy.
struct DeployMachine
{
    QString name;
    QString host; // inventory host for SSH metrics; defaults to name; empty for an HTTP-only machine
    MetricsSource metrics = MetricsSource::Ssh;
    QString domain; // services.packit.domain; defaults to the host's address
    QString metricsProxy; // packit-infra's metrics proxy; default http://<domain>:9000
    QString landingUrl; // the page listing the instances; default https://<domain>/
    QString instanceApiUrl; // "{instance}" is replaced; default https://{instance}.<domain>/packit/api
    Tags tags;
    SourcePos pos;
};

// The GitHub REST API the deploy flow talks to. The token is read from tokenEnv, else from the keychain under
// opsdeck/github/<owner>/token.
struct GithubConfig
{
    QString apiUrl = QStringLiteral("https://api.github.com");
    QString caFile; // an extra CA to trust (GitHub Enterprise, the sandbox)
    QString tokenEnv;
    QString apiVersion = QStringLiteral("2022-11-28");
};

// packit-update-deploy.md: which repository is deployed, the workflow that opens the update pull request,
// the staging machine and the deploy command.
struct DeployConfig
{
    QString repository; // owner/repo; empty: no deploy section
    QString branch = QStringLiteral("main");
    QString sourceMetricsUrl; // nixos_source_info per machine; default https://<owner>.github.io/<repo>/metrics
    QString updateWorkflow = QStringLiteral("update.yaml");
    QString updateHead; // owner:branch of the update pull request; default <owner>:actions/update-packages
    QString staging; // a machine name; empty: no staging step
    CommandTemplate command; // the "deploy" template, local argv
    // What the deploy command gets of the console's environment besides PATH, HOME, USER, LOGNAME, the locale and
    // TZ (ChildEnvironment): nix's deploy app runs ssh root@<machine>, which needs the admin's agent.
    QStringList environment = { QStringLiteral("SSH_AUTH_SOCK") };
    UndoPolicy undo; // the top-level undo unless the section has its own (set even without a deploy section)
    SourcePos pos;

    QString owner() const { return repository.section(u'/', 0, 0); }
    QString repo() const { return repository.section(u'/', 1, 1); }
};

// One admin's journal is an SQLite file; a team's is a PostgreSQL database of the databases section, which every
// admin's console shares (locks included).
struct JournalConfig
{
    QString path; // SQLite file; empty: <user data dir>/journal.sqlite
    QString database; // a databases entry of kind postgres: the team journal, instead of the file
    // Set: the chain is keyed (HMAC), with the key from this variable or else the keychain's
    // opsdeck/journal-key/<database, or "local">/key (SecretSpecs::forJournalKey).
    QString keyEnv;
};

struct Inventory
{
    QString file;
    QList<Host> hosts;
    QList<Database> databases;
    QList<Cluster> clusters;
    QList<DatamonContext> datamon;
    QList<DeployMachine> machines;
    GithubConfig github;
    DeployConfig deploy;
    JournalConfig journal;
    UndoPolicy undo; // the top-level undo: the default of every entry above (each holds its effective policy)

    const Host* host(const QString& name) const;
    const Database* database(const QString& name) const;
    const DeployMachine* machine(const QString& name) const;
    const Cluster* cluster(const QString& name) const;
    const DatamonContext* datamonContext(const QString& name) const;
};

} // namespace opsdeck
