#pragma once

#include "datamon/DatamonTarget.h"
#include "datamon/DatamonTrash.h"
#include "runbook/Operation.h"
#include "runbook/UndoWindow.h"

#include <QJsonObject>

#include <memory>

namespace opsdeck {

class DatamonHost;
class DatamonQueries;

// `opsdeck restore RUN_ID` of a datamon repo delete: copies the repo's metadata back from the trash (bundles and
// labels first, repo.yaml last, so the repo shows only once it is whole). It never replaces an object: one whose name
// is taken again (the repo made anew, a label set again) is left as it is and named, and its kept copy stays in the
// trash under a window of this run's own. What it does from any state is copy what is missing, so a restore that
// stopped midway is finished by its recovery, which does the same: the end state is the restored repo, never a mix.
// Each object's place is judged by what is there (name, size, CRC32C), never by which step reported success.
class DatamonRestoreOperation : public Operation
{
public:
    static std::unique_ptr<DatamonRestoreOperation> fromWindow(
        DatamonTarget target, const UndoWindow& window, QString* error);
    // The recovery of a restore run that ended without an outcome, from its plan's parameters.
    static std::unique_ptr<DatamonRestoreOperation> recovering(
        DatamonTarget target, const QString& runId, const QJsonObject& parameters, QString* error);
    ~DatamonRestoreOperation() override;

    QString name() const override
    {
        return m_recovers.isEmpty() ? QStringLiteral("datamon-restore-repo")
                                    : QStringLiteral("datamon-restore-repo-recover");
    }
    bool makePlan(Plan* plan, QString* error) override;
    bool execute(const Plan& plan, RunContext& context) override;
    bool endsExpired(const UndoWindow& window) const override;
    bool endWindow(const UndoWindow& window, QString* error) override;

private:
    // Where each expected object is now.
    struct Places
    {
        QList<DatamonObject> back; // at its place, as kept
        QList<DatamonObject> missing; // not at its place; its kept copy is in the trash
        QList<DatamonObject> taken; // its place holds another object: left as it is
        QList<DatamonObject> lost; // neither at its place nor in the trash
    };

    DatamonRestoreOperation(DatamonTarget target, DatamonTrash trash);
    static std::unique_ptr<DatamonRestoreOperation> fromParameters(
        DatamonTarget target, const QJsonObject& parameters, QString* error);
    void ensureHost();
    std::optional<Places> observe(QString* error);
    bool putBack(const QList<DatamonObject>& missing, RunContext& context, QString* error);
    void emptyTrash(const Places& places, RunContext& context);
    bool leaveForRecovery(RunContext& context, const QString& why, const QString& state, const QString& summary);

    DatamonTarget m_target;
    DatamonTrash m_trash;
    QJsonObject m_parameters; // the window's restore data, and what the plan adds
    QString m_restores; // the run whose window this takes back
    QString m_digest; // as the window journaled it
    qint64 m_objects = 0;
    QList<DatamonObject> m_expected; // what the window keeps (a recovery: from the run's plan)
    QString m_recovers; // the restore run a recovery run recovers
    std::unique_ptr<DatamonHost> m_host; // the runner thread's
};

} // namespace opsdeck
