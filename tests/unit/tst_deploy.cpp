#include "DeployMatrixModel.h"
#include "config/InventoryLoader.h"
#include "deploy/DeployOperation.h"
#include "deploy/GithubClient.h"
#include "deploy/MachineStatus.h"
#include "deploy/PrometheusText.h"
#include "deploy/UpdatePull.h"
#include "deploy/UpdateWorkflowOperation.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck;

// The deploy matrix's pure parts: the metrics parser, the state rules, input validation, the deploy order, the
// export formats.
class TestDeploy : public QObject
{
    Q_OBJECT
private slots:
    void parsesConfigurationInfo();
    void parsesEscapesTimestampsAndSkipsJunk();
    void classify_data();
    void classify();
    void refs_data();
    void refs();
    void workflowInputs_data();
    void workflowInputs();
    void deployOrderPutsStagingFirstProductionLastAndSkipsReadOnly();
    void commandIsArgvPinnedToTheRevision();
    void revisions_data();
    void revisions();
    void stateNamesRoundTrip();
    void checksSummary();
    void exportsCsvAndJsonWithTheCliFields();
    void readsGithubAnswers();
};

void TestDeploy::parsesConfigurationInfo()
{
    const auto samples = PrometheusText::parse(
        "# HELP nixos_configuration_info Info\n# TYPE nixos_configuration_info gauge\n"
        "nixos_configuration_info{hostname=\"wpia-packit\",revision=\"6dcb09b5b57875f334f61aebed695e2e4193db5e\","
        "narHash=\"sha256-AbC+/=\"} 1\n"
        "node_load1 0.25\n");
    QCOMPARE(samples.size(), 2);
    const auto info = PrometheusText::find(samples, u"nixos_configuration_info"_s, u"hostname"_s, u"wpia-packit"_s);
    QCOMPARE(info.size(), 1);
    QCOMPARE(info[0].labels.value(u"revision"_s), u"6dcb09b5b57875f334f61aebed695e2e4193db5e"_s);
    QCOMPARE(info[0].labels.value(u"narHash"_s), u"sha256-AbC+/="_s);
    QCOMPARE(info[0].value, 1.0);
    QCOMPARE(samples[1].name, u"node_load1"_s);
    QCOMPARE(samples[1].labels.size(), 0);
    QVERIFY(PrometheusText::find(samples, u"nixos_configuration_info"_s, u"hostname"_s, u"other"_s).isEmpty());
}

void TestDeploy::parsesEscapesTimestampsAndSkipsJunk()
{
    const auto samples = PrometheusText::parse("a{x=\"q\\\"uote\\\\ and\\nline\",y=\"\"} 2 1700000000000\n"
                                               "  \n"
                                               "not a sample line\n"
                                               "b{broken=\"unterminated} 1\n"
                                               "c{ trailing=\"comma\", } 3.5\n");
    QCOMPARE(samples.size(), 2);
    QCOMPARE(samples[0].labels.value(u"x"_s), u"q\"uote\\ and\nline"_s);
    QCOMPARE(samples[0].labels.value(u"y"_s), QString());
    QCOMPARE(samples[0].value, 2.0);
    QCOMPARE(samples[1].name, u"c"_s);
    QCOMPARE(samples[1].value, 3.5);
}

void TestDeploy::classify_data()
{
    QTest::addColumn<QString>("revision");
    QTest::addColumn<QString>("narHash");
    QTest::addColumn<QString>("branchRevision");
    QTest::addColumn<QString>("branchNarHash");
    QTest::addColumn<bool>("readError");
    QTest::addColumn<QString>("compareStatus");
    QTest::addColumn<QString>("state");
    const QString head = u"aaaa"_s, old = u"bbbb"_s, h1 = u"sha256-one"_s, h2 = u"sha256-two"_s;
    const QString ahead = u"ahead"_s; // GitHub: the branch has commits the machine lacks
    QTest::newRow("head") << head << h1 << head << h1 << false << u"identical"_s << u"up-to-date"_s;
    QTest::newRow("head, narHash unpublished")
        << head << h1 << head << QString() << false << u"identical"_s << u"up-to-date"_s;
    QTest::newRow("older commit, same config") << old << h1 << head << h1 << false << ahead << u"config-matches"_s;
    QTest::newRow("older commit, other config") << old << h2 << head << h1 << false << ahead << u"behind"_s;
    QTest::newRow("older commit, narHash unpublished")
        << old << h1 << head << QString() << false << ahead << u"behind"_s;
    QTest::newRow("test merge, other config") << old << h2 << head << h1 << false << u"diverged"_s << u"behind"_s;
    QTest::newRow("a commit main lacks") << old << h2 << head << h1 << false << u"behind"_s << u"unknown"_s;
    QTest::newRow("a commit main lacks, same config")
        << old << h1 << head << h1 << false << u"behind"_s << u"unknown"_s;
    QTest::newRow("compare failed") << old << h2 << head << h1 << false << QString() << u"behind"_s;
    QTest::newRow("dirty") << head + u"-dirty"_s << h1 << head << h1 << false << ahead << u"dirty"_s;
    QTest::newRow("dirty even when the branch is unknown")
        << old + u"-dirty"_s << h1 << QString() << QString() << false << QString() << u"dirty"_s;
    QTest::newRow("unreadable") << QString() << QString() << head << h1 << true << QString() << u"unreachable"_s;
    QTest::newRow("no revision") << QString() << QString() << head << h1 << false << QString() << u"unknown"_s;
    QTest::newRow("revision unknown") << u"unknown"_s << h1 << head << h1 << false << QString() << u"unknown"_s;
    QTest::newRow("branch unreadable") << old << h1 << QString() << QString() << false << QString() << u"unknown"_s;
}

void TestDeploy::classify()
{
    QFETCH(QString, revision);
    QFETCH(QString, narHash);
    QFETCH(QString, branchRevision);
    QFETCH(QString, branchNarHash);
    QFETCH(bool, readError);
    QFETCH(QString, compareStatus);
    QFETCH(QString, state);
    MachineStatus status;
    status.machine = u"m"_s;
    status.revision = revision;
    status.narHash = narHash;
    status.dirty = revision.endsWith(u"-dirty"_s);
    status.compareStatus = compareStatus;
    BranchSnapshot branch;
    branch.revision = branchRevision;
    if (!branchNarHash.isEmpty())
        branch.narHashByMachine.insert(u"m"_s, branchNarHash);
    QCOMPARE(MachineStatus::stateName(DeployClassifier::classify(status, branch, readError)), state);
}

void TestDeploy::refs_data()
{
    QTest::addColumn<QString>("ref");
    QTest::addColumn<bool>("allowed");
    QTest::newRow("branch") << u"main"_s << true;
    QTest::newRow("pull merge ref") << u"refs/pull/41/merge"_s << true;
    QTest::newRow("sha") << u"6dcb09b5b57875f334f61aebed695e2e4193db5e"_s << true;
    QTest::newRow("release branch") << u"release/v1.2_x"_s << true;
    QTest::newRow("empty") << QString() << false;
    QTest::newRow("semicolon") << u"main;reboot"_s << false;
    QTest::newRow("command substitution") << u"$(reboot)"_s << false;
    QTest::newRow("backtick") << u"main`id`"_s << false;
    QTest::newRow("space") << u"main --option"_s << false;
    QTest::newRow("hash ends the flake ref") << u"main#evil"_s << false;
    QTest::newRow("query") << u"main?dir=x"_s << false;
    QTest::newRow("dot dot") << u"refs/../../etc"_s << false;
    QTest::newRow("leading dash") << u"-rf"_s << false;
    QTest::newRow("leading slash") << u"/main"_s << false;
    QTest::newRow("trailing slash") << u"main/"_s << false;
    QTest::newRow("double slash") << u"refs//pull"_s << false;
    QTest::newRow("newline") << u"main\nreboot"_s << false;
    QTest::newRow("trailing newline") << u"main\n"_s << false;
}

void TestDeploy::refs()
{
    QFETCH(QString, ref);
    QFETCH(bool, allowed);
    const QString error = DeployOperation::refError(ref);
    QCOMPARE(error.isEmpty(), allowed);
    if (!allowed)
        QVERIFY2(error.contains(u"ref"_s), qPrintable(error));
}

void TestDeploy::workflowInputs_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("value");
    QTest::addColumn<bool>("allowed");
    QTest::newRow("packit branch") << u"packit"_s << u"mrc-1234"_s << true;
    QTest::newRow("outpack sha") << u"outpack_server"_s << u"e435acc"_s << true;
    QTest::newRow("runner tag") << u"orderly-runner"_s << u"main"_s << true;
    QTest::newRow("empty means latest") << u"packit"_s << QString() << true;
    QTest::newRow("undeclared input") << u"revision"_s << u"x"_s << false;
    QTest::newRow("shell syntax") << u"packit"_s << u"x; rm -rf /"_s << false;
    QTest::newRow("dot dot") << u"packit"_s << u"../x"_s << false;
}

void TestDeploy::workflowInputs()
{
    QFETCH(QString, name);
    QFETCH(QString, value);
    QFETCH(bool, allowed);
    QCOMPARE(UpdateWorkflowOperation::inputsError({ { name, value } }).isEmpty(), allowed);
}

void TestDeploy::deployOrderPutsStagingFirstProductionLastAndSkipsReadOnly()
{
    const auto result = InventoryLoader::loadString(R"(machines:
  - {name: prod, metrics: http, domain: prod.example.org, tags: [production]}
  - {name: private, metrics: http, domain: private.example.org}
  - {name: frozen, metrics: http, domain: frozen.example.org, tags: [readOnly]}
  - {name: dev, metrics: http, domain: dev.example.org}
deploy:
  repository: reside-ic/packit-infra
  staging: dev
)",
        u"order.yaml"_s);
    QVERIFY(result.ok());
    QCOMPARE(DeployOperation::deployOrder(*result.inventory), QStringList({ u"dev"_s, u"private"_s, u"prod"_s }));
}

void TestDeploy::commandIsArgvPinnedToTheRevision()
{
    const auto result = InventoryLoader::loadString("machines:\n  - {name: dev, metrics: http, domain: "
                                                    "d.example.org}\ndeploy:\n  repository: reside-ic/packit-infra\n",
        u"c.yaml"_s);
    QVERIFY(result.ok());
    DeploySetup setup;
    setup.inventory = *result.inventory;
    const QString revision = u"6dcb09b5b57875f334f61aebed695e2e4193db5e"_s;
    QCOMPARE(DeployOperation::commandFor(setup, u"dev"_s, revision),
        QStringList({ u"nix"_s, u"run"_s, u"--refresh"_s,
            u"github:reside-ic/packit-infra?rev="_s + revision + u"#deploy"_s, u"dev"_s }));
    QCOMPARE(setup.inventory.deploy.environment, QStringList({ u"SSH_AUTH_SOCK"_s }));
}

void TestDeploy::revisions_data()
{
    QTest::addColumn<QString>("revision");
    QTest::addColumn<bool>("allowed");
    QTest::newRow("commit") << u"6dcb09b5b57875f334f61aebed695e2e4193db5e"_s << true;
    QTest::newRow("empty") << QString() << false;
    QTest::newRow("short") << u"6dcb09b5b5"_s << false;
    QTest::newRow("41 characters") << u"6dcb09b5b57875f334f61aebed695e2e4193db5e0"_s << false;
    QTest::newRow("upper case") << u"6DCB09B5B57875F334F61AEBED695E2E4193DB5E"_s << false;
    QTest::newRow("a branch") << u"main"_s << false;
    QTest::newRow("dirty") << u"6dcb09b5b57875f334f61aebed695e2e4193db5e-dirty"_s << false;
    QTest::newRow("flake syntax") << u"6dcb09b5b57875f334f61aebed695e2e4193db5e#x"_s << false;
    QTest::newRow("trailing newline") << u"6dcb09b5b57875f334f61aebed695e2e4193db5e\n"_s << false;
}

// The commit GitHub gave for the ref goes into the flake reference: anything but a full hash is refused, and
// the error names the field it came from.
void TestDeploy::revisions()
{
    QFETCH(QString, revision);
    QFETCH(bool, allowed);
    const QString error = DeployOperation::revisionError(revision);
    QCOMPARE(error.isEmpty(), allowed);
    if (!allowed) {
        QVERIFY2(error.contains(u"the \"sha\" field"_s), qPrintable(error));
        QVERIFY2(error.contains(u"40 lowercase hex"_s), qPrintable(error));
    }
}

void TestDeploy::stateNamesRoundTrip()
{
    for (DeployState state : { DeployState::UpToDate, DeployState::ConfigMatches, DeployState::Behind,
             DeployState::Dirty, DeployState::Unreachable, DeployState::Unknown }) {
        QCOMPARE(MachineStatus::stateFromName(MachineStatus::stateName(state)), state);
        QVERIFY(!MachineStatus::stateExplanation(state).isEmpty());
    }
}

void TestDeploy::checksSummary()
{
    UpdatePull pull;
    QCOMPARE(pull.checksPassed(), false);
    QCOMPARE(pull.checksSummary(), u"no checks reported"_s);
    pull.checks = { { u"nix flake check"_s, u"completed"_s, u"success"_s }, { u"diff"_s, u"in_progress"_s, {} } };
    QCOMPARE(pull.checksPassed(), false);
    QCOMPARE(pull.checksSummary(), u"1 of 2 passed, 1 running"_s);
    pull.checks[1] = { u"diff"_s, u"completed"_s, u"failure"_s };
    QCOMPARE(pull.checksSummary(), u"1 of 2 passed, 1 failed"_s);
    pull.checks[1].conclusion = u"skipped"_s;
    QVERIFY(pull.checksPassed());
}

void TestDeploy::exportsCsvAndJsonWithTheCliFields()
{
    DeployMatrixModel model;
    model.setMachines({ u"a"_s, u"b"_s });
    MachineStatus a;
    a.machine = u"a"_s;
    a.revision = u"1111111111222222222233333333334444444444"_s;
    a.narHash = u"sha256-x"_s;
    a.expectedRevision = a.revision;
    a.behindBy = 0;
    a.state = DeployState::UpToDate;
    a.checkedAt = QDateTime(QDate(2026, 11, 22), QTime(10, 0), Qt::UTC);
    a.instances = { { u"reside"_s, u"71718c4a"_s, u"e435acc"_s, {} } };
    model.setStatus(a);
    MachineStatus b;
    b.machine = u"b"_s;
    b.state = DeployState::Unreachable;
    b.error = u"cannot read x, \"quoted\""_s;
    model.setStatus(b);

    const QJsonArray json = QJsonDocument::fromJson(model.toJson()).array();
    QCOMPARE(json.size(), 2);
    for (const QString& field : { u"machine"_s, u"revision"_s, u"narHash"_s, u"dirty"_s, u"expectedRevision"_s,
             u"behindBy"_s, u"state"_s, u"checkedAt"_s, u"error"_s })
        QVERIFY2(json[0].toObject().contains(field), qPrintable(field));
    QCOMPARE(json[0][u"state"_s].toString(), u"up-to-date"_s);
    QCOMPARE(json[1][u"behindBy"_s].isNull(), true);

    const QStringList lines = QString::fromUtf8(model.toCsv()).split(u'\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 3);
    QVERIFY(lines[0].startsWith(u"machine,state,revision,narHash,dirty,expectedRevision"_s));
    QVERIFY2(lines[1].startsWith(u"a,up-to-date,1111111111222222222233333333334444444444,sha256-x,false,"_s),
        qPrintable(lines[1]));
    QVERIFY2(lines[1].contains(u"reside 71718c4a"_s), qPrintable(lines[1]));
    QVERIFY2(lines[2].endsWith(u"\"cannot read x, \"\"quoted\"\"\""_s), qPrintable(lines[2]));

    QCOMPARE(model.count(DeployState::Unreachable), 1);
    QCOMPARE(model.data(model.index(0, DeployMatrixModel::Deployed)).toString(), u"1111111111"_s);
    QVERIFY(
        model.data(model.index(1, DeployMatrixModel::State), Qt::ToolTipRole).toString().contains(u"cannot read x"_s));
}

// The readers tests/fuzz/fuzz_github feeds, on answers shaped as ../shared/reference/github-api.md shows them.
void TestDeploy::readsGithubAnswers()
{
    QCOMPARE(GithubClient::errorMessage(
                 "{\"message\":\"Validation Failed\",\"errors\":[{\"resource\":\"Workflow\", "
                 "\"field\":\"inputs\",\"code\":\"invalid\"},\"Unexpected inputs provided: [\\\"bogus\\\"]\"]}"),
        u"Validation Failed (Workflow inputs invalid; Unexpected inputs provided: [\"bogus\"])"_s);
    QCOMPARE(GithubClient::errorMessage("<html>Bad gateway</html>"), u"<html>Bad gateway</html>"_s);
    QCOMPARE(GithubClient::listItems("{\"total_count\":2,\"check_runs\":[{\"id\":1},{\"id\":2}]}").size(), 2);
    QCOMPARE(GithubClient::listItems("[{\"number\":42}]").size(), 1);
    QCOMPARE(GithubClient::nextLink(
                 "<https://api.github.com/x?page=2>; rel=\"next\", <https://api.github.com/x?page=3>; rel=\"last\""),
        u"https://api.github.com/x?page=2"_s);
    QCOMPARE(GithubClient::nextLink("<https://api.github.com/x?page=1>; rel=\"prev\""), QString());

    const UpdatePull pull = UpdatePull::fromJson(
        QJsonDocument::fromJson("{\"number\":42,\"state\":\"open\",\"title\":\"Update packages\",\"merged\":false, "
                                "\"mergeable\":null,\"mergeable_state\":\"unknown\",\"html_url\":\"https://github.com/"
                                "o/r/pull/42\", \"head\":{\"sha\":\"aa11\"}}")
            .object(),
        GithubClient::listItems("[{\"sha\":\"c1\",\"commit\":{\"message\":\"Bump packit\\n\\nDetails\"}}]"),
        GithubClient::listItems(
            "{\"check_runs\":[{\"name\":\"nix flake check\",\"status\":\"completed\",\"conclusion\":\"success\"}]}"));
    QCOMPARE(pull.number, 42);
    QCOMPARE(pull.state, u"open"_s);
    QCOMPARE(pull.mergeable, u"unknown"_s);
    QCOMPARE(pull.headSha, u"aa11"_s);
    QCOMPARE(pull.commits.size(), 1);
    QCOMPARE(pull.commits[0].message, u"Bump packit"_s);
    QVERIFY(pull.checksPassed());
}

QTEST_GUILESS_MAIN(TestDeploy)
#include "tst_deploy.moc"
