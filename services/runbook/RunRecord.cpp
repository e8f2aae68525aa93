#include "runbook/RunRecord.h"

#include <QHash>
#include <QRegularExpression>

using namespace Qt::StringLiterals;

namespace opsdeck {

namespace {

// Unset times become null rather than an empty string, so that a reader can tell "not yet" from a bad value.
QJsonValue timeToJson(const QDateTime& time)
{
    if (!time.isValid())
        return QJsonValue::Null;
    return time.toUTC().toString(Qt::ISODateWithMs);
}

QDateTime timeFromJson(const QJsonValue& value)
{
    return QDateTime::fromString(value.toString(), Qt::ISODateWithMs).toUTC();
}

constexpr StepRecord::State kAllStates[] = { StepRecord::State::Pending, StepRecord::State::Running,
    StepRecord::State::Succeeded, StepRecord::State::Failed, StepRecord::State::Skipped, StepRecord::State::Cancelled };

constexpr RunRecord::Outcome kAllOutcomes[] = { RunRecord::Outcome::Running, RunRecord::Outcome::Succeeded,
    RunRecord::Outcome::Failed, RunRecord::Outcome::Cancelled };

// An unknown name (a damaged file, or a newer schema) never reads as a finished state: a report must not claim
// that something succeeded or failed when it does not know.
StepRecord::State stateFromName(const QString& name)
{
    for (const StepRecord::State state : kAllStates) {
        if (StepRecord::stateName(state) == name)
            return state;
    }
    return StepRecord::State::Pending;
}

QJsonObject stepToJson(const StepRecord& step)
{
    return {
        { u"id"_s, step.id },
        { u"title"_s, step.title },
        { u"command"_s, step.command },
        { u"verification"_s, step.verification },
        { u"state"_s, StepRecord::stateName(step.state) },
        { u"startedAt"_s, timeToJson(step.startedAt) },
        { u"finishedAt"_s, timeToJson(step.finishedAt) },
        { u"output"_s, step.output },
        { u"error"_s, step.error },
        { u"recovery"_s, step.recovery },
    };
}

StepRecord stepFromJson(const QJsonObject& object)
{
    StepRecord step;
    step.id = object.value(u"id"_s).toString();
    step.title = object.value(u"title"_s).toString();
    step.command = object.value(u"command"_s).toString();
    step.verification = object.value(u"verification"_s).toString();
    step.state = stateFromName(object.value(u"state"_s).toString());
    step.startedAt = timeFromJson(object.value(u"startedAt"_s));
    step.finishedAt = timeFromJson(object.value(u"finishedAt"_s));
    step.output = object.value(u"output"_s).toString();
    step.error = object.value(u"error"_s).toString();
    step.recovery = object.value(u"recovery"_s).toBool();
    return step;
}

} // namespace

QString RunRecord::wordsFromKey(const QString& key)
{
    if (key.startsWith(u"rows."_s) && key.size() > 5)
        return u"%1 rows"_s.arg(key.mid(5));
    static const QRegularExpression camel(u"^[a-z][a-z0-9]*([A-Z][a-z0-9]*)+$"_s);
    if (!camel.match(key).hasMatch())
        return key;
    QString words;
    for (const QChar c : key) {
        if (c.isUpper() && !words.isEmpty())
            words += u' ';
        words += words.isEmpty() ? c.toUpper() : c.toLower();
    }
    return words;
}

RunRecord::CountWords RunRecord::countWords(const QString& key) const
{
    const QJsonObject info = countInfo.value(key).toObject();
    CountWords words;
    words.label = countLabels.value(key).toString();
    if (words.label.isEmpty())
        words.label = wordsFromKey(key);
    words.definition = info.value(u"definition"_s).toString();
    words.estimate = info.value(u"estimate"_s).toBool();
    words.row = info.value(u"row"_s).toString(key);
    words.order = info.value(u"order"_s).toInt(-1);
    return words;
}

void RunRecord::setCountWords(const Plan& plan)
{
    planCounts = plan.countsJson();
    countLabels = plan.countLabelsJson();
    countInfo = plan.countInfoJson();
}

QString StepRecord::stateName(State state)
{
    switch (state) {
    case State::Pending:
        return u"pending"_s;
    case State::Running:
        return u"running"_s;
    case State::Succeeded:
        return u"succeeded"_s;
    case State::Failed:
        return u"failed"_s;
    case State::Skipped:
        return u"skipped"_s;
    case State::Cancelled:
        return u"cancelled"_s;
    }
    return {};
}

QString RunRecord::outcomeName(Outcome outcome)
{
    switch (outcome) {
    case Outcome::Running:
        return u"running"_s;
    case Outcome::Succeeded:
        return u"succeeded"_s;
    case Outcome::Failed:
        return u"failed"_s;
    case Outcome::Cancelled:
        return u"cancelled"_s;
    }
    return {};
}

RunRecord::Outcome RunRecord::outcomeFromName(const QString& name)
{
    for (const Outcome outcome : kAllOutcomes) {
        if (outcomeName(outcome) == name)
            return outcome;
    }
    // Same reasoning as for step states: unknown is not finished.
    return Outcome::Running;
}

QString RunRecord::undoSummary() const
{
    // A kept window, or none available, reads as the plan's; a run that kept none where one was available says why.
    QString text = undo.summary(id);
    if (!undoOpened && undo.available && undo.enabled)
        text = u"No undo window was kept: the run ended before it kept what a restore needs."_s;
    else if (!undoOpened && undo.available)
        text = u"This cannot be undone: %1 turned the undo window off for this run (%2)."_s.arg(
            user, undo.offReason.trimmed());
    if (!undo.notRestorable.isEmpty())
        text += u" Cannot be undone: %1."_s.arg(undo.notRestorable.join(u"; "_s));
    return text;
}

QJsonObject RunRecord::toJson() const
{
    QJsonObject undoObject = undo.toJson();
    undoObject.insert(u"opened"_s, undoOpened);
    QJsonArray stepArray;
    for (const StepRecord& step : steps)
        stepArray.append(stepToJson(step));
    return {
        { u"schemaVersion"_s, kSchemaVersion },
        { u"id"_s, id },
        { u"operation"_s, operation },
        { u"target"_s, target },
        { u"environment"_s, environment },
        { u"user"_s, user },
        { u"confirmation"_s, confirmation },
        { u"parameters"_s, parameters },
        { u"outcome"_s, outcomeName(outcome) },
        { u"startedAt"_s, timeToJson(startedAt) },
        { u"finishedAt"_s, timeToJson(finishedAt) },
        { u"planCounts"_s, planCounts },
        { u"countLabels"_s, countLabels },
        { u"countInfo"_s, countInfo },
        { u"before"_s, before },
        { u"after"_s, after },
        { u"steps"_s, stepArray },
        { u"deleted"_s, deleted },
        { u"summary"_s, summary },
        { u"journalAnchor"_s, journalAnchor },
        { u"undo"_s, undoObject },
    };
}

RunRecord RunRecord::fromJson(const QJsonObject& object)
{
    RunRecord run;
    run.id = object.value(u"id"_s).toString();
    run.operation = object.value(u"operation"_s).toString();
    run.target = object.value(u"target"_s).toString();
    run.environment = object.value(u"environment"_s).toString();
    run.user = object.value(u"user"_s).toString();
    run.confirmation = object.value(u"confirmation"_s).toString();
    run.parameters = object.value(u"parameters"_s).toObject();
    run.outcome = outcomeFromName(object.value(u"outcome"_s).toString());
    run.startedAt = timeFromJson(object.value(u"startedAt"_s));
    run.finishedAt = timeFromJson(object.value(u"finishedAt"_s));
    run.planCounts = object.value(u"planCounts"_s).toObject();
    run.countLabels = object.value(u"countLabels"_s).toObject();
    run.countInfo = object.value(u"countInfo"_s).toObject();
    run.before = object.value(u"before"_s).toObject();
    run.after = object.value(u"after"_s).toObject();
    const QJsonArray stepArray = object.value(u"steps"_s).toArray();
    for (const QJsonValue& step : stepArray)
        run.steps.append(stepFromJson(step.toObject()));
    run.deleted = object.value(u"deleted"_s).toObject();
    run.summary = object.value(u"summary"_s).toString();
    run.journalAnchor = object.value(u"journalAnchor"_s).toString();
    const QJsonObject undo = object.value(u"undo"_s).toObject();
    run.undo = Plan::Undo::fromJson(undo);
    run.undoOpened = undo.value(u"opened"_s).toBool();
    return run;
}

QString RunRecord::operationTitle(const QString& operation)
{
    // Every operation's id (Operation::name()), in words that read before " on <target>".
    static const QHash<QString, QString> titles {
        { u"packit-wipe"_s, u"Wipe Packit instance"_s },
        { u"packit-wipe-recover"_s, u"Recover Packit wipe"_s },
        { u"packit-restore"_s, u"Restore Packit instance"_s },
        { u"packit-restore-recover"_s, u"Recover Packit restore"_s },
        { u"packit-trash-purge"_s, u"End Packit undo window"_s },
        { u"trash-purge"_s, u"End undo window"_s },
        { u"lock-break"_s, u"Break lock"_s },
        { u"pulumi-purge"_s, u"Purge soft-deleted stacks"_s },
        { u"pulumi-kill-query"_s, u"Kill Pulumi query"_s },
        { u"pulumi-restore"_s, u"Restore Pulumi stacks"_s },
        { u"pulumi-restore-recover"_s, u"Recover Pulumi restore"_s },
        { u"deploy"_s, u"Deploy"_s },
        { u"deploy-all"_s, u"Deploy all"_s },
        { u"deploy-previous"_s, u"Deploy back"_s },
        { u"deploy-update"_s, u"Trigger update workflow"_s },
        { u"deploy-merge"_s, u"Merge update pull request"_s },
        { u"deploy-checks"_s, u"Check staging"_s },
        { u"raft-reset"_s, u"Reset RAFT"_s },
        { u"datamon-purge"_s, u"Purge datamon blobs"_s },
        { u"datamon-delete-repo"_s, u"Delete datamon repo"_s },
        { u"datamon-restore-repo"_s, u"Restore datamon repo"_s },
        { u"datamon-restore-repo-recover"_s, u"Recover datamon repo restore"_s },
    };
    return titles.value(operation, operation);
}

QString RunRecord::runName(const QString& operation, const QString& target)
{
    const QString title = operationTitle(operation);
    return target.isEmpty() ? title : u"%1 on %2"_s.arg(title, target);
}

} // namespace opsdeck
