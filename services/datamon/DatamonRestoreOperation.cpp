#include "datamon/DatamonRestoreOperation.h"

#include "datamon/DatamonDeleteRepoOperation.h"
#include "datamon/DatamonHost.h"
#include "datamon/DatamonLogging.h"
#include "datamon/DatamonQueries.h"
#include "runbook/RunContext.h"

#include <QHash>

using namespace Qt::StringLiterals;

namespace opsdeck {

namespace {

const QString kPutBackStep = u"put-back"_s;
const QString kVerifyStep = u"verify"_s;
const QString kCloseStep = u"close-window"_s;
const QString kEmptyStep = u"empty-trash"_s;
constexpr qsizetype kNamed = 10; // objects named in a message; the report has them all

QString names(const QList<DatamonObject>& objects)
{
    QStringList urls;
    for (const DatamonObject& object : objects.first(std::min(objects.size(), kNamed)))
        urls << object.url();
    if (objects.size() > kNamed)
        urls << u"and %1 more"_s.arg(objects.size() - kNamed);
    return urls.join(u", "_s);
}

qsizetype countNamed(const QList<DatamonObject>& objects, QLatin1StringView folder, QLatin1StringView file)
{
    return std::count_if(objects.cbegin(), objects.cend(),
        [&](const DatamonObject& object) { return object.name.startsWith(folder) && object.name.endsWith(file); });
}

} // namespace

DatamonRestoreOperation::DatamonRestoreOperation(DatamonTarget target, DatamonTrash trash)
    : m_target(std::move(target))
    , m_trash(std::move(trash))
{
}

DatamonRestoreOperation::~DatamonRestoreOperation() = default;

std::unique_ptr<DatamonRestoreOperation> DatamonRestoreOperation::fromWindow(
    DatamonTarget target, const UndoWindow& window, QString* error)
{
    QJsonObject parameters = window.restore;
    parameters.insert(u"window"_s, window.runId);
    parameters.insert(u"confirmWith"_s, window.confirmWith);
    return fromParameters(std::move(target), parameters, error);
}

std::unique_ptr<DatamonRestoreOperation> DatamonRestoreOperation::recovering(
    DatamonTarget target, const QString& runId, const QJsonObject& parameters, QString* error)
{
    auto operation = fromParameters(std::move(target), parameters, error);
    if (!operation)
        return nullptr;
    const auto expected = DatamonTrash::objectsFrom(parameters.value(u"expected"_s).toArray(), error);
    if (!expected || DatamonTrash::digest(*expected) != operation->m_digest) {
        if (expected)
            *error = u"run %1's plan lists objects that are not those its window kept"_s.arg(runId);
        return nullptr;
    }
    operation->m_expected = *expected;
    operation->m_recovers = runId;
    return operation;
}

std::unique_ptr<DatamonRestoreOperation> DatamonRestoreOperation::fromParameters(
    DatamonTarget target, const QJsonObject& parameters, QString* error)
{
    if (parameters.value(u"context"_s).toString() != target.context.name) {
        *error = u"the window was kept for datamon context %1, not %2"_s.arg(
            parameters.value(u"context"_s).toString(), target.context.name);
        return nullptr;
    }
    auto trash = DatamonTrash::fromJson(parameters, error);
    if (!trash)
        return nullptr;
    static const QRegularExpression sha256(u"^[0-9a-f]{64}\\z"_s);
    const QString digest = parameters.value(u"digest"_s).toString();
    if (!sha256.match(digest).hasMatch()) {
        *error = u"the window's data has no digest of what it keeps"_s;
        return nullptr;
    }
    auto operation
        = std::unique_ptr<DatamonRestoreOperation>(new DatamonRestoreOperation(std::move(target), std::move(*trash)));
    operation->m_parameters = parameters;
    operation->m_restores = parameters.value(u"window"_s).toString();
    operation->m_digest = digest;
    operation->m_objects = parameters.value(u"objects"_s).toInteger();
    return operation;
}

void DatamonRestoreOperation::ensureHost()
{
    if (!m_host)
        m_host = std::make_unique<DatamonHost>(
            m_target.context, m_target.host ? &*m_target.host : nullptr, m_target.sshSecret);
}

// Every expected object's place, from two listings: the repo's metadata as it is, and the trash.
std::optional<DatamonRestoreOperation::Places> DatamonRestoreOperation::observe(QString* error)
{
    ensureHost();
    const auto there = m_trash.listOriginals(*m_host, m_target, error);
    if (!there)
        return std::nullopt;
    const auto kept = m_trash.listKept(*m_host, m_target, error);
    if (!kept)
        return std::nullopt;
    QHash<QString, DatamonObject> atPlace, inTrash;
    for (const DatamonObject& object : *there)
        atPlace.insert(object.url(), object);
    for (const DatamonObject& object : *kept)
        inTrash.insert(object.url(), object);
    Places places;
    for (const DatamonObject& object : m_expected) {
        const auto place = atPlace.constFind(object.url());
        if (place != atPlace.cend())
            (*place == object ? places.back : places.taken) << object;
        else if (inTrash.value(object.url()) == object)
            places.missing << object;
        else
            places.lost << object;
    }
    return places;
}

bool DatamonRestoreOperation::makePlan(Plan* plan, QString* error)
{
    ensureHost();
    if (m_recovers.isEmpty()) {
        // What the trash holds must be exactly what the window kept: nothing is restored from a changed copy.
        const auto kept = m_trash.listKept(*m_host, m_target, error);
        if (!kept)
            return false;
        if (DatamonTrash::digest(*kept) != m_digest) {
            *error = u"%1 holds %2 objects, not the %3 run %4 kept (or they changed since): nothing is restored from "
                     "it"_s.arg(m_trash.url())
                         .arg(kept->size())
                         .arg(m_objects)
                         .arg(m_restores);
            return false;
        }
        m_expected = *kept;
    }
    const auto places = observe(error);
    if (!places)
        return false;
    if (!places->lost.isEmpty()) {
        *error = u"%1 of the kept objects are neither in %2 nor back at their places (%3): the restore cannot be "
                 "finished from the trash"_s.arg(places->lost.size())
                     .arg(m_trash.url(), names(places->lost));
        return false;
    }
    if (m_recovers.isEmpty() && places->missing.isEmpty() && !places->taken.isEmpty()) {
        *error = u"nothing would go back: the places of all %1 objects still in %2 are taken (%3). Once they are free, "
                 "restore again; or end the window with opsdeck trash purge %4"_s.arg(places->taken.size())
                     .arg(m_trash.url(), names(places->taken), m_restores);
        return false;
    }
    const QString repo = m_trash.repo();
    plan->operation = name();
    plan->target = u"%1/%2"_s.arg(m_target.context.name, repo);
    plan->targetName = m_parameters.value(u"confirmWith"_s).toString(plan->target);
    plan->lock = m_parameters.value(u"lock"_s).toString();
    plan->verb = u"Restore repo"_s;
    plan->production = m_target.context.tags.production;
    plan->readOnly = m_target.context.tags.readOnly;
    plan->irreversible = false;
    plan->parameters = m_parameters;
    plan->parameters.insert(u"expected"_s, DatamonTrash::objectsJson(m_expected));
    plan->undo.retentionSeconds = m_target.context.undo.retentionSeconds; // for what cannot go back (emptyTrash)
    // The runner checks, under the lock, that the window is still open. A recovery finishes a restore whose window
    // may be closed already.
    plan->parameters.remove(u"restores"_s);
    plan->parameters.remove(u"recovers"_s);
    plan->parameters.insert(
        m_recovers.isEmpty() ? u"restores"_s : u"recovers"_s, m_recovers.isEmpty() ? m_restores : m_recovers);
    plan->counts << Plan::Count { u"putBack"_s, u"Objects put back"_s, places->missing.size(),
        u"Metadata objects of the repo kept in the trash bucket and missing from their place: copied back."_s }
                 << Plan::Count { u"alreadyBack"_s, u"Objects already back"_s, places->back.size(),
                        u"Objects of the window already in their place, unchanged: left as they are."_s }
                 << Plan::Count { u"taken"_s, u"Objects whose place is taken (left as they are)"_s,
                        places->taken.size(),
                        u"Their name was used again since the delete (the repo made anew, a label set again)."_s }
                 << Plan::Count { u"bundles"_s, u"Bundles in the window"_s,
                        countNamed(m_expected, "bundles/"_L1, "/bundle.yaml"_L1),
                        u"The repo's bundles the window holds the metadata of."_s }
                 << Plan::Count { u"labels"_s, u"Labels in the window"_s,
                        countNamed(m_expected, "labels/"_L1, "/label.yaml"_L1),
                        u"The repo's labels the window holds."_s };
    plan->measures << Plan::Measure { u"objectsBack"_s, u"Objects back in their place"_s,
        u"The window's objects found in their place at the end."_s }
                   << Plan::Measure { u"objectsTaken"_s, u"Objects whose place is taken"_s, {}, false, u"taken"_s };
    QStringList copies;
    for (const QStringList& argv : m_trash.copyArgvs(m_target, m_trash.foldersWith(places->missing), true))
        copies << argv.join(u' ');
    plan->steps << Plan::Step { kPutBackStep,
        u"Copy repo %1's %2 missing metadata objects back from %3 (bundles and labels, then repo.yaml)"_s.arg(repo)
            .arg(places->missing.size())
            .arg(m_trash.url()),
        copies.join(u"; "_s), u"gcloud exits 0; an object that exists is never replaced"_s };
    plan->steps << Plan::Step { kVerifyStep,
        u"Check every object at its place, and that datamon sees repo %1"_s.arg(repo),
        u"gcloud storage objects list …; datamon2 repo get --repo %1"_s.arg(repo),
        u"each object's size and CRC32C as kept; repo get finds the repo"_s };
    plan->steps << Plan::Step { kCloseStep, u"Journal that run %1's undo window is restored"_s.arg(m_restores),
        u"undo-closed {window: %1, state: restored}"_s.arg(m_restores), u"the journal lists it as restored"_s };
    plan->steps << Plan::Step { kEmptyStep, u"Delete the copies that are back from %1"_s.arg(m_trash.url()),
        u"gcloud storage rm …"_s, u"what is left there is only what could not go back"_s };
    plan->undo.notRestorable << u"a restore only adds objects: to take it back, delete repo %1 again (which keeps a "
                                "window of its own)"_s.arg(repo);
    const bool repoTaken = std::any_of(places->taken.cbegin(), places->taken.cend(),
        [](const DatamonObject& object) { return object.name.startsWith("repos/"_L1); });
    if (repoTaken)
        plan->warnings << u"Repo %1 exists again (made anew since the delete): its repo.yaml stays as it is, and the "
                          "restored bundles and labels join it."_s.arg(repo);
    if (!places->taken.isEmpty())
        plan->warnings << u"%1 objects are there again with other content and stay as they are; their kept copies "
                          "stay in the trash under an undo window of this run: %2"_s.arg(places->taken.size())
                              .arg(names(places->taken));
    plan->details.insert(u"taken"_s, DatamonTrash::objectsJson(places->taken));
    plan->detailText = u"Run %1 deleted repo %2 of context %3; %4 metadata objects (%5 bytes) are kept in %6. %7 go "
                       "back, %8 are back already, %9 are left in the trash because their place is taken."_s
                           .arg(m_restores, repo, m_target.context.name)
                           .arg(m_expected.size())
                           .arg(DatamonTrash::bytes(m_expected))
                           .arg(m_trash.url())
                           .arg(places->missing.size())
                           .arg(places->back.size())
                           .arg(places->taken.size());
    return true;
}

// Bundles and labels first, together; repo.yaml last, so the repo shows only once the rest is there.
bool DatamonRestoreOperation::putBack(const QList<DatamonObject>& missing, RunContext& context, QString* error)
{
    const auto folders = m_trash.foldersWith(missing);
    QList<std::pair<QString, QString>> first, last;
    for (const auto& pair : folders)
        (pair == m_trash.folders().last() ? last : first) << pair;
    for (const auto& group : { first, last }) {
        if (group.isEmpty())
            continue;
        if (!m_trash.copy(*m_host, m_target, group, true, error))
            return false;
        QStringList where;
        for (const auto& [original, kept] : group)
            where << original;
        context.output(u"copied back what was missing in %1\n"_s.arg(where.join(u", "_s)));
    }
    return true;
}

bool DatamonRestoreOperation::execute(const Plan& plan, RunContext& context)
{
    Q_UNUSED(plan);
    const QString repo = m_trash.repo();
    QString error;
    context.begin(kPutBackStep);
    auto places = observe(&error);
    // A failed copy is tried once more: what is missing is all it copies, so a second try cannot do harm.
    for (int attempt = 0; places && places->lost.isEmpty() && !places->missing.isEmpty() && attempt < 2; ++attempt) {
        if (!putBack(places->missing, context, &error))
            qCWarning(lcDatamon) << "restore of" << repo << ": " << error;
        places = observe(&error);
    }
    if (!places || !places->lost.isEmpty() || !places->missing.isEmpty()) {
        const QString why = !places ? error
            : !places->lost.isEmpty()
            ? u"%1 kept objects are gone from the trash: %2"_s.arg(places->lost.size()).arg(names(places->lost))
            : u"%1 objects are still missing (%2)"_s.arg(places->missing.size()).arg(error);
        return leaveForRecovery(context, why, u"repo %1 is partly restored"_s.arg(repo),
            u"The restore of repo %1 stopped: %2. Nothing was replaced; run `opsdeck recover %3 --confirm %4` to copy "
            "the rest."_s);
    }
    context.succeed(
        u"%1 objects at their places, %2 left as they were"_s.arg(places->back.size()).arg(places->taken.size()));

    context.begin(kVerifyStep);
    ensureHost();
    DatamonQueries queries(*m_host, m_target);
    bool notFound = false;
    if (!queries.repo(repo, &notFound, &error)) {
        const QString why = notFound ? u"every object is back, yet datamon2 does not find repo %1"_s.arg(repo) : error;
        return leaveForRecovery(context, why, u"repo %1 is restored but not seen by datamon"_s.arg(repo),
            u"The restore of repo %1 could not be verified: %2. Run `opsdeck recover %3 --confirm %4` once datamon "
            "answers."_s);
    }
    context.succeed(u"datamon2 repo get finds %1"_s.arg(repo));
    context.record().after = { { u"objectsBack"_s, places->back.size() }, { u"objectsTaken"_s, places->taken.size() } };

    context.begin(kCloseStep);
    const QString summary = places->taken.isEmpty()
        ? u"Repo %1 of context %2 is restored as run %3 deleted it: %4 metadata objects back."_s
              .arg(repo, m_target.context.name, m_restores)
              .arg(places->back.size())
        : u"Repo %1 of context %2 is restored, but for %3 objects whose places were taken again and stay as they are "
          "(%4); their kept copies stay in %5 under this run's undo window."_s.arg(repo, m_target.context.name)
              .arg(places->taken.size())
              .arg(names(places->taken), m_trash.url());
    context.note(UndoWindow::kClosedKind, UndoWindows::closedData(m_restores, UndoWindow::State::Restored, summary));
    if (!context.journalError().isEmpty())
        return leaveForRecovery(context, context.journalError(), u"run %1's window is not closed"_s.arg(m_restores),
            summary + u" The journal could not record it (%2): run `opsdeck recover %3 --confirm %4`."_s);
    context.succeed();
    emptyTrash(*places, context);
    context.record().summary = summary;
    return true;
}

// The step fails and the run ends unfinished: `opsdeck recover` does what is left. `summary` has %1 (the repo), %2
// (why), %3 (this run) and %4 (what confirms the recovery).
bool DatamonRestoreOperation::leaveForRecovery(
    RunContext& context, const QString& why, const QString& state, const QString& summary)
{
    context.fail(why);
    context.skipRemaining();
    context.leaveOpen(state);
    context.record().summary
        = QString(summary).replace(u"%1"_s, m_trash.repo()).arg(why, context.record().id, context.plan().targetName);
    return false;
}

// What is back needs no copy any more. What could not go back stays, under a window of this run, so that it is
// restored (once its place is free) or ended like any other.
void DatamonRestoreOperation::emptyTrash(const Places& places, RunContext& context)
{
    context.begin(kEmptyStep);
    QString error;
    const bool removed = places.taken.isEmpty() ? m_trash.remove(*m_host, m_target, &error)
                                                : m_trash.removeKept(*m_host, m_target, places.back, &error);
    if (!removed) {
        // The repo is back either way: the copies only hold space.
        context.fail(u"%1; the copies stay in %2 and hold space: remove them with gcloud storage rm"_s.arg(
            error, m_trash.url()));
        return;
    }
    if (places.taken.isEmpty()) {
        context.succeed(u"%1 is empty"_s.arg(m_trash.url()));
        return;
    }
    UndoWindow window;
    window.where = m_trash.url();
    window.bytes = DatamonTrash::bytes(places.taken);
    window.restorable << u"the %1 objects of repo %2 whose places were taken at the restore (%3), once those places "
                         "are free"_s.arg(places.taken.size())
                             .arg(m_trash.repo(), names(places.taken));
    window.notRestorable << u"objects whose places are still taken: a restore never replaces one"_s;
    window.confirmWith = m_parameters.value(u"confirmWith"_s).toString();
    window.restore = m_parameters;
    for (const QString& key : { u"window"_s, u"expected"_s, u"restores"_s, u"recovers"_s })
        window.restore.remove(key);
    window.restore.insert(u"objects"_s, places.taken.size());
    window.restore.insert(u"digest"_s, DatamonTrash::digest(places.taken));
    if (!context.openUndoWindow(window)) {
        context.fail(
            u"%1: the %2 objects left in %3 are in no window; remove them with gcloud storage rm when they are "
            "not needed"_s.arg(context.journalError())
                .arg(places.taken.size())
                .arg(m_trash.url()));
        return;
    }
    context.succeed(u"%1 objects that could not go back stay in %2"_s.arg(places.taken.size()).arg(m_trash.url()));
}

bool DatamonRestoreOperation::endsExpired(const UndoWindow& window) const
{
    return DatamonDeleteRepoOperation::keptFor(window, m_target.context.name);
}

bool DatamonRestoreOperation::endWindow(const UndoWindow& window, QString* error)
{
    ensureHost();
    return DatamonTrash::removeWindowCopy(window.restore, *m_host, m_target, error);
}

} // namespace opsdeck
