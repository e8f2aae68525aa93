#pragma once

#include "datamon/DatamonOutput.h"
#include "datamon/DatamonTarget.h"
#include "runbook/Operation.h"

#include <QJsonObject>

#include <memory>

namespace opsdeck {

class DatamonHost;
class DatamonQueries;

// The runbook's first step, `datamon repo delete`: a repo's metadata (every bundle's file lists and bundle.yaml, its
// labels, then repo.yaml) goes; its blobs stay until a purge. The plan lists the bundles and labels; the run checks
// that they are still exactly those, runs `repo delete --force-yes` (opsdeck asked; datamon's own prompt is never
// reached) as a detached job, and verifies with `repo get`, which must say the repo is gone. datamon deletes
// repo.yaml last, so a repo that is still there after a failure may have lost some bundles: recovery reads the repo
// and its bundles, and finishes the delete when it had begun (what is gone cannot be put back), or says it is
// untouched.
class DatamonDeleteRepoOperation : public Operation
{
public:
    DatamonDeleteRepoOperation(DatamonTarget target, QString repo);
    // `opsdeck recover` of a run whose console died or whose recovery could not finish: it waits for that run's
    // delete job, reads the repo, and finishes the delete if it had begun. `saved`: the run's plan parameters.
    static std::unique_ptr<DatamonDeleteRepoOperation> recovery(
        DatamonTarget target, const QString& runId, const QJsonObject& saved, QString* error);
    ~DatamonDeleteRepoOperation() override;

    QString name() const override { return QStringLiteral("datamon-delete-repo"); }
    bool makePlan(Plan* plan, QString* error) override;
    bool execute(const Plan& plan, RunContext& context) override;

private:
    struct Observed
    {
        bool exists = false;
        QList<DatamonBundle> bundles;
        QList<DatamonLabel> labels;
    };
    bool observe(Observed* observed, QString* error);
    bool planRecovery(Plan* plan, QString* error);
    void describe(Plan* plan) const;
    bool recover(RunContext& context, const QString& why);
    void beginRecoveryStep(RunContext& context, const QString& id, const QString& title, const QString& command) const;
    void recordDeleted(RunContext& context);

    DatamonTarget m_target;
    QString m_repo;
    std::unique_ptr<DatamonHost> m_host; // the runner thread's
    std::unique_ptr<DatamonQueries> m_queries;
    Observed m_planned; // recovery: ids and label keys only, from the run's parameters
    QString m_recovering; // the run a recovery finishes; empty for a delete
};

} // namespace opsdeck
