#include "ssh/HostStatus.h"

namespace opsdeck {

QJsonObject HostStatus::toJson() const
{
    QJsonObject object;
    object.insert(QStringLiteral("name"), name);
    object.insert(QStringLiteral("address"), address);
    object.insert(QStringLiteral("port"), port);
    object.insert(QStringLiteral("reachable"), reachable());
    object.insert(
        QStringLiteral("hostKeySha256"), hostKey.sha256.isEmpty() ? QJsonValue() : QJsonValue(hostKey.sha256));
    object.insert(QStringLiteral("hostKeyStatus"), HostKeyInfo::statusName(hostKey.status));
    if (!hostKey.knownSha256.isEmpty())
        object.insert(QStringLiteral("knownHostKeySha256"), hostKey.knownSha256);
    object.insert(QStringLiteral("auth"), auth);
    object.insert(QStringLiteral("error"), error.isError() ? QJsonValue(error.message) : QJsonValue());
    object.insert(
        QStringLiteral("errorKind"), error.isError() ? QJsonValue(SshError::kindName(error.kind)) : QJsonValue());
    object.insert(QStringLiteral("checkedAt"), checkedAt.toUTC().toString(Qt::ISODateWithMs));
    return object;
}

QString HostStatus::authName(AuthMethod method)
{
    switch (method) {
    case AuthMethod::Key:
        return QStringLiteral("key");
    case AuthMethod::Agent:
        return QStringLiteral("agent");
    case AuthMethod::Password:
        return QStringLiteral("password");
    }
    return {};
}

} // namespace opsdeck
