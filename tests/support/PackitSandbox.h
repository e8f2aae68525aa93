#pragma once

#include "Sandbox.h"

#include <QJsonObject>
#include <QSqlDatabase>
#include <QString>

namespace opsdeck::test {

// The sandbox's Packit world as the wipe tests look at it: each instance's root, rows, units and seed.
class PackitSandbox
{
public:
    explicit PackitSandbox(const Sandbox& sandbox)
        : m_sandbox(sandbox)
    {
    }

    QString hostRoot(const QString& host) const;
    QString instanceRoot(const QString& host, const QString& instance) const;
    // DIR/packit/INSTANCE.json: the counts the seed wrote.
    QJsonObject seeded(const QString& instance) const;
    // A connection (made once, named like the instance) to the instance's database.
    QSqlDatabase database(const QString& instance) const;
    // The first column of the first row, -1 on failure.
    qint64 count(const QString& instance, const QString& sql) const;
    // Everything an instance holds, as one fingerprint: table row checksums and the root's file list.
    QString fingerprint(const QString& host, const QString& instance) const;
    // `systemctl is-active UNIT` on the host, over the system's ssh.
    QString unitState(const QString& host, const QString& unit) const;
    // Runs argv on the host over the system's ssh; returns its exit code (-1 if it did not finish).
    int ssh(const QString& host, const QStringList& argv, QByteArray* output = nullptr) const;
    // Brings an instance back to its seeded state (database, root, moved-aside roots gone, units active), as
    // `sandbox up` made it; false with *error otherwise.
    bool reseed(const QString& host, const QString& instance, QString* error) const;

private:
    const Sandbox& m_sandbox;
};

} // namespace opsdeck::test
