#pragma once

#include "packit/PackitConnection.h"
#include "packit/PackitTarget.h"
#include "runbook/Operation.h"
#include "runbook/UndoWindow.h"

#include <QJsonObject>
#include <QMap>

#include <memory>
#include <optional>

namespace opsdeck {

// `opsdeck restore RUN_ID` of a Packit wipe (or of a restore that set rows aside): puts the kept outpack root and
// every row of its bundle back, with their ids and sequences. Whatever the instance holds now is never mixed in nor
// lost: in the same transaction it is written to a bundle of its own and deleted, its root moved aside, and both
// kept as this run's undo window. The plan names it, and the confirmation must name it too.
class PackitRestoreOperation : public Operation
{
public:
    // The restore of `window`, checked: its paths strictly under the host's outpack base, its sums well formed.
    static std::unique_ptr<PackitRestoreOperation> fromWindow(
        PackitTarget target, const UndoWindow& window, QString* error);
    // The recovery of a restore run that ended without an outcome, from its plan's parameters.
    static std::unique_ptr<PackitRestoreOperation> recovering(
        PackitTarget target, const QString& runId, const QJsonObject& parameters, QString* error);
    ~PackitRestoreOperation() override;
    // The operations whose undo windows this restores: a wipe's, and a restore's (what it set aside).
    static QStringList restoredOperations();

    QString name() const override
    {
        return m_recovers.isEmpty() ? QStringLiteral("packit-restore") : QStringLiteral("packit-restore-recover");
    }
    bool makePlan(Plan* plan, QString* error) override;
    bool execute(const Plan& plan, RunContext& context) override;
    bool endsExpired(const UndoWindow& window) const override;
    bool endWindow(const UndoWindow& window, QString* error) override;

private:
    explicit PackitRestoreOperation(PackitTarget target);
    static std::unique_ptr<PackitRestoreOperation> fromParameters(
        PackitTarget target, const QJsonObject& parameters, QString* error);

    // What recovery reads before it decides (never which step reported success).
    struct Observed
    {
        bool rootExists = false;
        bool keptExists = false; // the window's root, still aside
        bool asideExists = false; // the root this run set aside
        bool asideBundleExists = false;
        QMap<QString, QString> asideSums; // the set-aside bundle's sums, when it is whole
        QString digest; // the packets now, as packetDigest
        QStringList unitStates;
        bool unitsActive() const;
    };

    bool connection(QString* error);
    QString asideRoot() const;
    QString asideBundle() const;
    QJsonObject parameters() const;
    void planUndo(Plan* plan) const;
    bool checkBundle(QString* error);
    std::optional<QString> bundleDigest(QString* error);
    std::optional<QMap<QString, qint64>> bundleRows(QString* error);
    std::optional<QString> currentDigest(QString* error);
    bool setAsideRoot(RunContext& context);
    bool restoreRows(RunContext& context);
    bool restoreRoot(RunContext& context);
    bool keepSetAside(RunContext& context);
    bool removeRestoredBundle(RunContext& context);
    bool move(const QString& from, const QString& to, QString* error);
    bool removePath(const QString& path, QString* error);
    std::optional<Observed> observe(QString* error);
    bool settleSession(QString* error);
    bool recover(RunContext& context);
    void closeWindow(RunContext& context, const QString& summary);

    PackitTarget m_target;
    std::unique_ptr<PackitConnection> m_connection;
    QString m_restores; // the run whose window this takes back
    QString m_keptRoot;
    QString m_bundle;
    QMap<QString, QString> m_sums;
    qint64 m_flywayRank = -1;
    QString m_tag; // names what this run sets aside
    QString m_bundleDigest; // the packets the bundle holds (packetDigest)
    QString m_currentDigest; // the packets the instance held when planned
    QJsonObject m_now; // PackitQueries::counts when planned
    bool m_setsAside = false; // the instance held rows when planned
    QString m_recovers; // the restore run a recovery run recovers
    QStringList m_skipped;
};

} // namespace opsdeck
