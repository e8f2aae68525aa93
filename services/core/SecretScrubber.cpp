#include "core/SecretScrubber.h"

#include <QJsonArray>
#include <QMutex>
#include <QMutexLocker>
#include <QStringList>

#include <algorithm>

namespace opsdeck::SecretScrubber {

namespace {

struct Registry
{
    QMutex mutex;
    QStringList secrets; // longest first
};

Registry& registry()
{
    static Registry instance;
    return instance;
}

QStringList remembered()
{
    Registry& r = registry();
    const QMutexLocker lock(&r.mutex);
    return r.secrets;
}

QtMessageHandler previousHandler = nullptr;

void scrubbingHandler(QtMsgType type, const QMessageLogContext& context, const QString& message)
{
    previousHandler(type, context, scrub(message));
}

} // namespace

void remember(const QString& secret)
{
    if (secret.isEmpty())
        return;
    Registry& r = registry();
    const QMutexLocker lock(&r.mutex);
    if (r.secrets.contains(secret))
        return;
    const auto at = std::find_if(
        r.secrets.cbegin(), r.secrets.cend(), [&secret](const QString& known) { return known.size() < secret.size(); });
    r.secrets.insert(at - r.secrets.cbegin(), secret);
}

QString scrub(const QString& text)
{
    QString result = text;
    const QString mask = kMask.toString();
    for (const QString& secret : remembered())
        result.replace(secret, mask);
    return result;
}

QByteArray scrub(const QByteArray& utf8)
{
    QByteArray result = utf8;
    const QByteArray mask = kMask.toUtf8();
    for (const QString& secret : remembered())
        result.replace(secret.toUtf8(), mask);
    return result;
}

QJsonObject scrub(const QJsonObject& object)
{
    QJsonObject result;
    for (auto it = object.constBegin(); it != object.constEnd(); ++it)
        result.insert(it.key(), scrub(it.value()));
    return result;
}

QJsonValue scrub(const QJsonValue& value)
{
    if (value.isString())
        return scrub(value.toString());
    if (value.isObject())
        return scrub(value.toObject());
    if (value.isArray()) {
        QJsonArray result;
        for (const QJsonValue& element : value.toArray())
            result.append(scrub(element));
        return result;
    }
    return value;
}

void installMessageHandler()
{
    if (!previousHandler)
        previousHandler = qInstallMessageHandler(scrubbingHandler);
}

} // namespace opsdeck::SecretScrubber
