#include "CliRuns.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QStringList>

namespace opsdeck::test {

QString cliRunText(const CliRun& run)
{
    return QStringLiteral("exit %1\nstdout: %2\nstderr: %3")
        .arg(run.exitCode)
        .arg(QString::fromUtf8(run.out), QString::fromUtf8(run.err));
}

QJsonObject trashWindow(const QProcessEnvironment& environment, const QString& runId, bool all)
{
    QStringList arguments = { QStringLiteral("trash"), QStringLiteral("list"), QStringLiteral("--json") };
    if (all)
        arguments << QStringLiteral("--all");
    const CliRun list = runCli(arguments, environment, 60000);
    if (list.exitCode != 0) {
        qWarning("trash list: %s", qPrintable(cliRunText(list)));
        return {};
    }
    for (const QJsonValue& value : QJsonDocument::fromJson(list.out).array()) {
        if (value.toObject().value(QStringLiteral("runId")).toString() == runId)
            return value.toObject();
    }
    return {};
}

} // namespace opsdeck::test
