// The team journal under load (issue 14): 8 console processes append entries and take and release locks on one
// PostgreSQL journal at once; append and lock latencies (p50, p99) and throughput; the Journal pane's GUI thread while
// they do; and one run's wall time on the team journal against the same run on a local journal.
//
//   OPSDECK_SANDBOX_DIR=DIR build/tests/bench_teamjournal [--consoles 8] [--appends 300] [--locks 100] [--runs 9]
//                                                         [--wipes 5]
//
// Needs a live sandbox. It makes a database of its own on the sandbox's PostgreSQL (as its owner, direct) and drops it
// at the end. The sandbox's PostgreSQL runs with fsync off: commits cost what a fast disk's would, not a slow one's.
// With two CPUs or more, the pane runs on the first and the consoles on the others: in production they are other
// machines. The wall-time ratio is measured on a real run too: `opsdeck run packit-wipe` of the sandbox's
// wpia-packit-dev/reside-dev, empty after the first (the units are still stopped and started, the root moved), on the
// sandbox's inventory and on its team inventory (through the bastion, TLS verified, the chain keyed), taking turns.
#include "BenchStats.h"
#include "JournalPane.h"
#include "RunsDock.h"
#include "Sandbox.h"
#include "StallMonitor.h"
#include "TestRuns.h"
#include "config/InventoryLoader.h"
#include "packit/PackitTarget.h"
#include "packit/PackitWipeOperation.h"
#include "runbook/Journal.h"
#include "runbook/OperationRunner.h"
#include "runbook/RunContext.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonObject>
#include <QProcess>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

#include <algorithm>
#include <cstdio>
#include <memory>

#include <sched.h>
#include <unistd.h>

using namespace Qt::StringLiterals;
using namespace opsdeck;
using opsdeck::test::Sandbox;

namespace {

JournalLocation teamLocation(const Sandbox::Server& server, const QString& database)
{
    DatabaseTarget target;
    target.database.name = u"bench-journal"_s;
    target.database.kind = DatabaseKind::Postgres;
    target.database.address = server.host;
    target.database.port = server.port;
    target.database.database = database;
    target.database.user = server.user;
    target.password = server.password;
    return JournalLocation(std::move(target));
}

// The sandbox's team journal as inventory-team.yaml names it (a console's user through the bastion's tunnel, TLS
// verified, the chain keyed), with the secrets its *Env variables hold.
JournalLocation bastionLocation(const Sandbox& sandbox)
{
    sandbox.exportToThisProcess();
    const InventoryLoadResult loaded = InventoryLoader::loadFile(sandbox.dir() + u"/inventory-team.yaml"_s);
    QString error;
    std::optional<JournalLocation> location
        = loaded.ok() ? JournalLocation::fromInventory(*loaded.inventory, &error) : std::nullopt;
    if (!location || !location->team || !location->team->via)
        qFatal("the sandbox's team inventory names no journal through the bastion: %s", qPrintable(error));
    location->team->password = qEnvironmentVariable(qPrintable(location->team->database.passwordEnv));
    location->team->sshSecret = qEnvironmentVariable(qPrintable(location->team->via->auth.secretEnv));
    location->key = qEnvironmentVariable(qPrintable(location->keyEnv));
    return *location;
}

// The first CPU (the pane) or the others (everything else), when there are two or more.
void pinTo(bool first)
{
    const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 2)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (first)
        CPU_SET(0, &set);
    for (long cpu = 1; !first && cpu < cpus; ++cpu)
        CPU_SET(int(cpu), &set);
    ::sched_setaffinity(0, sizeof(set), &set);
}

double percentile(QList<double> values, double p)
{
    if (values.isEmpty())
        return NAN;
    std::sort(values.begin(), values.end());
    return values[std::min(values.size() - 1, qsizetype(p * double(values.size())))];
}

// One console: `appends` entries, then `locks` takes and releases of one of four targets (consoles contend for them).
// Prints "append MS" and "lock MS" (a lock taken; a refusal is retried and counted in the time) lines on stdout.
int console(const QStringList& spec)
{
    pinTo(false);
    Sandbox::Server server;
    server.host = spec.value(0);
    server.port = quint16(spec.value(1).toUInt());
    server.user = spec.value(3);
    server.password = qEnvironmentVariable("BENCH_TJ_PASSWORD");
    Journal journal(teamLocation(server, spec.value(2)));
    QString error;
    if (!journal.open(&error)) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        return 1;
    }
    const int index = spec.value(4).toInt();
    const QString runId = u"bench-console-%1"_s.arg(index);
    QElapsedTimer clock;
    // A run as the Runs dock of the pane's console follows it: its plan and confirmation (this process's), a step per
    // 30 lines of output, its outcome.
    const int lines = spec.value(5).toInt();
    QJsonArray steps;
    for (int step = 0; step < (lines + 29) / 30; ++step)
        steps.append(QJsonObject { { u"id"_s, u"s%1"_s.arg(step) }, { u"title"_s, u"Step %1"_s.arg(step + 1) } });
    QJsonObject confirm = Journal::consoleIdentity();
    confirm.insert(u"confirmation"_s, u"bench"_s);
    if (!journal.append(runId, u"plan"_s, u"bench"_s, u"bench/target"_s,
            { { u"target"_s, u"bench/target"_s }, { u"steps"_s, steps } }, &error)
        || !journal.append(runId, u"confirm"_s, u"bench"_s, u"bench/target"_s, confirm, &error)) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        return 1;
    }
    for (int i = 0; i < lines; ++i) {
        if (i % 30 == 0
            && !journal.append(runId, u"step-start"_s, u"bench"_s, u"bench/target"_s,
                { { u"step"_s, u"s%1"_s.arg(i / 30) } }, &error)) {
            std::fprintf(stderr, "%s\n", qPrintable(error));
            return 1;
        }
        clock.start();
        if (!journal.append(runId, u"output"_s, u"bench"_s, u"bench/target"_s, { { u"line"_s, i } }, &error)) {
            std::fprintf(stderr, "%s\n", qPrintable(error));
            return 1;
        }
        std::printf("append %.3f\n", double(clock.nsecsElapsed()) / 1e6);
    }
    if (!journal.append(
            runId, u"outcome"_s, u"bench"_s, u"bench/target"_s, { { u"outcome"_s, u"succeeded"_s } }, &error)) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        return 1;
    }
    for (int i = 0; i < spec.value(6).toInt(); ++i) {
        const QString target = u"bench/target-%1"_s.arg((index + i) % 4);
        const QString lockRun = u"%1-%2"_s.arg(runId).arg(i);
        clock.start();
        Journal::LockHolder holder;
        Journal::LockResult result;
        while ((result = journal.acquireLock(target, lockRun, &holder, &error)) == Journal::LockResult::HeldByOther)
            QThread::msleep(2);
        if (result != Journal::LockResult::Acquired) {
            std::fprintf(stderr, "%s\n", qPrintable(error));
            return 1;
        }
        std::printf("lock %.3f\n", double(clock.nsecsElapsed()) / 1e6);
        journal.releaseLock(target, lockRun);
    }
    std::fflush(stdout);
    return 0;
}

// A run's journal traffic without its work: the plan, the confirmation, the lock, ten steps with a line of output
// each, the outcome and the report, as a short wipe journals them. Its wall time from the run's start to its end.
double runOnce(const JournalLocation& journal)
{
    QList<test::StepsOperation::Step> steps;
    for (int i = 0; i < 10; ++i)
        steps << test::StepsOperation::Step { u"s%1"_s.arg(i), u"Step %1"_s.arg(i), u"true"_s };
    OperationRunner runner(std::make_unique<test::StepsOperation>(u"bench-ten-steps"_s, u"bench/run"_s, u"run"_s, steps,
                               [](const QString& step, RunContext& context) {
                                   context.begin(step);
                                   context.output(u"line of "_s + step);
                                   context.succeed();
                                   return true;
                               }),
        journal);
    QElapsedTimer clock;
    const test::DrivenRun run = test::driveRun(
        runner, u"run"_s, [&clock] { clock.start(); }, 30000, 30000);
    if (!run.record)
        qFatal("the run did not finish: %s%s", qPrintable(run.planError), qPrintable(run.refusalText));
    return double(clock.nsecsElapsed()) / 1e6;
}

// One wipe of the sandbox's first Packit instance in this process, as a console that is open already runs it (its
// plan, then its run, confirmed at once): its wall time from the plan's start to the run's end.
double wipeInConsole(const Sandbox& sandbox, const JournalLocation& journal)
{
    const InventoryLoadResult loaded = InventoryLoader::loadFile(sandbox.dir() + u"/inventory.yaml"_s);
    const QJsonObject instance = sandbox.json().value(u"packit"_s).toArray().first().toObject();
    PackitTarget::Problem problem = PackitTarget::Problem::None;
    QString error;
    std::optional<PackitTarget> target = loaded.ok()
        ? PackitTarget::resolve(*loaded.inventory, instance.value(u"host"_s).toString(),
            instance.value(u"name"_s).toString(), &problem, &error)
        : std::nullopt;
    if (!target)
        qFatal("cannot resolve the sandbox's Packit instance: %s", qPrintable(error));
    target->databasePassword = qEnvironmentVariable(qPrintable(target->database.passwordEnv));
    target->sshSecret = qEnvironmentVariable(qPrintable(target->host.auth.secretEnv));
    QElapsedTimer clock;
    clock.start();
    OperationRunner runner(std::make_unique<PackitWipeOperation>(*target), journal);
    const test::DrivenRun run = test::driveRun(runner, target->instance.name, {}, 60000, 120000);
    if (!run.record || run.record->outcome != RunRecord::Outcome::Succeeded)
        qFatal("the wipe did not succeed: %s%s", qPrintable(run.planError), qPrintable(run.refusalText));
    return double(clock.nsecsElapsed()) / 1e6;
}

} // namespace

int main(int argc, char** argv)
{
    if (const QString spec = qEnvironmentVariable("BENCH_TJ_CONSOLE"); !spec.isEmpty()) {
        QCoreApplication app(argc, argv);
        return console(spec.split(u'|'));
    }
    QApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addOptions({ { u"wipes"_s, u"packit-wipe runs per journal for the real ratio."_s, u"N"_s, u"5"_s },
        { u"consoles"_s, u"Console processes."_s, u"N"_s, u"8"_s },
        { u"appends"_s, u"Entries each console appends."_s, u"N"_s, u"300"_s },
        { u"locks"_s, u"Locks each console takes and releases."_s, u"N"_s, u"100"_s },
        { u"runs"_s, u"Runs per journal for the wall-time ratio."_s, u"N"_s, u"9"_s } });
    parser.addHelpOption();
    parser.process(app);
    Sandbox sandbox;
    if (!sandbox.ok())
        qFatal("%s", qPrintable(sandbox.error()));
    const Sandbox::Server pg = sandbox.postgres();
    const QString database = u"bench_teamjournal_%1"_s.arg(QUuid::createUuid().toString(QUuid::Id128).left(10));
    {
        QSqlDatabase admin = pg.addPostgresConnection(u"bench.admin"_s, u"postgres"_s);
        if (!admin.open() || !QSqlQuery(admin).exec(u"CREATE DATABASE %1"_s.arg(database)))
            qFatal("cannot create %s: %s", qPrintable(database), qPrintable(admin.lastError().text()));
    }
    const auto dropDatabase = qScopeGuard([&] {
        QSqlDatabase admin = QSqlDatabase::database(u"bench.admin"_s);
        QSqlQuery(admin).exec(u"DROP DATABASE IF EXISTS %1 WITH (FORCE)"_s.arg(database));
    });
    const JournalLocation team = teamLocation(pg, database);
    Journal owner(team);
    QString error;
    if (!owner.open(&error))
        qFatal("%s", qPrintable(error));

    // The Journal pane on the team journal follows the load (its locks every 5 s, its runs on Reload), and the Runs
    // dock the consoles' runs, live.
    RunsDock runs;
    runs.followOtherConsoles(team);
    JournalPane pane(team, &runs);
    pane.resize(1280, 800);
    pinTo(true); // this thread, the GUI thread; the pane's workers start later and inherit it
    pane.show();
    QTest::qWait(1000); // its first layout, paint and reads are not journal traffic
    bench::StallMonitor stalls;

    const int consoles = parser.value(u"consoles"_s).toInt();
    QList<std::shared_ptr<QProcess>> children;
    QElapsedTimer wall;
    wall.start();
    for (int i = 0; i < consoles; ++i) {
        auto child = std::make_shared<QProcess>();
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(u"BENCH_TJ_CONSOLE"_s,
            QStringList { pg.host, QString::number(pg.port), database, pg.user, QString::number(i),
                parser.value(u"appends"_s), parser.value(u"locks"_s) }
                .join(u'|'));
        environment.insert(u"BENCH_TJ_PASSWORD"_s, pg.password);
        child->setProcessEnvironment(environment);
        child->setProcessChannelMode(QProcess::ForwardedErrorChannel);
        child->start(QCoreApplication::applicationFilePath(), {});
        children << child;
    }
    // From here: starting the consoles (fork and exec, which QProcess waits for) is this harness's, not the journal's.
    stalls.start();
    QTimer reload;
    QObject::connect(&reload, &QTimer::timeout, &pane, &JournalPane::reload);
    reload.start(1000);
    QList<double> appends;
    QList<double> locks;
    for (const auto& child : std::as_const(children)) {
        while (child->state() != QProcess::NotRunning)
            QTest::qWait(20);
        if (child->exitCode() != 0)
            qFatal("a console failed");
        for (const QByteArray& line : child->readAllStandardOutput().split('\n')) {
            const QList<QByteArray> parts = line.split(' ');
            if (parts.size() == 2)
                (parts[0] == "append" ? appends : locks) << parts[1].toDouble();
        }
    }
    const double seconds = double(wall.nsecsElapsed()) / 1e9;
    // The dock heard of each console's outcome (within its 10 s read of the locks at the latest).
    const auto ended = [&runs] {
        const QList<LiveRun> live = runs.runsElsewhere();
        return std::count_if(live.cbegin(), live.cend(), [](const LiveRun& run) { return run.ended(); });
    };
    const bool allHeard = QTest::qWaitFor([&] { return ended() == consoles; }, 15000);
    const double heard = double(wall.nsecsElapsed()) / 1e9;
    reload.stop();
    const double stall = stalls.stop();
    std::printf("team journal, %d consoles at once: %lld appends, %lld locks in %.1f s\n", consoles,
        qlonglong(appends.size()), qlonglong(locks.size()), seconds);
    std::printf("  append: p50 %.1f ms, p99 %.1f ms; %.0f appends/s in all\n", percentile(appends, 0.5),
        percentile(appends, 0.99), double(appends.size()) / seconds);
    std::printf("  lock acquire (4 targets, contended): p50 %.1f ms, p99 %.1f ms\n", percentile(locks, 0.5),
        percentile(locks, 0.99));
    std::printf("  Runs dock: %lld of %d consoles' runs followed to their outcome, the last %.2f s after its console "
                "ended\n",
        qlonglong(ended()), consoles, allHeard ? heard - seconds : -1.0);
    std::printf("  Journal pane's GUI thread meanwhile (reloading every second, the Runs dock following the runs): "
                "longest stall %.1f ms (%.2fx of 50 ms); %s\n",
        stall, stall / bench::kStallTarget, qPrintable(stalls.worstSplit()));
    const Journal::Verification check = owner.verify();
    std::printf("  chain after the load: %s (%lld entries)\n", check.intact ? "intact" : qPrintable(check.problem),
        qlonglong(check.checked));

    // One run, alternating journals.
    QTemporaryDir dir;
    const JournalLocation local(dir.filePath(u"journal.sqlite"_s));
    Journal(local).open(&error);
    // As in a console that is open already (the GUI): its connection to the journal is made, the bastion's login
    // done, before the run. The first run through the bastion makes them and is not counted.
    const JournalLocation bastion = bastionLocation(sandbox);
    runOnce(bastion);
    QList<double> onTeam;
    QList<double> onBastion;
    QList<double> onLocal;
    for (int i = 0; i < parser.value(u"runs"_s).toInt(); ++i) {
        onTeam << runOnce(team);
        onBastion << runOnce(bastion);
        onLocal << runOnce(local);
    }
    const double localMedian = bench::stats(onLocal).median;
    std::printf("a run of ten steps and no work (29 entries, a lock) in an open console, median of %lld: local journal "
                "%.1f ms; the journal's whole cost\n",
        qlonglong(onLocal.size()), localMedian);
    for (const auto& [name, times] :
        { std::pair { "team journal direct", onTeam }, std::pair { "team journal through the bastion", onBastion } }) {
        const double median = bench::stats(times).median;
        std::printf("  %s: %.1f ms, %.2fx\n", name, median, median / localMedian);
    }

    // A real run in a console that is open already (the GUI's case), taking turns.
    wipeInConsole(sandbox, bastion);
    QList<QList<double>> inConsole(3);
    for (int i = 0; i < parser.value(u"wipes"_s).toInt(); ++i) {
        inConsole[0] << wipeInConsole(sandbox, local);
        inConsole[1] << wipeInConsole(sandbox, team);
        inConsole[2] << wipeInConsole(sandbox, bastion);
    }
    const double wipeOnLocal = bench::stats(inConsole[0]).median;
    std::printf("packit-wipe in an open console, plan and run, median of %lld: local journal %.0f ms\n",
        qlonglong(inConsole[0].size()), wipeOnLocal);
    for (const auto& [name, times] : { std::pair { "team journal direct", inConsole[1] },
             std::pair { "team journal through the bastion", inConsole[2] } }) {
        const double median = bench::stats(times).median;
        std::printf("  %s: %.0f ms, %.2fx (target 1.05x)\n", name, median, median / wipeOnLocal);
    }

    // A real run, by the CLI, taking turns: the local journal, the team journal reached directly (as its owner), and
    // as a console through the bastion's tunnel with TLS verified.
    const QProcessEnvironment environment = sandbox.environment();
    const QString instance = u"reside-dev"_s;
    const QStringList inventories { u"inventory.yaml"_s, u"inventory-team-owner.yaml"_s, u"inventory-team.yaml"_s };
    QList<QList<double>> wipes(inventories.size());
    for (int i = 0; i < parser.value(u"wipes"_s).toInt(); ++i) {
        for (qsizetype j = 0; j < inventories.size(); ++j) {
            QElapsedTimer clock;
            clock.start();
            const test::CliRun wipe = test::runCli(
                { u"run"_s, u"packit-wipe"_s, u"--host"_s, u"wpia-packit-dev"_s, u"--instance"_s, instance,
                    u"--confirm"_s, instance, u"--inventory"_s, sandbox.dir() + u'/' + inventories[j] },
                environment, 120000);
            if (wipe.exitCode != 0)
                qFatal("the wipe failed: %s", wipe.err.constData());
            wipes[j] << double(clock.nsecsElapsed()) / 1e6;
        }
    }
    const double onLocalJournal = bench::stats(wipes[0]).median;
    std::printf("opsdeck run packit-wipe (the CLI, wpia-packit-dev/%s), median of %lld: local journal %.0f ms\n",
        qPrintable(instance), qlonglong(wipes[0].size()), onLocalJournal);
    for (qsizetype j = 1; j < inventories.size(); ++j) {
        const double median = bench::stats(wipes[j]).median;
        std::printf(
            "  %s: %.0f ms, %.2fx (target 1.05x)\n", qPrintable(inventories[j]), median, median / onLocalJournal);
    }
    return check.intact ? 0 : 1;
}
