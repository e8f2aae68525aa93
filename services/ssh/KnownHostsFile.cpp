#include "ssh/KnownHostsFile.h"

#include <QCryptographicHash>
#include <QFile>
#include <QMessageAuthenticationCode>

namespace opsdeck::KnownHostsFile {

namespace {

bool matchesHashed(const QString& pattern, const QByteArray& host)
{
    const QStringList parts = pattern.split(u'|'); // "", "1", salt, hmac
    if (parts.size() != 4 || parts[1] != QStringLiteral("1"))
        return false;
    const QByteArray salt = QByteArray::fromBase64(parts[2].toLatin1());
    const QByteArray hmac = QByteArray::fromBase64(parts[3].toLatin1());
    return QMessageAuthenticationCode::hash(host, salt, QCryptographicHash::Sha1) == hmac;
}

} // namespace

QStringList fingerprintsFor(const QString& file, const QString& address, quint16 port)
{
    QFile known(file);
    if (!known.open(QIODevice::ReadOnly))
        return {};
    return fingerprintsIn(known, address, port);
}

QStringList fingerprintsIn(QIODevice& known, const QString& address, quint16 port)
{
    const QString host = port == 22 ? address : QStringLiteral("[%1]:%2").arg(address).arg(port);
    QStringList fingerprints;
    while (!known.atEnd()) {
        const QString line = QString::fromUtf8(known.readLine()).trimmed();
        if (line.isEmpty() || line.startsWith(u'#') || line.startsWith(u'@'))
            continue;
        const QStringList fields = line.split(u' ', Qt::SkipEmptyParts);
        if (fields.size() < 3)
            continue;
        bool matches = false;
        for (const QString& pattern : fields[0].split(u',')) {
            matches = matches || pattern == host
                || (pattern.startsWith(QStringLiteral("|1|")) && matchesHashed(pattern, host.toUtf8()));
        }
        if (!matches)
            continue;
        const QByteArray blob = QByteArray::fromBase64(fields[2].toLatin1());
        QByteArray digest = QCryptographicHash::hash(blob, QCryptographicHash::Sha256).toBase64();
        while (digest.endsWith('='))
            digest.chop(1);
        fingerprints << QStringLiteral("SHA256:") + QString::fromLatin1(digest);
    }
    return fingerprints;
}

} // namespace opsdeck::KnownHostsFile
