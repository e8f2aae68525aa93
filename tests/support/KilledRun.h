#pragma once

#include "runbook/Journal.h"

#include <QJsonObject>
#include <QProcess>
#include <QSysInfo>

namespace opsdeck::test {

// The pid of a process that ran and ended: free again, as a killed console's is; 0 if it could not be started.
inline qint64 goneProcessId()
{
    QProcess gone;
    gone.start(QStringLiteral("true"));
    if (!gone.waitForStarted())
        return 0;
    const qint64 pid = gone.processId(); // 0 once it is no longer running
    return gone.waitForFinished() ? pid : 0;
}

// Journals run `runId` as a console that was killed left it: its plan (`plan`: confirmWith, parameters, ...) and its
// confirmation by a process that is gone, so that Journal::unfinishedRuns lists it. False if the journal refused.
inline bool journalKilledRun(
    Journal& journal, const QString& runId, const QString& operation, const QString& target, const QJsonObject& plan)
{
    const qint64 pid = goneProcessId();
    return pid > 0 && journal.append(runId, QStringLiteral("plan"), operation, target, plan)
        && journal.append(runId, QStringLiteral("confirm"), operation, target,
            { { QStringLiteral("pid"), pid }, { QStringLiteral("host"), QSysInfo::machineHostName() } });
}

} // namespace opsdeck::test
