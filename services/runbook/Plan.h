#pragma once

#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QLocale>
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
        // Initialised, as the members after it, so that `{ key, label, value }` stays a whole initializer.
        QString definition {}; // one short sentence for the report: what exactly is counted, and where
        bool estimate = false; // not an exact count (information_schema TABLE_ROWS): reports mark it as one
    };
    // Words for a value the run records in its before or after snapshot (RunRecord::before/after) that the plan does
    // not count under the same key, so that the report labels every value it shows.
    struct Measure
    {
        QString key; // the snapshot's key: "globalGrants", "tableRows"
        QString label {}; // "Global grants"
        QString definition {};
        bool estimate = false; // as Count::estimate; an object's members inherit it
        // The plan's count it measures, shown on that count's row: "runInfoLeft" for "runInfoWithPacket".
        QString row {};
    };

    // The undo window: what a run keeps so that `opsdeck restore RUN_ID` can take it back, and until when. On by
    // default where the data allows; the admin may turn it off for one run, with a reason the journal keeps.
    struct Undo
    {
        bool available = false; // the data allows a window here (else notRestorable says why)
        bool enabled = true; // the admin's choice for this run; false needs offReason
        QString offReason;
        qint64 retentionSeconds = 0; // the inventory's undo.retention for the target
        QDateTime until; // when the window ends, by the journal's clock (the plan's estimate; the run sets it)
        qint64 bytesHeld = -1; // the space the window holds on the target; -1: unknown
        // bytesHeld is an estimate (a Pulumi purge's, from average row lengths): shown as one, like Count::estimate.
        // The size a run measures once it keeps the window is not.
        bool bytesEstimated = false;
        QString where; // "machines' previous revisions", "wpia-packit:/var/lib/outpack/.opsdeck-wipe-…"
        QStringList restorable; // what a restore puts back, in words
        QStringList notRestorable; // what it cannot put back, and why
        QStringList endsWindows; // windows this run ends: "RUN_ID: what it held"

        bool opens() const { return available && enabled; }
        QJsonObject toJson() const;
        static Undo fromJson(const QJsonObject& object);
        // For people: "Can be undone until … with `opsdeck restore RUN_ID`", or why not.
        QString summary(const QString& runId = QStringLiteral("RUN_ID")) const;
        // The space it holds in `locale`'s words, "603 MB", and an estimate marked as the reports mark estimated
        // counts: "≈ 603 MB (estimate)". Callers say "unknown" (bytesHeld -1) and "no space" (0) in their own words.
        QString bytesHeldText(const QLocale& locale) const;
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
    QList<Measure> measures; // what the run's before and after snapshots hold beyond the counts, in words
    QList<Step> steps;
    QStringList warnings; // what the runbook does not say but will happen
    Undo undo;
    QJsonObject details; // lists the plan shows, e.g. {"scopedGrants": [...]} (not for the journal's hash only)
    QString detailText; // the same lists for people, shown with the plan

    QString environment() const;
    qint64 count(const QString& key) const;
    QJsonObject countsJson() const;
    QJsonObject countLabelsJson() const; // {"packets": "Packets", ...}, the measures' too
    // The rest of the counts' and measures' words, in the plan's order: {"packets": {"definition": "...", "order":
    // 0}, "tableRows": {"estimate": true, ...}, "runInfoWithPacket": {"row": "runInfoLeft", ...}}
    // (RunRecord::countInfo)
    QJsonObject countInfoJson() const;
    QJsonObject toJson() const;

    // Production targets need the name typed; elsewhere the dialog's verb button supplies it. The engine
    // checks the text either way, so no caller can run an operation on a target it did not name.
    bool needsTypedName() const { return production || typedConfirmation; }
    QString lockName() const { return lock.isEmpty() ? target : lock; }
    // Empty if `confirmation` confirms this plan, else why not. A read-only target is always refused.
    QString checkConfirmation(const QString& confirmation) const;
    // Empty if the admin's undo choice may run, else why not: a window turned off needs a reason.
    QString checkUndo() const;
};

// Empty if `reason` may be journaled as an admin's reason (one line, not blank, at most 500 characters); else what is
// wrong with it, for the field named "reason". `purpose` completes "say why ...".
QString reasonError(const QString& reason, const QString& purpose);
// A time as the CLI, the journal's texts and the reports state an undo window's end: "2026-12-13 14:00 UTC".
QString utcMinuteText(const QDateTime& time);

} // namespace opsdeck

Q_DECLARE_METATYPE(opsdeck::Plan)
