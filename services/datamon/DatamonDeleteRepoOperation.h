#pragma once

#include "datamon/DatamonOutput.h"
#include "datamon/DatamonTarget.h"
#include "datamon/DatamonTrash.h"
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
// and its bundles, and finishes the delete when it had begun, or says it is untouched.
//
// With the undo window (on unless the inventory turns it off for the context), the repo's metadata objects are first
// copied to the context's trash (DatamonTrash), checked object by object, and the window journaled, all before the
// delete: `opsdeck restore RUN_ID` puts them back. The blobs stay where they are; a purge of unused blobs ends the
// window, as it deletes those only the deleted repo used.
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
    bool endsExpired(const UndoWindow& window) const override;
    bool endWindow(const UndoWindow& window, QString* error) override;

    // The operations whose runs keep a window of metadata in a datamon trash: a delete, and a restore that could not
    // put everything back.
    static QStringList keepingOperations();
    // Whether `window` is one of those, kept for `context` (an inventory datamon context's name).
    static bool keptFor(const UndoWindow& window, const QString& context);

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
    void ensureHost();
    bool planUndo(Plan* plan, QString* error);
    bool keepUndo(RunContext& context, QString* error);
    // Recovery found the repo untouched: a trash copy the run made is removed, and its window closed.
    void dropUnusedTrash(RunContext& context, const QString& runId);
    DatamonTrash trashOf(const QString& runId) const;

    DatamonTarget m_target;
    QString m_repo;
    std::unique_ptr<DatamonHost> m_host; // the runner thread's
    std::unique_ptr<DatamonQueries> m_queries;
    Observed m_planned; // recovery: ids and label keys only, from the run's parameters
    QString m_recovering; // the run a recovery finishes; empty for a delete
    std::optional<DatamonContextBuckets> m_buckets; // set when the plan offers an undo window
    QString m_trashBase; // gs://BUCKET/FOLDER the window's trash is under
};

} // namespace opsdeck
