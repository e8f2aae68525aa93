// Benchmark (not a test; tests/bench/README.md): how fast the packets table of a large Packit instance shows its
// first rows, against the by-hand `ssh host psql INSTANCE -c 'select * from packet'` on the same data, how long
// the GUI thread ever stalls meanwhile, and how long the last page takes next to the first (keyset paging).
// Prints results and ratios; never fails on timing.
//
//   bench_packettable [--host wpia-packit] [--instance training] [--runs 5] [--pane-runs 3]
//
// Needs a live sandbox ($OPSDECK_SANDBOX_DIR, see tests/sandbox/README.md).
#include "BenchStats.h"
#include "PacketTableModel.h"
#include "PagedTableView.h"
#include "Sandbox.h"
#include "config/InventoryLoader.h"
#include "core/ConnectionWorker.h"
#include "core/WorkerRowSource.h"
#include "packit/PackitConnection.h"
#include "packit/PackitQueries.h"
#include "packit/PackitTarget.h"
#include "ssh/SshSecretSpecs.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QProcess>
#include <QTableView>
#include <QTextStream>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <optional>
#include <tuple>

using namespace opsdeck;
using namespace opsdeck::test;
using namespace opsdeck::bench;

namespace {

QTextStream& out()
{
    static QTextStream stream(stdout);
    return stream;
}

double ms(qint64 nanoseconds)
{
    return double(nanoseconds) / 1e6;
}

// Measures the GUI thread's responsiveness: the largest gap between two ticks of a 5 ms timer.
class Watchdog : public QObject
{
public:
    explicit Watchdog(const QElapsedTimer& clock)
        : m_clock(clock)
    {
        m_timer.setTimerType(Qt::PreciseTimer);
        m_timer.setInterval(5);
        connect(&m_timer, &QTimer::timeout, this, [this] { tick(); });
    }
    void start()
    {
        m_last = m_clock.nsecsElapsed();
        m_maxGap = 0;
        m_timer.start();
    }
    void stop()
    {
        tick(); // a stall right before the end counts too
        m_timer.stop();
    }
    qint64 maxGap() const { return m_maxGap; }
    qint64 maxGapAt() const { return m_maxGapAt; }

private:
    void tick()
    {
        const qint64 now = m_clock.nsecsElapsed();
        if (now - m_last > m_maxGap) {
            m_maxGap = now - m_last;
            m_maxGapAt = m_last;
        }
        m_last = now;
    }
    const QElapsedTimer& m_clock;
    QTimer m_timer;
    qint64 m_last = 0;
    qint64 m_maxGap = 0;
    qint64 m_maxGapAt = 0;
};

// Notes the first paint of a widget after `armed` is set.
class PaintSpy : public QObject
{
public:
    PaintSpy(const QElapsedTimer& clock)
        : m_clock(clock)
    {
    }
    bool armed = false;
    qint64 paintedAt = -1;

protected:
    bool eventFilter(QObject* watched, QEvent* event) override
    {
        if (event->type() == QEvent::Paint && armed && paintedAt < 0)
            paintedAt = m_clock.nsecsElapsed();
        return QObject::eventFilter(watched, event);
    }

private:
    const QElapsedTimer& m_clock;
};

// The pane's worker and row source for one instance.
struct PacketWorker
{
    explicit PacketWorker(const PackitTarget& target)
        : worker(
            QStringLiteral("packit:") + target.id(), [target] { return std::make_unique<PackitConnection>(target); })
        , source(&worker, PackitQueries::PacketId, &PackitQueries::packetPage, &PackitQueries::packetCount)
        , stateWorker(QStringLiteral("packit-state:") + target.id(),
              [target] { return std::make_unique<PackitConnection>(target); })
    {
    }
    ConnectionWorker<PackitConnection> worker;
    WorkerRowSource<PackitConnection> source;
    ConnectionWorker<PackitConnection> stateWorker; // as PackitPane: the state on a connection of its own
};

// One page straight from the row source (no model, no view): from the question to the answer on this thread.
double timeSourcePage(RowSource& source, const PageRequest& request, QString* error)
{
    QEventLoop loop;
    QElapsedTimer clock;
    qint64 took = -1;
    clock.start();
    source.page(&loop, request, [&](const QList<RowValues>&, const QString& failure) {
        took = clock.nsecsElapsed();
        if (!failure.isEmpty())
            *error = failure;
        loop.quit();
    });
    loop.exec();
    return ms(took);
}

// Spins the event loop until `done` holds after a change of the model (or `timeoutMs` passes).
bool waitForModel(const PagedTableModel& model, const std::function<bool()>& done, int timeoutMs)
{
    if (done())
        return true;
    QEventLoop loop;
    QObject::connect(&model, &PagedTableModel::progressChanged, &loop, [&] {
        if (done())
            loop.quit();
    });
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    loop.exec();
    return done();
}

struct OpsdeckRun
{
    double firstRows = NAN; // ms from "selected" to the model's first rowsInserted
    double painted = NAN; // ... to the view's first paint after that
    double counted = NAN; // ... to the total being known (the background count)
    double maxStall = NAN; // largest watchdog gap over all of it
    double stallAt = NAN; // when that gap began
    double teardown = NAN; // deleting the worker (blocks the GUI thread)
    qint64 rows = 0;
    qint64 total = -1;
    QString error;
};

// `stateFirst`: like PackitPane on its first show, which asks for the instance's state (unit states, counts and a
// `find` over the whole outpack root, on the instance's state worker) before the packets.
OpsdeckRun measureOpsdeck(const PackitTarget& target, bool stateFirst)
{
    OpsdeckRun run;
    PacketTableModel model;
    QTableView view;
    view.setModel(&model);
    view.resize(1100, 700);
    view.show();
    QElapsedTimer clock;
    clock.start();
    PaintSpy paintSpy(clock);
    view.viewport()->installEventFilter(&paintSpy);
    // Let the empty view be exposed and painted before the clock starts.
    for (int i = 0; i < 5; ++i) {
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    }

    Watchdog watchdog(clock);
    QEventLoop loop;
    qint64 firstRowsAt = -1;
    qint64 countedAt = -1;
    bool stateDone = !stateFirst;
    auto maybeDone = [&] {
        if (firstRowsAt >= 0 && countedAt >= 0 && paintSpy.paintedAt >= 0 && stateDone)
            loop.quit();
        if (!run.error.isEmpty())
            loop.quit();
    };
    QObject::connect(&model, &QAbstractItemModel::rowsInserted, &loop, [&] {
        if (firstRowsAt < 0) {
            firstRowsAt = clock.nsecsElapsed();
            paintSpy.armed = true;
        }
        maybeDone();
    });
    QObject::connect(&model, &PacketTableModel::progressChanged, &loop, [&] {
        if (!model.error().isEmpty())
            run.error = model.error();
        if (model.total() >= 0 && countedAt < 0)
            countedAt = clock.nsecsElapsed();
        maybeDone();
    });
    QTimer paintPoll; // the paint spy has no signal
    QObject::connect(&paintPoll, &QTimer::timeout, &loop, maybeDone);
    paintPoll.start(1);
    QTimer timeout;
    timeout.setSingleShot(true);
    QObject::connect(&timeout, &QTimer::timeout, &loop, [&] {
        run.error = QStringLiteral("timed out after 120 s");
        loop.quit();
    });
    timeout.start(120000);

    clock.restart();
    watchdog.start();
    // "Selecting the instance": the worker is created (thread), connects (SSH, tunnel, database) on first use.
    auto* worker = new PacketWorker(target);
    if (stateFirst) {
        worker->stateWorker.run(
            &loop, [](PackitConnection& connection, QString*) { return connection.instanceState(); },
            [&](const QJsonObject&, const QString&) {
                stateDone = true;
                maybeDone();
            });
    }
    model.setSource(&worker->source);
    loop.exec();
    watchdog.stop();
    paintPoll.stop();

    run.firstRows = firstRowsAt >= 0 ? ms(firstRowsAt) : NAN;
    run.painted = paintSpy.paintedAt >= 0 ? ms(paintSpy.paintedAt) : NAN;
    run.counted = countedAt >= 0 ? ms(countedAt) : NAN;
    run.maxStall = ms(watchdog.maxGap());
    run.stallAt = ms(watchdog.maxGapAt());
    run.rows = model.loaded();
    run.total = model.total();

    QElapsedTimer teardown;
    teardown.start();
    model.setSource(nullptr);
    delete worker;
    run.teardown = ms(teardown.nsecsElapsed());
    return run;
}

// The first page and the last of the whole table in one sort, on a warm connection: the first page after a
// reload, then every page in turn (fetchMore as a scrolling view does) to the end, the last timed alone.
struct PagesRun
{
    double sourceFirst = NAN; // the first page from the row source alone (median of 5)
    double sourceLast = NAN; // the last page (after the key of the row before it) from the row source alone
    double first = NAN; // reload -> first page, through the model and the shown view
    double last = NAN; // fetchMore -> the last page with rows, through the model and the shown view
    double scroll = NAN; // every page after the first, in all
    double maxStall = NAN; // while paging, with the view shown
    int pages = 0;
    qint64 rows = 0;
    QString error;
};

PagesRun measurePages(const PackitTarget& target, int column, Qt::SortOrder order)
{
    PagesRun run;
    PacketWorker worker(target);
    PacketTableModel model;
    model.sort(column, order);
    PagedTableView view; // as the pane shows it
    view.setModel(&model);
    view.resize(1100, 700);
    view.show();
    model.setSource(&worker.source);
    const auto idle = [&] { return !model.isLoading() || !model.error().isEmpty(); };
    if (!waitForModel(model, idle, 120000)) {
        run.error = QStringLiteral("no first page within 120 s");
        return run;
    }
    QElapsedTimer clock;
    clock.start();
    Watchdog watchdog(clock);
    watchdog.start();
    model.reload();
    waitForModel(
        model, [&] { return model.rowCount() > 0 || !model.error().isEmpty(); }, 120000);
    run.first = ms(clock.nsecsElapsed());
    waitForModel(model, idle, 120000); // the count, so that it does not share the next page's time
    const qint64 scrollStarted = clock.nsecsElapsed();
    while (model.canFetchMore({}) && model.error().isEmpty()) {
        const qint64 before = model.loaded();
        const qint64 asked = clock.nsecsElapsed();
        model.fetchMore({});
        if (!waitForModel(model, idle, 120000)) {
            run.error = QStringLiteral("no page within 120 s after row %1").arg(before);
            break;
        }
        ++run.pages;
        if (model.loaded() > before)
            run.last = ms(clock.nsecsElapsed() - asked);
    }
    run.scroll = ms(clock.nsecsElapsed() - scrollStarted);
    watchdog.stop();
    run.maxStall = ms(watchdog.maxGap());
    run.rows = model.loaded();
    if (run.error.isEmpty())
        run.error = model.error();
    // The same two pages from the source alone, alternately: what the database and the worker take.
    const int lastPageRows = int((run.rows - 1) % PagedTableModel::kPageSize) + 1;
    PageRequest request { std::nullopt, PagedTableModel::kPageSize, QString(), model.currentSort() };
    PageRequest lastRequest = request;
    lastRequest.after = model.rowKey(int(run.rows) - lastPageRows - 1);
    QList<double> firsts;
    QList<double> lasts;
    for (int i = 0; i < 5 && run.error.isEmpty(); ++i) {
        firsts << timeSourcePage(worker.source, request, &run.error);
        lasts << timeSourcePage(worker.source, lastRequest, &run.error);
    }
    run.sourceFirst = stats(firsts).median;
    run.sourceLast = stats(lasts).median;
    model.setSource(nullptr);
    return run;
}

struct HandRun
{
    double firstLine = NAN;
    double finished = NAN;
    qint64 lines = 0;
    QString error;
};

// `ssh ... root@host <remote>` with its stdout read as it comes.
HandRun measureByHand(const QStringList& sshArguments, const QString& remote)
{
    HandRun run;
    QProcess process;
    process.setStandardInputFile(QProcess::nullDevice());
    process.setProcessChannelMode(QProcess::SeparateChannels);
    QElapsedTimer clock;
    QEventLoop loop;
    qint64 firstLineAt = -1;
    QByteArray pending;
    QObject::connect(&process, &QProcess::readyReadStandardOutput, &loop, [&] {
        const QByteArray data = process.readAllStandardOutput();
        if (firstLineAt < 0 && data.contains('\n'))
            firstLineAt = clock.nsecsElapsed();
        run.lines += data.count('\n');
    });
    QObject::connect(&process, &QProcess::finished, &loop, [&] { loop.quit(); });
    QObject::connect(&process, &QProcess::errorOccurred, &loop, [&](QProcess::ProcessError e) {
        if (e == QProcess::FailedToStart) {
            run.error = process.errorString();
            loop.quit();
        }
    });
    clock.start();
    process.start(QStringLiteral("ssh"), sshArguments + QStringList { remote });
    loop.exec();
    const qint64 finishedAt = clock.nsecsElapsed();
    run.lines += process.readAllStandardOutput().count('\n');
    if (run.error.isEmpty() && (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0))
        run.error = QStringLiteral("ssh exited with %1: %2")
                        .arg(process.exitCode())
                        .arg(QString::fromUtf8(process.readAllStandardError()).trimmed());
    run.firstLine = firstLineAt >= 0 ? ms(firstLineAt) : NAN;
    run.finished = ms(finishedAt);
    return run;
}

void row(const QString& label, const QList<double>& values, const QString& unit = QStringLiteral("ms"))
{
    const Stats s = stats(values);
    out() << "  " << label.leftJustified(52) << number(s.median).rightJustified(8) << number(s.min).rightJustified(8)
          << number(s.max).rightJustified(8) << "  " << unit << "\n";
}

} // namespace

int main(int argc, char** argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    if (qEnvironmentVariableIsEmpty("QT_LOGGING_RULES"))
        QLoggingCategory::setFilterRules(QStringLiteral("opsdeck.*.debug=false\nopsdeck.*.info=false"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Packets table: first rows and GUI stalls vs. ssh psql by hand."));
    parser.addHelpOption();
    const QCommandLineOption hostOption(
        QStringLiteral("host"), QStringLiteral("Host."), QStringLiteral("HOST"), QStringLiteral("wpia-packit"));
    const QCommandLineOption instanceOption(QStringLiteral("instance"), QStringLiteral("Instance."),
        QStringLiteral("INSTANCE"), QStringLiteral("training"));
    const QCommandLineOption runsOption(
        QStringLiteral("runs"), QStringLiteral("Runs of each measurement."), QStringLiteral("N"), QStringLiteral("5"));
    const QCommandLineOption paneRunsOption(QStringLiteral("pane-runs"),
        QStringLiteral("Runs of the extra 'state queued first' case (0: skip)."), QStringLiteral("N"),
        QStringLiteral("3"));
    parser.addOptions({ hostOption, instanceOption, runsOption, paneRunsOption });
    parser.process(app);
    const QString hostName = parser.value(hostOption);
    const QString instanceName = parser.value(instanceOption);
    const int runs = std::max(1, parser.value(runsOption).toInt());
    const int paneRuns = std::max(0, parser.value(paneRunsOption).toInt());

    Sandbox sandbox;
    if (!sandbox.ok()) {
        qCritical().noquote() << sandbox.error();
        return 2;
    }
    const InventoryLoadResult loaded = InventoryLoader::loadFile(sandbox.inventoryPath());
    if (!loaded.ok()) {
        qCritical().noquote() << "cannot load" << sandbox.inventoryPath()
                              << (loaded.errors.isEmpty() ? QString() : loaded.errors.first().toString());
        return 2;
    }
    PackitTarget::Problem problem = PackitTarget::Problem::None;
    QString error;
    auto target = PackitTarget::resolve(*loaded.inventory, hostName, instanceName, &problem, &error);
    if (!target) {
        qCritical().noquote() << error;
        return 2;
    }
    // No prompts: the sandbox's database password comes from the variable the inventory names (DIR/env).
    const QProcessEnvironment environment = sandbox.environment();
    if (SshSecretSpecs::hostNeedsSecret(target->host)) {
        qCritical().noquote() << "host" << hostName << "needs a secret; the benchmark expects key auth";
        return 2;
    }
    if (!target->database.passwordEnv.isEmpty())
        target->databasePassword = environment.value(target->database.passwordEnv);

    qint64 expected = -1;
    {
        QFile summary(sandbox.dir() + QStringLiteral("/packit/") + instanceName + QStringLiteral(".json"));
        if (summary.open(QIODevice::ReadOnly))
            expected
                = QJsonDocument::fromJson(summary.readAll()).object().value(QStringLiteral("packets")).toInteger(-1);
    }

    const SshTarget ssh = sandbox.target(hostName);
    const QStringList sshArguments = { QStringLiteral("-i"), ssh.identityFile, QStringLiteral("-o"),
        QStringLiteral("UserKnownHostsFile=") + ssh.knownHostsFile, QStringLiteral("-o"),
        QStringLiteral("BatchMode=yes"), QStringLiteral("-p"), QString::number(ssh.port),
        ssh.user + u'@' + ssh.address };
    const QString byHand = QStringLiteral("psql %1 -c 'select * from packet'").arg(instanceName);
    const QString byHandCursor
        = QStringLiteral("psql -v FETCH_COUNT=1000 %1 -c 'select * from packet'").arg(instanceName);

    out() << "bench_packettable: " << target->id() << ", " << expected << " packets (DIR/packit/" << instanceName
          << ".json), " << runs << " runs each, interleaved; a fresh worker per opsdeck run\n";
    out().flush();

    // Warm-up (not counted): the first SSH handshake and the database's cache.
    measureByHand(sshArguments, byHand);
    measureOpsdeck(*target, false);

    QList<OpsdeckRun> ops;
    QList<HandRun> hand;
    QList<HandRun> handCursor;
    bool failed = false;
    for (int i = 0; i < runs; ++i) {
        ops << measureOpsdeck(*target, false);
        hand << measureByHand(sshArguments, byHand);
        handCursor << measureByHand(sshArguments, byHandCursor);
        const OpsdeckRun& o = ops.last();
        out() << QStringLiteral("  run %1: opsdeck first rows %2 ms (painted %3, count %4, %5 rows of %6), max GUI "
                                "stall %7 ms at +%8 ms, teardown %9 ms; by hand first line %10 ms, done %11 ms "
                                "(%12 lines)\n")
                     .arg(i + 1)
                     .arg(number(o.firstRows), number(o.painted), number(o.counted))
                     .arg(o.rows)
                     .arg(o.total)
                     .arg(number(o.maxStall, 1), number(o.stallAt), number(o.teardown, 1),
                         number(hand.last().firstLine), number(hand.last().finished))
                     .arg(hand.last().lines);
        for (const QString& e : { o.error, hand.last().error, handCursor.last().error }) {
            if (!e.isEmpty()) {
                out() << "  ERROR: " << e << "\n";
                failed = true;
            }
        }
        out().flush();
    }
    QList<OpsdeckRun> pane;
    for (int i = 0; i < paneRuns; ++i) {
        pane << measureOpsdeck(*target, true);
        if (!pane.last().error.isEmpty()) {
            out() << "  ERROR: " << pane.last().error << "\n";
            failed = true;
        }
    }

    auto pick = [](const auto& list, auto member) {
        QList<double> values;
        for (const auto& item : list)
            values << item.*member;
        return values;
    };
    out() << "\n  " << QString().leftJustified(52) << QStringLiteral("median").rightJustified(8)
          << QStringLiteral("min").rightJustified(8) << QStringLiteral("max").rightJustified(8) << "\n";
    row(QStringLiteral("opsdeck: select -> first rows (rowsInserted)"), pick(ops, &OpsdeckRun::firstRows));
    row(QStringLiteral("opsdeck: select -> first rows painted"), pick(ops, &OpsdeckRun::painted));
    row(QStringLiteral("opsdeck: select -> total known (background count)"), pick(ops, &OpsdeckRun::counted));
    row(QStringLiteral("opsdeck: max GUI stall (5 ms watchdog gap)"), pick(ops, &OpsdeckRun::maxStall));
    row(QStringLiteral("opsdeck: deleting the worker (GUI thread blocked)"), pick(ops, &OpsdeckRun::teardown));
    row(QStringLiteral("by hand: ssh psql -c 'select * from packet', 1st line"), pick(hand, &HandRun::firstLine));
    row(QStringLiteral("by hand: ... finished"), pick(hand, &HandRun::finished));
    row(QStringLiteral("by hand, FETCH_COUNT=1000: 1st line"), pick(handCursor, &HandRun::firstLine));
    row(QStringLiteral("by hand, FETCH_COUNT=1000: finished"), pick(handCursor, &HandRun::finished));
    if (!pane.isEmpty()) {
        out() << "  extra, not the issue's measurement: the state asked for before the packets, as PackitPane does\n"
                 "  on its first show (unit states, counts, `find` over the whole outpack root, on its own worker):\n";
        row(QStringLiteral("opsdeck (state first): select -> first rows"), pick(pane, &OpsdeckRun::firstRows));
        row(QStringLiteral("opsdeck (state first): max GUI stall"), pick(pane, &OpsdeckRun::maxStall));
    }

    // The last page next to the first, in the common sorts: each a reload and then every page to the end.
    out() << "\n  first page and last page of the whole table (warm connection; every page fetched in turn):\n";
    const QList<std::tuple<QString, int, Qt::SortOrder>> sorts {
        { QStringLiteral("Packet id ascending (the default)"), PacketTableModel::Id, Qt::AscendingOrder },
        { QStringLiteral("Name ascending"), PacketTableModel::Name, Qt::AscendingOrder },
        { QStringLiteral("Display name descending (NULLs as '')"), PacketTableModel::DisplayName, Qt::DescendingOrder },
        { QStringLiteral("Started descending"), PacketTableModel::Started, Qt::DescendingOrder },
    };
    double worstPageRatio = 0;
    double worstPageStall = 0;
    for (const auto& [label, column, order] : sorts) {
        const PagesRun pages = measurePages(*target, column, order);
        if (!pages.error.isEmpty()) {
            out() << "  ERROR (" << label << "): " << pages.error << "\n";
            failed = true;
            continue;
        }
        if (expected >= 0 && pages.rows != expected) {
            out() << "  WARNING (" << label << "): paged through " << pages.rows << " rows, the seed says " << expected
                  << "\n";
            failed = true;
        }
        worstPageRatio = std::max(worstPageRatio, pages.sourceLast / pages.sourceFirst);
        worstPageStall = std::max(worstPageStall, pages.maxStall);
        out() << QStringLiteral("  %1 first page %2 ms, last page %3 ms (ratio %4; row source, median of 5)\n")
                     .arg(label.leftJustified(40), number(pages.sourceFirst, 1), number(pages.sourceLast, 1),
                         number(pages.sourceLast / pages.sourceFirst, 2));
        out() << QStringLiteral("  %1 through model and view: first %2 ms, last %3 ms; %4 pages, %5 rows in %6 s; "
                                "max GUI stall %7 ms\n")
                     .arg(QString().leftJustified(40), number(pages.first), number(pages.last))
                     .arg(pages.pages + 1)
                     .arg(pages.rows)
                     .arg(number(pages.scroll / 1000, 1), number(pages.maxStall, 1));
        out().flush();
    }
    out() << "  issue target: last page within 1.5x of the first: worst ratio " << number(worstPageRatio, 2) << " -> "
          << (worstPageRatio <= 1.5 ? "met" : "NOT MET") << "; max GUI stall while paging " << number(worstPageStall, 1)
          << " ms\n";

    const double opsFirst = stats(pick(ops, &OpsdeckRun::firstRows)).median;
    const double handFirst = stats(pick(hand, &HandRun::firstLine)).median;
    const double worstStall = stats(pick(ops, &OpsdeckRun::maxStall)).max;
    out() << "\n  RATIO first rows, opsdeck / by hand (medians): " << number(opsFirst / handFirst, 2) << "  ("
          << number(opsFirst) << " ms / " << number(handFirst) << " ms)\n";
    out() << "  RATIO first rows, opsdeck / by hand with FETCH_COUNT (medians): "
          << number(opsFirst / stats(pick(handCursor, &HandRun::firstLine)).median, 2) << "\n";
    out() << "  issue target: first rows <= 300 ms: median " << number(opsFirst) << " ms, max "
          << number(stats(pick(ops, &OpsdeckRun::firstRows)).max) << " ms -> "
          << (stats(pick(ops, &OpsdeckRun::firstRows)).max <= 300 ? "met" : "NOT MET") << "\n";
    out() << "  issue target: GUI thread never stalls > 50 ms: worst gap " << number(worstStall, 1) << " ms -> "
          << (worstStall <= 50 ? "met" : "NOT MET") << "\n";
    if (expected >= 0 && !ops.isEmpty() && ops.first().total != expected) {
        out() << "  WARNING: the model counted " << ops.first().total << " packets, the seed says " << expected << "\n";
        failed = true;
    }
    out().flush();
    return failed ? 1 : 0;
}
