#pragma once

#include "deploy/DeploySetup.h"
#include "deploy/MachineStatus.h"

#include <QMutex>

#include <atomic>
#include <functional>
#include <future>
#include <memory>

namespace opsdeck {

class GithubClient;

// Reads the deploy matrix: what every machine runs (nixos_configuration_info over SSH or from its metrics proxy,
// and each instance's build info) and what the branch says it should run (its head on GitHub and the repository
// metrics file), then how far behind each machine is (GitHub's compare). Machines are read in parallel, each
// on a thread of its own, so an unreachable one delays no other beyond its own timeout. Blocking: run it off the
// GUI thread.
class DeployMatrixReader
{
public:
    // `stop`, when given and set, makes the reads not yet started fail fast (a closing window).
    explicit DeployMatrixReader(DeploySetup setup, std::shared_ptr<const std::atomic_bool> stop = {});
    ~DeployMatrixReader();

    using MachineDone = std::function<void(const MachineStatus&)>;

    // Every machine of the inventory, in inventory order. `each` is called, from a worker thread, as each
    // machine is done.
    QList<MachineStatus> readAll(const MachineDone& each = {});
    // One machine, with a fresh read of the branch.
    MachineStatus readOne(const QString& machine);

    BranchSnapshot readBranch(GithubClient& github);

    static constexpr int kConnectTimeoutSeconds = 5;
    static constexpr int kReadTimeoutMs = 10000;

private:
    MachineStatus readMachine(const DeployMachine& machine, const std::function<BranchSnapshot()>& branch);
    bool readConfiguration(const DeployMachine& machine, MachineStatus* status);
    void readBuilds(const DeployMachine& machine, MachineStatus* status);
    void compare(MachineStatus* status, const QString& deployed, const BranchSnapshot& branch);

    bool stopped() const { return m_stop && *m_stop; }

    DeploySetup m_setup;
    std::shared_ptr<const std::atomic_bool> m_stop;
    struct Comparison
    {
        int behindBy = -1;
        QString status; // GitHub's compare status
        QString error;
    };
    QMutex m_compareMutex;
    // Deployed revision -> GitHub's answer, for one refresh. The first machine on a revision asks; the others wait
    // for its answer rather than ask again (GitHub frowns on concurrent calls for the same thing).
    QMap<QString, std::shared_future<Comparison>> m_compareCache;
};

} // namespace opsdeck
