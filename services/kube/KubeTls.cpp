#include "kube/KubeTls.h"

#include <QSslCertificate>
#include <QSslKey>

namespace opsdeck {

std::optional<QSslConfiguration> kubeTlsConfiguration(const Kubeconfig::Resolved& cluster, QString* error)
{
    QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
    const QString where = QStringLiteral("context \"%1\"").arg(cluster.context.name);
    if (cluster.insecureSkipTlsVerify) {
        ssl.setPeerVerifyMode(QSslSocket::VerifyNone);
    } else if (!cluster.caPem.isEmpty()) {
        const QList<QSslCertificate> authorities = QSslCertificate::fromData(cluster.caPem, QSsl::Pem);
        if (authorities.isEmpty()) {
            *error = QStringLiteral("%1: its certificate authority holds no PEM certificate; log in again (oc login) "
                                    "or fix certificate-authority(-data) in the kubeconfig")
                         .arg(where);
            return std::nullopt;
        }
        // Only the cluster's CA, as client-go: a public CA must not vouch for a private API server.
        ssl.setCaCertificates(authorities);
    }
    if (!cluster.clientCertificatePem.isEmpty()) {
        const QList<QSslCertificate> certificates = QSslCertificate::fromData(cluster.clientCertificatePem, QSsl::Pem);
        if (certificates.isEmpty()) {
            *error = QStringLiteral("%1: its client certificate is not PEM").arg(where);
            return std::nullopt;
        }
        QSslKey key(cluster.clientKeyPem, QSsl::Rsa, QSsl::Pem);
        if (key.isNull())
            key = QSslKey(cluster.clientKeyPem, QSsl::Ec, QSsl::Pem);
        if (key.isNull()) {
            *error = QStringLiteral("%1: its client key is missing or not an RSA or EC key in PEM").arg(where);
            return std::nullopt;
        }
        ssl.setLocalCertificate(certificates.first());
        ssl.setPrivateKey(key);
    }
    return ssl;
}

} // namespace opsdeck
