#include "runbook/Plan.h"

#include <QRegularExpression>
#include <QVariant>

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

QJsonObject Plan::countLabelsJson() const
{
    QJsonObject object;
    for (const Measure& m : measures) {
        if (!object.contains(m.key))
            object.insert(m.key, m.label);
    }
    for (const Count& c : counts)
        object.insert(c.key, c.label);
    return object;
}

QJsonObject Plan::countInfoJson() const
{
    QJsonObject object;
    int order = 0;
    const auto describe = [&](const QString& key, const QString& definition, bool estimate, const QString& row) {
        if (object.contains(key))
            return; // a count's words win over a measure's of the same key
        QJsonObject info { { QStringLiteral("order"), order++ } };
        if (!definition.isEmpty())
            info.insert(QStringLiteral("definition"), definition);
        if (estimate)
            info.insert(QStringLiteral("estimate"), true);
        if (!row.isEmpty() && row != key)
            info.insert(QStringLiteral("row"), row);
        object.insert(key, info);
    };
    for (const Count& c : counts)
        describe(c.key, c.definition, c.estimate, {});
    for (const Measure& m : measures)
        describe(m.key, m.definition, m.estimate, m.row);
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
    object.insert(QStringLiteral("undo"), undo.toJson());
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

QString Plan::checkUndo() const
{
    if (!undo.available || undo.enabled)
        return {};
    if (undo.offReason.trimmed().isEmpty())
        return QStringLiteral("turning the undo window of %1 off needs a reason (--reason TEXT): the journal keeps "
                              "who turned it off and why. Nothing was run.")
            .arg(target);
    if (const QString problem = reasonError(undo.offReason, QStringLiteral("the undo window is turned off"));
        !problem.isEmpty())
        return problem + QStringLiteral(". Nothing was run.");
    return {};
}

QString utcMinuteText(const QDateTime& time)
{
    return time.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'"));
}

QString reasonError(const QString& reason, const QString& purpose)
{
    static const QRegularExpression control(QStringLiteral("[\\x00-\\x1f\\x7f]"));
    constexpr int maxLength = 500;
    if (reason.trimmed().isEmpty())
        return QStringLiteral("reason: empty; say why %1 (it is journaled and in the report)").arg(purpose);
    if (reason.size() > maxLength)
        return QStringLiteral("reason: %1 characters; at most %2 are allowed").arg(reason.size()).arg(maxLength);
    if (reason.contains(control))
        return QStringLiteral("reason: contains a control character (a line break or tab); write it on one line");
    return {};
}

QJsonObject Plan::Undo::toJson() const
{
    QJsonObject object { { QStringLiteral("available"), available }, { QStringLiteral("enabled"), enabled },
        { QStringLiteral("retentionSeconds"), retentionSeconds }, { QStringLiteral("bytesHeld"), bytesHeld },
        { QStringLiteral("where"), where }, { QStringLiteral("restorable"), QJsonArray::fromStringList(restorable) },
        { QStringLiteral("notRestorable"), QJsonArray::fromStringList(notRestorable) },
        { QStringLiteral("endsWindows"), QJsonArray::fromStringList(endsWindows) } };
    if (!offReason.isEmpty())
        object.insert(QStringLiteral("offReason"), offReason);
    if (bytesEstimated)
        object.insert(QStringLiteral("bytesEstimated"), true);
    if (until.isValid())
        object.insert(QStringLiteral("until"), until.toUTC().toString(Qt::ISODate));
    return object;
}

Plan::Undo Plan::Undo::fromJson(const QJsonObject& object)
{
    Undo undo;
    undo.available = object.value(QStringLiteral("available")).toBool();
    undo.enabled = object.value(QStringLiteral("enabled")).toBool(true);
    undo.offReason = object.value(QStringLiteral("offReason")).toString();
    undo.retentionSeconds = object.value(QStringLiteral("retentionSeconds")).toInteger();
    undo.until = QDateTime::fromString(object.value(QStringLiteral("until")).toString(), Qt::ISODate);
    undo.bytesHeld = object.value(QStringLiteral("bytesHeld")).toInteger(-1);
    undo.bytesEstimated = object.value(QStringLiteral("bytesEstimated")).toBool();
    undo.where = object.value(QStringLiteral("where")).toString();
    undo.restorable = object.value(QStringLiteral("restorable")).toVariant().toStringList();
    undo.notRestorable = object.value(QStringLiteral("notRestorable")).toVariant().toStringList();
    undo.endsWindows = object.value(QStringLiteral("endsWindows")).toVariant().toStringList();
    return undo;
}

QString Plan::Undo::bytesHeldText(const QLocale& locale) const
{
    const QString size = locale.formattedDataSize(bytesHeld);
    return bytesEstimated ? QStringLiteral("\u2248\u00a0%1 (estimate)").arg(size) : size;
}

QString Plan::Undo::summary(const QString& runId) const
{
    if (!available)
        return QStringLiteral("This cannot be undone.");
    if (!enabled)
        return QStringLiteral("This cannot be undone: the undo window is turned off for this run (%1).")
            .arg(offReason.trimmed());
    return QStringLiteral("Can be undone until %1 with `opsdeck restore %2`.").arg(utcMinuteText(until), runId);
}

} // namespace opsdeck
