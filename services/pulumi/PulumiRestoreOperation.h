#pragma once

#include "pulumi/PulumiRows.h"
#include "runbook/Operation.h"
#include "runbook/UndoWindow.h"
#include "sql/DatabaseTarget.h"

#include <QJsonObject>
#include <QMap>

#include <memory>

namespace opsdeck {

class DatabaseConnection;

// `opsdeck restore RUN_ID` of a Pulumi purge: puts back every row the purge's restore files hold, the stacks
// soft-deleted exactly as they were. It only inserts: a row whose primary key is taken again is skipped and named,
// never overwritten, so stacks created since stay as they are (the plan names those with a purged stack's name).
// One transaction per file, Stacks files first (each root row, then the tables below it, then the circular
// active_update_id), then Programs files. Inserting what is missing is what it does from any state, so a restore
// that stopped midway is finished by running it again, or by its recovery, which does the same.
class PulumiRestoreOperation : public Operation
{
public:
    // The restore of `window`, checked: its folder is a run's folder under `undoBase`, its sums well formed.
    static std::unique_ptr<PulumiRestoreOperation> fromWindow(
        DatabaseTarget target, const UndoWindow& window, const QString& undoBase, QString* error);
    // The recovery of a restore run that ended without an outcome, from its plan's parameters.
    static std::unique_ptr<PulumiRestoreOperation> recovering(DatabaseTarget target,
        const QString& runId,
        const QJsonObject& parameters,
        const QString& undoBase,
        QString* error);
    ~PulumiRestoreOperation() override;

    QString name() const override
    {
        return m_recovers.isEmpty() ? QStringLiteral("pulumi-restore") : QStringLiteral("pulumi-restore-recover");
    }
    bool makePlan(Plan* plan, QString* error) override;
    bool execute(const Plan& plan, RunContext& context) override;
    bool endsExpired(const UndoWindow& window) const override;
    bool endWindow(const UndoWindow& window, QString* error) override;

private:
    PulumiRestoreOperation(DatabaseTarget target, QString undoBase);
    static std::unique_ptr<PulumiRestoreOperation> fromParameters(
        DatabaseTarget target, const QJsonObject& parameters, const QString& undoBase, QString* error);

    bool connect(QString* error);
    // The window's files, each checked against the sum the journal recorded; in the order they are restored.
    std::optional<QStringList> checkedFiles(QString* error) const;
    std::optional<QList<PulumiRowFile::Table>> readFile(const QString& name, QString* error) const;
    bool restoreFile(const QString& name, RunContext& context, QMap<QString, PulumiRows::Inserted>* totals);

    DatabaseTarget m_target;
    QString m_undoBase;
    std::unique_ptr<DatabaseConnection> m_connection;
    PulumiRows::Shape m_shape;
    QString m_restores; // the run whose window this takes back
    QString m_machine;
    QString m_dir;
    QMap<QString, QString> m_sums; // file name -> sha256, as journaled
    QStringList m_orgs;
    QString m_recovers; // the restore run a recovery run recovers
};

} // namespace opsdeck
