// The RAFT pane's models: what each cell says (text, icon, colour, tooltip), and refreshes that update rows in place
// so that a view keeps its selection.
#include "KubeCells.h"
#include "RaftPodTableModel.h"
#include "StatefulSetTableModel.h"
#include "StatusIcons.h"

#include <QAbstractItemModelTester>
#include <QIcon>
#include <QItemSelectionModel>
#include <QSignalSpy>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck;

namespace {

// The annotation as the runbook shows it.
const QString kTrigger = u"[{\"from\":{\"kind\":\"ImageStreamTag\",\"name\":\"permie:latest\"},"
                         "\"fieldPath\":\"spec.template.spec.containers[?(@.name==\\\"app\\\")].image\"}]"_s;
const QString kImage
    = u"image-registry.openshift-image-registry.svc:5000/fg/permie@sha256:7144abcdef0123456789abcdef0123456789abcdef0123456789abcdef012345"_s;

ImageTrigger trigger(const QString& tag, const QString& container, const QString& tagNamespace = {})
{
    ImageTrigger result;
    result.tag = tag;
    result.container = container;
    result.tagNamespace = tagNamespace;
    return result;
}

StatefulSetRow statefulSet(const QString& name, int ready, int desired, const QString& resourceVersion = u"1"_s)
{
    StatefulSetRow row;
    row.name = name;
    row.resourceVersion = resourceVersion;
    row.generation = 2;
    row.observedGeneration = 2;
    row.desiredReplicas = desired;
    row.replicas = desired;
    row.readyReplicas = ready;
    row.updatedReplicas = desired;
    row.updateStrategy = u"RollingUpdate"_s;
    row.podManagementPolicy = u"OrderedReady"_s;
    row.currentRevision = name + u"-6d4f8b7c9"_s;
    row.updateRevision = row.currentRevision;
    row.container = u"app"_s;
    row.image = kImage;
    row.hasTrigger = true;
    row.triggerAnnotation = kTrigger;
    row.triggers = { trigger(u"permie:latest"_s, u"app"_s) };
    return row;
}

PodRow pod(const QString& statefulSetName, int ordinal, const QString& revision)
{
    PodRow row;
    row.name = u"%1-%2"_s.arg(statefulSetName).arg(ordinal);
    row.ordinal = ordinal;
    row.phase = u"Running"_s;
    row.ready = true;
    row.image = kImage;
    row.imageId = kImage;
    row.revision = revision;
    row.created = QDateTime(QDate(2026, 1, 5), QTime(10, 0), Qt::UTC);
    return row;
}

QString text(const QAbstractItemModel& model, int row, int column, int role = Qt::DisplayRole)
{
    return model.data(model.index(row, column), role).toString();
}

bool hasIcon(const QAbstractItemModel& model, int row, int column)
{
    return !model.data(model.index(row, column), Qt::DecorationRole).value<QIcon>().isNull();
}

} // namespace

class TestRaftModels : public QObject
{
    Q_OBJECT
private slots:
    void shortImage_data();
    void shortImage();
    void age_data();
    void age();
    void statefulSetCells();
    void readyStates();
    void triggerStates();
    void rolloutHighlighted();
    void statefulSetRefreshKeepsSelection();
    void statefulSetRowsInsertedRemovedAndMoved();
    void podCells();
    void podNotOnUpdateRevisionIsMarked();
    void podRefreshKeepsSelection();
};

void TestRaftModels::shortImage_data()
{
    QTest::addColumn<QString>("reference");
    QTest::addColumn<QString>("shown");
    QTest::newRow("digest, registry with a port") << kImage << u"permie@sha256:7144abcdef01…"_s;
    QTest::newRow("tag") << u"quay.io/vimc/jerriedr:1.2"_s << u"jerriedr:1.2"_s;
    QTest::newRow("bare name") << u"busybox"_s << u"busybox"_s;
    QTest::newRow("short digest kept whole") << u"r/x@sha256:abc"_s << u"x@sha256:abc"_s;
}

void TestRaftModels::shortImage()
{
    QFETCH(QString, reference);
    QFETCH(QString, shown);
    QCOMPARE(KubeCells::shortImage(reference), shown);
}

void TestRaftModels::age_data()
{
    QTest::addColumn<qint64>("seconds");
    QTest::addColumn<QString>("shown");
    QTest::newRow("seconds") << qint64(45) << u"45s"_s;
    QTest::newRow("minutes and seconds") << qint64(200) << u"3m20s"_s;
    QTest::newRow("whole minutes") << qint64(300) << u"5m"_s;
    QTest::newRow("minutes up to 3 h") << qint64(2 * 3600 + 59) << u"120m"_s;
    QTest::newRow("hours and minutes") << qint64(4 * 3600 + 600) << u"4h10m"_s;
    QTest::newRow("hours") << qint64(30 * 3600) << u"30h"_s;
    QTest::newRow("days and hours") << qint64(3 * 86400 + 7200) << u"3d2h"_s;
    QTest::newRow("days") << qint64(40 * 86400) << u"40d"_s;
    QTest::newRow("clock skew") << qint64(-5) << u"0s"_s;
}

void TestRaftModels::age()
{
    QFETCH(qint64, seconds);
    QFETCH(QString, shown);
    const QDateTime since(QDate(2026, 1, 5), QTime(10, 0), Qt::UTC);
    QCOMPARE(KubeCells::age(since, since.addSecs(seconds)), shown);
    QCOMPARE(KubeCells::age(QDateTime(), since), u"—"_s);
}

void TestRaftModels::statefulSetCells()
{
    StatefulSetTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    StatefulSetRow parallel = statefulSet(u"permie-ledger"_s, 5, 5);
    parallel.podManagementPolicy = u"Parallel"_s;
    model.setStatefulSets({ statefulSet(u"permie"_s, 3, 3), parallel });
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(text(model, 0, StatefulSetTableModel::Name), u"permie"_s);
    QCOMPARE(text(model, 0, StatefulSetTableModel::Ready), u"3/3"_s);
    QCOMPARE(text(model, 1, StatefulSetTableModel::Ready), u"5/5"_s);
    QCOMPARE(text(model, 0, StatefulSetTableModel::Image), u"permie@sha256:7144abcdef01…"_s);
    QVERIFY(text(model, 0, StatefulSetTableModel::Image, Qt::ToolTipRole).contains(kImage));
    QCOMPARE(text(model, 0, StatefulSetTableModel::Revision), u"permie-6d4f8b7c9"_s);
    QCOMPARE(text(model, 0, StatefulSetTableModel::PodManagement), u"OrderedReady"_s);
    QCOMPARE(text(model, 1, StatefulSetTableModel::PodManagement), u"Parallel"_s);
    QVERIFY(text(model, 1, StatefulSetTableModel::PodManagement, Qt::ToolTipRole).contains(u"all at once"_s));
    QCOMPARE(model.headerData(StatefulSetTableModel::Trigger, Qt::Horizontal).toString(), u"Image trigger"_s);
    QCOMPARE(model.rowOf(u"permie-ledger"_s), 1);
    QCOMPARE(model.rowOf(u"other"_s), -1);
}

void TestRaftModels::readyStates()
{
    StatefulSetTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    StatefulSetRow scaledDown = statefulSet(u"down"_s, 0, 0);
    scaledDown.replicas = 0;
    StatefulSetRow unseen = statefulSet(u"unseen"_s, 3, 3);
    unseen.generation = 3;
    model.setStatefulSets({ statefulSet(u"all"_s, 3, 3), statefulSet(u"some"_s, 1, 3), scaledDown, unseen });
    const auto color = [&](int row) {
        return model.data(model.index(row, StatefulSetTableModel::Ready), Qt::ForegroundRole).value<QColor>();
    };
    const auto tooltip = [&](int row) { return text(model, row, StatefulSetTableModel::Ready, Qt::ToolTipRole); };
    for (int row = 0; row < model.rowCount(); ++row)
        QVERIFY(hasIcon(model, row, StatefulSetTableModel::Ready));
    QCOMPARE(color(0), StatusIcons::color(StatusIcons::Kind::Ok));
    QVERIFY(tooltip(0).contains(u"All 3 pods are Ready"_s));
    QCOMPARE(color(1), StatusIcons::color(StatusIcons::Kind::Busy));
    QVERIFY(tooltip(1).contains(u"1 of 3 pods Ready"_s));
    QCOMPARE(color(2), StatusIcons::color(StatusIcons::Kind::Warning));
    QVERIFY(tooltip(2).contains(u"service is down"_s));
    QCOMPARE(color(3), StatusIcons::color(StatusIcons::Kind::Busy));
    QVERIFY(tooltip(3).contains(u"not seen the latest change"_s));
}

void TestRaftModels::triggerStates()
{
    StatefulSetTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    StatefulSetRow removed = statefulSet(u"removed"_s, 3, 3);
    removed.hasTrigger = false;
    removed.triggerAnnotation.clear();
    removed.triggers.clear();
    StatefulSetRow broken = statefulSet(u"broken"_s, 3, 3);
    broken.triggerAnnotation = u"[{"_s;
    broken.triggers.clear();
    broken.triggerError = u"not a JSON array"_s;
    StatefulSetRow paused = statefulSet(u"paused"_s, 3, 3);
    paused.triggers.front().paused = true;
    StatefulSetRow elsewhere = statefulSet(u"elsewhere"_s, 3, 3);
    elsewhere.triggers = { trigger(u"sidecar:1"_s, u"sidecar"_s), trigger(u"permie:stable"_s, u"app"_s, u"shared"_s) };
    model.setStatefulSets({ statefulSet(u"present"_s, 3, 3), removed, broken, paused, elsewhere });
    const int column = StatefulSetTableModel::Trigger;
    const auto color
        = [&](int row) { return model.data(model.index(row, column), Qt::ForegroundRole).value<QColor>(); };

    QCOMPARE(text(model, 0, column), u"permie:latest"_s);
    QCOMPARE(color(0), StatusIcons::color(StatusIcons::Kind::Ok));
    QVERIFY(text(model, 0, column, Qt::ToolTipRole).contains(kTrigger)); // verbatim

    QCOMPARE(text(model, 1, column), u"none"_s);
    QVERIFY(hasIcon(model, 1, column));
    QCOMPARE(color(1), StatusIcons::color(StatusIcons::Kind::Warning));
    QVERIFY(text(model, 1, column, Qt::ToolTipRole).contains(u"someone removed it"_s));

    QCOMPARE(text(model, 2, column), u"unusable"_s);
    QCOMPARE(color(2), StatusIcons::color(StatusIcons::Kind::Error));
    QVERIFY(text(model, 2, column, Qt::ToolTipRole).contains(u"not a JSON array"_s));
    QVERIFY(text(model, 2, column, Qt::ToolTipRole).contains(u": [{"_s));

    QCOMPARE(text(model, 3, column), u"permie:latest (paused)"_s);
    QCOMPARE(color(3), StatusIcons::color(StatusIcons::Kind::Warning));

    // The trigger of the StatefulSet's own container, whatever its place in the list.
    QCOMPARE(text(model, 4, column), u"shared/permie:stable"_s);
    QCOMPARE(StatefulSetTableModel::imageTrigger(elsewhere)->tag, u"permie:stable"_s);
    QVERIFY(!StatefulSetTableModel::imageTrigger(removed));
}

void TestRaftModels::rolloutHighlighted()
{
    StatefulSetTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    StatefulSetRow rolling = statefulSet(u"permie"_s, 2, 3);
    rolling.updateRevision = u"permie-77aa"_s;
    rolling.updatedReplicas = 1;
    model.setStatefulSets({ rolling, statefulSet(u"steady"_s, 3, 3) });
    const int column = StatefulSetTableModel::Revision;
    QCOMPARE(text(model, 0, column), u"permie-6d4f8b7c9 → permie-77aa"_s);
    QVERIFY(hasIcon(model, 0, column));
    QVERIFY(model.data(model.index(0, column), Qt::BackgroundRole).isValid());
    QVERIFY(text(model, 0, column, Qt::ToolTipRole).contains(u"Rollout in progress: 1 of 3 pods"_s));
    QVERIFY(!hasIcon(model, 1, column));
    QVERIFY(!model.data(model.index(1, column), Qt::BackgroundRole).isValid());
}

void TestRaftModels::statefulSetRefreshKeepsSelection()
{
    StatefulSetTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setStatefulSets({ statefulSet(u"permie"_s, 3, 3), statefulSet(u"permie-ledger"_s, 5, 5) });
    QItemSelectionModel selection(&model);
    selection.setCurrentIndex(model.index(1, 0), QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);

    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    // permie-ledger scaled down behind our back (a new resourceVersion); permie unchanged; a new one before both.
    model.setStatefulSets({ statefulSet(u"alpha"_s, 1, 1), statefulSet(u"permie"_s, 3, 3),
        statefulSet(u"permie-ledger"_s, 3, 3, u"2"_s) });
    QCOMPARE(reset.count(), 0);
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(changed.count(), 1); // only the row that changed
    QCOMPARE(changed.front().at(0).toModelIndex().row(), 2);
    QCOMPARE(text(model, 2, StatefulSetTableModel::Ready), u"3/3"_s);
    QCOMPARE(selection.currentIndex().row(), 2);
    QCOMPARE(selection.selectedRows().size(), 1);
    QCOMPARE(selection.selectedRows().front().data().toString(), u"permie-ledger"_s);

    // The same answer again changes nothing at all.
    changed.clear();
    model.setStatefulSets(model.rows());
    QCOMPARE(changed.count(), 0);
}

void TestRaftModels::statefulSetRowsInsertedRemovedAndMoved()
{
    StatefulSetTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setStatefulSets({ statefulSet(u"a"_s, 1, 1), statefulSet(u"b"_s, 1, 1), statefulSet(u"c"_s, 1, 1) });
    QItemSelectionModel selection(&model);
    selection.select(model.index(2, 0), QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    model.setStatefulSets({ statefulSet(u"c"_s, 1, 1), statefulSet(u"d"_s, 1, 1), statefulSet(u"a"_s, 1, 1) });
    QCOMPARE(removed.count(), 1);
    QStringList names;
    for (const StatefulSetRow& row : model.rows())
        names << row.name;
    QCOMPARE(names, QStringList({ u"c"_s, u"d"_s, u"a"_s }));
    QCOMPARE(selection.selectedRows().front().data().toString(), u"c"_s);
    model.clear();
    QCOMPARE(model.rowCount(), 0);
    QVERIFY(!selection.hasSelection());
}

void TestRaftModels::podCells()
{
    RaftPodTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    PodRow notReady = pod(u"permie"_s, 1, u"permie-1"_s);
    notReady.ready = false;
    notReady.restarts = 4;
    PodRow terminating = pod(u"permie"_s, 2, u"permie-1"_s);
    terminating.terminating = true;
    PodRow pending = pod(u"permie"_s, 3, u"permie-1"_s);
    pending.phase = u"Pending"_s;
    pending.ready = false;
    PodRow failed = pod(u"permie"_s, 4, u"permie-1"_s);
    failed.phase = u"Failed"_s;
    failed.ready = false;
    const QDateTime readAt = pod(u"permie"_s, 0, {}).created.addSecs(200);
    model.setPods(
        { pod(u"permie"_s, 0, u"permie-1"_s), notReady, terminating, pending, failed }, u"permie-1"_s, readAt);
    QCOMPARE(model.rowCount(), 5);
    QCOMPARE(text(model, 0, RaftPodTableModel::Ordinal), u"0"_s);
    QCOMPARE(text(model, 0, RaftPodTableModel::Name), u"permie-0"_s);
    QCOMPARE(text(model, 0, RaftPodTableModel::Age), u"3m20s"_s);
    QCOMPARE(text(model, 0, RaftPodTableModel::Image), u"permie@sha256:7144abcdef01…"_s);
    QVERIFY(text(model, 0, RaftPodTableModel::Image, Qt::ToolTipRole).contains(kImage));

    const auto color
        = [&](int row, int column) { return model.data(model.index(row, column), Qt::ForegroundRole).value<QColor>(); };
    const QList<std::pair<QString, StatusIcons::Kind>> phases = { { u"Running"_s, StatusIcons::Kind::Ok },
        { u"Running"_s, StatusIcons::Kind::Warning }, { u"Terminating"_s, StatusIcons::Kind::Busy },
        { u"Pending"_s, StatusIcons::Kind::Busy }, { u"Failed"_s, StatusIcons::Kind::Error } };
    for (int row = 0; row < phases.size(); ++row) {
        QCOMPARE(text(model, row, RaftPodTableModel::Phase), phases[row].first);
        QCOMPARE(color(row, RaftPodTableModel::Phase), StatusIcons::color(phases[row].second));
        QVERIFY(hasIcon(model, row, RaftPodTableModel::Phase));
        QVERIFY(!text(model, row, RaftPodTableModel::Phase, Qt::ToolTipRole).isEmpty());
        QVERIFY(hasIcon(model, row, RaftPodTableModel::Ready));
    }
    QVERIFY(text(model, 1, RaftPodTableModel::Phase, Qt::ToolTipRole).contains(u"not Ready"_s));
    QCOMPARE(text(model, 0, RaftPodTableModel::Ready), u"Ready"_s);
    QCOMPARE(text(model, 1, RaftPodTableModel::Ready), u"Not ready"_s);
    QCOMPARE(text(model, 2, RaftPodTableModel::Ready), u"Not ready"_s); // terminating: no longer serves

    QCOMPARE(text(model, 0, RaftPodTableModel::Restarts), u"0"_s);
    QVERIFY(!hasIcon(model, 0, RaftPodTableModel::Restarts));
    QCOMPARE(text(model, 1, RaftPodTableModel::Restarts), u"4"_s);
    QVERIFY(hasIcon(model, 1, RaftPodTableModel::Restarts));
    QVERIFY(text(model, 1, RaftPodTableModel::Restarts, Qt::ToolTipRole).contains(u"restarts: 4."_s));
}

void TestRaftModels::podNotOnUpdateRevisionIsMarked()
{
    RaftPodTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const QDateTime readAt = QDateTime::currentDateTimeUtc();
    const QList<PodRow> pods = { pod(u"permie"_s, 0, u"permie-old"_s), pod(u"permie"_s, 1, u"permie-old"_s),
        pod(u"permie"_s, 2, u"permie-new"_s) };
    model.setPods(pods, u"permie-new"_s, readAt);
    const int column = RaftPodTableModel::Revision;
    QVERIFY(hasIcon(model, 0, column));
    QVERIFY(hasIcon(model, 1, column));
    QVERIFY(!hasIcon(model, 2, column));
    QCOMPARE(model.data(model.index(0, column), Qt::ForegroundRole).value<QColor>(),
        StatusIcons::color(StatusIcons::Kind::Behind));
    QVERIFY(text(model, 0, column, Qt::ToolTipRole).contains(u"Not on the update revision permie-new"_s));

    // The rollout finished (the StatefulSet's update revision is now the pods'): the marks go, with dataChanged.
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.setPods(pods, u"permie-old"_s, readAt);
    QCOMPARE(changed.count(), 1);
    QVERIFY(!hasIcon(model, 0, column));
    QVERIFY(hasIcon(model, 2, column));
}

void TestRaftModels::podRefreshKeepsSelection()
{
    RaftPodTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const QDateTime readAt = QDateTime::currentDateTimeUtc();
    QList<PodRow> pods;
    for (int ordinal = 0; ordinal < 5; ++ordinal)
        pods << pod(u"permie-ledger"_s, ordinal, u"r1"_s);
    model.setPods(pods, u"r1"_s, readAt);
    QItemSelectionModel selection(&model);
    selection.setCurrentIndex(model.index(2, 0), QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);

    // Scaled down to 3, pod 1 restarted, read two seconds later.
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    pods.resize(3);
    pods[1].restarts = 1;
    model.setPods(pods, u"r1"_s, readAt.addSecs(2));
    QCOMPARE(reset.count(), 0);
    QCOMPARE(removed.count(), 2);
    QCOMPARE(changed.count(), 2); // pod 1's row, and the age column
    QCOMPARE(text(model, 1, RaftPodTableModel::Restarts), u"1"_s);
    QCOMPARE(selection.currentIndex().row(), 2);
    QCOMPARE(selection.selectedRows().front().data(Qt::DisplayRole).toInt(), 2);
}

QTEST_MAIN(TestRaftModels)
#include "tst_raftmodels.moc"
