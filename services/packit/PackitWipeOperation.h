#pragma once

#include "packit/PackitTarget.h"
#include "runbook/Operation.h"

#include <memory>

namespace opsdeck {

class PackitConnection;

// The runbook packit-wipe-instance.md: stop both units, delete the outpack root and every packet and packet
// group, start the units again. Same end state as the runbook, reached with a shorter outage: the root is moved
// aside (instant) and deleted once the instance is back, and the cascade children go in set-based deletes in
// the same transaction as the runbook's two DELETEs.
class PackitWipeOperation : public Operation
{
public:
    explicit PackitWipeOperation(PackitTarget target);
    ~PackitWipeOperation() override;

    QString name() const override { return QStringLiteral("packit-wipe"); }
    bool makePlan(Plan* plan, QString* error) override;
    bool execute(const Plan& plan, RunContext& context) override;

    // The SQL of the delete step, in order: cascade children first, then the runbook's two statements.
    static QStringList deleteStatements();

private:
    bool connection(QString* error);
    bool stopUnits(RunContext& context);
    bool checkUnits(RunContext& context, const QString& wanted, int attempts);
    bool recordBefore(RunContext& context);
    bool moveRoot(RunContext& context);
    bool deleteRows(RunContext& context);
    bool startUnits(RunContext& context);
    bool removeOldRoot(RunContext& context);
    void showJournal(RunContext& context);
    void recover(RunContext& context);
    QString trashPath() const;

    PackitTarget m_target;
    std::unique_ptr<PackitConnection> m_connection;
    QString m_runTag; // names the moved-aside root
};

} // namespace opsdeck
