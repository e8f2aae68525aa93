#pragma once

#include "Sandbox.h"

#include <QJsonObject>
#include <QSqlDatabase>
#include <QString>
#include <QStringList>

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
    // Where the host's instance roots are (its outpackBase), and what wipes and restores keep beside them.
    QString outpackBase(const QString& host) const;
    QString instanceRoot(const QString& host, const QString& instance) const;
    // What wipes and restores of the instance left beside its root, sorted: ".opsdeck-KIND-INSTANCE-TAG", then its
    // ".restore"; `kind` "wipe", "restore", or empty for both.
    QStringList keptPaths(const QString& host, const QString& instance, const QString& kind = {}) const;
    // DIR/packit/INSTANCE.json: the counts the seed wrote.
    QJsonObject seeded(const QString& instance) const;
    // A connection (made once, named like the instance) to the instance's database.
    QSqlDatabase database(const QString& instance) const;
    // The first column of the first row, -1 on failure.
    qint64 count(const QString& instance, const QString& sql) const;
    // Everything an instance holds, as one fingerprint: table row checksums and the root's file list.
    QString fingerprint(const QString& host, const QString& instance) const;
    // The three sequences a Packit wipe's bundle records, as "packet_group_id_seq=31/f,..." (last_value/is_called);
    // empty on failure.
    QString sequences(const QString& instance) const;
    // Every file under `dir` by its path and the sha256 of its content, as one digest; "missing" if there is no dir.
    static QString treeDigest(const QString& dir);
    // fingerprint(), plus sequences() and the treeDigest() of the root: what a restore must give back exactly, ids
    // and file contents too. Readable parts ("rows+files:… sequences:… contents:…"), so that a failed comparison
    // shows which differs; empty if a part could not be read.
    QString fullFingerprint(const QString& host, const QString& instance) const;
    // Rows and file list (fingerprint()) and file contents (treeDigest() of the root): fullFingerprint() without the
    // sequences.
    QString rowsAndContents(const QString& host, const QString& instance) const;
    // Pushes `n` new packets into the instance, as Packit's import of an outpack push would leave them: a packet row
    // each (ids in outpack's form, after every seeded one), a packet_group row for their name if it has none, and in
    // the root each packet's metadata, location entry and file. Their ids; empty with *error otherwise.
    QStringList pushPackets(const QString& host, const QString& instance, int n, QString* error) const;
    // `systemctl is-active UNIT` on the host, over the system's ssh.
    QString unitState(const QString& host, const QString& unit) const;
    // Runs argv on the host over the system's ssh; returns its exit code (-1 if it did not finish).
    int ssh(const QString& host, const QStringList& argv, QByteArray* output = nullptr) const;
    // Brings an instance back to its seeded state (database, root, moved-aside roots and restore bundles of wipes
    // and restores gone, units active), as `sandbox up` made it; false with *error otherwise.
    bool reseed(const QString& host, const QString& instance, QString* error) const;

private:
    const Sandbox& m_sandbox;
};

} // namespace opsdeck::test
