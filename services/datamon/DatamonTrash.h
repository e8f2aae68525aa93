#pragma once

#include "datamon/DatamonOutput.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>
#include <utility>

namespace opsdeck {

class DatamonHost;
struct DatamonTarget;

// One object of a repo's metadata, as gcloud storage lists it: where it is and what it holds.
struct DatamonObject
{
    QString bucket;
    QString name;
    qint64 size = 0;
    QString crc32c; // base64 of the big-endian CRC32C, as GCS gives it

    QString url() const { return QStringLiteral("gs://%1/%2").arg(bucket, name); }
    friend bool operator==(const DatamonObject&, const DatamonObject&) = default;
};

// Where a repo delete keeps the repo's metadata for its undo window, and how names map there and back: the object
// gs://B/N is kept as <trash>/<run id>/B/N. Only the repo's own objects go there (repos/R/, bundles/R/ in the
// metadata bucket, labels/R/ in the vmetadata bucket), and only to those places do they come back: a kept name that
// maps anywhere else is refused. The window journals how many objects it keeps and a digest of their names, sizes
// and CRC32Cs, so that a restore knows the trash holds exactly what the delete took.
class DatamonTrash
{
public:
    // `base`: gs://BUCKET[/FOLDER], as base() gives it.
    DatamonTrash(const DatamonContextBuckets& buckets, const QString& base, const QString& runId, const QString& repo);
    // The context's trash setting (gs://BUCKET[/FOLDER], checked by the inventory), or gs://<metadata>/opsdeck-trash.
    static QString base(const DatamonContextBuckets& buckets, const QString& setting);
    // From an undo window's (or a run's) restore data; nullopt with *error when it is not one opsdeck wrote.
    static std::optional<DatamonTrash> fromJson(const QJsonObject& data, QString* error);
    // {trashBucket, trashFolder, metadata, vmetadata, blob, repo, run}
    QJsonObject toJson() const;
    // Why the trash cannot be where it is (inside datamon's own folders of its buckets), or empty.
    QString placeProblem() const;

    const QString& repo() const { return m_repo; }
    const QString& blobBucket() const { return m_blob; }
    // gs://BUCKET/FOLDER/: the run's folder in the trash.
    QString url() const;
    // The repo's metadata where datamon keeps it, as gcloud storage patterns.
    QStringList originalPatterns() const;
    // Everything in the run's folder.
    QString trashPattern() const;
    // The repo's folders and theirs in the trash, in the order a restore puts them back: bundles, labels, and the
    // repo's own folder (repo.yaml) last, so that the repo shows only once it is whole.
    QList<std::pair<QString, QString>> folders() const;
    // Of the folders, those `objects` (originals) have something in.
    QList<std::pair<QString, QString>> foldersWith(const QList<DatamonObject>& objects) const;
    // The original of a kept object; nullopt with *error when its name maps outside the repo's metadata.
    std::optional<DatamonObject> original(const DatamonObject& kept, QString* error) const;
    // Whether `object` is one of the repo's metadata objects (what a delete may keep).
    bool isRepoObject(const DatamonObject& object) const;

    // gcloud storage objects list's format for what listing() reads.
    static QString listFormat();
    static std::optional<QList<DatamonObject>> parseListing(const QByteArray& json, QString* error);
    // sha256 (hex) of the sorted "bucket/name size crc32c" lines: what the window journals.
    static QString digest(const QList<DatamonObject>& objects);
    static qint64 bytes(const QList<DatamonObject>& objects);
    // For a run's parameters: [[bucket, name, size, crc32c], ...], and back (nullopt with *error when malformed).
    static QJsonArray objectsJson(const QList<DatamonObject>& objects);
    static std::optional<QList<DatamonObject>> objectsFrom(const QJsonArray& array, QString* error);

    // The repo's objects as they are now (originals), or what the run's folder holds, mapped back to the originals.
    std::optional<QList<DatamonObject>> listOriginals(
        DatamonHost& host, const DatamonTarget& target, QString* error) const;
    std::optional<QList<DatamonObject>> listKept(DatamonHost& host, const DatamonTarget& target, QString* error) const;
    // The gcloud storage commands that copy `folders` (pairs of folders()): into the trash, or back, never replacing an
    // object that exists. cp --recursive, so that the objects keep their content type and metadata.
    QList<QStringList> copyArgvs(
        const DatamonTarget& target, const QList<std::pair<QString, QString>>& folders, bool back) const;
    // Runs them all at once; false with *error naming the folders that failed.
    bool copy(DatamonHost& host,
        const DatamonTarget& target,
        const QList<std::pair<QString, QString>>& folders,
        bool back,
        QString* error) const;
    // Ends a window's copy: the trash its restore data names is deleted (remove()); false with *error when the data is
    // not a trash's or the copy stays.
    static bool removeWindowCopy(
        const QJsonObject& restore, DatamonHost& host, const DatamonTarget& target, QString* error);
    // Deletes the run's folder; true once a listing finds nothing there.
    bool remove(DatamonHost& host, const DatamonTarget& target, QString* error) const;
    // Deletes these kept objects (those a restore put back), each by its name in the trash.
    bool removeKept(
        DatamonHost& host, const DatamonTarget& target, const QList<DatamonObject>& originals, QString* error) const;

private:
    DatamonTrash() = default;
    QString keptUrl(const DatamonObject& original) const;
    std::optional<QList<DatamonObject>> list(
        DatamonHost& host, const DatamonTarget& target, const QStringList& patterns, QString* error) const;

    QString m_trashBucket;
    QString m_folder; // PREFIX/<run id>, without slashes at either end
    QString m_metadata;
    QString m_vmetadata;
    QString m_blob;
    QString m_repo;
    QString m_run;
};

} // namespace opsdeck
