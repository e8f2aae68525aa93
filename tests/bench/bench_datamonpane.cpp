// Benchmark (not a test; tests/bench/README.md): the datamon pane following a purge of unused blobs, driven through
// MainWindow as an admin would (tests/gui/tst_datamonpane.cpp drives it the same way): Count unused blobs confirmed,
// then the purge's own confirmation that its success opens, both run detached on the bastion while the pane follows
// them. Measures the target: the GUI thread never stalls for more than 50 ms meanwhile. Prints the longest
// stall, what the thread did in it (ran, or waited for a CPU the sandbox's stand-ins held) and its ratio to the
// target; never fails on timing: exit 1 only when the purge did not succeed.
//
//   bench_datamonpane --inventory FILE --context C
//
// tests/bench/bench-datamon-purge runs it on a sandbox of its own, seeded as its purges are.
#include "BenchPane.h"
#include "BenchStats.h"
#include "ConfirmDialog.h"
#include "DatamonPane.h"
#include "ErrorBanner.h"
#include "MainWindow.h"
#include "StallMonitor.h"
#include "Systems.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QListWidget>
#include <QTest>
#include <QTextStream>

using namespace Qt::StringLiterals;
using namespace opsdeck;
using namespace opsdeck::bench;

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addOptions({ { u"inventory"_s, u"Inventory with the datamon context."_s, u"FILE"_s },
        { u"context"_s, u"The context to purge (not a production one: no name is typed)."_s, u"C"_s } });
    parser.process(app);
    const QString context = parser.value(u"context"_s);

    MainWindow window(parser.value(u"inventory"_s), systemPanes());
    auto* pane = qobject_cast<DatamonPane*>(window.pane(u"datamon"_s));
    if (!pane) {
        out() << "bench_datamonpane: no datamon pane (is the inventory valid?)\n";
        return 1;
    }
    showPane(window, u"datamon"_s);
    if (!pane->selectContext(context)
        || !QTest::qWaitFor([&] { return pane->countAction()->isEnabled() && !pane->isListing(); }, 120000)) {
        out() << "bench_datamonpane: context " << context << " cannot be purged here: " << pane->errors()->text()
              << "\n";
        return 1;
    }

    QStringList runs;
    QObject::connect(pane, &DatamonPane::purgeFinished, pane, [&](const QString& run, const QString& outcome) {
        runs << run + u' ' + outcome;
        if (run == u"count"_s)
            ConfirmDialog::setNextAnswer(true); // the purge's dialog, which the count's success opens
    });
    StallMonitor monitor;
    QElapsedTimer clock;
    clock.start();
    monitor.start();
    ConfirmDialog::setNextAnswer(true);
    pane->countAction()->trigger();
    (void)QTest::qWaitFor(
        [&] { return runs.size() == 2 || (runs.size() == 1 && runs.first() != u"count succeeded"_s); },
        4 * 3600 * 1000);
    const double stall = monitor.stop();
    out() << "purge of " << context << " from the pane (" << runs.join(u", "_s) << ") in "
          << QString::number(double(clock.elapsed()) / 1000, 'f', 1) << " s; longest GUI stall "
          << QString::number(stall, 'f', 1) << " ms (" << monitor.worstSplit()
          << "); stall/target = " << QString::number(stall / kStallTarget, 'f', 2) << "x (target " << kStallTarget
          << " ms)\n  the longest the GUI thread itself ran between two ticks: "
          << QString::number(monitor.worstRan(), 'f', 1)
          << " ms; ran/target = " << QString::number(monitor.worstRan() / kStallTarget, 'f', 2) << "x\n";
    if (!monitor.stalls().isEmpty())
        out() << "  stalls over " << kStallTarget / 2 << " ms: " << monitor.stalls().join(u", "_s) << "\n";
    out().flush();
    return runs == QStringList { u"count succeeded"_s, u"purge succeeded"_s } ? 0 : 1;
}
