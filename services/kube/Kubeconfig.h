#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace opsdeck {

// A kubeconfig as kubectl reads it (client-go clientcmd, ../shared/reference/kubernetes.md section 1), what `oc login`
// writes: clusters, users and contexts by name, from one file or several merged. Pure: reading a context's files
// (CA, token file, client certificate) happens in resolve(), and nothing here talks to a cluster.
class Kubeconfig
{
public:
    struct Cluster
    {
        QString name;
        QString server;
        QByteArray certificateAuthorityData; // PEM, from certificate-authority-data
        QString certificateAuthority; // a file path, absolute (resolved against the kubeconfig's folder)
        bool insecureSkipTlsVerify = false;
    };

    struct User
    {
        QString name;
        QString token;
        QString tokenFile; // absolute
        QByteArray clientCertificateData; // PEM
        QString clientCertificate; // absolute
        QByteArray clientKeyData; // PEM
        QString clientKey; // absolute
        QString plugin; // "exec plugin \"kubelogin\"" or "auth-provider \"oidc\"", which opsdeck does not run
    };

    struct Context
    {
        QString name;
        QString cluster;
        QString user;
        QString ns; // "namespace"; empty means "default", as kubectl
    };

    // A context with everything a client needs, its files read.
    struct Resolved
    {
        Context context;
        QString server;
        QByteArray caPem; // empty: verify against the system's roots
        bool insecureSkipTlsVerify = false;
        QString token; // empty when a client certificate authenticates
        QByteArray clientCertificatePem;
        QByteArray clientKeyPem;
        QStringList warnings; // what an admin should see on the cluster (TLS not verified, a plugin ignored)
        QString plugin; // the user's exec or auth-provider plugin, which is not run; empty without one

        bool authenticates() const { return !token.isEmpty() || !clientCertificatePem.isEmpty(); }
    };

    // Whether a user without a token or client certificate fails resolve() (what kubectl does) or resolves without
    // credentials, for a caller that supplies the token itself (the inventory's tokenEnv, the keychain).
    enum class Credentials
    {
        Required,
        TokenSuppliedByCaller,
    };

    // The files kubectl would read: $KUBECONFIG (`kubeconfigVariable`) split on ':', empty parts left out; else
    // HOME/.kube/config.
    static QStringList defaultFiles(const QString& kubeconfigVariable, const QString& home);

    // Reads and merges `files` as kubectl does: each named cluster, user and context comes from the first file that
    // defines it, current-context from the first file that sets one. A file that does not exist is skipped (kubectl
    // skips them too), but not all of them. Errors name the file, the line and what is wrong.
    static std::optional<Kubeconfig> load(const QStringList& files, QString* error);
    // One file's text; `file` names it in errors and anchors its relative paths.
    static std::optional<Kubeconfig> parse(const QByteArray& yaml, const QString& file, QString* error);

    QString currentContext() const { return m_currentContext; }
    QStringList contextNames() const;
    const QList<Context>& contexts() const { return m_contexts; }

    // `context` (empty: the current context) with its cluster and user, their files read. Fails with what to do when
    // the context, its cluster or its user is missing, when the server is not https, when a CA comes with
    // insecure-skip-tls-verify (kubectl refuses that too), or when the user has no token or client certificate (a
    // plugin is named; with Credentials::TokenSuppliedByCaller such a user resolves without them). The token and the
    // client key are remembered by SecretScrubber.
    std::optional<Resolved> resolve(
        const QString& context, QString* error, Credentials credentials = Credentials::Required) const;

private:
    void mergeFrom(const Kubeconfig& later);

    QList<Cluster> m_clusters;
    QList<User> m_users;
    QList<Context> m_contexts;
    QString m_currentContext;
};

} // namespace opsdeck
