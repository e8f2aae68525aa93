#include "DatamonCli.h"

#include "CliSupport.h"
#include "config/NameRules.h"
#include "datamon/DatamonDeleteRepoOperation.h"
#include "datamon/DatamonHost.h"
#include "datamon/DatamonJob.h"
#include "datamon/DatamonPurgeOperation.h"
#include "datamon/DatamonQueries.h"
#include "datamon/DatamonRecovery.h"
#include "datamon/DatamonRestoreOperation.h"
#include "datamon/DatamonTarget.h"
#include "runbook/Journal.h"
#include "runbook/UndoWindowEndOperation.h"

#include <QDeadlineTimer>
#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QRegularExpression>
#include <QThread>

namespace opsdeck::cli {

namespace {

// The context of --context, with its host's SSH secret; prints the problem and sets *exitCode when it cannot.
std::optional<DatamonTarget> datamonTarget(const Inventory& inventory, const QString& name, int* exitCode)
{
    *exitCode = Cli::Usage;
    DatamonTarget::Problem problem = DatamonTarget::Problem::None;
    QString error;
    const auto target = DatamonTarget::resolve(inventory, name, &problem, &error);
    if (!target) {
        err() << "opsdeck: --context: " << error << "; nothing was run\n";
        return std::nullopt;
    }
    auto [resolved, why]
        = awaitSecrets<std::optional<DatamonTarget>>([&](CredentialStore* store, QObject* context, auto done) {
              resolveDatamonSecrets(store, *target, context, done);
          });
    *exitCode = resolved ? Cli::Success : Cli::Failure;
    if (!resolved)
        err() << "opsdeck: " << why << "\n";
    return resolved;
}

CliOption contextOptionDefinition()
{
    return CliOption::required(
        QStringLiteral("context"), QStringLiteral("NAME"), QStringLiteral("Inventory datamon context."));
}

CliOption repoOptionDefinition(const QString& help)
{
    return CliOption::required(QStringLiteral("repo"), QStringLiteral("REPO"), help);
}

std::optional<DatamonTarget> contextOption(Invocation& call, int* exitCode)
{
    const auto inventory = call.inventory();
    if (!inventory) {
        *exitCode = Cli::Usage;
        return std::nullopt;
    }
    return datamonTarget(*inventory, call.value(QStringLiteral("context")), exitCode);
}

// --repo checked by datamon's own rule before anything runs.
std::optional<QString> repoOption(const Invocation& call)
{
    const QString repo = call.value(QStringLiteral("repo"));
    if (const QString problem = DatamonTarget::repoError(repo); !problem.isEmpty()) {
        err() << "opsdeck: --" << problem << "; nothing was run\n";
        return std::nullopt;
    }
    return repo;
}

// Runs `read` with the target's DatamonQueries on a pool thread (it blocks on the host; never on the main thread)
// and waits for its answer.
template <typename T>
std::optional<T> readOffThread(
    const DatamonTarget& target, QString* error, std::function<std::optional<T>(DatamonQueries&, QString*)> read)
{
    auto [value, why] = awaitOffThread<std::pair<std::optional<T>, QString>>([target, read] {
        std::pair<std::optional<T>, QString> result;
        DatamonHost host(target.context, target.host ? &*target.host : nullptr, target.sshSecret);
        DatamonQueries queries(host, target);
        result.first = read(queries, &result.second);
        return result;
    });
    *error = why;
    return value;
}

QString utc(const QDateTime& time)
{
    return time.toUTC().toString(Qt::ISODateWithMs);
}

QJsonObject repoJson(const DatamonRepo& r)
{
    return { { QStringLiteral("name"), r.name }, { QStringLiteral("description"), r.description },
        { QStringLiteral("contributorName"), r.contributorName },
        { QStringLiteral("contributorEmail"), r.contributorEmail }, { QStringLiteral("time"), utc(r.time) } };
}

// One table line per repo: the description on one line (datamon allows newlines in it).
QStringList repoCells(const DatamonRepo& r)
{
    return { r.name, r.description.simplified(), r.contributorName, r.contributorEmail, utc(r.time) };
}

int runDatamonContexts(Invocation& call)
{
    const auto inventory = call.inventory();
    if (!inventory)
        return Cli::Usage;
    // Every context is read at once, each on a thread of its own (its own SSH session): datamon2 and gcloud take
    // seconds each to start. Secrets are asked for first, one after another, on this thread.
    using Read = std::pair<QList<DatamonContextBuckets>, DatamonQueries::StoreState>;
    struct Row
    {
        std::optional<DatamonTarget> target;
        std::optional<Read> read;
        QString error;
    };
    QList<Row> rows;
    for (const DatamonContext& context : inventory->datamon) {
        int targetExit = Cli::Success;
        rows << Row { datamonTarget(*inventory, context.name, &targetExit), std::nullopt, {} };
    }
    std::vector<std::unique_ptr<QThread>> readers;
    for (Row& row : rows) {
        if (!row.target)
            continue;
        readers.emplace_back(QThread::create([&row] {
            DatamonHost host(
                row.target->context, row.target->host ? &*row.target->host : nullptr, row.target->sshSecret);
            DatamonQueries q(host, *row.target);
            const auto sharing = q.sharingBlobBucket(&row.error);
            if (!sharing)
                return;
            if (const auto state = q.storeState(sharing->front().metadata, &row.error))
                row.read = Read { *sharing, *state };
        }));
        readers.back()->start();
    }
    for (const auto& reader : readers)
        reader->wait();
    QJsonArray array;
    QList<QStringList> table;
    int exitCode = Cli::Success;
    for (qsizetype r = 0; r < rows.size(); ++r) {
        const DatamonContext& context = inventory->datamon.at(r);
        const std::optional<Read>& read = rows.at(r).read;
        const QString& error = rows.at(r).error;
        if (!read)
            exitCode = Cli::Failure;
        QStringList shared;
        for (qsizetype i = 1; read && i < read->first.size(); ++i)
            shared << read->first.at(i).name;
        QStringList tags;
        if (context.tags.production)
            tags << QStringLiteral("production");
        if (context.tags.readOnly)
            tags << QStringLiteral("readOnly");
        const QString where = context.host.isEmpty() ? QStringLiteral("(this machine)") : context.host;
        const DatamonQueries::StoreState state = read ? read->second : DatamonQueries::StoreState {};
        const QString lock = !read     ? QStringLiteral("-")
            : !state.locked            ? QStringLiteral("free")
            : state.lockedAt.isValid() ? QStringLiteral("held since %1").arg(utc(state.lockedAt))
                                       : QStringLiteral("held (%1)").arg(state.lockText);
        const QString index = !read     ? QStringLiteral("-")
            : !state.indexed            ? QStringLiteral("none")
            : state.indexTime.isValid() ? QStringLiteral("built %1").arg(utc(state.indexTime))
                                        : QStringLiteral("broken: %1").arg(state.indexProblem);
        array << QJsonObject { { QStringLiteral("name"), context.name }, { QStringLiteral("context"), context.context },
            { QStringLiteral("config"), context.config }, { QStringLiteral("host"), context.host },
            { QStringLiteral("tags"), QJsonArray::fromStringList(tags) },
            { QStringLiteral("blob"), read ? read->first.front().blob : QString() },
            { QStringLiteral("metadata"), read ? read->first.front().metadata : QString() },
            { QStringLiteral("sharesBlobBucketWith"), QJsonArray::fromStringList(shared) },
            { QStringLiteral("lock"),
                !read || !state.locked ? QJsonValue(QJsonValue::Null)
                                       : QJsonObject { { QStringLiteral("lockedAt"), utc(state.lockedAt) },
                                           { QStringLiteral("text"), state.lockText },
                                           { QStringLiteral("generation"), state.lockGeneration } } },
            { QStringLiteral("index"),
                !read || !state.indexed ? QJsonValue(QJsonValue::Null)
                                        : QJsonObject { { QStringLiteral("builtAt"), utc(state.indexTime) },
                                            { QStringLiteral("problem"), state.indexProblem } } },
            { QStringLiteral("error"), error } };
        table << QStringList { context.name, context.context, where, tags.join(u','),
            read ? read->first.front().blob : QStringLiteral("-"), shared.join(u','), lock, index, error };
    }
    if (call.isSet(QStringLiteral("json")))
        printJson(array);
    else
        printTable({ QStringLiteral("NAME"), QStringLiteral("CONTEXT"), QStringLiteral("HOST"), QStringLiteral("TAGS"),
                       QStringLiteral("BLOB BUCKET"), QStringLiteral("SHARED WITH"), QStringLiteral("PURGE LOCK"),
                       QStringLiteral("INDEX"), QStringLiteral("ERROR") },
            table);
    return exitCode;
}

int runDatamonRepos(Invocation& call)
{
    int exitCode = Cli::Success;
    const auto target = contextOption(call, &exitCode);
    if (!target)
        return exitCode;
    const bool json = call.isSet(QStringLiteral("json"));
    QJsonArray array;
    QObject printer; // the rows are printed on this thread as they stream in
    QString error;
    const auto ok = readOffThread<bool>(*target, &error, [&](DatamonQueries& q, QString* why) -> std::optional<bool> {
        const bool done = q.repos(
            [&](const QList<DatamonRepo>& rows) {
                QMetaObject::invokeMethod(&printer, [&, rows] {
                    for (const DatamonRepo& r : rows) {
                        if (json)
                            array << repoJson(r);
                        else
                            out() << repoCells(r).join(u'\t') << "\n";
                    }
                    out().flush();
                });
            },
            why);
        return done ? std::optional<bool>(true) : std::nullopt;
    });
    QCoreApplication::processEvents(); // the last batch's queued print
    if (!ok) {
        err() << "opsdeck: " << error << "\n";
        return Cli::Failure;
    }
    if (json)
        printJson(array);
    return Cli::Success;
}

int runDatamonBundles(Invocation& call)
{
    const auto repo = repoOption(call);
    if (!repo)
        return Cli::Usage;
    int exitCode = Cli::Success;
    const auto target = contextOption(call, &exitCode);
    if (!target)
        return exitCode;
    const bool withSize = call.isSet(QStringLiteral("with-size"));
    using Read = std::pair<QList<DatamonBundle>, DatamonRepoSizes>;
    QString error;
    const auto read = readOffThread<Read>(*target, &error, [&](DatamonQueries& q, QString* why) -> std::optional<Read> {
        const auto bundles = q.bundles(*repo, why);
        if (!bundles)
            return std::nullopt;
        Read result { *bundles, {} };
        if (withSize) {
            const auto sizes = q.sizes(*repo, why);
            if (!sizes)
                return std::nullopt;
            result.second = *sizes;
        }
        return result;
    });
    if (!read) {
        err() << "opsdeck: " << error << "\n";
        return Cli::Failure;
    }
    QJsonArray array;
    QList<QStringList> table;
    for (const DatamonBundle& b : read->first) {
        QJsonObject row { { QStringLiteral("id"), b.id }, { QStringLiteral("time"), utc(b.time) },
            { QStringLiteral("message"), b.message }, { QStringLiteral("indexFiles"), qint64(b.indexFiles) } };
        QStringList cells { b.id, utc(b.time), b.message.simplified(), QString::number(b.indexFiles) };
        if (withSize) {
            row.insert(QStringLiteral("bytes"), qint64(read->second.bundleBytes.value(b.id)));
            const auto bytes = read->second.bundleBytes.constFind(b.id);
            cells << (bytes == read->second.bundleBytes.cend() ? QStringLiteral("unknown") : sizeText(qint64(*bytes)));
        }
        array << row;
        table << cells;
    }
    if (call.isSet(QStringLiteral("json"))) {
        printJson(array);
        return Cli::Success;
    }
    // The datamon pane's bundle columns; --json keeps the bytes.
    QStringList headers { QStringLiteral("BUNDLE"), QStringLiteral("TIME"), QStringLiteral("MESSAGE"),
        QStringLiteral("FILE LISTS") };
    if (withSize)
        headers << QStringLiteral("SIZE");
    printTable(headers, table);
    return Cli::Success;
}

int runDatamonLabels(Invocation& call)
{
    const auto repo = repoOption(call);
    if (!repo)
        return Cli::Usage;
    int exitCode = Cli::Success;
    const auto target = contextOption(call, &exitCode);
    if (!target)
        return exitCode;
    QString error;
    const auto labels = readOffThread<QList<DatamonLabel>>(
        *target, &error, [&](DatamonQueries& q, QString* why) { return q.labels(*repo, why); });
    if (!labels) {
        err() << "opsdeck: " << error << "\n";
        return Cli::Failure;
    }
    QJsonArray array;
    QList<QStringList> table;
    for (const DatamonLabel& l : *labels) {
        array << QJsonObject { { QStringLiteral("name"), l.name }, { QStringLiteral("bundle"), l.bundleId },
            { QStringLiteral("time"), utc(l.time) } };
        table << QStringList { l.name, l.bundleId, utc(l.time) };
    }
    if (call.isSet(QStringLiteral("json")))
        printJson(array);
    else
        printTable({ QStringLiteral("LABEL"), QStringLiteral("BUNDLE"), QStringLiteral("SET AT") }, table);
    return Cli::Success;
}

// --context for an operation that changes the context: a readOnly one is refused (exit 3) before anything runs.
std::optional<DatamonTarget> writableContextOption(Invocation& call, int* exitCode)
{
    auto target = contextOption(call, exitCode);
    if (target && target->context.tags.readOnly) {
        err() << "opsdeck: datamon context " << target->context.name
              << " is tagged readOnly in the inventory: it is never changed; nothing was run\n";
        *exitCode = Cli::Refused;
        return std::nullopt;
    }
    return target;
}

std::unique_ptr<Operation> deleteRepoOperation(Invocation& call, int* exitCode)
{
    const auto repo = repoOption(call);
    if (!repo) {
        *exitCode = Cli::Usage;
        return nullptr;
    }
    auto target = writableContextOption(call, exitCode);
    if (!target)
        return nullptr;
    return std::make_unique<DatamonDeleteRepoOperation>(std::move(*target), *repo);
}

QList<CliOption> purgeOptions()
{
    return { contextOptionDefinition(),
        CliOption::flag(QStringLiteral("dry-run-only"),
            QStringLiteral("Build the index and count what a purge would delete; delete nothing. Without it: delete "
                           "what the last dry run counted.")),
        CliOption::flag(QStringLiteral("force-stale-lock"),
            QStringLiteral("Override a purge.lock whose job is gone (datamon --force on the first step).")) };
}

std::unique_ptr<Operation> purgeOperation(Invocation& call, int* exitCode)
{
    auto target = writableContextOption(call, exitCode);
    if (!target)
        return nullptr;
    return std::make_unique<DatamonPurgeOperation>(std::move(*target),
        DatamonPurgeOperation::Options {
            call.isSet(QStringLiteral("dry-run-only")), call.isSet(QStringLiteral("force-stale-lock")) });
}

// Whether run `runId` may still start a job: it has no outcome and its console is not known to be gone (a console of
// another machine cannot be checked: it counts as going).
bool runGoesOn(const JournalLocation& journalLocation, const QString& runId)
{
    Journal journal(journalLocation);
    QString error;
    if (!journal.open(&error))
        return false;
    if (const auto record = journal.run(runId, &error); record && record->outcome != RunRecord::Outcome::Running)
        return false;
    const QList<Journal::UnfinishedRun> unfinished = journal.unfinishedRuns(&error);
    return std::none_of(unfinished.cbegin(), unfinished.cend(), [&](const auto& run) { return run.runId == runId; });
}

// `opsdeck datamon attach RUN_ID --context C`: the run's purge jobs on the context's host (or its Jobs) as they say,
// each running one followed to its end with its progress lines, one after the other while the run's console starts
// them. Read only: it changes nothing and takes no lock, so it works beside the console that runs the purge, or
// after it died (then `opsdeck recover` finishes it).
int runDatamonAttach(Invocation& call)
{
    const QString runId = call.word(2);
    static const QRegularExpression safe(QStringLiteral("^[A-Za-z0-9-]{1,64}\\z"));
    if (!safe.match(runId).hasMatch()) {
        err() << "opsdeck: RUN_ID " << NameRules::quoted(runId)
              << " is not allowed: a run id is letters, digits and '-' (opsdeck journal lists them); nothing was run\n";
        return Cli::Usage;
    }
    int exitCode = Cli::Success;
    const auto target = contextOption(call, &exitCode);
    if (!target)
        return exitCode;
    const auto journal = journalLocation(*call.inventory());
    if (!journal)
        return Cli::Failure;
    struct Attached
    {
        QList<DetachedJob::Found> jobs;
        QHash<QString, DatamonJob::Ended> followed; // by step
        QString error;
        QString searched; // where the jobs were looked for
    };
    const Attached attached = awaitOffThread<Attached>([target = *target, runId, journal = *journal] {
        // The console checks the store between two steps: the next job starts within seconds of the last one's end.
        constexpr int kNextJobWaitMs = 10 * 60 * 1000;
        Attached result;
        DatamonHost host(target.context, target.host ? &*target.host : nullptr, target.sshSecret);
        result.searched = DatamonJob::findsIn(host, target);
        QDeadlineTimer quiet(kNextJobWaitMs);
        for (;;) {
            const auto jobs = DatamonJob::find(host, target, DatamonPurgeOperation::jobSteps(), &result.error);
            if (!jobs)
                return result;
            result.jobs.clear();
            for (const DetachedJob::Found& job : *jobs) {
                if (job.runId == runId)
                    result.jobs << job;
            }
            std::sort(result.jobs.begin(), result.jobs.end(),
                [](const auto& a, const auto& b) { return a.startedAt < b.startedAt; });
            const auto next = std::find_if(result.jobs.cbegin(), result.jobs.cend(),
                [&](const DetachedJob::Found& job) { return !job.exitCode && !result.followed.contains(job.step); });
            if (next != result.jobs.cend()) {
                DatamonJob job(host, target, runId, next->step);
                err() << "following " << next->step << " (" << job.where() << ")…\n";
                err().flush();
                result.followed.insert(next->step, job.follow(nullptr, [](const QString& text) {
                    for (const QString& line : text.split(u'\n', Qt::SkipEmptyParts))
                        err() << "      " << line << "\n";
                    err().flush();
                }));
                quiet.setRemainingTime(kNextJobWaitMs);
                continue;
            }
            if (result.followed.isEmpty() || quiet.hasExpired() || !runGoesOn(journal, runId))
                return result;
            QThread::msleep(2000);
        }
    });
    if (!attached.error.isEmpty()) {
        err() << "opsdeck: " << attached.error << "\n";
        return Cli::Failure;
    }
    if (attached.jobs.isEmpty()) {
        err() << "opsdeck: run " << runId << " has no purge job in " << attached.searched << " for context "
              << target->context.name << "\n";
        return Cli::Failure;
    }
    QList<QStringList> table;
    for (const DetachedJob::Found& job : attached.jobs) {
        QString state = job.exitCode ? QStringLiteral("exit %1").arg(*job.exitCode) : QStringLiteral("running");
        if (const auto followed = attached.followed.constFind(job.step); followed != attached.followed.cend()) {
            const DatamonJob::Ended& ended = *followed;
            state = !ended.error.isEmpty()                 ? ended.error
                : !ended.finished                          ? QStringLiteral("ended without an exit status (killed)")
                : ended.exit.kind == DatamonExit::Kind::Ok ? QStringLiteral("exit 0")
                                                           : ended.exit.message;
        }
        table << QStringList { job.step, utc(job.startedAt), job.endedAt.isValid() ? utc(job.endedAt) : QString(),
            state };
    }
    printTable(
        { QStringLiteral("STEP"), QStringLiteral("STARTED"), QStringLiteral("ENDED"), QStringLiteral("STATE") }, table);
    return Cli::Success;
}

// The context a datamon undo window was kept for, with its secrets.
std::optional<DatamonTarget> windowTarget(const UndoWindowCall& call, int* exitCode)
{
    return datamonTarget(call.inventory, call.window.restore.value(QStringLiteral("context")).toString(), exitCode);
}

// `opsdeck restore RUN_ID` of a repo delete (or of a restore that left objects in the trash): the kept metadata goes
// back.
int restoreRepo(const UndoWindowCall& call)
{
    int exitCode = Cli::Success;
    auto target = windowTarget(call, &exitCode);
    if (!target)
        return exitCode;
    QString error;
    auto operation = DatamonRestoreOperation::fromWindow(std::move(*target), call.window, &error);
    if (!operation) {
        err() << "opsdeck: " << error << "; nothing was touched\n";
        return Cli::Failure;
    }
    return call.planOrRun(std::move(operation));
}

// `opsdeck trash purge RUN_ID` of such a window: deletes the kept copy, and ends the window.
int purgeRepoWindow(const UndoWindowCall& call)
{
    int exitCode = Cli::Success;
    auto target = windowTarget(call, &exitCode);
    if (!target)
        return exitCode;
    QString error;
    const auto trash = DatamonTrash::fromJson(call.window.restore, &error);
    if (!trash) {
        err() << "opsdeck: the undo window of run " << call.window.runId << " cannot be ended here: " << error
              << "; nothing was touched\n";
        return Cli::Failure;
    }
    UndoWindowEndOperation::KeptData kept;
    kept.where = trash->url();
    kept.counts << Plan::Count { QStringLiteral("objects"), QStringLiteral("Kept objects deleted"),
        call.window.restore.value(QStringLiteral("objects")).toInteger() }
                << Plan::Count { QStringLiteral("bytes"), QStringLiteral("Bytes freed"), call.window.bytes };
    // Runs on the runner's thread: the host connection is made there, and goes with the call.
    kept.remove = [target = *target, trash = *trash](QString* why) {
        DatamonHost host(target.context, target.host ? &*target.host : nullptr, target.sshSecret);
        return trash.remove(host, target, why);
    };
    return call.planOrRun(std::make_unique<UndoWindowEndOperation>(
        call.window, call.window.restore.value(QStringLiteral("lock")).toString(), call.reason, std::move(kept)));
}

QMap<QString, std::function<int(const UndoWindowCall&)>> windowHandlers(int (*handler)(const UndoWindowCall&))
{
    QMap<QString, std::function<int(const UndoWindowCall&)>> map;
    for (const QString& operation : DatamonDeleteRepoOperation::keepingOperations())
        map.insert(operation, handler);
    return map;
}

} // namespace

CliModule datamonCli()
{
    const CliOption context = contextOptionDefinition();
    QList<CliCommand> commands = {
        { { QStringLiteral("datamon"), QStringLiteral("contexts") }, {},
            QStringLiteral("the inventory's datamon contexts, their blob buckets and who shares them"),
            { jsonOption() }, runDatamonContexts },
        { { QStringLiteral("datamon"), QStringLiteral("repos") }, {},
            QStringLiteral("repos as datamon2 lists them (streamed)"), { context, jsonOption() }, runDatamonRepos },
        { { QStringLiteral("datamon"), QStringLiteral("bundles") }, {}, QStringLiteral("a repo's bundles"),
            { context, repoOptionDefinition(QStringLiteral("The repo.")),
                CliOption::flag(QStringLiteral("with-size"),
                    QStringLiteral("Add each bundle's total file size (reads every bundle's file list: slow).")),
                jsonOption() },
            runDatamonBundles },
        { { QStringLiteral("datamon"), QStringLiteral("labels") }, {}, QStringLiteral("a repo's labels"),
            { context, repoOptionDefinition(QStringLiteral("The repo.")), jsonOption() }, runDatamonLabels },
        { { QStringLiteral("datamon"), QStringLiteral("attach") }, { QStringLiteral("RUN_ID") },
            QStringLiteral("a purge run's jobs on the host; follows the running one (read only)"), { context },
            runDatamonAttach },
    };
    commands += planAndRunCommands(QStringLiteral("datamon-delete-repo"),
        QStringLiteral("delete a repo's metadata; its blobs stay until a purge"),
        { context, repoOptionDefinition(QStringLiteral("The repo to delete.")) },
        QStringLiteral("the datamon context's name"), deleteRepoOperation);
    commands += planAndRunCommands(QStringLiteral("datamon-purge"),
        QStringLiteral("with --dry-run-only: build the index and count what a purge of unused blobs would delete; then "
                       "without it: delete those blobs, verify, drop the index"),
        purgeOptions(), QStringLiteral("the datamon context's name"), purgeOperation);
    return { commands, recoverers(datamonRecoveredOperations(), resolveDatamonRecovery), windowHandlers(restoreRepo),
        windowHandlers(purgeRepoWindow) };
}

} // namespace opsdeck::cli
