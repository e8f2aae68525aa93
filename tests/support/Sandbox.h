#pragma once

#include "ssh/SshTypes.h"

#include <QJsonObject>
#include <QProcess>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QSet>
#include <QSqlDatabase>
#include <QString>
#include <QStringList>
#include <QVariantList>

#include <functional>

namespace opsdeck::test {

// The sandbox that ctest brought up (tests/sandbox/sandbox), read from its sandbox.json.
class Sandbox
{
public:
    struct Server
    {
        QString host;
        quint16 port = 0;
        QString user;
        QString password;
        QString socket; // PostgreSQL: the socket directory; MariaDB: the socket file

        // Add (do not open) a QMYSQL or QPSQL connection named `name` to `database` on this server, over TCP.
        QSqlDatabase addMysqlConnection(const QString& name, const QString& database) const;
        QSqlDatabase addPostgresConnection(const QString& name, const QString& database) const;

    private:
        QSqlDatabase addConnection(const QString& driver, const QString& name, const QString& database) const;
    };

    // Reads $OPSDECK_SANDBOX_DIR or the build's default; QFAIL-friendly: check ok() and error().
    Sandbox();
    bool ok() const { return m_error.isEmpty(); }
    QString error() const { return m_error; }

    QString dir() const { return m_dir; }
    // sandbox.json as a whole (machines, github, ...).
    const QJsonObject& json() const { return m_json; }
    // An entry of sandbox.json's "machines".
    QJsonObject machine(const QString& name) const;
    QString inventoryPath() const { return m_dir + QStringLiteral("/inventory.yaml"); }
    QStringList hostNames() const;
    // The hosts whose sshd `up` started (wpia-packit-spare stands for an unreachable machine and is not).
    QStringList reachableHostNames() const;
    QJsonObject host(const QString& name) const;
    SshTarget target(const QString& name) const; // key auth as root
    SshTarget passwordTarget() const; // the bastion's password user
    QString password() const;
    Server postgres() const;
    Server mariadb() const;
    // The environment of DIR/env on top of this process's.
    QProcessEnvironment environment() const;
    // Puts environment()'s OPSDECK_ variables into this process's own environment, for a test that runs the console's
    // code in-process (panes, services) rather than as the opsdeck executable.
    void exportToThisProcess() const;

    // Where a secret of the sandbox (each password and token DIR/env exports, as the inventory's *Env variables
    // name them) shows in the journal's files, in `files` (reports, logs) or in `outputs` (a run's stdout and
    // stderr): "WHERE holds VARIABLE" each; empty when nowhere.
    QStringList secretLeaks(const QStringList& files, const QList<QByteArray>& outputs = {}) const;

    // Writes a copy of the sandbox inventory to `destination` in which every host uses `knownHosts`.
    QString inventoryWithKnownHosts(const QString& destination, const QString& knownHosts) const;
    // Writes a copy of the sandbox inventory to `destination` whose deploy command is `command` (a YAML list);
    // empty if it cannot.
    QString inventoryWithDeployCommand(const QString& destination, const QString& command) const;

    // POSTs `body` to the GitHub stand-in's own endpoint `path` (/_standin/control, /_standin/push); its answer,
    // empty if it could not be reached.
    QJsonObject postToGithubStandin(const QString& path, const QJsonObject& body) const;

    // The Kubernetes stand-in's own endpoints (/_standin/state, /_standin/control, /_standin/advance, ...), with its
    // control token: GET when `body` is empty, else POST. Its answer; empty if it could not be reached.
    QJsonObject kubernetesStandin(const QString& path, const QJsonObject& body = {}) const;
    // The stand-in's request log (one JSON object per request) from line `from` on; count() is where the next starts.
    QList<QJsonObject> kubernetesRequests(qsizetype from = 0) const;

    // The GCS JSON API stand-in (tests/sandbox/standins/gcs): its endpoint (https://127.0.0.1:P+8, CA in
    // json()["gcs"]["caFile"]); the real gcloud on the bastion is configured for it.
    QString gcsEndpoint() const;
    // Its own endpoints (/_standin/faults, /_standin/stats) with its control token: GET when `body` is empty, else
    // POST. Its answer; empty if it could not be reached.
    QJsonObject gcsStandin(const QString& path, const QJsonObject& body = {}) const;
    // Its request log (method, path, query, bucket, object, status per request) from line `from` on.
    QList<QJsonObject> gcsRequests(qsizetype from = 0) const;
    // How many objects of `bucket` whose names start with `prefix` its store holds now, read from its SQLite file
    // (read-only); -1 if it cannot be read.
    qint64 gcsObjectCount(const QString& bucket, const QString& prefix = {}) const;
    // The names of `bucket`'s objects in the same store; empty if it cannot be read.
    QSet<QString> gcsObjectNames(const QString& bucket) const;
    // The unreferenced blob keys older than the index that the seed put in `blobBucket` (its
    // datamon/unreferenced-<bucket>.txt): what a purge of it must delete, and nothing else.
    QSet<QString> datamonUnreferencedOld(const QString& blobBucket) const;

    // A copy of the inventory at `path` with `line` (indented as a key of an entry) added to the list entry named
    // `entry` (a host, a datamon context); false if there is no such entry or the copy cannot be written.
    bool writeInventoryWith(const QString& path, const QString& entry, const QString& line) const;

    // tests/sandbox/sandbox SUBCOMMAND DIR ARGS...; returns its exit code.
    int script(const QString& subcommand, const QStringList& arguments = {}) const;

private:
    // The first column of `sql`'s rows, `values` bound, on the GCS stand-in's SQLite store opened read-only.
    QVariantList gcsColumn(const QString& sql, const QVariantList& values) const;
    // `url` through curl with the CA `caFile` and the bearer `token`: GET, or POST of `body` when it is not empty.
    static QJsonObject standinRequest(
        const QString& url, const QString& caFile, const QString& token, const QJsonObject& body);
    // The JSON lines of the request log of sandbox.json's entry `standin`, from line `from` on.
    QList<QJsonObject> standinRequests(const QString& standin, qsizetype from) const;
    QString inventoryWithReplaced(
        const QString& destination, const QRegularExpression& pattern, const QString& replacement) const;

    QString m_dir;
    QString m_error;
    QJsonObject m_json;
};

// Runs the opsdeck executable with the sandbox environment; returns the exit code (-1 if it did not finish).
struct CliRun
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};
CliRun runCli(const QStringList& arguments, const QProcessEnvironment& environment, int timeoutMs = 60000);

// The opsdeck executable run in the background with the sandbox environment: an admin's console that a test kills or
// interrupts midway, or cuts off from its host. Killed, if it still runs, when it goes.
class BackgroundCli
{
public:
    BackgroundCli(const QStringList& arguments, const QProcessEnvironment& environment);
    ~BackgroundCli();
    BackgroundCli(const BackgroundCli&) = delete;
    BackgroundCli& operator=(const BackgroundCli&) = delete;

    // Waits (the event loop turning) until `ready` holds while it still runs; false if it exited first, or after
    // `timeoutMs`: then output() says why.
    bool runsUntil(const std::function<bool()>& ready, int timeoutMs = 60000);
    // SIGKILL, as a crash or a closed laptop lid would; reaped.
    void kill();
    // SIGINT, as Ctrl-C would.
    bool interrupt();
    // Until it exits; its exit code (-1 if it did not, or crashed).
    int wait(int timeoutMs);
    // Everything it printed so far, stdout then stderr.
    QByteArray output();
    // Its stdout so far.
    QByteArray out();

private:
    QProcess m_process;
    QByteArray m_out;
    QByteArray m_err;
};

} // namespace opsdeck::test
