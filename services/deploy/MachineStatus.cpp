#include "deploy/MachineStatus.h"

#include <QJsonArray>

namespace opsdeck {

QJsonObject MachineStatus::toJson() const
{
    QJsonArray builds;
    for (const InstanceBuild& b : instances)
        builds.append(QJsonObject { { QStringLiteral("instance"), b.instance },
            { QStringLiteral("packit"), b.packit.isEmpty() ? QJsonValue() : QJsonValue(b.packit) },
            { QStringLiteral("outpackServer"), b.outpack.isEmpty() ? QJsonValue() : QJsonValue(b.outpack) },
            { QStringLiteral("error"), b.error.isEmpty() ? QJsonValue() : QJsonValue(b.error) } });
    const auto orNull = [](const QString& s) { return s.isEmpty() ? QJsonValue() : QJsonValue(s); };
    return QJsonObject {
        { QStringLiteral("machine"), machine },
        { QStringLiteral("revision"), orNull(revision) },
        { QStringLiteral("narHash"), orNull(narHash) },
        { QStringLiteral("dirty"), dirty },
        { QStringLiteral("expectedRevision"), orNull(expectedRevision) },
        { QStringLiteral("expectedNarHash"), orNull(expectedNarHash) },
        { QStringLiteral("behindBy"), behindBy < 0 ? QJsonValue() : QJsonValue(behindBy) },
        { QStringLiteral("compareStatus"), orNull(compareStatus) },
        { QStringLiteral("instances"), builds },
        { QStringLiteral("state"), stateName(state) },
        { QStringLiteral("checkedAt"), checkedAt.toUTC().toString(Qt::ISODateWithMs) },
        { QStringLiteral("elapsedMs"), elapsedMs },
        { QStringLiteral("error"), orNull(error) },
    };
}

QString MachineStatus::shortRevision(const QString& revision)
{
    return revision.endsWith(QStringLiteral("-dirty")) ? revision.left(10) + QStringLiteral("-dirty")
                                                       : revision.left(10);
}

QString MachineStatus::stateName(DeployState state)
{
    switch (state) {
    case DeployState::UpToDate:
        return QStringLiteral("up-to-date");
    case DeployState::ConfigMatches:
        return QStringLiteral("config-matches");
    case DeployState::Behind:
        return QStringLiteral("behind");
    case DeployState::Dirty:
        return QStringLiteral("dirty");
    case DeployState::Unreachable:
        return QStringLiteral("unreachable");
    case DeployState::Unknown:
        break;
    }
    return QStringLiteral("unknown");
}

DeployState MachineStatus::stateFromName(const QString& name)
{
    for (DeployState s : { DeployState::UpToDate, DeployState::ConfigMatches, DeployState::Behind, DeployState::Dirty,
             DeployState::Unreachable }) {
        if (stateName(s) == name)
            return s;
    }
    return DeployState::Unknown;
}

QString MachineStatus::stateTitle(DeployState state)
{
    switch (state) {
    case DeployState::UpToDate:
        return QStringLiteral("Up to date");
    case DeployState::ConfigMatches:
        return QStringLiteral("Config matches");
    case DeployState::Behind:
        return QStringLiteral("Behind");
    case DeployState::Dirty:
        return QStringLiteral("Dirty");
    case DeployState::Unreachable:
        return QStringLiteral("Unreachable");
    case DeployState::Unknown:
        break;
    }
    return QStringLiteral("Unknown");
}

QString MachineStatus::stateExplanation(DeployState state)
{
    switch (state) {
    case DeployState::UpToDate:
        return QStringLiteral("Runs the head commit of the branch. Nothing to deploy.");
    case DeployState::ConfigMatches:
        return QStringLiteral("Runs an older commit whose system has the same narHash as the branch's: the "
                              "configuration is current, only commits that change nothing on this machine are "
                              "missing. Deploy to make the revision match.");
    case DeployState::Behind:
        return QStringLiteral("Runs a different configuration from the branch's head: deploy the branch.");
    case DeployState::Dirty:
        return QStringLiteral("Was deployed from a worktree with uncommitted changes (revision ends in -dirty): no "
                              "commit describes what runs. Deploy the branch to get back to a known state.");
    case DeployState::Unreachable:
        return QStringLiteral("Its deployed revision could not be read (SSH or the metrics proxy failed). See the "
                              "error; check that the machine is up.");
    case DeployState::Unknown:
        break;
    }
    return QStringLiteral("The machine answered, but it cannot be placed: it reports no revision, runs a commit the "
                          "branch does not contain yet, or the branch could not be read from GitHub. See the error.");
}

namespace DeployClassifier {

DeployState classify(const MachineStatus& status, const BranchSnapshot& branch, bool readError)
{
    if (readError)
        return DeployState::Unreachable;
    if (status.revision.isEmpty() || status.revision == QStringLiteral("unknown"))
        return DeployState::Unknown;
    if (status.dirty)
        return DeployState::Dirty;
    if (branch.revision.isEmpty())
        return DeployState::Unknown;
    if (status.revision == branch.revision)
        return DeployState::UpToDate;
    // A commit the branch does not have yet (GitHub: the branch is "behind" it) is no state of the six: say so.
    if (status.compareStatus == QStringLiteral("behind"))
        return DeployState::Unknown;
    const QString expected = branch.narHashByMachine.value(status.machine);
    if (!expected.isEmpty() && !status.narHash.isEmpty() && expected == status.narHash)
        return DeployState::ConfigMatches;
    return DeployState::Behind;
}

} // namespace DeployClassifier

} // namespace opsdeck
