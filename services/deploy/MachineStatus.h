#pragma once

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QMetaType>
#include <QString>

namespace opsdeck {

// What a deploy machine runs compared with the branch it should run. Exactly one per machine.
enum class DeployState
{
    UpToDate, // the branch's head commit
    ConfigMatches, // an older commit, but the same narHash: the configuration is the branch's
    Behind, // another configuration: commits to deploy
    Dirty, // deployed from a worktree with uncommitted changes: no commit describes it
    Unreachable, // its metrics could not be read
    Unknown // read, but nothing to compare (no revision, or the branch could not be read)
};

// The Packit and outpack_server revisions one instance reports (packit_api_build_info,
// outpack_server_build_info).
struct InstanceBuild
{
    QString instance;
    QString packit;
    QString outpack;
    QString error;
};

struct MachineStatus
{
    QString machine;
    QString revision; // as deployed, "-dirty" included
    QString narHash;
    bool dirty = false;
    QString expectedRevision; // the branch's head
    QString expectedNarHash; // nixos_source_info of this machine on the branch
    int behindBy = -1; // commits on the branch the machine lacks; -1 unknown
    QString compareStatus; // GitHub's: identical, ahead, behind, diverged
    QList<InstanceBuild> instances;
    DeployState state = DeployState::Unknown;
    QDateTime checkedAt;
    qint64 elapsedMs = 0; // how long reading this machine took
    QString error; // what could not be read, and what to do

    QJsonObject toJson() const;
    // A revision for people: its first ten characters, "-dirty" kept; empty stays empty.
    static QString shortRevision(const QString& revision);

    static QString stateName(DeployState state); // "up-to-date", "config-matches", ...
    static QString stateTitle(DeployState state); // "Up to date"
    static QString stateExplanation(DeployState state); // a tooltip's sentence
    static DeployState stateFromName(const QString& name);
};

// The branch side of the matrix: its head commit and the narHash each machine should have.
struct BranchSnapshot
{
    QString revision;
    QMap<QString, QString> narHashByMachine;
    QString error;
};

namespace DeployClassifier {
// Pure: the state from what was read (its compareStatus included). `readError`: the machine could not be read.
DeployState classify(const MachineStatus& status, const BranchSnapshot& branch, bool readError);
} // namespace DeployClassifier

} // namespace opsdeck

Q_DECLARE_METATYPE(opsdeck::MachineStatus)
