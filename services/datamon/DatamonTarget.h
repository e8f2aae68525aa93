#pragma once

#include "config/Inventory.h"
#include "kube/KubeTarget.h"
#include "secrets/CredentialStore.h"

#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <optional>

namespace opsdeck {

// One datamon context of the inventory with the host its CLI runs on, validated, and the argv of every command run
// for it: datamon2 always with --context, --config and --metrics=false spelt out (never the host's config file or
// environment deciding which store a delete reaches) and never --upgrade.
struct DatamonTarget
{
    DatamonContext context;
    std::optional<Host> host; // unset: this machine
    QString sshSecret; // what the host's auth needs, resolved by resolveDatamonSecrets
    // Set when the context's purge steps run as Kubernetes Jobs (context.jobs): its cluster on the Jobs' namespace,
    // the token (when the kubeconfig has none) filled in by resolveDatamonSecrets.
    std::optional<KubeTarget> cluster;

    enum class Problem
    {
        None,
        InvalidName,
        UnknownContext,
        Cluster, // the context's jobs cluster cannot be used (its kubeconfig, its namespace, insecure TLS in
                 // production)
    };
    // Validates the name first (nothing with shell or path syntax gets further), then looks it up, and the cluster
    // of its jobs (KubeTarget::resolve, with `kubeconfigFiles` when the cluster names none).
    static std::optional<DatamonTarget> resolve(const Inventory& inventory,
        const QString& name,
        Problem* problem,
        QString* error,
        const QStringList& kubeconfigFiles = KubeTarget::defaultKubeconfigFiles());

    // datamon's own rule for repo names (model.ValidateRepo), as one sentence naming the field when it fails.
    static QString repoError(const QString& repo);

    QString id() const { return context.name; }
    // `datamon2 <words> --context C --config B --metrics=false`; `otherContext`: another context of the same config
    // bucket (the contexts that may share the blob bucket), already checked with NameRules::datamonContextError.
    QStringList datamon(const QStringList& words, const QString& otherContext = {}) const;
    // A purge step's argv where it runs: datamon() on the host, or with the binary of the Jobs' image
    // (context.jobs->binary) when the context runs its purge steps as Kubernetes Jobs.
    QStringList purgeStep(const QStringList& words) const;
    // `gcloud storage <words>` with the context's gcloud; prompts off.
    QStringList gcloudStorage(const QStringList& words) const;
    // Strictly under workDir: where a run keeps its datamon --local-work-dir and its jobs.
    QString runDir(const QString& runId) const;
};

// The host's SSH secret, if its auth needs one, and the jobs cluster's token, if its kubeconfig has none, from the
// credential store (asking the admin if it must). Runs on the GUI or CLI thread, never in a worker; `done` runs on
// `context`'s thread, never inside this call.
void resolveDatamonSecrets(CredentialStore* store,
    DatamonTarget target,
    QObject* context,
    std::function<void(std::optional<DatamonTarget>, const QString& error)> done);

} // namespace opsdeck
