#include "core/SyncedFile.h"

#include <QDir>
#include <QFileInfo>

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace opsdeck {

namespace {

QString systemError()
{
    return QString::fromLocal8Bit(std::strerror(errno));
}

} // namespace

SyncedFile::SyncedFile(const QString& path)
    : m_file(path)
{
    // Never write in place: a file that is not whole must not carry the name.
    m_file.setDirectWriteFallback(false);
}

bool SyncedFile::open(QString* error)
{
    // QSaveFile's rename would replace an existing file: check first (two exports of one target in the same second
    // and directory are the only race left, and each names its target and time).
    if (QFileInfo::exists(path()))
        return fail(QStringLiteral("it exists already"), error);
    if (!QDir().mkpath(QFileInfo(path()).absolutePath()))
        return fail(QStringLiteral("cannot create its directory"), error);
    if (!m_file.open(QIODevice::WriteOnly))
        return fail(m_file.errorString(), error);
    return true;
}

void SyncedFile::write(const QByteArray& data)
{
    if (m_file.write(data) != data.size())
        m_writeFailed = true;
}

bool SyncedFile::commit(QString* error)
{
    if (m_writeFailed || !m_file.flush()) {
        const QString reason = m_file.errorString();
        m_file.cancelWriting(); // the destructor removes the temporary
        return fail(reason, error);
    }
    if (::fsync(m_file.handle()) != 0) {
        const QString reason = QStringLiteral("fsync: ") + systemError();
        m_file.cancelWriting();
        return fail(reason, error);
    }
    if (!m_file.commit())
        return fail(m_file.errorString(), error);
    const QByteArray directory = QFile::encodeName(QFileInfo(path()).absolutePath());
    const int fd = ::open(directory.constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return fail(QStringLiteral("opening its directory to sync it: ") + systemError(), error);
    const bool synced = ::fsync(fd) == 0;
    const QString reason = synced ? QString() : systemError();
    ::close(fd);
    if (!synced)
        return fail(QStringLiteral("syncing its directory: ") + reason, error);
    return true;
}

bool SyncedFile::fail(const QString& what, QString* error)
{
    *error = QStringLiteral("cannot write %1: %2").arg(path(), what);
    return false;
}

} // namespace opsdeck
