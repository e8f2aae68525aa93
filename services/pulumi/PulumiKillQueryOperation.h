#pragma once

#include "runbook/Operation.h"
#include "sql/DatabaseTarget.h"

#include <QJsonObject>

#include <memory>

namespace opsdeck {

class DatabaseConnection;

// The runbook's troubleshooting step ("abort any [query] that is problematic via KILL"), as KILL QUERY: the
// statement stops and rolls back, the session stays. The plan names the process, its user, its database and its
// statement; the run checks again that the process still runs exactly that statement (a statement that ended
// and another that began since the plan are left alone), kills it, and checks that it stopped.
class PulumiKillQueryOperation : public Operation
{
public:
    PulumiKillQueryOperation(DatabaseTarget target, qint64 processId);
    ~PulumiKillQueryOperation() override;

    QString name() const override { return QStringLiteral("pulumi-kill-query"); }
    bool makePlan(Plan* plan, QString* error) override;
    bool execute(const Plan& plan, RunContext& context) override;

private:
    bool connect(QString* error);
    // Empty when `process` (a process list row) still runs what the plan saw, else what differs.
    QString changedSincePlan(const QJsonObject& process) const;

    DatabaseTarget m_target;
    qint64 m_processId;
    std::unique_ptr<DatabaseConnection> m_connection; // the runner thread's
    QJsonObject m_planned; // the process as planned
};

} // namespace opsdeck
