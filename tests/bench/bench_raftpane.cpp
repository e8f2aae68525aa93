// Benchmark (not a test; tests/bench/README.md): the RAFT pane on a namespace of many StatefulSets, driven through
// MainWindow as an admin would (tests/gui/tst_raftpane.cpp drives it the same way). Measures the two
// targets: the StatefulSets table shows its first rows within 300 ms of the pane switching to the namespace, and
// the GUI thread never stalls for more than 50 ms while a reset of one of its StatefulSets runs from the pane (the
// pane polling the namespace meanwhile). Prints results and ratios; never fails on timing: exit 1 only when
// something did not work (no rows, a reset that did not succeed).
//
//   bench_raftpane --inventory FILE --cluster C --namespace N --other-namespace M --statefulset S --dr-image IMAGE
//                  [--runs 5]
//
// tests/bench/bench-raft-reset runs it on the namespace it seeds (50 StatefulSets x 10 pods).
#include "BenchPane.h"
#include "BenchStats.h"
#include "ConfirmDialog.h"
#include "ErrorBanner.h"
#include "MainWindow.h"
#include "RaftPane.h"
#include "StallMonitor.h"
#include "StatefulSetTableModel.h"
#include "Systems.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QListWidget>
#include <QTest>
#include <QTextStream>
#include <QTimer>

#include <algorithm>

using namespace Qt::StringLiterals;
using namespace opsdeck;
using namespace opsdeck::bench;

namespace {

constexpr double kFirstRowsTarget = 300; // ms, the target

} // namespace

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addOptions({ { u"inventory"_s, u"Inventory with the cluster."_s, u"FILE"_s },
        { u"cluster"_s, u"Its cluster."_s, u"C"_s }, { u"namespace"_s, u"The namespace of many."_s, u"N"_s },
        { u"other-namespace"_s, u"Another namespace of the cluster, switched from."_s, u"M"_s },
        { u"statefulset"_s, u"The StatefulSets to reset, one after the other (comma-separated)."_s, u"S,..."_s },
        { u"dr-image"_s, u"The DR image."_s, u"IMAGE"_s }, { u"runs"_s, u"Switches measured."_s, u"N"_s, u"5"_s } });
    parser.process(app);
    const QString cluster = parser.value(u"cluster"_s);
    const QString many = cluster + u'/' + parser.value(u"namespace"_s);
    const QString other = cluster + u'/' + parser.value(u"other-namespace"_s);

    MainWindow window(parser.value(u"inventory"_s), systemPanes());
    auto* pane = qobject_cast<RaftPane*>(window.pane(u"RAFT"_s));
    if (!pane) {
        out() << "bench_raftpane: no RAFT pane (is the inventory valid?)\n";
        return 1;
    }
    showPane(window, u"RAFT"_s);

    // First rows: from the switch to the namespace until its StatefulSets are in the table (a new connection, the
    // first poll, the rows). The other namespace in between, so each switch starts from another's rows.
    QList<double> firstRows;
    const int runs = std::max(1, parser.value(u"runs"_s).toInt());
    for (int run = 0; run <= runs; ++run) {
        if (!pane->selectTarget(other)
            || !QTest::qWaitFor([&] { return pane->statefulSets()->rowCount() > 0; }, 30000)) {
            out() << "bench_raftpane: " << other << " shows no StatefulSet: " << pane->errors()->text() << "\n";
            return 1;
        }
        QElapsedTimer clock;
        clock.start();
        pane->selectTarget(many);
        if (!QTest::qWaitFor([&] { return pane->statefulSets()->rowCount() > 1; }, 30000)) {
            out() << "bench_raftpane: " << many << " shows no StatefulSets: " << pane->errors()->text() << "\n";
            return 1;
        }
        if (run > 0) // the first warms the kubeconfig's files and the TLS session cache
            firstRows << double(clock.nsecsElapsed()) / 1e6;
    }
    const int rows = pane->statefulSets()->rowCount();
    const Stats first = stats(firstRows);
    out() << "first rows of " << many << " (" << rows << " StatefulSets), " << runs << " switches: median "
          << number(first.median) << " ms, max " << number(first.max)
          << " ms; median/target = " << QString::number(first.median / kFirstRowsTarget, 'f', 2) << "x (target "
          << kFirstRowsTarget << " ms)\n";

    // Resets from the pane while it polls the namespace: the GUI thread's longest stall. Twice: the first one also
    // shows the Runs dock for the first time (the window lays itself out again).
    StallMonitor monitor;
    QString outcome;
    QObject::connect(pane, &RaftPane::resetFinished, pane, [&](const QString& result) { outcome = result; });
    const QStringList names = parser.value(u"statefulset"_s).split(u',');
    bool allSucceeded = true;
    for (const QString& name : names) {
        outcome.clear();
        pane->selectStatefulSet(name);
        ConfirmDialog::setNextAnswer(true);
        QElapsedTimer resetClock;
        resetClock.start();
        monitor.start();
        pane->resetStatefulSet(name, parser.value(u"dr-image"_s));
        const bool ended = QTest::qWaitFor([&] { return !outcome.isEmpty(); }, 600000);
        const double stall = monitor.stop();
        out() << "reset of " << name << " from the pane: " << (ended ? outcome : u"no end within 10 minutes"_s)
              << " in " << QString::number(double(resetClock.elapsed()) / 1000, 'f', 1) << " s; longest GUI stall "
              << QString::number(stall, 'f', 1)
              << " ms; stall/target = " << QString::number(stall / kStallTarget, 'f', 2) << "x (target " << kStallTarget
              << " ms)\n";
        if (!monitor.stalls().isEmpty())
            out() << "  stalls over " << kStallTarget / 2 << " ms: " << monitor.stalls().join(u", "_s) << "\n";
        out().flush();
        allSucceeded = allSucceeded && outcome == u"succeeded"_s;
    }
    return allSucceeded ? 0 : 1;
}
