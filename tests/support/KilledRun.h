#pragma once

#include "runbook/Journal.h"

#include <QJsonObject>
#include <QProcess>
#include <QSysInfo>

namespace opsdeck::test {

// Journals run `runId` as a console that was killed left it: its plan (`plan`: confirmWith, parameters, ...) and its
// confirmation by a process that is gone, so that Journal::unfinishedRuns lists it. False if the journal refused.
inline bool journalKilledRun(
    Journal& journal, const QString& runId, const QString& operation, const QString& target, const QJsonObject& plan)
{
    QProcess gone; // its pid is free again once it ended
    gone.start(QStringLiteral("true"));
    if (!gone.waitForFinished())
        return false;
    return journal.append(runId, QStringLiteral("plan"), operation, target, plan)
        && journal.append(runId, QStringLiteral("confirm"), operation, target,
            { { QStringLiteral("pid"), gone.processId() }, { QStringLiteral("host"), QSysInfo::machineHostName() } });
}

} // namespace opsdeck::test
