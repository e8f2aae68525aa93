#include "datamon/DatamonTrash.h"

#include "datamon/DatamonHost.h"
#include "datamon/DatamonTarget.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace opsdeck {

namespace {

constexpr int kListTimeoutMs = 10 * 60 * 1000;
constexpr int kCopyTimeoutMs = 60 * 60 * 1000; // a repo of many bundles is many objects
constexpr qsizetype kRemoveChunk = 200; // object URLs per gcloud storage rm

const QString kDefaultFolder = u"opsdeck-trash"_s;

bool validBucket(const QString& name)
{
    static const QRegularExpression bucket(u"^[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]\\z"_s);
    return bucket.match(name).hasMatch();
}

// gs://B/a/b/ of gs://B/a/b/c: `cp -r` copies folder c into it as c, whether or not it exists yet.
QString parentOf(const QString& folder)
{
    return folder.left(folder.lastIndexOf(u'/') + 1);
}

bool validFolder(const QString& folder)
{
    static const QRegularExpression part(u"^[A-Za-z0-9_.-]+\\z"_s);
    const QStringList parts = folder.split(u'/');
    return !folder.isEmpty() && std::all_of(parts.cbegin(), parts.cend(), [](const QString& p) {
        return p != u"."_s && p != u".."_s && part.match(p).hasMatch();
    });
}

} // namespace

DatamonTrash::DatamonTrash(
    const DatamonContextBuckets& buckets, const QString& base, const QString& runId, const QString& repo)
    : m_metadata(buckets.metadata)
    , m_vmetadata(buckets.vmetadata)
    , m_blob(buckets.blob)
    , m_repo(repo)
    , m_run(runId)
{
    const QString path = base.mid(5); // after gs://
    const qsizetype slash = path.indexOf(u'/');
    m_trashBucket = path.left(slash);
    const QString folder = slash < 0 ? QString() : path.mid(slash + 1);
    m_folder = folder.isEmpty() ? runId : folder + u'/' + runId;
}

QString DatamonTrash::base(const DatamonContextBuckets& buckets, const QString& setting)
{
    return setting.isEmpty() ? u"gs://%1/%2"_s.arg(buckets.metadata, kDefaultFolder) : setting;
}

std::optional<DatamonTrash> DatamonTrash::fromJson(const QJsonObject& data, QString* error)
{
    DatamonTrash trash;
    trash.m_trashBucket = data.value("trashBucket"_L1).toString();
    trash.m_folder = data.value("trashFolder"_L1).toString();
    trash.m_metadata = data.value("metadata"_L1).toString();
    trash.m_vmetadata = data.value("vmetadata"_L1).toString();
    trash.m_blob = data.value("blob"_L1).toString();
    trash.m_repo = data.value("repo"_L1).toString();
    trash.m_run = data.value("run"_L1).toString();
    for (const QString* bucket : { &trash.m_trashBucket, &trash.m_metadata, &trash.m_vmetadata, &trash.m_blob }) {
        if (!validBucket(*bucket)) {
            *error = u"the trash's data names no valid bucket (\"%1\")"_s.arg(bucket->left(80));
            return std::nullopt;
        }
    }
    if (!validFolder(trash.m_folder) || !validFolder(trash.m_run) || trash.m_run.contains(u'/')
        || (trash.m_folder != trash.m_run && !trash.m_folder.endsWith(u'/' + trash.m_run))) {
        *error = u"the trash's data names no valid folder (\"%1\")"_s.arg(trash.m_folder.left(120));
        return std::nullopt;
    }
    if (const QString problem = DatamonTarget::repoError(trash.m_repo); !problem.isEmpty()) {
        *error = u"the trash's data: %1"_s.arg(problem);
        return std::nullopt;
    }
    return trash;
}

QString DatamonTrash::placeProblem() const
{
    // Where datamon keeps its own objects: a copy there would be datamon's (a repo, bundles, labels, an index chunk).
    const QString first = m_folder.section(u'/', 0, 0);
    const bool datamons
        = (m_trashBucket == m_metadata && QStringList { u"repos"_s, u"bundles"_s, u"reverse-index"_s }.contains(first))
        || (m_trashBucket == m_vmetadata && first == u"labels"_s);
    return datamons
        ? u"the trash gs://%1/%2/ lies in datamon's own %2/ folder of that bucket: give the context a trash "
          "prefix of its own (inventory datamon trash:)"_s.arg(m_trashBucket, first)
        : QString();
}

QJsonObject DatamonTrash::toJson() const
{
    return { { u"trashBucket"_s, m_trashBucket }, { u"trashFolder"_s, m_folder }, { u"metadata"_s, m_metadata },
        { u"vmetadata"_s, m_vmetadata }, { u"blob"_s, m_blob }, { u"repo"_s, m_repo }, { u"run"_s, m_run } };
}

QString DatamonTrash::url() const
{
    return u"gs://%1/%2/"_s.arg(m_trashBucket, m_folder);
}

QStringList DatamonTrash::originalPatterns() const
{
    QStringList patterns;
    for (const auto& [original, kept] : folders())
        patterns << original + u"/**"_s;
    return patterns;
}

QString DatamonTrash::trashPattern() const
{
    return url() + u"**"_s;
}

QList<std::pair<QString, QString>> DatamonTrash::folders() const
{
    QList<std::pair<QString, QString>> pairs;
    for (const auto& [bucket, folder] : { std::pair(m_metadata, u"bundles"_s), std::pair(m_vmetadata, u"labels"_s),
             std::pair(m_metadata, u"repos"_s) }) {
        const QString name = u"%1/%2/%3"_s.arg(bucket, folder, m_repo);
        pairs << std::pair(u"gs://"_s + name, url() + name);
    }
    return pairs;
}

QList<std::pair<QString, QString>> DatamonTrash::foldersWith(const QList<DatamonObject>& objects) const
{
    QList<std::pair<QString, QString>> with;
    for (const auto& pair : folders()) {
        const QString prefix = pair.first + u'/';
        if (std::any_of(objects.cbegin(), objects.cend(),
                [&](const DatamonObject& object) { return object.url().startsWith(prefix); }))
            with << pair;
    }
    return with;
}

bool DatamonTrash::isRepoObject(const DatamonObject& object) const
{
    const auto under = [&](const QString& folder) { return object.name.startsWith(folder + u'/' + m_repo + u'/'); };
    return (object.bucket == m_metadata && (under(u"repos"_s) || under(u"bundles"_s)))
        || (object.bucket == m_vmetadata && under(u"labels"_s));
}

QString DatamonTrash::keptUrl(const DatamonObject& original) const
{
    return url() + original.bucket + u'/' + original.name;
}

std::optional<DatamonObject> DatamonTrash::original(const DatamonObject& kept, QString* error) const
{
    const QString folder = m_folder + u'/';
    const qsizetype slash = kept.name.indexOf(u'/', folder.size());
    DatamonObject original = kept;
    if (kept.bucket == m_trashBucket && kept.name.startsWith(folder) && slash > folder.size()) {
        original.bucket = kept.name.mid(folder.size(), slash - folder.size());
        original.name = kept.name.mid(slash + 1);
        if (isRepoObject(original))
            return original;
    }
    *error
        = u"%1 is not a kept object of repo %2 (it maps to no place of the repo's metadata)"_s.arg(kept.url(), m_repo);
    return std::nullopt;
}

QString DatamonTrash::listFormat()
{
    return u"json(bucket,name,size,crc32c_hash)"_s;
}

std::optional<QList<DatamonObject>> DatamonTrash::parseListing(const QByteArray& json, QString* error)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(json, &parseError);
    if (!document.isArray()) {
        *error = u"the object listing is not a JSON array (%1)"_s.arg(
            parseError.error == QJsonParseError::NoError ? u"another JSON value"_s : parseError.errorString());
        return std::nullopt;
    }
    QList<DatamonObject> objects;
    for (const QJsonValue& value : document.array()) {
        const QJsonObject o = value.toObject();
        DatamonObject object;
        object.bucket = o.value("bucket"_L1).toString();
        object.name = o.value("name"_L1).toString();
        object.crc32c = o.value("crc32c_hash"_L1).toString();
        const QJsonValue size = o.value("size"_L1);
        bool ok = size.isDouble();
        object.size = ok ? size.toInteger(-1) : size.toString().toLongLong(&ok);
        if (!validBucket(object.bucket) || object.name.isEmpty() || object.crc32c.isEmpty() || !ok || object.size < 0) {
            *error
                = u"entry %1 of the object listing lacks a bucket, name, size or crc32c_hash"_s.arg(objects.size() + 1);
            return std::nullopt;
        }
        objects << object;
    }
    return objects;
}

QString DatamonTrash::digest(const QList<DatamonObject>& objects)
{
    QStringList lines;
    for (const DatamonObject& object : objects)
        lines << u"%1\t%2\t%3"_s.arg(object.url()).arg(object.size).arg(object.crc32c);
    lines.sort();
    return QString::fromLatin1(
        QCryptographicHash::hash(lines.join(u'\n').toUtf8(), QCryptographicHash::Sha256).toHex());
}

qint64 DatamonTrash::bytes(const QList<DatamonObject>& objects)
{
    qint64 total = 0;
    for (const DatamonObject& object : objects)
        total += object.size;
    return total;
}

QJsonArray DatamonTrash::objectsJson(const QList<DatamonObject>& objects)
{
    QJsonArray array;
    for (const DatamonObject& object : objects)
        array << QJsonArray { object.bucket, object.name, object.size, object.crc32c };
    return array;
}

std::optional<QList<DatamonObject>> DatamonTrash::objectsFrom(const QJsonArray& array, QString* error)
{
    QList<DatamonObject> objects;
    for (const QJsonValue& value : array) {
        const QJsonArray a = value.toArray();
        DatamonObject object { a.at(0).toString(), a.at(1).toString(), a.at(2).toInteger(-1), a.at(3).toString() };
        if (a.size() != 4 || !validBucket(object.bucket) || object.name.isEmpty() || object.size < 0
            || object.crc32c.isEmpty()) {
            *error = u"object %1 of the list is not [bucket, name, size, crc32c]"_s.arg(objects.size() + 1);
            return std::nullopt;
        }
        objects << object;
    }
    return objects;
}

std::optional<QList<DatamonObject>> DatamonTrash::list(
    DatamonHost& host, const DatamonTarget& target, const QStringList& patterns, QString* error) const
{
    const ExecResult result = host.run(target.gcloudStorage(QStringList { u"objects"_s, u"list"_s } + patterns
                                           + QStringList { u"--format="_s + listFormat() }),
        kListTimeoutMs);
    if (!result.succeeded()) {
        *error = u"listing %1 with %2 on %3 failed: %4"_s.arg(
            patterns.join(u' '), target.context.gcloud, host.where(), result.describe());
        return std::nullopt;
    }
    QString problem;
    auto objects = parseListing(result.stdoutData, &problem);
    if (!objects)
        *error = u"listing %1: %2"_s.arg(patterns.join(u' '), problem);
    return objects;
}

std::optional<QList<DatamonObject>> DatamonTrash::listOriginals(
    DatamonHost& host, const DatamonTarget& target, QString* error) const
{
    auto objects = list(host, target, originalPatterns(), error);
    if (!objects)
        return std::nullopt;
    for (const DatamonObject& object : *objects) {
        if (!isRepoObject(object)) { // gcloud's wildcards are not datamon's names: never take anything else
            *error = u"listing repo %1's metadata gave %2, which is not in it"_s.arg(m_repo, object.url());
            return std::nullopt;
        }
    }
    return objects;
}

std::optional<QList<DatamonObject>> DatamonTrash::listKept(
    DatamonHost& host, const DatamonTarget& target, QString* error) const
{
    const auto kept = list(host, target, { trashPattern() }, error);
    if (!kept)
        return std::nullopt;
    QList<DatamonObject> originals;
    for (const DatamonObject& object : *kept) {
        const auto mapped = original(object, error);
        if (!mapped)
            return std::nullopt;
        originals << *mapped;
    }
    return originals;
}

QList<QStringList> DatamonTrash::copyArgvs(
    const DatamonTarget& target, const QList<std::pair<QString, QString>>& folders, bool back) const
{
    // cp, not rsync: rsync's copies lose the content type and gain rsync's own metadata.
    QList<QStringList> argvs;
    for (const auto& [original, kept] : folders)
        argvs << (back
                ? target.gcloudStorage({ u"cp"_s, u"--recursive"_s, u"--no-clobber"_s, kept, parentOf(original) })
                : target.gcloudStorage({ u"cp"_s, u"--recursive"_s, original, parentOf(kept) }));
    return argvs;
}

bool DatamonTrash::copy(DatamonHost& host,
    const DatamonTarget& target,
    const QList<std::pair<QString, QString>>& folders,
    bool back,
    QString* error) const
{
    const QList<ExecResult> results = host.runTogether(copyArgvs(target, folders, back), kCopyTimeoutMs);
    QStringList failed;
    for (qsizetype i = 0; i < results.size(); ++i) {
        if (!results[i].succeeded())
            failed << u"%1 (%2)"_s.arg(folders[i].first, results[i].describe());
    }
    if (!failed.isEmpty())
        *error = u"copying %1 %2 on %3 failed: %4"_s.arg(
            back ? u"back from"_s : u"into"_s, url(), host.where(), failed.join(u"; "_s));
    return failed.isEmpty();
}

bool DatamonTrash::removeWindowCopy(
    const QJsonObject& restore, DatamonHost& host, const DatamonTarget& target, QString* error)
{
    const auto trash = fromJson(restore, error);
    return trash && trash->remove(host, target, error);
}

bool DatamonTrash::remove(DatamonHost& host, const DatamonTarget& target, QString* error) const
{
    // rm fails when nothing matches (a removal that already ran): the listing after it decides.
    const ExecResult result = host.run(target.gcloudStorage({ u"rm"_s, trashPattern() }), kCopyTimeoutMs);
    const auto left = list(host, target, { trashPattern() }, error);
    if (!left)
        return false;
    if (!left->isEmpty()) {
        *error = u"%1 still holds %2 objects after gcloud storage rm on %3 (%4)"_s.arg(url())
                     .arg(left->size())
                     .arg(host.where(), result.describe());
        return false;
    }
    return true;
}

bool DatamonTrash::removeKept(
    DatamonHost& host, const DatamonTarget& target, const QList<DatamonObject>& originals, QString* error) const
{
    for (qsizetype at = 0; at < originals.size(); at += kRemoveChunk) {
        QStringList words { u"rm"_s };
        for (const DatamonObject& object : originals.mid(at, kRemoveChunk))
            words << keptUrl(object);
        const ExecResult result = host.run(target.gcloudStorage(words), kCopyTimeoutMs);
        if (!result.succeeded()) {
            *error = u"removing kept objects from %1 on %2 failed: %3"_s.arg(url(), host.where(), result.describe());
            return false;
        }
    }
    return true;
}

} // namespace opsdeck
