#pragma once

#include "runbook/Plan.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QMetaType>
#include <QString>

namespace opsdeck {

// One step of a run as it happened: what it ran, how it was checked, how it ended.
struct StepRecord
{
    enum class State
    {
        Pending,
        Running,
        Succeeded,
        Failed,
        Skipped,
        Cancelled
    };

    QString id; // stable within the operation, e.g. "stop-units"
    QString title; // "Stop outpack-training and packit-api-training"
    QString command; // the exact command or SQL, as run
    QString verification; // how success is checked, in words
    State state = State::Pending;
    QDateTime startedAt;
    QDateTime finishedAt;
    QString output; // an excerpt (the last lines) of what it printed
    QString error; // why it failed, with what to do next
    bool recovery = false; // a step run by recovery, not by the plan

    static QString stateName(State state);
};

// Everything a deletion report holds. The journal stores it when the run ends; reports render it.
struct RunRecord
{
    enum class Outcome
    {
        Running,
        Succeeded,
        Failed,
        Cancelled
    };
    // 2 added `undo`; a schema 1 record reads as a run that kept no undo window.
    static constexpr int kSchemaVersion = 2;

    QString id; // a UUID without braces
    QString operation; // "packit-wipe"
    QString target; // "wpia-packit/training"
    QString environment; // "production", "read-only" or "" (plain)
    QString user; // who ran it: "<login>@<machine>"
    QString confirmation; // the text the admin typed or chose
    QJsonObject parameters; // {"host": "...", "instance": "..."}
    Outcome outcome = Outcome::Running;
    QDateTime startedAt;
    QDateTime finishedAt;
    QJsonObject planCounts; // the impact counts the admin confirmed: {"packets": 300, ...}
    QJsonObject countLabels; // the plan's words for its counts and measures: {"packets": "Packets", ...}
    // The rest of them (Plan::countInfoJson, added in schema 2): a definition, whether the value is an estimate, the
    // row it shares with a count of another key, the plan's order. Absent in older records.
    QJsonObject countInfo;
    QJsonObject before; // counts measured right before the destructive steps
    QJsonObject after; // counts measured at the end
    QList<StepRecord> steps;
    // What was deleted, per kind: {"packets": [{"id": ..., "name": ...}, ...], "scopedGrants": [{...}], ...}.
    // Every element is an object with string or number values, so that CSV can flatten it.
    QJsonObject deleted;
    QString summary; // one sentence: what happened, and what to do next if it failed
    // The journal's chain head ("SEQ:HASH", Journal::Anchor) when the journal saved this record: `opsdeck journal
    // verify --anchor` checks later that no entry up to it was cut off or rewritten. Set by Journal::saveRun.
    QString journalAnchor;
    // The undo window as the run ended: the plan's (with the admin's choice), then, once the run kept what a
    // restore needs, `undoOpened` with the real `until`, place and size. A run that failed before that kept none.
    Plan::Undo undo;
    bool undoOpened = false;
    // For people: whether and until when this run can be taken back, how (the command), and what cannot.
    QString undoSummary() const;

    // How a report names one value of planCounts, before or after: the plan's words, or ones made from the key for a
    // record without them ("runInfoLeft" reads "Run info left", "rows.Programs" "Programs rows").
    struct CountWords
    {
        QString label;
        QString definition;
        bool estimate = false;
        QString row; // the key of the row it is shown on: its own, or the count it measures
        int order = -1; // the plan's order; -1: not in the plan's words
    };
    CountWords countWords(const QString& key) const;
    // Words from a key the plan gave none for: "runInfoLeft" -> "Run info left", "rows.Programs" -> "Programs rows".
    // Any other key (a machine's name, a table's) stays as it is.
    static QString wordsFromKey(const QString& key);
    // The plan's words for its counts, as the runner records them when the run starts.
    void setCountWords(const Plan& plan);

    static QString outcomeName(Outcome outcome);
    static Outcome outcomeFromName(const QString& name);
    QJsonObject toJson() const;
    static RunRecord fromJson(const QJsonObject& object);

    // A run's one name for people, the same in the Runs dock, the Journal pane, its report and the CLI's listings:
    // "Wipe Packit instance on wpia-packit/training". The operation's id stays beside it where ids are wanted.
    QString name() const { return runName(operation, target); }
    static QString runName(const QString& operation, const QString& target);
    // An operation's words: "packit-wipe" is "Wipe Packit instance". An id this build does not know stays as it is.
    static QString operationTitle(const QString& operation);
};

} // namespace opsdeck

Q_DECLARE_METATYPE(opsdeck::StepRecord)
Q_DECLARE_METATYPE(opsdeck::RunRecord)
