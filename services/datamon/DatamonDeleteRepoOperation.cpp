#include "datamon/DatamonDeleteRepoOperation.h"

#include "datamon/DatamonHost.h"
#include "datamon/DatamonJob.h"
#include "datamon/DatamonLogging.h"
#include "datamon/DatamonQueries.h"
#include "runbook/RunContext.h"

#include <QJsonArray>
#include <QSet>

using namespace Qt::StringLiterals;

namespace opsdeck {

namespace {

const QString kKeepStep = u"keep-undo"_s;

QJsonObject bucketsJson(const DatamonContextBuckets& buckets, const QString& trashBase)
{
    return { { u"metadata"_s, buckets.metadata }, { u"vmetadata"_s, buckets.vmetadata }, { u"blob"_s, buckets.blob },
        { u"trash"_s, trashBase } };
}

QSet<QString> bundleIds(const QList<DatamonBundle>& bundles)
{
    QSet<QString> ids;
    for (const DatamonBundle& b : bundles)
        ids.insert(b.id);
    return ids;
}

QSet<QString> labelKeys(const QList<DatamonLabel>& labels)
{
    QSet<QString> keys;
    for (const DatamonLabel& l : labels)
        keys.insert(l.name + u'\x1f' + l.bundleId);
    return keys;
}

QString utc(const QDateTime& time)
{
    return time.toUTC().toString(Qt::ISODateWithMs);
}

} // namespace

DatamonDeleteRepoOperation::DatamonDeleteRepoOperation(DatamonTarget target, QString repo)
    : m_target(std::move(target))
    , m_repo(std::move(repo))
{
}

DatamonDeleteRepoOperation::~DatamonDeleteRepoOperation() = default;

std::unique_ptr<DatamonDeleteRepoOperation> DatamonDeleteRepoOperation::recovery(
    DatamonTarget target, const QString& runId, const QJsonObject& saved, QString* error)
{
    const QString repo = saved.value(QStringLiteral("repo")).toString();
    if (const QString problem = DatamonTarget::repoError(repo); !problem.isEmpty()) {
        *error = QStringLiteral("run %1's plan names no valid repo: %2").arg(runId, problem);
        return nullptr;
    }
    auto operation = std::make_unique<DatamonDeleteRepoOperation>(std::move(target), repo);
    operation->m_recovering = runId;
    operation->m_planned.exists = true;
    for (const QJsonValue& id : saved.value(QStringLiteral("bundles")).toArray())
        operation->m_planned.bundles << DatamonBundle { id.toString(), {}, {}, 0 };
    for (const QJsonValue& label : saved.value(QStringLiteral("labels")).toArray()) {
        const QJsonObject l = label.toObject();
        operation->m_planned.labels << DatamonLabel { l.value(QStringLiteral("name")).toString(),
            l.value(QStringLiteral("bundle")).toString(), {} };
    }
    if (const QJsonObject undo = saved.value(u"undo"_s).toObject(); !undo.isEmpty()) {
        DatamonContextBuckets buckets;
        buckets.metadata = undo.value(u"metadata"_s).toString();
        buckets.vmetadata = undo.value(u"vmetadata"_s).toString();
        buckets.blob = undo.value(u"blob"_s).toString();
        // Checked as a window's data is: every name a bucket's, the folder's parts plain.
        QJsonObject data = DatamonTrash(buckets, undo.value(u"trash"_s).toString(), runId, repo).toJson();
        QString problem;
        if (!undo.value(u"trash"_s).toString().startsWith(u"gs://"_s) || !DatamonTrash::fromJson(data, &problem)) {
            *error = u"run %1's plan names no valid trash: %2"_s.arg(runId, problem);
            return nullptr;
        }
        operation->m_buckets = buckets;
        operation->m_trashBase = undo.value(u"trash"_s).toString();
    }
    return operation;
}

void DatamonDeleteRepoOperation::ensureHost()
{
    if (!m_host) {
        m_host = std::make_unique<DatamonHost>(
            m_target.context, m_target.host ? &*m_target.host : nullptr, m_target.sshSecret);
        m_queries = std::make_unique<DatamonQueries>(*m_host, m_target);
    }
}

bool DatamonDeleteRepoOperation::observe(Observed* observed, QString* error)
{
    ensureHost();
    bool notFound = false;
    *observed = {};
    if (!m_queries->repo(m_repo, &notFound, error)) {
        if (!notFound)
            return false;
        return true; // gone: no bundles or labels to read
    }
    observed->exists = true;
    const auto bundles = m_queries->bundles(m_repo, error);
    if (!bundles)
        return false;
    const auto labels = m_queries->labels(m_repo, error);
    if (!labels)
        return false;
    observed->bundles = *bundles;
    observed->labels = *labels;
    return true;
}

// What a delete and its recovery share: the target, the lock, the tags, and the parameters a later recovery needs
// (the planned bundle ids and labels, to tell an untouched repo from a half-deleted one).
void DatamonDeleteRepoOperation::describe(Plan* plan) const
{
    plan->operation = name();
    plan->target = QStringLiteral("%1/%2").arg(m_target.context.name, m_repo);
    // What confirms it, typed on a production context: the context's inventory name and the repo, so that neither
    // a wrong context nor a wrong repo passes ("dm-prod/census").
    plan->targetName = m_target.context.name + u'/' + m_repo;
    plan->lock
        = QStringLiteral("datamon:%1/%2/repos/%3").arg(m_target.context.config, m_target.context.context, m_repo);
    plan->verb = QStringLiteral("Delete repo");
    plan->irreversible = true;
    plan->production = m_target.context.tags.production;
    plan->readOnly = m_target.context.tags.readOnly;
    QJsonArray bundleIds;
    for (const DatamonBundle& b : m_planned.bundles)
        bundleIds << b.id;
    QJsonArray labels;
    for (const DatamonLabel& l : m_planned.labels)
        labels << QJsonObject { { QStringLiteral("name"), l.name }, { QStringLiteral("bundle"), l.bundleId } };
    plan->parameters = { { QStringLiteral("context"), m_target.context.name },
        { QStringLiteral("datamonContext"), m_target.context.context },
        { QStringLiteral("config"), m_target.context.config }, { QStringLiteral("repo"), m_repo },
        { QStringLiteral("bundles"), bundleIds }, { QStringLiteral("labels"), labels } };
    if (!m_recovering.isEmpty())
        plan->parameters.insert(QStringLiteral("recovers"), m_recovering);
    if (m_buckets)
        plan->parameters.insert(u"undo"_s, bucketsJson(*m_buckets, m_trashBase));
}

bool DatamonDeleteRepoOperation::planRecovery(Plan* plan, QString* error)
{
    Observed now;
    if (!observe(&now, error))
        return false;
    describe(plan);
    plan->verb = QStringLiteral("Recover");
    plan->steps << Plan::Step { QStringLiteral("recover-read"),
        QStringLiteral("Wait for run %1's delete job, then read repo %2").arg(m_recovering, m_repo),
        QStringLiteral("datamon2 repo get / bundle list / label list --repo %1").arg(m_repo),
        QStringLiteral("gone, untouched, or half deleted") };
    plan->steps << Plan::Step { QStringLiteral("recover-finish"),
        QStringLiteral("Finish deleting repo %1 if the delete had begun").arg(m_repo),
        m_target
            .datamon({ QStringLiteral("repo"), QStringLiteral("delete"), QStringLiteral("--repo"), m_repo,
                QStringLiteral("--force-yes") })
            .join(u' '),
        QStringLiteral("repo get: didn't find repo %1").arg(m_repo) };
    plan->counts << Plan::Count { QStringLiteral("bundlesLeft"), QStringLiteral("Bundles still there"),
        now.bundles.size(), QStringLiteral("Bundles of the repo datamon still lists: the stopped delete left them.") };
    plan->detailText = now.exists ? QStringLiteral("Repo %1 is still there with %2 of the %3 planned bundles.")
                                        .arg(m_repo)
                                        .arg(now.bundles.size())
                                        .arg(m_planned.bundles.size())
                                  : QStringLiteral("Repo %1 is gone.").arg(m_repo);
    return true;
}

bool DatamonDeleteRepoOperation::makePlan(Plan* plan, QString* error)
{
    if (!m_recovering.isEmpty())
        return planRecovery(plan, error);
    if (const QString problem = DatamonTarget::repoError(m_repo); !problem.isEmpty()) {
        *error = problem;
        return false;
    }
    if (!observe(&m_planned, error))
        return false;
    if (!m_planned.exists) {
        *error = QStringLiteral("context %1 has no repo %2: check the name with `opsdeck datamon repos --context %1`")
                     .arg(m_target.context.name, m_repo);
        return false;
    }
    describe(plan);
    plan->counts << Plan::Count { QStringLiteral("repos"), QStringLiteral("Repos deleted"), 1,
        QStringLiteral("Planned: the repo to delete. Before and after: whether datamon lists it (1) or not (0).") }
                 << Plan::Count { QStringLiteral("bundles"), QStringLiteral("Bundles deleted (metadata)"),
                        m_planned.bundles.size(),
                        QStringLiteral("The repo's bundles: their metadata goes; the blobs they share stay until a "
                                       "blob purge.") }
                 << Plan::Count { QStringLiteral("labels"), QStringLiteral("Labels deleted"), m_planned.labels.size(),
                        QStringLiteral("Names set on the repo's bundles.") };
    const QStringList deleteArgv = m_target.datamon({ QStringLiteral("repo"), QStringLiteral("delete"),
        QStringLiteral("--repo"), m_repo, QStringLiteral("--force-yes") });
    plan->steps << Plan::Step { QStringLiteral("recheck"),
        QStringLiteral("Check that repo %1 still has exactly the planned bundles and labels").arg(m_repo),
        QStringLiteral("datamon2 repo get / bundle list / label list --repo %1").arg(m_repo),
        QStringLiteral("the same bundle ids and labels as planned; otherwise nothing is deleted") };
    plan->steps << Plan::Step { QStringLiteral("delete"),
        QStringLiteral("Delete repo %1's metadata (bundles, labels, then the repo)").arg(m_repo), deleteArgv.join(u' '),
        QStringLiteral("datamon2 exits 0") };
    plan->steps << Plan::Step { QStringLiteral("verify"), QStringLiteral("Check that repo %1 is gone").arg(m_repo),
        QStringLiteral("datamon2 repo get --repo %1").arg(m_repo),
        QStringLiteral("exit 2: didn't find repo %1").arg(m_repo) };
    QJsonArray bundles;
    QStringList bundleLines;
    for (const DatamonBundle& b : m_planned.bundles) {
        bundles << QJsonObject { { QStringLiteral("id"), b.id }, { QStringLiteral("time"), utc(b.time) },
            { QStringLiteral("message"), b.message } };
        bundleLines << QStringLiteral("  %1  %2  %3").arg(b.id, utc(b.time), b.message.simplified().left(80));
    }
    QJsonArray labels;
    QStringList labelLines;
    for (const DatamonLabel& l : m_planned.labels) {
        labels << QJsonObject { { QStringLiteral("name"), l.name }, { QStringLiteral("bundle"), l.bundleId },
            { QStringLiteral("time"), utc(l.time) } };
        labelLines << QStringLiteral("  %1 -> %2").arg(l.name, l.bundleId);
    }
    plan->details = { { QStringLiteral("bundles"), bundles }, { QStringLiteral("labels"), labels } };
    plan->detailText = QStringLiteral("Bundles (%1):\n%2\nLabels (%3):\n%4")
                           .arg(m_planned.bundles.size())
                           .arg(bundleLines.isEmpty() ? QStringLiteral("  (none)") : bundleLines.join(u'\n'))
                           .arg(m_planned.labels.size())
                           .arg(labelLines.isEmpty() ? QStringLiteral("  (none)") : labelLines.join(u'\n'));
    plan->warnings << QStringLiteral("Only metadata is deleted: the repo's blobs stay in blob bucket storage until "
                                     "the next purge of unused blobs, which frees them if no other repo uses them.")
                   << QStringLiteral("Once the delete has begun, a cancel or a failure is recovered by finishing it.");
    return planUndo(plan, error);
}

// The undo window: on unless the inventory turns it off for the context. It needs the context's buckets (where the
// metadata is, and the default trash) and the repo's objects (the space the copy holds).
bool DatamonDeleteRepoOperation::planUndo(Plan* plan, QString* error)
{
    const UndoPolicy& policy = m_target.context.undo;
    Plan::Undo& undo = plan->undo;
    undo.retentionSeconds = policy.retentionSeconds;
    undo.until = QDateTime::currentDateTimeUtc().addSecs(policy.retentionSeconds);
    if (policy.off()) {
        undo.notRestorable << u"the repo: the inventory turns undo windows off for context %1 (undo.retention: off); "
                              "datamon itself cannot restore a deleted repo"_s.arg(m_target.context.name);
        return true;
    }
    const auto buckets = m_queries->buckets(error);
    if (!buckets)
        return false;
    m_buckets = *buckets;
    m_trashBase = DatamonTrash::base(*buckets, m_target.context.trash);
    const DatamonTrash trash(*m_buckets, m_trashBase, u"RUN_ID"_s, m_repo);
    if (const QString problem = trash.placeProblem(); !problem.isEmpty()) {
        *error = u"datamon context %1: %2"_s.arg(m_target.context.name, problem);
        return false;
    }
    const auto objects = trash.listOriginals(*m_host, m_target, error);
    if (!objects)
        return false;
    describe(plan); // the parameters name the trash now
    undo.available = true;
    undo.bytesHeld = DatamonTrash::bytes(*objects);
    undo.where = trash.url().replace(u"RUN_ID"_s, u"<run id>"_s);
    undo.restorable << u"repo %1 with its %2 bundles and %3 labels: its %4 metadata objects, copied to the trash and "
                       "checked (size and CRC32C) before anything is deleted"_s.arg(m_repo)
                           .arg(m_planned.bundles.size())
                           .arg(m_planned.labels.size())
                           .arg(objects->size());
    undo.notRestorable
        << u"the repo's data once a purge of unused blobs has run on blob bucket %1: the purge ends this window, as it "
           "deletes the blobs only deleted repos use"_s.arg(m_buckets->blob)
        << u"objects whose names are taken again before the restore (the repo made anew, a label set again): a "
           "restore never replaces one, it leaves them and names them"_s;
    QStringList copies;
    for (const QStringList& argv : trash.copyArgvs(m_target, trash.foldersWith(*objects), false))
        copies << argv.join(u' ');
    const QString where = trash.url().replace(u"RUN_ID"_s, u"<run id>"_s);
    plan->steps.insert(1,
        Plan::Step { kKeepStep,
            u"Copy repo %1's %2 metadata objects to %3 and check each"_s.arg(m_repo).arg(objects->size()).arg(where),
            copies.join(u"; "_s).replace(u"RUN_ID"_s, u"<run id>"_s),
            u"the trash lists the same objects, sizes and CRC32Cs; then the window is journaled"_s });
    return true;
}

bool DatamonDeleteRepoOperation::execute(const Plan& plan, RunContext& context)
{
    if (!m_recovering.isEmpty()) {
        recover(context, QStringLiteral("run %1 ended without an outcome").arg(m_recovering));
        // A recovery succeeds when it reached an end state; recover() says which in the summary.
        return !context.record().summary.isEmpty() && context.leftOpen().isEmpty();
    }
    context.begin(QStringLiteral("recheck"));
    Observed now;
    QString error;
    if (!observe(&now, &error)) {
        context.fail(QStringLiteral("%1; nothing was deleted").arg(error));
        context.record().summary
            = QStringLiteral("Repo %1 was not touched: %2. Check the host, then plan again.").arg(m_repo, error);
        return false;
    }
    QString changed;
    if (!now.exists)
        changed = QStringLiteral("repo %1 no longer exists").arg(m_repo);
    else if (bundleIds(now.bundles) != bundleIds(m_planned.bundles))
        changed = QStringLiteral("its bundles changed since the plan (%1 now, %2 planned)")
                      .arg(now.bundles.size())
                      .arg(m_planned.bundles.size());
    else if (labelKeys(now.labels) != labelKeys(m_planned.labels))
        changed = QStringLiteral("its labels changed since the plan");
    if (!changed.isEmpty()) {
        context.fail(QStringLiteral("%1; nothing was deleted").arg(changed));
        context.record().summary = QStringLiteral("Nothing was deleted: %1. Plan again.").arg(changed);
        return false;
    }
    context.record().before = { { QStringLiteral("repos"), 1 }, { QStringLiteral("bundles"), now.bundles.size() },
        { QStringLiteral("labels"), now.labels.size() } };
    context.succeed(QStringLiteral("%1 bundles, %2 labels").arg(now.bundles.size()).arg(now.labels.size()));
    if (context.cancelled()) {
        context.skipRemaining();
        context.record().summary = QStringLiteral("Cancelled before the delete: repo %1 is untouched.").arg(m_repo);
        return false;
    }
    if (QString why; plan.undo.opens() && !keepUndo(context, &why)) {
        context.skipRemaining();
        context.record().summary = u"Nothing was deleted: the undo window could not be kept (%1). Repo %2 is "
                                   "untouched; check the trash's bucket and gcloud on %3, or delete without the "
                                   "window (--no-undo --reason)."_s.arg(why, m_repo, m_host->where());
        return false;
    }

    context.begin(QStringLiteral("delete"));
    qCInfo(lcDatamon) << "repo delete" << m_repo << "in context" << m_target.context.context;
    DatamonJob job(*m_host, m_target, context.record().id, QStringLiteral("delete"));
    const DatamonJob::Ended ended = job.run({ QStringLiteral("repo"), QStringLiteral("delete"),
                                                QStringLiteral("--repo"), m_repo, QStringLiteral("--force-yes") },
        context);
    if (!ended.finished || ended.exit.kind != DatamonExit::Kind::Ok) {
        const QString why = !ended.error.isEmpty() ? ended.error
            : ended.cancelled                      ? QStringLiteral("cancelled: the delete was stopped")
            : ended.vanished ? QStringLiteral("the delete's process ended without an exit status (killed)")
                             : ended.exit.message;
        context.fail(why, ended.errTail);
        return recover(context, why);
    }
    context.succeed(ended.errTail);

    context.begin(QStringLiteral("verify"));
    if (!observe(&now, &error) || now.exists) {
        const QString why
            = now.exists ? QStringLiteral("datamon2 exited 0 but repo %1 is still there").arg(m_repo) : error;
        context.fail(why);
        return recover(context, why);
    }
    context.succeed(QStringLiteral("didn't find repo %1").arg(m_repo));
    recordDeleted(context);
    context.record().summary
        = QStringLiteral("Repo %1 was deleted from context %2: %3 bundles and %4 labels. Its blobs stay until the "
                         "next purge of unused blobs.")
              .arg(m_repo, m_target.context.name)
              .arg(m_planned.bundles.size())
              .arg(m_planned.labels.size());
    if (plan.undo.opens())
        context.record().summary
            += u" It can be undone until %1 (unless a purge of unused blobs runs first): "
               "opsdeck restore %2."_s.arg(utcMinuteText(context.record().undo.until), context.record().id);
    return true;
}

DatamonTrash DatamonDeleteRepoOperation::trashOf(const QString& runId) const
{
    return DatamonTrash(*m_buckets, m_trashBase, runId, m_repo);
}

// Copies the repo's metadata to the trash and checks the copy against what the repo holds, object by object, then
// journals the window: all before the delete, which only runs once this succeeded.
bool DatamonDeleteRepoOperation::keepUndo(RunContext& context, QString* failure)
{
    context.begin(kKeepStep);
    const DatamonTrash trash = trashOf(context.record().id);
    QString& error = *failure;
    const auto objects = trash.listOriginals(*m_host, m_target, &error);
    std::optional<QList<DatamonObject>> kept;
    if (objects && trash.copy(*m_host, m_target, trash.foldersWith(*objects), false, &error))
        kept = trash.listKept(*m_host, m_target, &error);
    if (kept && DatamonTrash::digest(*kept) != DatamonTrash::digest(*objects))
        error = u"the copy in %1 is not what the repo holds (%2 objects kept of %3)"_s.arg(trash.url())
                    .arg(kept->size())
                    .arg(objects->size());
    if (!error.isEmpty()) {
        QString ignored;
        trash.remove(*m_host, m_target, &ignored); // a partial copy would only mislead
        context.fail(error);
        return false;
    }
    UndoWindow window;
    window.where = trash.url();
    window.bytes = DatamonTrash::bytes(*kept);
    window.restorable << u"repo %1 with its %2 bundles and %3 labels (%4 metadata objects), as they were"_s.arg(m_repo)
                             .arg(m_planned.bundles.size())
                             .arg(m_planned.labels.size())
                             .arg(kept->size());
    window.notRestorable = context.plan().undo.notRestorable;
    window.confirmWith = context.plan().targetName;
    window.restore = trash.toJson();
    window.restore.insert(u"context"_s, m_target.context.name);
    window.restore.insert(u"objects"_s, kept->size());
    window.restore.insert(u"digest"_s, DatamonTrash::digest(*kept));
    window.restore.insert(u"lock"_s, context.plan().lockName());
    if (!context.openUndoWindow(window)) {
        error = u"%1: the copy is removed again"_s.arg(context.journalError());
        context.fail(error);
        QString ignored;
        trash.remove(*m_host, m_target, &ignored);
        return false;
    }
    context.succeed(u"%1 objects (%2 bytes) in %3"_s.arg(kept->size()).arg(window.bytes).arg(trash.url()));
    return true;
}

// The run kept a copy, and then the delete never happened: the copy goes, and its window (if it was journaled) ends.
void DatamonDeleteRepoOperation::dropUnusedTrash(RunContext& context, const QString& runId)
{
    if (!m_buckets)
        return;
    const DatamonTrash trash = trashOf(runId);
    QString error;
    const auto kept = trash.listKept(*m_host, m_target, &error);
    if (kept && kept->isEmpty())
        return;
    if (kept && trash.remove(*m_host, m_target, &error)) {
        context.note(UndoWindow::kClosedKind,
            UndoWindows::closedData(
                runId, UndoWindow::State::Ended, u"repo %1 was not deleted: there is nothing to undo"_s.arg(m_repo)));
        context.output(u"removed the unused copy in %1\n"_s.arg(trash.url()));
        return;
    }
    context.output(
        u"the copy in %1 could not be removed (%2): remove it with gcloud storage rm\n"_s.arg(trash.url(), error));
}

QStringList DatamonDeleteRepoOperation::keepingOperations()
{
    return { u"datamon-delete-repo"_s, u"datamon-restore-repo"_s, u"datamon-restore-repo-recover"_s };
}

bool DatamonDeleteRepoOperation::keptFor(const UndoWindow& window, const QString& context)
{
    return keepingOperations().contains(window.operation) && window.restore.value(u"context"_s).toString() == context;
}

bool DatamonDeleteRepoOperation::endsExpired(const UndoWindow& window) const
{
    return keptFor(window, m_target.context.name);
}

bool DatamonDeleteRepoOperation::endWindow(const UndoWindow& window, QString* error)
{
    ensureHost();
    return DatamonTrash::removeWindowCopy(window.restore, *m_host, m_target, error);
}

void DatamonDeleteRepoOperation::recordDeleted(RunContext& context)
{
    context.record().after
        = { { QStringLiteral("repos"), 0 }, { QStringLiteral("bundles"), 0 }, { QStringLiteral("labels"), 0 } };
    QJsonArray bundles;
    for (const DatamonBundle& b : m_planned.bundles)
        bundles << QJsonObject { { QStringLiteral("repo"), m_repo }, { QStringLiteral("bundle"), b.id },
            { QStringLiteral("time"), utc(b.time) }, { QStringLiteral("message"), b.message } };
    QJsonArray labels;
    for (const DatamonLabel& l : m_planned.labels)
        labels << QJsonObject { { QStringLiteral("repo"), m_repo }, { QStringLiteral("label"), l.name },
            { QStringLiteral("bundle"), l.bundleId }, { QStringLiteral("time"), utc(l.time) } };
    context.record().deleted.insert(QStringLiteral("bundles"), bundles);
    context.record().deleted.insert(QStringLiteral("labels"), labels);
}

// `opsdeck recover` planned the recovery's steps; a delete's own recovery planned none.
void DatamonDeleteRepoOperation::beginRecoveryStep(
    RunContext& context, const QString& id, const QString& title, const QString& command) const
{
    if (m_recovering.isEmpty())
        context.beginRecovery(id, title, command);
    else
        context.begin(id);
}

// From what the repo looks like now: gone (datamon deletes repo.yaml last, so the delete ran to its end), untouched
// (every planned bundle and label still there), or half deleted, which only finishing the delete can mend.
bool DatamonDeleteRepoOperation::recover(RunContext& context, const QString& why)
{
    beginRecoveryStep(context, QStringLiteral("recover-read"), QStringLiteral("Read repo %1 as it is now").arg(m_repo),
        QStringLiteral("datamon2 repo get / bundle list / label list --repo %1").arg(m_repo));
    // The delete's job may still run on the host (a stop that did not take, a lost answer): wait for it first.
    DatamonJob job(
        *m_host, m_target, m_recovering.isEmpty() ? context.record().id : m_recovering, QStringLiteral("delete"));
    const DatamonJob::Ended delete_ = job.follow(nullptr);
    Observed now;
    QString error;
    if (!delete_.error.isEmpty() || !observe(&now, &error)) {
        const QString problem = delete_.error.isEmpty() ? error : delete_.error;
        context.fail(problem);
        context.leaveOpen(QStringLiteral("repo %1 could not be read after the delete failed").arg(m_repo));
        context.record().summary
            = QStringLiteral("The delete of repo %1 failed (%2) and its state could not be read (%3). Run `opsdeck "
                             "recover %4 --confirm %5` once the host answers.")
                  .arg(m_repo, why, problem, context.record().id, m_target.context.name);
        return false;
    }
    const bool untouched = now.exists && bundleIds(now.bundles) == bundleIds(m_planned.bundles)
        && labelKeys(now.labels) == labelKeys(m_planned.labels);
    context.succeed(now.exists ? QStringLiteral("repo there: %1 of %2 bundles, %3 of %4 labels")
                                     .arg(now.bundles.size())
                                     .arg(m_planned.bundles.size())
                                     .arg(now.labels.size())
                                     .arg(m_planned.labels.size())
                               : QStringLiteral("repo gone"));
    if (!now.exists || untouched)
        context.skipRemaining();
    if (!now.exists) {
        recordDeleted(context);
        context.record().summary = QStringLiteral("Repo %1 was deleted (%2 bundles, %3 labels), although the run "
                                                  "reported: %4. End state: deleted.")
                                       .arg(m_repo)
                                       .arg(m_planned.bundles.size())
                                       .arg(m_planned.labels.size())
                                       .arg(why);
        return false;
    }
    if (untouched) {
        dropUnusedTrash(context, m_recovering.isEmpty() ? context.record().id : m_recovering);
        context.record().summary = QStringLiteral("Repo %1 is untouched: %2. End state: untouched.").arg(m_repo, why);
        return false;
    }
    beginRecoveryStep(context, QStringLiteral("recover-finish"),
        QStringLiteral("Finish deleting repo %1 (%2 bundles left)").arg(m_repo).arg(now.bundles.size()),
        m_target
            .datamon({ QStringLiteral("repo"), QStringLiteral("delete"), QStringLiteral("--repo"), m_repo,
                QStringLiteral("--force-yes") })
            .join(u' '));
    DatamonJob finish(*m_host, m_target, context.record().id, QStringLiteral("recover-delete"));
    const DatamonJob::Ended finished = finish.run({ QStringLiteral("repo"), QStringLiteral("delete"),
                                                      QStringLiteral("--repo"), m_repo, QStringLiteral("--force-yes") },
        context);
    Observed after;
    if (finished.finished && finished.exit.kind == DatamonExit::Kind::Ok && observe(&after, &error) && !after.exists) {
        context.succeed(finished.errTail);
        recordDeleted(context);
        context.record().summary = QStringLiteral("Repo %1 was half deleted when the run stopped (%2); recovery "
                                                  "finished the delete. End state: deleted.")
                                       .arg(m_repo, why);
        return false;
    }
    const QString problem = !finished.error.isEmpty()                      ? finished.error
        : finished.finished && finished.exit.kind != DatamonExit::Kind::Ok ? finished.exit.message
                                                                           : error;
    context.fail(problem, finished.errTail);
    context.leaveOpen(QStringLiteral("repo %1 is half deleted").arg(m_repo));
    context.record().summary = QStringLiteral("Repo %1 is half deleted (%2 of %3 bundles left) and finishing the "
                                              "delete failed: %4. Run `opsdeck recover %5 --confirm %6`, or by hand "
                                              "on %7: %8")
                                   .arg(m_repo)
                                   .arg(now.bundles.size())
                                   .arg(m_planned.bundles.size())
                                   .arg(problem, context.record().id, m_target.context.name, m_host->where(),
                                       m_target
                                           .datamon({ QStringLiteral("repo"), QStringLiteral("delete"),
                                               QStringLiteral("--repo"), m_repo, QStringLiteral("--force-yes") })
                                           .join(u' '));
    return false;
}

} // namespace opsdeck
