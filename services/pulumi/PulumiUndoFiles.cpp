#include "pulumi/PulumiUndoFiles.h"

#include "config/NameRules.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSysInfo>

namespace opsdeck::PulumiUndoFiles {

QString dirFor(const QString& base, const QString& runId)
{
    return QDir::cleanPath(base) + u'/' + runId;
}

QString dirProblem(const QString& base, const QString& dir)
{
    static const QRegularExpression runName(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9-]{0,63}\\z"));
    const QFileInfo info(dir);
    if (!QDir::isAbsolutePath(base) || !QDir::isAbsolutePath(dir) || !NameRules::isStrictlyUnder(dir, base)
        || QDir::cleanPath(info.path()) != QDir::cleanPath(base) || !runName.match(info.fileName()).hasMatch())
        return QStringLiteral("%1 is not a run's folder right under %2").arg(dir, base);
    return {};
}

QString machine()
{
    return QSysInfo::machineHostName();
}

bool create(const QString& dir, QString* error)
{
    if (!QDir().mkpath(dir)
        || !QFile::setPermissions(dir, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner)) {
        *error = QStringLiteral("cannot create the folder %1 for the restore files").arg(dir);
        return false;
    }
    return true;
}

std::optional<Listed> list(const QString& dir, QString* error)
{
    Listed listed;
    const QDir folder(dir);
    for (const QString& name : folder.entryList({ QStringLiteral("*.rows") }, QDir::Files, QDir::Name)) {
        QFile file(folder.filePath(name));
        QCryptographicHash hash(QCryptographicHash::Sha256);
        if (!file.open(QIODevice::ReadOnly) || !hash.addData(&file)) {
            *error = QStringLiteral("cannot read %1: %2").arg(file.fileName(), file.errorString());
            return std::nullopt;
        }
        listed.sums.insert(name, QString::fromLatin1(hash.result().toHex()));
        listed.bytes += file.size();
    }
    return listed;
}

namespace {

// The window's folder, checked: under `base`, on this machine. Empty with *error if not.
QString checkedDir(const QString& base, const UndoWindow& window, QString* error)
{
    const QString dir = window.restore.value(QStringLiteral("dir")).toString();
    const QString where = window.restore.value(QStringLiteral("machine")).toString();
    if (const QString problem = dirProblem(base, dir); !problem.isEmpty()) {
        *error = problem;
        return {};
    }
    if (where != machine()) {
        *error = QStringLiteral("the restore files of run %1 are on %2 (%3), not on this machine: end the window "
                                "there")
                     .arg(window.runId, where, dir);
        return {};
    }
    return dir;
}

} // namespace

std::optional<UndoWindowEndOperation::KeptData> keptData(const QString& base, const UndoWindow& window, QString* error)
{
    const QString dir = checkedDir(base, window, error);
    const auto listed = dir.isEmpty() ? std::nullopt : list(dir, error);
    if (!listed)
        return std::nullopt;
    return UndoWindowEndOperation::KeptData { machine() + u':' + dir,
        { { QStringLiteral("files"), QStringLiteral("Restore files"), listed->sums.size(),
              QStringLiteral("Files on this console holding the rows the purge deleted: deleted.") },
            { QStringLiteral("bytes"), QStringLiteral("Bytes freed"), listed->bytes,
                QStringLiteral("The space those files take.") } },
        [base, window](QString* problem) { return remove(base, window, problem); } };
}

bool remove(const QString& base, const UndoWindow& window, QString* error)
{
    const QString dir = checkedDir(base, window, error);
    if (dir.isEmpty())
        return false;
    if (QDir(dir).exists() && !QDir(dir).removeRecursively()) {
        *error = QStringLiteral("cannot delete %1").arg(dir);
        return false;
    }
    return true;
}

} // namespace opsdeck::PulumiUndoFiles
