#include "kube/Kubeconfig.h"

#include "core/SecretScrubber.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QUrl>

#include <yaml-cpp/yaml.h>

namespace opsdeck {

namespace {

// Thrown while reading one file, caught in parse(): the first problem ends the file.
struct ParseError
{
    QString message;
};

QString where(const QString& file, const YAML::Node& node)
{
    const YAML::Mark mark = node.Mark();
    return mark.is_null() ? file : QStringLiteral("%1:%2").arg(file).arg(mark.line + 1);
}

// The scalar at `key` of `map`, or empty when absent; anything but a scalar is an error.
QString text(const YAML::Node& map, const char* key, const QString& file)
{
    const YAML::Node node = map[key];
    if (!node || node.IsNull())
        return {};
    if (!node.IsScalar())
        throw ParseError { QStringLiteral("%1: %2 must be a string").arg(where(file, node), QString::fromUtf8(key)) };
    return QString::fromStdString(node.Scalar());
}

bool flag(const YAML::Node& map, const char* key, const QString& file)
{
    const QString value = text(map, key, file);
    if (value.isEmpty() || value == QStringLiteral("false"))
        return false;
    if (value == QStringLiteral("true"))
        return true;
    throw ParseError {
        QStringLiteral("%1: %2 must be true or false").arg(where(file, map[key]), QString::fromUtf8(key))
    };
}

QByteArray base64(const YAML::Node& map, const char* key, const QString& file)
{
    const QString value = text(map, key, file);
    if (value.isEmpty())
        return {};
    const auto decoded = QByteArray::fromBase64Encoding(value.toLatin1(), QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        throw ParseError { QStringLiteral("%1: %2 is not base64").arg(where(file, map[key]), QString::fromUtf8(key)) };
    return *decoded;
}

// A path as client-go resolves it: relative to the folder of the kubeconfig that names it.
QString path(const YAML::Node& map, const char* key, const QString& file)
{
    const QString value = text(map, key, file);
    if (value.isEmpty())
        return {};
    return QDir::cleanPath(QFileInfo(file).absoluteDir().absoluteFilePath(value));
}

// The entries of a named list (clusters, users, contexts): each `{name: N, <key>: {...}}`.
template <typename Entry, typename Read>
QList<Entry> namedList(const YAML::Node& root, const char* list, const char* key, const QString& file, Read read)
{
    QList<Entry> entries;
    const YAML::Node node = root[list];
    if (!node || node.IsNull())
        return entries;
    if (!node.IsSequence())
        throw ParseError { QStringLiteral("%1: %2 must be a list").arg(where(file, node), QString::fromUtf8(list)) };
    for (const YAML::Node& item : node) {
        if (!item.IsMap())
            throw ParseError { QStringLiteral("%1: each of %2 must be a map with name and %3")
                                   .arg(where(file, item), QString::fromUtf8(list), QString::fromUtf8(key)) };
        const QString name = text(item, "name", file);
        if (name.isEmpty())
            throw ParseError {
                QStringLiteral("%1: an entry of %2 has no name").arg(where(file, item), QString::fromUtf8(list))
            };
        const YAML::Node body = item[key];
        if (body && !body.IsNull() && !body.IsMap())
            throw ParseError {
                QStringLiteral("%1: %2 of %3 must be a map").arg(where(file, body), QString::fromUtf8(key), name)
            };
        Entry entry = read(body ? body : YAML::Node(YAML::NodeType::Map));
        entry.name = name;
        entries << entry;
    }
    return entries;
}

template <typename Entry> const Entry* byName(const QList<Entry>& entries, const QString& name)
{
    for (const Entry& entry : entries) {
        if (entry.name == name)
            return &entry;
    }
    return nullptr;
}

template <typename Entry> void addMissing(QList<Entry>* into, const QList<Entry>& from)
{
    for (const Entry& entry : from) {
        if (!byName(*into, entry.name))
            *into << entry;
    }
}

// Certificates, keys, tokens and kubeconfigs are a few KiB; a path that names something else (a device, a log)
// must not be read to its end.
constexpr qint64 kMaxFileSize = 1024 * 1024;

bool readFile(const QString& path, QByteArray* data, QString* error, const QString& what)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read %1 %2: %3").arg(what, path, file.errorString());
        return false;
    }
    *data = file.read(kMaxFileSize + 1);
    if (data->size() > kMaxFileSize) {
        *error = QStringLiteral("%1 %2 is larger than 1 MiB: is it the right file?").arg(what, path);
        return false;
    }
    return true;
}

} // namespace

QStringList Kubeconfig::defaultFiles(const QString& kubeconfigVariable, const QString& home)
{
    const QStringList listed = kubeconfigVariable.split(u':', Qt::SkipEmptyParts);
    if (!listed.isEmpty())
        return listed;
    return { QDir(home).filePath(QStringLiteral(".kube/config")) };
}

std::optional<Kubeconfig> Kubeconfig::load(const QStringList& files, QString* error)
{
    std::optional<Kubeconfig> merged;
    for (const QString& file : files) {
        if (!QFileInfo::exists(file))
            continue;
        QByteArray yaml;
        if (!readFile(file, &yaml, error, QStringLiteral("the kubeconfig")))
            return std::nullopt;
        const auto one = parse(yaml, file, error);
        if (!one)
            return std::nullopt;
        if (merged)
            merged->mergeFrom(*one);
        else
            merged = one;
    }
    if (!merged)
        *error = files.isEmpty() ? QStringLiteral("no kubeconfig file is named")
                                 : QStringLiteral("no kubeconfig: none of %1 exists; log in with oc login, or name the "
                                                  "file in the inventory")
                                       .arg(files.join(QStringLiteral(", ")));
    return merged;
}

std::optional<Kubeconfig> Kubeconfig::parse(const QByteArray& yaml, const QString& file, QString* error)
{
    try {
        const YAML::Node root = YAML::Load(yaml.toStdString());
        Kubeconfig config;
        if (!root || root.IsNull())
            return config; // an empty file, as kubectl allows
        if (!root.IsMap())
            throw ParseError { QStringLiteral("%1: a kubeconfig is a map (apiVersion, kind: Config, clusters, users, "
                                              "contexts)")
                                   .arg(where(file, root)) };
        if (const QString kind = text(root, "kind", file); !kind.isEmpty() && kind != QStringLiteral("Config"))
            throw ParseError {
                QStringLiteral("%1: kind is %2, not Config: this is not a kubeconfig").arg(where(file, root), kind)
            };
        config.m_clusters = namedList<Cluster>(root, "clusters", "cluster", file, [&](const YAML::Node& node) {
            Cluster cluster;
            cluster.server = text(node, "server", file);
            cluster.certificateAuthorityData = base64(node, "certificate-authority-data", file);
            cluster.certificateAuthority = path(node, "certificate-authority", file);
            cluster.insecureSkipTlsVerify = flag(node, "insecure-skip-tls-verify", file);
            return cluster;
        });
        config.m_users = namedList<User>(root, "users", "user", file, [&](const YAML::Node& node) {
            User user;
            user.token = text(node, "token", file);
            user.tokenFile = path(node, "tokenFile", file);
            user.clientCertificateData = base64(node, "client-certificate-data", file);
            user.clientCertificate = path(node, "client-certificate", file);
            user.clientKeyData = base64(node, "client-key-data", file);
            user.clientKey = path(node, "client-key", file);
            if (const YAML::Node exec = node["exec"]; exec && exec.IsMap())
                user.plugin = QStringLiteral("exec plugin \"%1\"").arg(text(exec, "command", file));
            else if (const YAML::Node provider = node["auth-provider"]; provider && provider.IsMap())
                user.plugin = QStringLiteral("auth-provider \"%1\"").arg(text(provider, "name", file));
            return user;
        });
        config.m_contexts = namedList<Context>(root, "contexts", "context", file, [&](const YAML::Node& node) {
            return Context { {}, text(node, "cluster", file), text(node, "user", file), text(node, "namespace", file) };
        });
        config.m_currentContext = text(root, "current-context", file);
        return config;
    } catch (const ParseError& problem) {
        *error = problem.message;
    } catch (const YAML::Exception& problem) {
        *error = QStringLiteral("%1:%2: not valid YAML: %3")
                     .arg(file)
                     .arg(problem.mark.line + 1)
                     .arg(QString::fromStdString(problem.msg));
    }
    return std::nullopt;
}

void Kubeconfig::mergeFrom(const Kubeconfig& later)
{
    addMissing(&m_clusters, later.m_clusters);
    addMissing(&m_users, later.m_users);
    addMissing(&m_contexts, later.m_contexts);
    if (m_currentContext.isEmpty())
        m_currentContext = later.m_currentContext;
}

QStringList Kubeconfig::contextNames() const
{
    QStringList names;
    for (const Context& context : m_contexts)
        names << context.name;
    return names;
}

std::optional<Kubeconfig::Resolved> Kubeconfig::resolve(
    const QString& name, QString* error, Credentials credentials) const
{
    const QString wanted = name.isEmpty() ? m_currentContext : name;
    if (wanted.isEmpty()) {
        *error = QStringLiteral("the kubeconfig has no current-context: name a context (%1)")
                     .arg(contextNames().join(QStringLiteral(", ")));
        return std::nullopt;
    }
    const Context* context = byName(m_contexts, wanted);
    if (!context) {
        *error = QStringLiteral("the kubeconfig has no context \"%1\" (it has: %2)")
                     .arg(wanted,
                         contextNames().isEmpty() ? QStringLiteral("none") : contextNames().join(QStringLiteral(", ")));
        return std::nullopt;
    }
    const Cluster* cluster = byName(m_clusters, context->cluster);
    if (!cluster) {
        *error = QStringLiteral("context \"%1\" names cluster \"%2\", which the kubeconfig does not define")
                     .arg(wanted, context->cluster);
        return std::nullopt;
    }
    const User* user = byName(m_users, context->user);
    if (!user) {
        *error = QStringLiteral("context \"%1\" names user \"%2\", which the kubeconfig does not define")
                     .arg(wanted, context->user);
        return std::nullopt;
    }
    const QUrl server(cluster->server);
    if (!server.isValid() || server.scheme() != QStringLiteral("https") || server.host().isEmpty()) {
        *error = QStringLiteral("cluster \"%1\" has server \"%2\": opsdeck speaks only to an https:// API server")
                     .arg(cluster->name, cluster->server);
        return std::nullopt;
    }

    Resolved resolved;
    resolved.context = *context;
    resolved.server = cluster->server;
    resolved.insecureSkipTlsVerify = cluster->insecureSkipTlsVerify;
    resolved.caPem = cluster->certificateAuthorityData;
    if (resolved.caPem.isEmpty() && !cluster->certificateAuthority.isEmpty()
        && !readFile(cluster->certificateAuthority, &resolved.caPem, error,
            QStringLiteral("cluster \"%1\"'s certificate authority").arg(cluster->name)))
        return std::nullopt;
    if (resolved.insecureSkipTlsVerify && !resolved.caPem.isEmpty()) {
        *error = QStringLiteral("cluster \"%1\" has both a certificate authority and insecure-skip-tls-verify, which "
                                "kubectl refuses too: remove one")
                     .arg(cluster->name);
        return std::nullopt;
    }
    if (resolved.insecureSkipTlsVerify)
        resolved.warnings << QStringLiteral("cluster \"%1\" does not verify the server's certificate "
                                            "(insecure-skip-tls-verify): anyone on the path can read its token")
                                 .arg(cluster->name);

    // Token beats tokenFile, as in client-go.
    resolved.token = user->token;
    if (resolved.token.isEmpty() && !user->tokenFile.isEmpty()) {
        QByteArray token;
        if (!readFile(user->tokenFile, &token, error, QStringLiteral("user \"%1\"'s token file").arg(user->name)))
            return std::nullopt;
        resolved.token = QString::fromUtf8(token).trimmed();
    }
    resolved.clientCertificatePem = user->clientCertificateData;
    if (resolved.clientCertificatePem.isEmpty() && !user->clientCertificate.isEmpty()
        && !readFile(user->clientCertificate, &resolved.clientCertificatePem, error,
            QStringLiteral("user \"%1\"'s client certificate").arg(user->name)))
        return std::nullopt;
    resolved.clientKeyPem = user->clientKeyData;
    if (resolved.clientKeyPem.isEmpty() && !user->clientKey.isEmpty()
        && !readFile(
            user->clientKey, &resolved.clientKeyPem, error, QStringLiteral("user \"%1\"'s client key").arg(user->name)))
        return std::nullopt;
    if (resolved.clientCertificatePem.isEmpty() != resolved.clientKeyPem.isEmpty()) {
        *error = QStringLiteral("user \"%1\" has a client certificate without its key, or a key without its "
                                "certificate: give both")
                     .arg(user->name);
        return std::nullopt;
    }
    resolved.plugin = user->plugin;
    if (!resolved.authenticates() && credentials == Credentials::TokenSuppliedByCaller)
        return resolved;
    if (!resolved.authenticates()) {
        *error = user->plugin.isEmpty()
            ? QStringLiteral("user \"%1\" has no token and no client certificate: log in again (oc login), or "
                             "store the token in the keychain")
                  .arg(user->name)
            : QStringLiteral("user \"%1\" logs in through the %2, which opsdeck does not run: log in with a token "
                             "(oc login --token, or oc whoami -t), or store the token in the keychain")
                  .arg(user->name, user->plugin);
        return std::nullopt;
    }
    if (!user->plugin.isEmpty())
        resolved.warnings << QStringLiteral(
            "user \"%1\"'s %2 is not run: the token or client certificate it also has is used")
                                 .arg(user->name, user->plugin);
    SecretScrubber::remember(resolved.token);
    SecretScrubber::remember(QString::fromUtf8(resolved.clientKeyPem));
    return resolved;
}

} // namespace opsdeck
