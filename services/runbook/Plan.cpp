#include "runbook/Plan.h"

namespace opsdeck {

QString Plan::environment() const
{
    if (readOnly)
        return QStringLiteral("read-only");
    return production ? QStringLiteral("production") : QString();
}

qint64 Plan::count(const QString& key) const
{
    for (const Count& c : counts) {
        if (c.key == key)
            return c.value;
    }
    return 0;
}

QJsonObject Plan::countsJson() const
{
    QJsonObject object;
    for (const Count& c : counts)
        object.insert(c.key, c.value);
    return object;
}

QJsonObject Plan::toJson() const
{
    QJsonArray stepArray;
    for (const Step& step : steps) {
        stepArray.append(QJsonObject { { QStringLiteral("id"), step.id }, { QStringLiteral("title"), step.title },
            { QStringLiteral("command"), step.command }, { QStringLiteral("verification"), step.verification } });
    }
    QJsonObject object = countsJson();
    object.insert(QStringLiteral("operation"), operation);
    object.insert(QStringLiteral("target"), target);
    object.insert(QStringLiteral("environment"), environment());
    object.insert(QStringLiteral("irreversible"), irreversible);
    object.insert(QStringLiteral("parameters"), parameters);
    object.insert(QStringLiteral("counts"), countsJson());
    object.insert(QStringLiteral("steps"), stepArray);
    object.insert(QStringLiteral("warnings"), QJsonArray::fromStringList(warnings));
    object.insert(QStringLiteral("details"), details);
    object.insert(QStringLiteral("confirmWith"), targetName);
    return object;
}

QString Plan::checkConfirmation(const QString& confirmation) const
{
    if (readOnly)
        return QStringLiteral("%1 is tagged readOnly in the inventory: %2 is refused").arg(target, operation);
    if (confirmation != targetName)
        return QStringLiteral("the confirmation \"%1\" does not name the target: type \"%2\" to %3 %4")
            .arg(confirmation, targetName, verb.toLower(), target);
    return {};
}

} // namespace opsdeck
