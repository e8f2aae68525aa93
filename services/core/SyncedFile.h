#pragma once

#include <QByteArray>
#include <QSaveFile>
#include <QString>

namespace opsdeck {

// A file that an operation writes before it deletes anything (an export of what it is about to delete): whole or
// not at all, and on disk once commit() returns true. QSaveFile writes a temporary beside the path and renames it
// over the path; before the rename the temporary's data is synced (fsync), and after it the directory (fsync of
// the directory, which makes the new name itself durable). So neither a crash nor a power cut after commit() can
// leave the name missing or pointing at partial data, and before commit() the name does not exist.
class SyncedFile
{
public:
    explicit SyncedFile(const QString& path);

    // Refuses a path that exists: an export never replaces an earlier one.
    bool open(QString* error);
    // Errors are kept and reported by commit().
    void write(const QByteArray& data);
    bool commit(QString* error);

    QString path() const { return m_file.fileName(); }

private:
    bool fail(const QString& what, QString* error);

    QSaveFile m_file;
    bool m_writeFailed = false;
};

} // namespace opsdeck
