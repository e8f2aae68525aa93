#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringList>

namespace opsdeck {

// What an operation will do to a target, read from live state. Making a plan changes nothing.
struct Plan
{
    struct Step
    {
        QString id;
        QString title;
        QString command; // exact command or SQL
        QString verification; // how success is checked
    };
    struct Count
    {
        QString key; // JSON key in reports: "packets"
        QString label; // for people: "Packets"
        qint64 value = 0;
    };

    QString operation; // "packit-wipe"
    QString target; // "wpia-packit/training"
    QString targetName; // what a production target's admin types to confirm: "training"
    QString lock; // the journal lock held while it runs; empty: the target. Operations that share a resource
                  // (every deploy of one repository) share a lock name.
    QString verb; // the confirm button's verb: "Wipe"
    bool production = false;
    bool typedConfirmation = false; // the name is typed even off production (an operation on the team's own state)
    bool readOnly = false;
    bool irreversible = true;
    QJsonObject parameters;
    QList<Count> counts;
    QList<Step> steps;
    QStringList warnings; // what the runbook does not say but will happen
    QJsonObject details; // lists the plan shows, e.g. {"scopedGrants": [...]} (not for the journal's hash only)
    QString detailText; // the same lists for people, shown with the plan

    QString environment() const;
    qint64 count(const QString& key) const;
    QJsonObject countsJson() const;
    QJsonObject toJson() const;

    // Production targets need the name typed; elsewhere the dialog's verb button supplies it. The engine
    // checks the text either way, so no caller can run an operation on a target it did not name.
    bool needsTypedName() const { return production || typedConfirmation; }
    QString lockName() const { return lock.isEmpty() ? target : lock; }
    // Empty if `confirmation` confirms this plan, else why not. A read-only target is always refused.
    QString checkConfirmation(const QString& confirmation) const;
};

} // namespace opsdeck

Q_DECLARE_METATYPE(opsdeck::Plan)
