// The Packit pane offscreen on the sandbox: live instance state, packets loaded lazily, and a whole wipe driven
// through the real confirmation dialog.
#include "CommandPalette.h"
#include "ConfirmDialog.h"
#include "ErrorBanner.h"
#include "JournalPane.h"
#include "JsonTreeModel.h"
#include "MainWindow.h"
#include "PacketTableModel.h"
#include "PackitPane.h"
#include "PagedTableView.h"
#include "ReportExport.h"
#include "RunsDock.h"
#include "Sandbox.h"
#include "Systems.h"
#include "TargetStatusModel.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QTreeView>
#include <QTreeWidget>

using namespace opsdeck;
using namespace opsdeck::test;

class TestPackitPane : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void instancesShowLiveStateAndPacketsLoad();
    void packetTabSaysWhichPacketAndShowsATree();
    void wipeThroughTheDialog();
    void wipeWithTheKeyboardOnly();

private:
    int rowOf(PackitPane* pane, const QString& instance) const;
    Sandbox m_sandbox;
    QTemporaryDir m_temp;
    QString m_inventory;
};

void TestPackitPane::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    m_sandbox.exportToThisProcess();
    // wpia-packit-private made production, so that its wipe needs the typed name.
    m_inventory = m_temp.filePath(QStringLiteral("inventory.yaml"));
    QVERIFY(m_sandbox.writeInventoryWith(
        m_inventory, QStringLiteral("wpia-packit-private"), QStringLiteral("tags: [production]")));
}

int TestPackitPane::rowOf(PackitPane* pane, const QString& instance) const
{
    for (int row = 0; row < pane->instances()->rowCount(); ++row) {
        if (pane->instances()->index(row, 0).data().toString() == instance)
            return row;
    }
    return -1;
}

void TestPackitPane::instancesShowLiveStateAndPacketsLoad()
{
    MainWindow window(m_inventory, systemPanes());
    auto* pane = qobject_cast<PackitPane*>(window.pane(QStringLiteral("Packit")));
    QVERIFY(pane);
    QAbstractItemModelTester instancesTester(pane->instances(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester packetsTester(pane->packets(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    window.show();
    window.sidebar()->setCurrentRow(1);
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    const int row = rowOf(pane, QStringLiteral("reside"));
    QVERIFY(row >= 0);
    // outpack state, API state, packet count come from the host and the database.
    QTRY_COMPARE_WITH_TIMEOUT(pane->instances()->index(row, 2).data().toString(), QStringLiteral("active"), 30000);
    QCOMPARE(pane->instances()->index(row, 3).data().toString(), QStringLiteral("active"));
    QCOMPARE(pane->instances()->index(row, 4).data().toString(), QStringLiteral("300"));

    pane->selectInstance(row);
    QTRY_VERIFY_WITH_TIMEOUT(pane->packets()->total() == 300, 30000);
    QVERIFY(pane->packets()->rowCount() > 0);
    auto* label = pane->findChild<QLabel*>(QStringLiteral("loadLabel"));
    QVERIFY(label->text().contains(QStringLiteral("of 300 loaded")));
    // Server-side filter.
    pane->findChild<QLineEdit*>()->setText(pane->packets()->packetId(0));
    QTRY_COMPARE_WITH_TIMEOUT(pane->packets()->total(), 1, 10000);
}

// A packet selected in Packets: the Packet tab names it (id, name, display name, as the table read them), lists its
// files, and shows its metadata as a tree with the first levels open; Copy JSON copies the metadata whole.
void TestPackitPane::packetTabSaysWhichPacketAndShowsATree()
{
    MainWindow window(m_inventory, systemPanes());
    auto* pane = qobject_cast<PackitPane*>(window.pane(QStringLiteral("Packit")));
    QVERIFY(pane);
    QAbstractItemModelTester metadataTester(pane->metadata(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    window.resize(1280, 800);
    window.show();
    window.sidebar()->setCurrentRow(1);
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    auto* title = pane->findChild<QLabel*>(QStringLiteral("packetTitle"));
    QVERIFY(title);
    QVERIFY2(title->text().contains(QStringLiteral("Select a packet")), qPrintable(title->text()));
    auto* copy = pane->findChild<QPushButton*>(QStringLiteral("copyJson"));
    QVERIFY(copy);
    QVERIFY(!copy->isEnabled());
    QCOMPARE(copy->text(), QStringLiteral("Copy &JSON"));

    const int row = rowOf(pane, QStringLiteral("reside"));
    QVERIFY(row >= 0);
    pane->selectInstance(row);
    QTRY_VERIFY_WITH_TIMEOUT(pane->packets()->rowCount() > 0, 30000);
    // A packet with a display name, so that all three show.
    int packet = -1;
    for (int r = 0; r < pane->packets()->rowCount() && packet < 0; ++r) {
        if (!pane->packets()->index(r, PacketTableModel::DisplayName).data().toString().isEmpty())
            packet = r;
    }
    QVERIFY(packet >= 0);
    const QString id = pane->packets()->packetId(packet);
    const QString name = pane->packets()->index(packet, PacketTableModel::Name).data().toString();
    const QString displayName = pane->packets()->index(packet, PacketTableModel::DisplayName).data().toString();
    auto* packetView = pane->findChild<PagedTableView*>(QStringLiteral("packets"));
    QVERIFY(packetView);
    QTableView* table = packetView->table();
    table->setCurrentIndex(table->model()->index(packet, 0));

    // The tab opens on the packet, named at its top.
    auto* tabs = pane->findChildren<QTabWidget*>().first();
    QTRY_VERIFY_WITH_TIMEOUT(pane->metadata()->hasJson(), 30000);
    QCOMPARE(tabs->tabText(tabs->currentIndex()), QStringLiteral("Pac&ket"));
    QVERIFY(title->isVisible());
    for (const QString& part : { id, name, displayName })
        QVERIFY2(title->text().contains(part.toHtmlEscaped()),
            qPrintable(part + QStringLiteral(" not in ") + title->text()));
    QVERIFY2(!title->text().contains(QStringLiteral("Reading")), qPrintable(title->text()));

    // The metadata as a tree: the packet's own id and name at the top level, objects and arrays open one level.
    JsonTreeModel* model = pane->metadata();
    const auto child = [&](const QModelIndex& parent, const QString& key) {
        for (int r = 0; r < model->rowCount(parent); ++r) {
            if (model->index(r, JsonTreeModel::Key, parent).data().toString() == key)
                return model->index(r, JsonTreeModel::Key, parent);
        }
        return QModelIndex();
    };
    QCOMPARE(child({}, QStringLiteral("id")).siblingAtColumn(JsonTreeModel::Value).data().toString(), id);
    QCOMPARE(child({}, QStringLiteral("name")).siblingAtColumn(JsonTreeModel::Value).data().toString(), name);
    auto* tree = pane->findChild<QTreeView*>(QStringLiteral("metadata"));
    QVERIFY(tree && tree->isVisible());
    QCOMPARE(tree->model(), model);
    const QModelIndex time = child({}, QStringLiteral("time"));
    QVERIFY(time.isValid());
    QVERIFY(model->rowCount(time) > 0);
    QVERIFY(tree->isExpanded(time));
    const QModelIndex orderly = child(child({}, QStringLiteral("custom")), QStringLiteral("orderly"));
    QVERIFY(tree->isExpanded(orderly.parent()));
    QVERIFY(tree->isExpanded(orderly));
    // Arrays closed: the files are listed above the tree.
    const QModelIndex files = child({}, QStringLiteral("files"));
    QVERIFY(files.isValid());
    QVERIFY(model->rowCount(files) > 0);
    QVERIFY(!tree->isExpanded(files));

    // The files list stays, one row per file of the metadata.
    auto* fileList = pane->findChild<QTreeWidget*>(QStringLiteral("files"));
    QVERIFY(fileList);
    QCOMPARE(fileList->topLevelItemCount(), model->rowCount(files));

    // Copy JSON: the metadata whole, as JSON.
    QVERIFY(copy->isEnabled());
    QGuiApplication::clipboard()->clear();
    copy->click();
    QJsonParseError error;
    const QJsonDocument copied = QJsonDocument::fromJson(QGuiApplication::clipboard()->text().toUtf8(), &error);
    QCOMPARE(error.error, QJsonParseError::NoError);
    QCOMPARE(copied.object(), model->json().toObject());
    QCOMPARE(copied.object().value(QStringLiteral("id")).toString(), id);

    if (const QByteArray dir = qgetenv("OPSDECK_SCREENSHOT_DIR"); !dir.isEmpty())
        window.grab().save(QString::fromUtf8(dir) + QStringLiteral("/packit-packet.png"));

    // Another instance: nothing of the packet stays.
    QVERIFY(pane->instances()->rowCount() > 1);
    pane->selectInstance((row + 1) % pane->instances()->rowCount());
    QVERIFY(!pane->metadata()->hasJson());
    QVERIFY(!copy->isEnabled());
    QVERIFY(title->text().contains(QStringLiteral("Select a packet")));
}

void TestPackitPane::wipeThroughTheDialog()
{
    MainWindow window(m_inventory, systemPanes());
    auto* pane = qobject_cast<PackitPane*>(window.pane(QStringLiteral("Packit")));
    window.show();
    window.sidebar()->setCurrentRow(1);
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    const int row = rowOf(pane, QStringLiteral("kipling"));
    pane->selectInstance(row);
    QTRY_COMPARE_WITH_TIMEOUT(pane->instances()->index(row, 4).data().toString(), QStringLiteral("300"), 30000);

    // Drive the real dialog: the verb stays disabled until the name is typed.
    bool disabledBeforeTyping = false;
    bool enabledAfterTyping = false;
    bool sawCounts = false;
    // The dialog runs its own event loop: a polling timer answers it from inside that loop.
    QTimer answer;
    answer.setInterval(100);
    connect(&answer, &QTimer::timeout, this, [&] {
        QWidget* dialog = QApplication::activeModalWidget();
        if (!dialog)
            return;
        answer.stop();
        auto* verb = dialog->findChild<QPushButton*>(QStringLiteral("verb"));
        auto* typed = dialog->findChild<QLineEdit*>(QStringLiteral("typedName"));
        if (!verb || !typed) {
            dialog->close();
            return;
        }
        sawCounts = dialog->findChildren<QLabel*>().size() > 10;
        disabledBeforeTyping = !verb->isEnabled();
        QTest::keyClicks(typed, QStringLiteral("kiplin"));
        disabledBeforeTyping = disabledBeforeTyping && !verb->isEnabled();
        QTest::keyClicks(typed, QStringLiteral("g"));
        enabledAfterTyping = verb->isEnabled();
        verb->click();
    });
    answer.start();
    QSignalSpy finished(window.runs(), &RunsDock::runFinished);
    auto* wipe = pane->findChild<QPushButton*>(QStringLiteral("wipeInstance"));
    QVERIFY(wipe->isEnabled());
    wipe->click();
    QVERIFY(QTest::qWaitFor([&] { return enabledAfterTyping || !finished.isEmpty(); }, 60000));
    QVERIFY(disabledBeforeTyping);
    QVERIFY(enabledAfterTyping);
    QVERIFY(sawCounts);

    // Progress shows in the Runs dock while it runs, then the outcome.
    auto* runs = window.runs()->findChild<QTreeWidget*>(QStringLiteral("runs"));
    QTRY_COMPARE_WITH_TIMEOUT(runs->topLevelItemCount(), 1, 10000);
    QVERIFY(window.runs()->isVisible());
    QVERIFY(finished.wait(120000));
    const RunRecord record = finished.first().first().value<RunRecord>();
    QCOMPARE(record.outcome, RunRecord::Outcome::Succeeded);
    QCOMPARE(record.target, QStringLiteral("wpia-packit-private/kipling"));
    auto* bar = qobject_cast<QProgressBar*>(runs->itemWidget(runs->topLevelItem(0), 1));
    QVERIFY(bar);
    QCOMPARE(bar->value(), 1000);
    QVERIFY(runs->findChild<QPushButton*>(QStringLiteral("exportReport")));
    QTRY_COMPARE_WITH_TIMEOUT(pane->instances()->index(row, 4).data().toString(), QStringLiteral("0"), 30000);

    // The report exports, in every format.
    for (const QString& suffix :
        { QStringLiteral("pdf"), QStringLiteral("html"), QStringLiteral("csv"), QStringLiteral("json") }) {
        const QString path = m_temp.filePath(QStringLiteral("kipling.") + suffix);
        QString error;
        QVERIFY2(ReportExport::write(record, path, &error), qPrintable(error));
        QVERIFY(QFileInfo(path).size() > 100);
    }
    QString error;
    QVERIFY(!ReportExport::write(record, m_temp.filePath(QStringLiteral("kipling.txt")), &error));
    QVERIFY(error.contains(QStringLiteral(".pdf")));

    // The journal pane lists the run with its steps, and filters it.
    auto* journal = qobject_cast<JournalPane*>(window.pane(QStringLiteral("Journal")));
    QVERIFY(journal);
    QSignalSpy loaded(journal, &JournalPane::loaded);
    window.sidebar()->setCurrentRow(window.sidebar()->count() - 1);
    QVERIFY(loaded.wait(10000));
    QTreeWidgetItem* top = nullptr;
    for (int i = 0; i < journal->runList()->topLevelItemCount(); ++i) {
        if (journal->runList()->topLevelItem(i)->text(1) == record.name())
            top = journal->runList()->topLevelItem(i);
    }
    QVERIFY(top);
    QCOMPARE(top->text(2), QStringLiteral("succeeded"));
    QCOMPARE(top->text(5), record.operation);
    journal->runList()->setCurrentItem(top);
    QCOMPARE(journal->stepList()->topLevelItemCount(), int(record.steps.size()));
    auto* outcome = journal->findChildren<QComboBox*>().at(2);
    outcome->setCurrentIndex(outcome->findData(QStringLiteral("failed")));
    for (int i = 0; i < journal->runList()->topLevelItemCount(); ++i)
        QCOMPARE(journal->runList()->topLevelItem(i)->text(2), QStringLiteral("failed"));

    // "Undo…" in the Runs dock takes the wipe back: the restore puts kipling's packets and root back.
    QPushButton* undo = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((undo = runs->findChild<QPushButton*>(QStringLiteral("undoRun"))) != nullptr, 10000);
    QSignalSpy restored(window.runs(), &RunsDock::runFinished);
    ConfirmDialog::setNextAnswer(true);
    undo->click();
    QVERIFY(restored.wait(180000));
    const RunRecord restore = restored.first().first().value<RunRecord>();
    QCOMPARE(restore.operation, QStringLiteral("packit-restore"));
    QVERIFY2(restore.outcome == RunRecord::Outcome::Succeeded, qPrintable(restore.summary));
    QCOMPARE(restore.parameters.value(QStringLiteral("restores")).toString(), record.id);
    QTRY_COMPARE_WITH_TIMEOUT(pane->instances()->index(row, 4).data().toString(), QStringLiteral("300"), 30000);
}

namespace {

// A key as the admin presses it: to whatever has the keyboard focus now.
void press(Qt::Key key, Qt::KeyboardModifiers modifiers = Qt::NoModifier)
{
    QWidget* focus = QApplication::focusWidget();
    QVERIFY2(focus, "nothing has the keyboard focus");
    QTest::keyClick(focus, key, modifiers);
}

void type(const QString& text)
{
    QWidget* focus = QApplication::focusWidget();
    QVERIFY2(focus, "nothing has the keyboard focus");
    QTest::keyClicks(focus, text);
}

} // namespace

// A whole wipe with key presses only, each sent where the keyboard focus is: Ctrl+1 … go to the panes, Ctrl+K finds
// the instance and then the wipe by name, the confirmation takes the typed name and Alt+W.
void TestPackitPane::wipeWithTheKeyboardOnly()
{
    const QString inventory = m_temp.filePath(QStringLiteral("keyboard.yaml"));
    QVERIFY(m_sandbox.writeInventoryWith(
        inventory, QStringLiteral("wpia-packit-dev"), QStringLiteral("tags: [production]")));
    MainWindow window(inventory, systemPanes());
    window.show();
    QVERIFY(QTest::qWaitForWindowActive(&window));

    // Ctrl+7 is the Journal, Ctrl+1 the Hosts, with the keyboard in its table.
    press(Qt::Key_7, Qt::ControlModifier);
    QCOMPARE(window.sidebar()->currentRow(), 6);
    press(Qt::Key_1, Qt::ControlModifier);
    QCOMPARE(window.sidebar()->currentRow(), 0);
    QCOMPARE(QApplication::focusWidget(), window.pane(QStringLiteral("Hosts"))->targetView());

    // Ctrl+K, the instance's name, Enter: the Packit pane, the instance selected, the keyboard in its table.
    press(Qt::Key_K, Qt::ControlModifier);
    QVERIFY(QTest::qWaitForWindowActive(window.palette()));
    QTRY_COMPARE(QApplication::focusWidget(), window.palette()->search());
    type(QStringLiteral("reside-dev"));
    QVERIFY2(window.palette()->list()->currentItem(), qPrintable(window.palette()->search()->text()));
    QCOMPARE(window.palette()->list()->currentItem()->text(), QStringLiteral("Packit › reside-dev (wpia-packit-dev)"));
    press(Qt::Key_Return);
    QTRY_VERIFY(!window.palette()->isVisible());
    QVERIFY(QTest::qWaitForWindowActive(&window));
    auto* pane = qobject_cast<PackitPane*>(window.pane(QStringLiteral("Packit")));
    QCOMPARE(window.sidebar()->currentRow(), 1);
    QTRY_COMPARE(QApplication::focusWidget(), pane->targetView());
    const int row = rowOf(pane, QStringLiteral("reside-dev"));
    QVERIFY(row >= 0);
    QCOMPARE(pane->targetView()->currentIndex().row(), row);
    // Its packets counted (the plan needs the instance read).
    const auto packets = [&] { return pane->instances()->index(row, 4).data().toString(); };
    QTRY_VERIFY_WITH_TIMEOUT(packets() != QStringLiteral("…") && packets() != QStringLiteral("0"), 30000);

    // The confirmation answered with keys too: the focus starts in the typed-name field; Alt+W is the verb's key.
    QString dialogFocus;
    bool verbEnabledBeforeTyping = true;
    QTimer answer;
    answer.setInterval(100);
    connect(&answer, &QTimer::timeout, this, [&] {
        QWidget* dialog = QApplication::activeModalWidget();
        if (!dialog || dialog == window.palette())
            return;
        if (!dialog->isActiveWindow()) {
            // What a window manager does for a new dialog; the offscreen platform leaves the window that was active.
            dialog->activateWindow();
            return;
        }
        answer.stop();
        dialogFocus = QApplication::focusWidget() ? QApplication::focusWidget()->objectName() : QString();
        auto* verb = dialog->findChild<QPushButton*>(QStringLiteral("verb"));
        verbEnabledBeforeTyping = verb && verb->isEnabled();
        type(QStringLiteral("reside-dev"));
        press(Qt::Key_W, Qt::AltModifier);
    });
    answer.start();
    QSignalSpy finished(window.runs(), &RunsDock::runFinished);
    // Ctrl+K, "wipe", Enter: the pane's wipe button, found by name.
    QVERIFY(QTest::qWaitForWindowActive(&window));
    press(Qt::Key_K, Qt::ControlModifier);
    QVERIFY(QTest::qWaitForWindowActive(window.palette()));
    QTRY_COMPARE(QApplication::focusWidget(), window.palette()->search());
    type(QStringLiteral("wipe reside"));
    QCOMPARE(window.palette()->list()->currentItem()->text(), QStringLiteral("Packit › Wipe reside-dev…    Alt+W"));
    press(Qt::Key_Return);
    const auto state = [&] {
        const auto name = [](const QWidget* widget) {
            return QString::fromLatin1(widget ? widget->metaObject()->className() : "none");
        };
        return QStringLiteral("modal %1, active %2, focus %3, error %4")
            .arg(name(QApplication::activeModalWidget()), name(QApplication::activeWindow()),
                name(QApplication::focusWidget()), pane->errors()->text());
    };
    QVERIFY2(QTest::qWaitFor([&] { return !dialogFocus.isEmpty(); }, 30000), qPrintable(state()));
    QVERIFY(finished.wait(180000));
    QCOMPARE(dialogFocus, QStringLiteral("typedName"));
    QVERIFY(!verbEnabledBeforeTyping);
    const RunRecord record = finished.first().first().value<RunRecord>();
    QVERIFY2(record.outcome == RunRecord::Outcome::Succeeded, qPrintable(record.summary));
    QCOMPARE(record.target, QStringLiteral("wpia-packit-dev/reside-dev"));
    QTRY_COMPARE_WITH_TIMEOUT(pane->instances()->index(row, 4).data().toString(), QStringLiteral("0"), 30000);
}

QTEST_MAIN(TestPackitPane)
#include "tst_packitpane.moc"
