#pragma once

#include "kube/Kubeconfig.h"

#include <QByteArray>
#include <QSslConfiguration>
#include <QString>
#include <QStringList>

#include <atomic>
#include <functional>
#include <memory>

namespace opsdeck {

// What one exec told us (../shared/reference/kubernetes.md section 9).
struct KubeExecResult
{
    enum class Outcome
    {
        Exited, // the status came: exitCode is the command's (0 for Success)
        NotRun, // refused before the upgrade (HTTP error), nothing reached the server (connection refused, TLS),
                // or a Failure status other than NonZeroExitCode
        Unknown, // the socket closed (or the timeout came) without a status: the command may have run
    };
    Outcome outcome = Outcome::Unknown;
    int exitCode = -1;
    QByteArray standardOutput;
    QByteArray standardError;
    QString protocol; // the subprotocol the server chose: v5.channel.k8s.io or v4.channel.k8s.io
    QString message; // NotRun and Unknown: one sentence with what happened and what to do

    bool succeeded() const { return outcome == Outcome::Exited && exitCode == 0; }
};

// Ends an exec in flight from any thread (a cancel hook), and outlives the KubeExec.
class KubeExecAbort
{
public:
    void abort() { m_aborted = true; }
    bool aborted() const { return m_aborted; }

private:
    std::atomic_bool m_aborted = false;
};

// Exec in a pod's container over WebSocket (Qt WebSockets), offering v5.channel.k8s.io then v4.channel.k8s.io,
// for one worker thread: run() blocks, spinning a local event loop. Stdin is never sent.
class KubeExec
{
public:
    explicit KubeExec(Kubeconfig::Resolved cluster, std::shared_ptr<const std::atomic_bool> stop = {});

    bool ready(QString* error) const;

    // Runs `argv` (each element one argument; no shell unless argv starts one) in `container` of `ns`/`pod`.
    // `onOutput(channel, bytes)` (1 stdout, 2 stderr) is called as frames arrive; the result holds all of it.
    KubeExecResult run(const QString& ns,
        const QString& pod,
        const QString& container,
        const QStringList& argv,
        int timeoutMs = 60000,
        const std::function<void(int, const QByteArray&)>& onOutput = {});

    std::shared_ptr<KubeExecAbort> abortHandle() const { return m_abort; }

private:
    bool stopped() const;

    Kubeconfig::Resolved m_cluster;
    QSslConfiguration m_ssl; // kubeTlsConfiguration's, as the REST client's
    QString m_setupError;
    std::shared_ptr<KubeExecAbort> m_abort = std::make_shared<KubeExecAbort>();
    std::shared_ptr<const std::atomic_bool> m_stop;
};

} // namespace opsdeck
