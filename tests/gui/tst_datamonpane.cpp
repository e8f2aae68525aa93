// The datamon pane offscreen on the sandbox's datamon2 stand-in (on the bastion, over SSH, on the GCS stand-in):
// the contexts, dm-dev's repos as summary.json counts them, a repo's bundles, labels and sizes as the seed wrote
// them, the purge lock put there with gcloud over SSH shown as held, a repo deleted through the dialog (and put
// back from the GCS stand-in's store afterwards), a wrong typed name on the production context deleting nothing,
// and Delete disabled on a read-only context.
#include "ConfirmDialog.h"
#include "DatamonPane.h"
#include "DatamonRepoDetailModels.h"
#include "DatamonRepoModel.h"
#include "ErrorBanner.h"
#include "MainWindow.h"
#include "PackitSandbox.h"
#include "RunsDock.h"
#include "Sandbox.h"
#include "Systems.h"

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using namespace Qt::StringLiterals;
using namespace opsdeck;
using namespace opsdeck::test;

namespace {

// Not used by the other tests: the one this test deletes and puts back.
const QString kDeletedRepo = u"dev-hazard-00035"_s;
const QString kReadRepo = u"dev-census-00005"_s;
const QString kProdRepo = u"prod-flood-00001"_s;

} // namespace

class TestDatamonPane : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void contextsAndReposOfDmDev();
    void bundlesLabelsAndSizesOfARepo();
    void heldLockShown();
    void deleteRepoThroughTheDialog();
    void wrongTypedNameOnProductionDeletesNothing();
    void readOnlyContextHasDeleteDisabled();
    void purgeThroughThePane();
    void cleanupTestCase();

private:
    // The pane in a shown main window, `context` picked, its listing and state read.
    DatamonPane* openContext(MainWindow& window, const QString& context);
    QJsonObject summary(const QString& context) const;
    QJsonObject seededRepo(const QString& context, const QString& repo) const;
    // `opsdeck datamon repos --context C`'s names.
    QStringList cliRepos(const QString& context) const;
    // gcloud storage on the bastion, as the pane's host runs it.
    int gcloud(const QStringList& arguments);
    // Run `runId`'s undo window as `opsdeck trash list --all --json` shows it.
    QJsonObject undoWindow(const QString& runId) const;
    // Deletes kDeletedRepo through the pane's dialog; the run's record.
    RunRecord deleteThroughTheDialog(MainWindow& window, DatamonPane* pane);
    // The objects of `repo` in dm-dev's metadata buckets, straight from the GCS stand-in's store; and back.

    Sandbox m_sandbox;
    QTemporaryDir m_temp;
    QString m_inventory;
    QJsonObject m_summary;
    bool m_lockPut = false;
    QString m_openWindow; // the window of the last delete, which the purge ends
};

void TestDatamonPane::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    m_sandbox.exportToThisProcess();
    QFile summary(m_sandbox.dir() + u"/datamon/summary.json"_s);
    QVERIFY2(summary.open(QIODevice::ReadOnly), qPrintable(summary.fileName()));
    m_summary = QJsonDocument::fromJson(summary.readAll()).object();
    QVERIFY(!m_summary.isEmpty());

    // A read-only context beside the sandbox's three (dm-shared's store, under another inventory name).
    QFile source(m_sandbox.inventoryPath());
    QVERIFY(source.open(QIODevice::ReadOnly));
    QString text = QString::fromUtf8(source.readAll());
    const qsizetype at = text.indexOf(u"\ndatamon:\n"_s);
    QVERIFY(at > 0);
    const qsizetype shared = text.indexOf(u"  - name: dm-shared\n"_s, at);
    QVERIFY(shared > 0);
    const qsizetype end = text.indexOf(u"\n  - name:"_s, shared + 1);
    QVERIFY(end > 0);
    QString readOnly = text.mid(shared, end + 1 - shared);
    readOnly.replace(u"name: dm-shared"_s, u"name: dm-archive"_s).replace(u"tags: []"_s, u"tags: [readOnly]"_s);
    QVERIFY(readOnly.contains(u"tags: [readOnly]"_s));
    text.insert(end + 1, readOnly);
    m_inventory = m_temp.filePath(u"inventory.yaml"_s);
    QFile target(m_inventory);
    QVERIFY(target.open(QIODevice::WriteOnly));
    target.write(text.toUtf8());
}

void TestDatamonPane::cleanupTestCase()
{
    // What the other tests expect, whatever happened here.
    if (m_lockPut)
        gcloud({ u"rm"_s, u"gs://dm-dev-meta/purge.lock"_s });
}

QJsonObject TestDatamonPane::summary(const QString& context) const
{
    return m_summary.value(u"contexts"_s).toObject().value(context).toObject();
}

QJsonObject TestDatamonPane::seededRepo(const QString& context, const QString& repo) const
{
    QFile file(summary(context).value(u"reposFile"_s).toString());
    if (!file.open(QIODevice::ReadOnly))
        return {};
    for (const QJsonValue& value : QJsonDocument::fromJson(file.readAll()).array()) {
        if (value.toObject().value(u"name"_s).toString() == repo)
            return value.toObject();
    }
    return {};
}

QStringList TestDatamonPane::cliRepos(const QString& context) const
{
    QProcessEnvironment environment = m_sandbox.environment();
    environment.insert(u"OPSDECK_INVENTORY"_s, m_inventory);
    const CliRun run = runCli({ u"datamon"_s, u"repos"_s, u"--context"_s, context, u"--json"_s }, environment);
    if (run.exitCode != 0)
        qWarning("opsdeck datamon repos: %s", run.err.constData());
    QStringList names;
    for (const QJsonValue& value : QJsonDocument::fromJson(run.out).array())
        names << value.toObject().value(u"name"_s).toString();
    return names;
}

QJsonObject TestDatamonPane::undoWindow(const QString& runId) const
{
    QProcessEnvironment environment = m_sandbox.environment();
    environment.insert(u"OPSDECK_INVENTORY"_s, m_inventory);
    const CliRun run = runCli({ u"trash"_s, u"list"_s, u"--all"_s, u"--json"_s }, environment);
    for (const QJsonValue& value : QJsonDocument::fromJson(run.out).array()) {
        if (value.toObject().value(u"runId"_s).toString() == runId)
            return value.toObject();
    }
    return {};
}

int TestDatamonPane::gcloud(const QStringList& arguments)
{
    return PackitSandbox(m_sandbox).ssh(u"bastion"_s, QStringList { u"gcloud"_s, u"storage"_s } + arguments);
}

DatamonPane* TestDatamonPane::openContext(MainWindow& window, const QString& context)
{
    auto* pane = qobject_cast<DatamonPane*>(window.pane(u"datamon"_s));
    if (!pane)
        return nullptr;
    // Before the pane is shown: showing it starts the first context's reads.
    QSignalSpy listed(pane, &DatamonPane::listingFinished);
    QSignalSpy state(pane, &DatamonPane::stateRead);
    const bool wasShown = pane->isVisible();
    window.show();
    for (int i = 0; i < window.sidebar()->count(); ++i) {
        if (window.sidebar()->item(i)->text() == u"datamon"_s)
            window.sidebar()->setCurrentRow(i);
    }
    if (!QTest::qWaitForWindowExposed(&window))
        return nullptr;
    if (wasShown && pane->currentContext() == context && !pane->isListing())
        return pane;
    if (!pane->selectContext(context))
        return nullptr;
    if ((listed.isEmpty() && !listed.wait(60000)) || (state.isEmpty() && !state.wait(60000)))
        return nullptr;
    return pane;
}

void TestDatamonPane::contextsAndReposOfDmDev()
{
    MainWindow window(m_inventory, systemPanes());
    auto* pane = qobject_cast<DatamonPane*>(window.pane(u"datamon"_s));
    QVERIFY(pane);
    QComboBox* contexts = pane->contextPicker();
    QStringList names;
    for (int i = 0; i < contexts->count(); ++i)
        names << contexts->itemText(i);
    QCOMPARE(names,
        (QStringList {
            u"dm-dev"_s, u"dm-shared"_s, u"dm-archive (read-only)"_s, u"dm-prod (production)"_s, u"dm-jobs"_s }));
    QCOMPARE(pane->hosts(), QStringList { u"bastion"_s });

    QSignalSpy inserted(pane->repos(), &QAbstractItemModel::rowsInserted);
    QVERIFY(openContext(window, u"dm-dev"_s));
    // The seed's repos less those another test deleted: what the CLI lists now.
    QStringList listed = cliRepos(u"dm-dev"_s);
    const int repos = int(listed.size());
    QVERIFY(repos > 0 && repos <= summary(u"dm-dev"_s).value(u"repos"_s).toInt());
    QCOMPARE(pane->repos()->rowCount(), repos);
    QStringList shown;
    for (int row = 0; row < pane->repos()->rowCount(); ++row)
        shown << pane->repos()->index(row, 0).data().toString();
    shown.sort();
    listed.sort();
    QCOMPARE(shown, listed);
    QCOMPARE(pane->repoCountText(), u"%1 repos"_s.arg(QLocale(QLocale::English).toString(repos)));
    QVERIFY(!inserted.isEmpty());
    QVERIFY(pane->firstRowsMs() >= 0);
    qInfo("dm-dev: first of %d repos shown %lld ms after repo list started, in %lld batches", repos,
        pane->firstRowsMs(), qint64(inserted.count()));
    QVERIFY2(pane->errors()->text().isEmpty(), qPrintable(pane->errors()->text()));

    // The state strip: where it runs, the shared blob bucket, a free lock, no index.
    QVERIFY2(pane->whereText().contains(u"host bastion"_s), qPrintable(pane->whereText()));
    QCOMPARE(pane->blobBucketText(), u"Blob bucket: gs://dm-shared-blob, shared with dm-shared"_s);
    QVERIFY2(pane->lockText().startsWith(u"Purge lock: free"_s), qPrintable(pane->lockText()));
    QCOMPARE(pane->indexText(), u"Index: none"_s);

    // The filter.
    QTest::keyClicks(pane->filterBox(), u"CENSUS"_s);
    QVERIFY(pane->repoFilter()->rowCount() > 0);
    QVERIFY(pane->repoFilter()->rowCount() < repos);
    QCOMPARE(pane->repoCountText(), u"%1 of %2 repos"_s.arg(pane->repoFilter()->rowCount()).arg(repos));

    // Another context: its own repos and bucket.
    QVERIFY(openContext(window, u"dm-prod"_s));
    QCOMPARE(pane->repos()->rowCount(), summary(u"dm-prod"_s).value(u"repos"_s).toInt());
    QCOMPARE(pane->blobBucketText(), u"Blob bucket: gs://dm-prod-blob (no other context uses it)"_s);
}

void TestDatamonPane::bundlesLabelsAndSizesOfARepo()
{
    MainWindow window(m_inventory, systemPanes());
    DatamonPane* pane = openContext(window, u"dm-dev"_s);
    QVERIFY(pane);
    const QJsonObject seeded = seededRepo(u"dm-dev"_s, kReadRepo);
    QVERIFY(!seeded.isEmpty());
    QSignalSpy read(pane, &DatamonPane::repoRead);
    QVERIFY(pane->selectRepo(kReadRepo));
    QVERIFY(read.wait(60000));
    QCOMPARE(read.last().first().toString(), kReadRepo);
    QVERIFY2(pane->errors()->text().isEmpty(), qPrintable(pane->errors()->text()));

    QStringList expectedBundles;
    QHash<QString, qint64> sizes;
    for (const QJsonValue& b : seeded.value(u"bundles"_s).toArray()) {
        expectedBundles << b.toObject().value(u"id"_s).toString();
        sizes.insert(b.toObject().value(u"id"_s).toString(), b.toObject().value(u"size"_s).toInteger());
    }
    QStringList bundles;
    for (const DatamonBundle& b : pane->bundles()->bundles())
        bundles << b.id;
    QCOMPARE(bundles, expectedBundles);
    QStringList expectedLabels;
    for (const QJsonValue& l : seeded.value(u"labels"_s).toArray())
        expectedLabels << l.toObject().value(u"name"_s).toString();
    QStringList labels;
    for (const DatamonLabel& l : pane->labels()->labels())
        labels << l.name;
    expectedLabels.sort();
    labels.sort();
    QCOMPARE(labels, expectedLabels);
    QCOMPARE(pane->bundles()->index(0, DatamonBundleModel::Size).data().toString(), u"not loaded"_s);

    // Sizes on demand.
    QSignalSpy sized(pane, &DatamonPane::sizesRead);
    QVERIFY(pane->loadSizesButton()->isEnabled());
    pane->loadSizesButton()->click();
    QVERIFY(sized.wait(60000));
    QVERIFY2(pane->errors()->text().isEmpty(), qPrintable(pane->errors()->text()));
    for (int row = 0; row < pane->bundles()->rowCount(); ++row) {
        const QString id = pane->bundles()->bundles().at(row).id;
        QCOMPARE(pane->bundles()->index(row, DatamonBundleModel::Size).data(Qt::ToolTipRole).toString(),
            u"%1 bytes"_s.arg(QLocale().toString(sizes.value(id))));
    }
    QVERIFY(!pane->loadSizesButton()->isEnabled());

    // A newer selection drops the older answer: select one repo, then another at once.
    QVERIFY(pane->selectRepo(kDeletedRepo));
    QVERIFY(pane->selectRepo(kReadRepo));
    QTRY_COMPARE_WITH_TIMEOUT(read.count(), 2, 60000);
    QCOMPARE(read.last().first().toString(), kReadRepo);
    QCOMPARE(pane->bundles()->repo(), kReadRepo);
    QCOMPARE(pane->bundles()->rowCount(), expectedBundles.size());
}

void TestDatamonPane::heldLockShown()
{
    // A lock as datamon writes it (Go's time.String() in UTC), put there with gcloud over SSH.
    const QDateTime lockedAt = QDateTime::currentDateTimeUtc().addSecs(-5 * 3600 - 300);
    QFile lock(m_temp.filePath(u"purge.lock"_s));
    QVERIFY(lock.open(QIODevice::WriteOnly));
    lock.write(u"locked_at: \"%1 +0000 UTC\"\n"_s.arg(lockedAt.toString(u"yyyy-MM-dd HH:mm:ss.zzz"_s)).toUtf8());
    lock.close();
    m_lockPut = true;
    QCOMPARE(gcloud({ u"cp"_s, lock.fileName(), u"gs://dm-dev-meta/purge.lock"_s }), 0);

    MainWindow window(m_inventory, systemPanes());
    DatamonPane* pane = openContext(window, u"dm-dev"_s);
    QVERIFY(pane);
    QCOMPARE(pane->lockText(),
        u"⚠ Purge lock: held since %1 UTC (5h5m ago)"_s.arg(lockedAt.toString(u"yyyy-MM-dd HH:mm:ss"_s)));
    // dm-shared has its own metadata bucket, so its own lock: free.
    QVERIFY(openContext(window, u"dm-shared"_s));
    QVERIFY2(pane->lockText().startsWith(u"Purge lock: free"_s), qPrintable(pane->lockText()));

    QCOMPARE(gcloud({ u"rm"_s, u"gs://dm-dev-meta/purge.lock"_s }), 0);
    m_lockPut = false;
    QVERIFY(openContext(window, u"dm-dev"_s));
    QSignalSpy state(pane, &DatamonPane::stateRead);
    pane->refreshState();
    QVERIFY(state.wait(60000));
    QVERIFY2(pane->lockText().startsWith(u"Purge lock: free"_s), qPrintable(pane->lockText()));
}

RunRecord TestDatamonPane::deleteThroughTheDialog(MainWindow& window, DatamonPane* pane)
{
    const int before = pane->repos()->rowCount();
    if (!pane->selectRepo(kDeletedRepo) || !pane->deleteAction()->isEnabled())
        return {};
    QSignalSpy finished(window.runs(), &RunsDock::runFinished);
    QSignalSpy listed(pane, &DatamonPane::listingFinished);
    ConfirmDialog::setNextAnswer(true);
    pane->deleteAction()->trigger();
    if (!finished.wait(120000) || !listed.wait(60000)) // the list is read again after the run
        return {};
    if (pane->repos()->rowCount() != before - 1 || pane->repos()->rowOf(kDeletedRepo) != -1)
        qWarning() << "the list still has" << kDeletedRepo;
    return finished.first().first().value<RunRecord>();
}

// Delete through the dialog, take it back with "Undo…" in the Runs dock, then delete again: the purge below ends
// that last window.
void TestDatamonPane::deleteRepoThroughTheDialog()
{
    QVERIFY(cliRepos(u"dm-dev"_s).contains(kDeletedRepo));
    MainWindow window(m_inventory, systemPanes());
    DatamonPane* pane = openContext(window, u"dm-dev"_s);
    QVERIFY(pane);
    QVERIFY(!pane->deleteAction()->isEnabled()); // nothing selected
    // The context menu offers it too.
    QVERIFY(pane->repoView()->actions().contains(pane->deleteAction()));
    const RunRecord deleted = deleteThroughTheDialog(window, pane);
    QVERIFY2(deleted.outcome == RunRecord::Outcome::Succeeded, qPrintable(deleted.summary));
    QVERIFY(!cliRepos(u"dm-dev"_s).contains(kDeletedRepo));
    QCOMPARE(undoWindow(deleted.id).value(u"state"_s).toString(), u"open"_s);

    QPushButton* undo = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((undo = window.runs()->findChild<QPushButton*>(u"undoRun"_s)) != nullptr, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(undo->isVisible() && undo->isEnabled(), 10000);
    QSignalSpy restored(window.runs(), &RunsDock::runFinished);
    QSignalSpy listed(pane, &DatamonPane::listingFinished);
    ConfirmDialog::setNextAnswer(true);
    undo->click();
    QVERIFY(restored.wait(120000));
    const RunRecord restore = restored.first().first().value<RunRecord>();
    QCOMPARE(restore.operation, u"datamon-restore-repo"_s);
    QVERIFY2(restore.outcome == RunRecord::Outcome::Succeeded, qPrintable(restore.summary));
    QVERIFY(listed.wait(60000));
    QVERIFY(pane->repos()->rowOf(kDeletedRepo) >= 0);
    QVERIFY(cliRepos(u"dm-dev"_s).contains(kDeletedRepo));
    QCOMPARE(undoWindow(deleted.id).value(u"state"_s).toString(), u"restored"_s);
    // The delete's Undo… went with its window.
    QTRY_VERIFY_WITH_TIMEOUT(window.runs()->findChildren<QPushButton*>(u"undoRun"_s).isEmpty(), 5000);

    const RunRecord again = deleteThroughTheDialog(window, pane);
    QVERIFY2(again.outcome == RunRecord::Outcome::Succeeded, qPrintable(again.summary));
    QVERIFY(!cliRepos(u"dm-dev"_s).contains(kDeletedRepo));
    m_openWindow = again.id;
}

void TestDatamonPane::wrongTypedNameOnProductionDeletesNothing()
{
    MainWindow window(m_inventory, systemPanes());
    DatamonPane* pane = openContext(window, u"dm-prod"_s);
    QVERIFY(pane);
    QVERIFY(pane->selectRepo(kProdRepo));
    QVERIFY(pane->deleteAction()->isEnabled());
    QFile log(m_sandbox.dir() + u"/datamon/invocations.log"_s);
    const qint64 logSize = log.size();

    // Drive the real dialog: the plan's lines, then the wrong name, then Cancel.
    bool verbDisabled = false;
    bool listsBundlesAndBlobs = false;
    bool answered = false;
    QTimer answer;
    answer.setInterval(100);
    connect(&answer, &QTimer::timeout, this, [&] {
        QWidget* dialog = QApplication::activeModalWidget();
        if (!dialog)
            return;
        answer.stop();
        answered = true;
        QString shown;
        for (const QLabel* label : dialog->findChildren<QLabel*>())
            shown += label->text() + u'\n';
        for (const QWidget* widget : dialog->findChildren<QWidget*>()) {
            if (const QString text = widget->property("plainText").toString(); !text.isEmpty())
                shown += text + u'\n';
        }
        listsBundlesAndBlobs = shown.contains(u"blobs stay"_s) && shown.contains(u"Bundles (2)"_s);
        if (!listsBundlesAndBlobs)
            qWarning("the dialog showed: %s", qPrintable(shown));
        auto* verb = dialog->findChild<QPushButton*>(u"verb"_s);
        auto* typed = dialog->findChild<QLineEdit*>(u"typedName"_s);
        if (verb && typed) {
            QTest::keyClicks(typed, u"dm-pro"_s);
            verbDisabled = !verb->isEnabled();
            typed->setText(u"dm-dev"_s);
            verbDisabled = verbDisabled && !verb->isEnabled();
        }
        dialog->close();
    });
    answer.start();
    pane->deleteAction()->trigger();
    QVERIFY(QTest::qWaitFor([&] { return answered; }, 60000));
    QVERIFY(verbDisabled);
    QVERIFY(listsBundlesAndBlobs);
    QTest::qWait(500);
    QVERIFY(cliRepos(u"dm-prod"_s).contains(kProdRepo));
    // Only reads ran: no `repo delete` reached datamon2.
    QVERIFY(log.open(QIODevice::ReadOnly));
    log.seek(logSize);
    const QByteArray after = log.readAll();
    QVERIFY2(!after.contains("\"delete\""), after.constData());
}

void TestDatamonPane::readOnlyContextHasDeleteDisabled()
{
    MainWindow window(m_inventory, systemPanes());
    DatamonPane* pane = openContext(window, u"dm-archive"_s);
    QVERIFY(pane);
    QCOMPARE(pane->repos()->rowCount(), summary(u"dm-shared"_s).value(u"repos"_s).toInt());
    QVERIFY(pane->selectRepo(pane->repos()->repos().front().name));
    QVERIFY(!pane->deleteAction()->isEnabled());
    QVERIFY2(pane->deleteAction()->toolTip().contains(u"read-only"_s), qPrintable(pane->deleteAction()->toolTip()));
    QVERIFY(!pane->countAction()->isEnabled());
    QVERIFY(!pane->purgeAction()->isEnabled());
    // While a writable context's selected repo has it enabled.
    QVERIFY(openContext(window, u"dm-shared"_s));
    QVERIFY(pane->selectRepo(pane->repos()->repos().front().name));
    QVERIFY(pane->deleteAction()->isEnabled());
}

// The purge from the pane, on dm-dev (whose blob bucket dm-shared shares): Count confirmed, run detached with its
// progress in the Runs dock; once it succeeds the purge's own confirmation (its counts) follows at once, and the
// purge deletes blobs, verifies and drops the index, which the state strip then shows.
void TestDatamonPane::purgeThroughThePane()
{
    const auto blobs = [this] {
        return m_sandbox.gcsStandin(u"/_standin/stats"_s)
            .value(u"buckets"_s)
            .toObject()
            .value(u"dm-shared-blob"_s)
            .toObject()
            .value(u"objects"_s)
            .toInteger(-1);
    };
    const qint64 before = blobs();
    QVERIFY(before > 0);
    MainWindow window(m_inventory, systemPanes());
    DatamonPane* pane = openContext(window, u"dm-dev"_s);
    QVERIFY(pane);
    QVERIFY(pane->countAction()->isEnabled());
    QStringList runs;
    connect(pane, &DatamonPane::purgeFinished, this, [&](const QString& run, const QString& outcome) {
        runs << run + u' ' + outcome;
        if (run == u"count"_s)
            ConfirmDialog::setNextAnswer(true); // the purge's dialog, which the count's success opens
    });
    QSignalSpy finished(pane, &DatamonPane::purgeFinished);
    ConfirmDialog::setNextAnswer(true);
    pane->countAction()->trigger();
    QVERIFY(QTest::qWaitFor([&] { return !pane->countAction()->isEnabled(); }, 5000));
    QVERIFY(QTest::qWaitFor([&] { return runs.size() == 2; }, 240000));
    QCOMPARE(runs, (QStringList { u"count succeeded"_s, u"purge succeeded"_s }));
    QVERIFY(blobs() < before);
    // The purge took the blobs only the deleted repo used: it ended the delete's undo window, and its copy went.
    if (!m_openWindow.isEmpty()) {
        const QJsonObject ended = undoWindow(m_openWindow);
        QCOMPARE(ended.value(u"state"_s).toString(), u"ended"_s);
        QVERIFY2(ended.value(u"closedReason"_s).toString().contains(u"deletes the blobs"_s),
            qPrintable(ended.value(u"closedReason"_s).toString()));
        QCOMPARE(gcloud({ u"ls"_s, u"gs://dm-dev-meta/opsdeck-trash/"_s + m_openWindow + u'/' }), 1);
    }
    QSignalSpy state(pane, &DatamonPane::stateRead);
    if (pane->indexText() != u"Index: none"_s)
        QVERIFY(state.wait(60000));
    QCOMPARE(pane->indexText(), u"Index: none"_s);
    QVERIFY(pane->countAction()->isEnabled());
}

QTEST_MAIN(TestDatamonPane)
#include "tst_datamonpane.moc"
