// The Deploy pane offscreen on the sandbox: the matrix with its mixed states (colour, icon, tooltip), export,
// auto-refresh, and a deploy driven through the real confirmation dialog. Runs before tst_deployflow, which moves
// the sandbox's main branch.
#include "ConfirmDialog.h"
#include "DeployMatrixModel.h"
#include "DeployPane.h"
#include "MainWindow.h"
#include "PullRequestBrowser.h"
#include "RunsDock.h"
#include "Sandbox.h"
#include "Systems.h"
#include "config/InventoryLoader.h"
#include "deploy/GithubClient.h"
#include "deploy/UpdatePull.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QComboBox>
#include <QDesktopServices>
#include <QFile>
#include <QImage>
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
#include <QTextBlock>
#include <QTextBrowser>
#include <QTextDocument>
#include <QTimer>

using namespace Qt::StringLiterals;
using namespace opsdeck;
using namespace opsdeck::test;

class TestDeployPane : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void matrixShowsMixedStates();
    void pullRequestBodyIsRendered();
    void deployFromThePane();

private:
    DeployPane* open(MainWindow& window);
    int rowOf(DeployPane* pane, const QString& machine) const;

    Sandbox m_sandbox;
    QTemporaryDir m_temp;
};

void TestDeployPane::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    m_sandbox.exportToThisProcess();
}

DeployPane* TestDeployPane::open(MainWindow& window)
{
    auto* pane = qobject_cast<DeployPane*>(window.pane(u"Deploy"_s));
    if (!pane)
        return nullptr;
    window.resize(1280, 800);
    window.show();
    for (int i = 0; i < window.sidebar()->count(); ++i) {
        if (window.sidebar()->item(i)->text() == u"Deploy"_s)
            window.sidebar()->setCurrentRow(i);
    }
    return pane;
}

int TestDeployPane::rowOf(DeployPane* pane, const QString& machine) const
{
    return static_cast<int>(pane->matrix()->machines().indexOf(machine));
}

void TestDeployPane::matrixShowsMixedStates()
{
    MainWindow window(m_sandbox.inventoryPath(), systemPanes());
    auto* pane = open(window);
    QVERIFY(pane);
    QAbstractItemModelTester tester(pane->matrix(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy refreshed(pane, &DeployPane::refreshed);
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    // Showing the pane reads every machine.
    QVERIFY(refreshed.wait(60000));
    DeployMatrixModel* model = pane->matrix();
    QSet<qint64> icons;
    for (const QJsonValue& m : m_sandbox.json().value(u"machines"_s).toArray()) {
        const QString name = m[u"name"_s].toString();
        const int row = rowOf(pane, name);
        QVERIFY2(row >= 0, qPrintable(name));
        const QString expected = m[u"initialState"_s].toString();
        QCOMPARE(MachineStatus::stateName(model->status(name)->state), expected);
        const QModelIndex state = model->index(row, DeployMatrixModel::State);
        QCOMPARE(state.data().toString(), MachineStatus::stateTitle(MachineStatus::stateFromName(expected)));
        QVERIFY(
            state.data(Qt::ToolTipRole)
                .toString()
                .contains(
                    MachineStatus::stateExplanation(MachineStatus::stateFromName(expected)).left(30).toHtmlEscaped()));
        QVERIFY(state.data(Qt::ForegroundRole).isValid());
        icons.insert(state.data(Qt::DecorationRole).value<QIcon>().cacheKey());
    }
    // Each state has its own icon, not just its own colour.
    QVERIFY(icons.size() >= 4);
    const QString summary = pane->findChild<QLabel*>(u"matrixSummary"_s)->text();
    QVERIFY2(summary.contains(u"1 up to date"_s) && summary.contains(u"1 unreachable"_s), qPrintable(summary));
    QVERIFY(pane->findChild<QLabel*>(u"pullTitle"_s)->text().contains(u"No open update pull request"_s));

    // Export: the same fields as the CLI.
    QString error;
    QVERIFY2(pane->exportMatrix(m_temp.filePath(u"m.json"_s), &error), qPrintable(error));
    QFile json(m_temp.filePath(u"m.json"_s));
    QVERIFY(json.open(QIODevice::ReadOnly));
    const QJsonArray rows = QJsonDocument::fromJson(json.readAll()).array();
    QCOMPARE(rows.size(), model->rowCount());
    QCOMPARE(rows[0][u"machine"_s].toString(), model->machines().front());
    QVERIFY(pane->exportMatrix(m_temp.filePath(u"m.csv"_s), &error));
    QFile csv(m_temp.filePath(u"m.csv"_s));
    QVERIFY(csv.open(QIODevice::ReadOnly));
    QCOMPARE(csv.readAll().count('\n'), model->rowCount() + 1);
    QVERIFY(!pane->exportMatrix(m_temp.filePath(u"missing/dir/m.csv"_s), &error));
    QVERIFY(error.contains(u"cannot write"_s));

    // The filter narrows the rows; selection still names the right machine.
    auto* filter = pane->findChild<QLineEdit*>(u"matrixFilter"_s);
    filter->setText(u"private"_s);
    auto* view = pane->findChild<QTableView*>();
    QCOMPARE(view->model()->rowCount(), 1);
    view->selectRow(0);
    QVERIFY(pane->findChild<QPushButton*>(u"deploySelected"_s)->text().contains(u"wpia-packit-private"_s));
    filter->clear();
    QCOMPARE(view->model()->rowCount(), model->rowCount());

    // Auto-refresh: the chosen period refreshes on its own.
    auto* combo = pane->findChildren<QComboBox*>().first();
    pane->setAutoRefresh(300);
    QCOMPARE(combo->currentData().toInt(), 300);
    combo->setCurrentIndex(0);
    QVERIFY(!pane->refreshing());

    if (const QByteArray dir = qgetenv("OPSDECK_SCREENSHOT_DIR"); !dir.isEmpty())
        window.grab().save(QString::fromUtf8(dir) + u"/deploy-matrix.png"_s);
}

namespace {

// Records the URLs the desktop would have opened.
class UrlRecorder : public QObject
{
    Q_OBJECT
public:
    QList<QUrl> opened;
public slots:
    void open(const QUrl& url) { opened << url; }
};

// Where the text of the link `href` is in `browser`'s viewport; null if it is not shown.
QPoint linkPosition(QTextBrowser* browser, const QString& href)
{
    for (QTextBlock block = browser->document()->begin(); block.isValid(); block = block.next()) {
        for (auto it = block.begin(); !it.atEnd(); ++it) {
            const QTextFragment fragment = it.fragment();
            if (fragment.charFormat().anchorHref() != href)
                continue;
            QTextCursor cursor(browser->document());
            cursor.setPosition(fragment.position() + fragment.length() / 2);
            return browser->cursorRect(cursor).center();
        }
    }
    return {};
}

} // namespace

// The update pull request's body is rendered from its markdown, as GitHub shows it: the GitHub stand-in's #40 (what
// the update workflow writes: a line, a heading and a list per package). Its links open in the desktop's browser
// (http and https only), nothing else in it does anything.
void TestDeployPane::pullRequestBodyIsRendered()
{
    // The pane's box is the browser, empty without an open pull request.
    MainWindow window(m_sandbox.inventoryPath(), systemPanes());
    auto* pane = open(window);
    QVERIFY(pane);
    auto* details = pane->findChild<PullRequestBrowser*>(u"pullDetails"_s);
    QVERIFY(details);
    QVERIFY(details->isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(
        pane->findChild<QLabel*>(u"pullTitle"_s)->text().contains(u"No open update pull request"_s), 60000);
    QVERIFY(details->document()->isEmpty());

    // #40 from the stand-in, read as the pane reads the open one.
    const InventoryLoadResult loaded = InventoryLoader::loadFile(m_sandbox.inventoryPath());
    QVERIFY(loaded.inventory);
    const Inventory& inventory = *loaded.inventory;
    GithubClient github(
        inventory.github, inventory.deploy, qEnvironmentVariable(qPrintable(inventory.github.tokenEnv)));
    QString error;
    std::optional<UpdatePull> pull = UpdatePull::read(github, 40, &error);
    QVERIFY2(pull, qPrintable(error));
    QCOMPARE(pull->number, 40);
    QVERIFY2(pull->body.contains(u"### packit"_s) && pull->body.contains(u"\n- "_s), qPrintable(pull->body));

    PullRequestBrowser browser;
    browser.resize(500, 700);
    browser.showPull(*pull);
    QTextDocument* document = browser.document();
    const QString text = document->toPlainText();
    // No markdown left as such: the headings are headings, the list items a list.
    QVERIFY2(!text.contains(u"###"_s), qPrintable(text));
    QVERIFY2(!text.contains(u"\n- "_s), qPrintable(text));
    QVERIFY(text.contains(u"Automated changes by the update workflow."_s));
    QStringList headings;
    int listItems = 0;
    for (QTextBlock block = document->begin(); block.isValid(); block = block.next()) {
        if (block.blockFormat().headingLevel() == 3)
            headings << block.text();
        if (block.textList())
            ++listItems;
    }
    QCOMPARE(headings, (QStringList { u"outpack_server"_s, u"packit"_s }));
    // The commits and checks (facts) and each package's 2 or 3 changes.
    QVERIFY(listItems >= pull->commits.size() + 4);
    // Links only where the body has them: "mrc-ide/packit@abc1234...def5678" is not an e-mail address.
    for (QTextBlock block = document->begin(); block.isValid(); block = block.next()) {
        for (auto it = block.begin(); !it.atEnd(); ++it)
            QVERIFY2(!it.fragment().charFormat().isAnchor(), qPrintable(it.fragment().charFormat().anchorHref()));
    }
    // The facts: the head, each commit's message as it is (punctuation included).
    QVERIFY(text.contains(pull->headSha));
    for (const UpdatePull::Commit& commit : pull->commits)
        QVERIFY2(text.contains(commit.message), qPrintable(commit.message));

    // A body with links, HTML and images: links render, HTML is dropped, nothing is loaded.
    const QString local = m_temp.filePath(u"local.png"_s);
    QFile localFile(local);
    QVERIFY(localFile.open(QIODevice::WriteOnly));
    localFile.write("not for the pull request");
    localFile.close();
    UpdatePull crafted = *pull;
    crafted.commits = { { u"0123456789abcdef"_s, u"Fix *this* [x](https://evil.example) <b>now</b>"_s } };
    crafted.body = u"See [the run](https://github.com/reside-ic/packit-infra/actions/runs/1).\n\n"
                   "[local](file:///etc/passwd) and [script](javascript:alert(1))\n\n"
                   "<script>alert(2)</script><img src=\"%1\">\n\n"
                   "![image](%1)\n"_s.arg(QUrl::fromLocalFile(local).toString());
    browser.showPull(crafted);
    const QString craftedText = document->toPlainText();
    // The commit message is text, not markup.
    QVERIFY2(craftedText.contains(u"Fix *this* [x](https://evil.example) <b>now</b>"_s), qPrintable(craftedText));
    QVERIFY(!document->toHtml().contains(u"<script"_s, Qt::CaseInsensitive));
    // No local file read (an image's place stays empty).
    const QVariant image = document->resource(QTextDocument::ImageResource, QUrl::fromLocalFile(local));
    QVERIFY(image.toByteArray().isEmpty());
    QVERIFY(image.value<QImage>().isNull());

    UrlRecorder recorder;
    for (const QString& scheme : { u"https"_s, u"http"_s, u"file"_s, u"javascript"_s })
        QDesktopServices::setUrlHandler(scheme, &recorder, "open");
    browser.show();
    QVERIFY(QTest::qWaitForWindowExposed(&browser));
    const auto click = [&](const QString& href) {
        const QPoint at = linkPosition(&browser, href);
        if (at.isNull())
            return false;
        QTest::mouseClick(browser.viewport(), Qt::LeftButton, {}, at);
        return true;
    };
    const QString run = u"https://github.com/reside-ic/packit-infra/actions/runs/1"_s;
    QVERIFY(linkPosition(&browser, u"https://evil.example"_s).isNull());
    QVERIFY(click(run));
    QCOMPARE(recorder.opened, QList<QUrl> { QUrl(run) });
    QVERIFY(click(u"file:///etc/passwd"_s));
    QVERIFY(click(u"javascript:alert(1)"_s));
    QCOMPARE(recorder.opened, QList<QUrl> { QUrl(run) });
    // Nor is the browser taken anywhere by a click.
    QVERIFY(browser.source().isEmpty());
    QVERIFY(browser.toPlainText().contains(u"See the run."_s));
    for (const QString& scheme : { u"https"_s, u"http"_s, u"file"_s, u"javascript"_s })
        QDesktopServices::unsetUrlHandler(scheme);

    QVERIFY(PullRequestBrowser::opens(QUrl(u"mailto:admin@example.org"_s)));
    QVERIFY(!PullRequestBrowser::opens(QUrl(u"qrc:/icons/opsdeck.svg"_s)));
    QCOMPARE(PullRequestBrowser::escaped(u"a_b*c"_s), u"a\\_b\\*c"_s);
}

void TestDeployPane::deployFromThePane()
{
    MainWindow window(m_sandbox.inventoryPath(), systemPanes());
    auto* pane = open(window);
    QSignalSpy refreshed(pane, &DeployPane::refreshed);
    QVERIFY(refreshed.wait(60000));
    const QString machine = u"wpia-packit-dev"_s;
    const QDateTime checked = pane->matrix()->status(machine)->checkedAt;
    auto* view = pane->findChild<QTableView*>();
    view->selectRow(rowOf(pane, machine)); // unsorted, unfiltered: view rows are model rows
    auto* deploy = pane->findChild<QPushButton*>(u"deploySelected"_s);
    QVERIFY(deploy->isEnabled());
    QVERIFY(deploy->text().contains(machine));

    // The real dialog: not production, so the verb button alone confirms.
    QString title;
    QTimer answer;
    answer.setInterval(100);
    connect(&answer, &QTimer::timeout, this, [&] {
        QWidget* dialog = QApplication::activeModalWidget();
        if (!dialog)
            return;
        answer.stop();
        title = dialog->windowTitle();
        auto* verb = dialog->findChild<QPushButton*>(u"verb"_s);
        if (!verb) {
            dialog->close();
            return;
        }
        verb->click();
    });
    answer.start();
    QSignalSpy finished(window.runs(), &RunsDock::runFinished);
    deploy->click();
    QVERIFY(finished.wait(120000));
    QVERIFY2(title.contains(machine), qPrintable(title));
    const RunRecord record = finished.first().first().value<RunRecord>();
    QCOMPARE(record.operation, u"deploy"_s);
    QCOMPARE(record.outcome, RunRecord::Outcome::Succeeded);
    // The row was read again after the deploy.
    QTRY_VERIFY_WITH_TIMEOUT(pane->matrix()->status(machine)->checkedAt > checked, 30000);
    QCOMPARE(pane->matrix()->status(machine)->state, DeployState::UpToDate);
}

QTEST_MAIN(TestDeployPane)
#include "tst_deploypane.moc"
