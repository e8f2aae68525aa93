// The CLI's tables against the sandbox, as an admin reads them next to the console: the columns have the panes' names
// (upper-cased) and sizes read as the panes show them, while --json keeps bytes. The RAFT, Deploy, Packit and Hosts
// tables are checked in their own tests (tst_raftcli, tst_deployflow, tst_packitwipe, tst_clihosts).
#include "Sandbox.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck::test;

class TestCliTables : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void pulumiOrganisations();
    void datamonBundlesAndLabels();

private:
    // The command's stdout split in lines; fails the test (empty list) if it did not exit 0.
    QStringList lines(const QStringList& arguments) const;
    QJsonArray json(const QStringList& arguments) const;

    Sandbox m_sandbox;
};

void TestCliTables::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
}

QStringList TestCliTables::lines(const QStringList& arguments) const
{
    const CliRun run = runCli(arguments, m_sandbox.environment());
    if (run.exitCode != 0) {
        qWarning("%s: exit %d: %s", qPrintable(arguments.join(u' ')), run.exitCode, run.err.constData());
        return {};
    }
    return QString::fromUtf8(run.out).split(u'\n', Qt::SkipEmptyParts);
}

QJsonArray TestCliTables::json(const QStringList& arguments) const
{
    const CliRun run = runCli(arguments + QStringList { u"--json"_s }, m_sandbox.environment());
    if (run.exitCode != 0)
        qWarning("%s --json: exit %d: %s", qPrintable(arguments.join(u' ')), run.exitCode, run.err.constData());
    return QJsonDocument::fromJson(run.out).array();
}

// The Pulumi pane's organisations list: Organisation, Name, Soft-deleted, Live.
void TestCliTables::pulumiOrganisations()
{
    const QStringList table = lines({ u"pulumi"_s, u"orgs"_s });
    QVERIFY(table.size() > 1);
    QCOMPARE(table[0].simplified(), u"ORGANISATION NAME SOFT-DELETED LIVE"_s);
}

// The datamon pane's bundle columns (Bundle, Time, Message, File lists, Size) with sizes in its units, and its label
// columns (Label, Bundle, Set at).
void TestCliTables::datamonBundlesAndLabels()
{
    const QJsonArray repos = json({ u"datamon"_s, u"repos"_s, u"--context"_s, u"dm-dev"_s });
    QVERIFY(!repos.isEmpty());
    const QStringList repo { u"--context"_s, u"dm-dev"_s, u"--repo"_s, repos.first().toObject()[u"name"_s].toString() };

    const QStringList bundles = QStringList { u"datamon"_s, u"bundles"_s, u"--with-size"_s } + repo;
    const QJsonArray bytes = json(bundles);
    QVERIFY(!bytes.isEmpty());
    const QStringList table = lines(bundles);
    QCOMPARE(table.size(), bytes.size() + 1);
    QCOMPARE(table[0].simplified(), u"BUNDLE TIME MESSAGE FILE LISTS SIZE"_s);
    for (const QJsonValue& value : bytes) {
        const QJsonObject bundle = value.toObject();
        const qint64 size = bundle[u"bytes"_s].toInteger();
        QVERIFY2(size > 0, qPrintable(bundle[u"id"_s].toString()));
        const QString shown = QLocale().formattedDataSize(size);
        QVERIFY2(std::any_of(table.cbegin(), table.cend(),
                     [&](const QString& line) {
                         return line.startsWith(bundle[u"id"_s].toString() + u' ') && line.endsWith(u' ' + shown);
                     }),
            qPrintable(shown + u'\n' + table.join(u'\n')));
    }

    const QStringList labels = lines(QStringList { u"datamon"_s, u"labels"_s } + repo);
    QVERIFY(!labels.isEmpty());
    QCOMPARE(labels[0].simplified(), u"LABEL BUNDLE SET AT"_s);
}

QTEST_GUILESS_MAIN(TestCliTables)
#include "tst_clitables.moc"
