// The real `gcloud storage` on the sandbox's bastion, run as the datamon pane reads its lock and index objects: the
// inventory's password user over SshSession, argv only, against the GCS stand-in (tests/sandbox/standins/gcs) that
// `sandbox up` configured gcloud for. What later datamon tests rely on: gcloud's output and exit codes there, the
// stand-in's request log (Sandbox::gcsRequests) and its fault rules (Sandbox::gcsStandin). Each gcloud command
// costs ~1.5 s of CPU, so the test keeps to a few; its bucket is removed at the end.
#include "Sandbox.h"
#include "ssh/SshSession.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QTest>

using namespace opsdeck;
using namespace opsdeck::test;

namespace {

const QByteArray kLock = "locked_at: 2026-12-05T08:00:00Z\n";
constexpr int kGcloudTimeoutMs = 120000;

} // namespace

class TestGcloudBastion : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void uploadFromStdinThenCat();
    void faultRuleFailsTheDeleteUntilCleared();

private:
    ExecResult gcloud(const QStringList& arguments, const QByteArray& input = {});
    QString url(const QString& object = {}) const { return QStringLiteral("gs://%1/%2").arg(m_bucket, object); }
    // The stand-in's requests since initTestCase for `object` in this test's bucket.
    QList<QJsonObject> requestsFor(const QString& object) const;

    Sandbox m_sandbox;
    std::unique_ptr<SshSession> m_session;
    QString m_bucket;
    qsizetype m_logStart = 0;
};

void TestGcloudBastion::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    QVERIFY2(
        m_sandbox.gcsEndpoint().startsWith(QStringLiteral("https://127.0.0.1:")), qPrintable(m_sandbox.gcsEndpoint()));
    m_session = std::make_unique<SshSession>(m_sandbox.passwordTarget());
    m_session->setSecret(m_sandbox.password());
    m_bucket
        = QStringLiteral("tst-gcloud-bastion-%1").arg(QRandomGenerator::global()->generate(), 8, 16, QLatin1Char('0'));
    m_logStart = m_sandbox.gcsRequests().size();
    const ExecResult created = gcloud({ QStringLiteral("buckets"), QStringLiteral("create"), url() });
    QVERIFY2(created.succeeded(), qPrintable(created.describe()));
}

void TestGcloudBastion::cleanupTestCase()
{
    if (!m_session || m_bucket.isEmpty())
        return;
    const ExecResult removed = gcloud({ QStringLiteral("rm"), QStringLiteral("-r"), url() });
    if (!removed.succeeded())
        qWarning("removing %s: %s", qPrintable(url()), qPrintable(removed.describe()));
}

ExecResult TestGcloudBastion::gcloud(const QStringList& arguments, const QByteArray& input)
{
    std::unique_ptr<SshCommand> command(m_session->exec(
        QStringList { QStringLiteral("gcloud"), QStringLiteral("storage") } + arguments, kGcloudTimeoutMs, input));
    if (!command->waitForFinished(kGcloudTimeoutMs + 15000))
        qWarning("gcloud did not finish: %s", qPrintable(command->commandLine()));
    return command->result();
}

QList<QJsonObject> TestGcloudBastion::requestsFor(const QString& object) const
{
    QList<QJsonObject> out;
    for (const QJsonObject& request : m_sandbox.gcsRequests(m_logStart)) {
        if (request.value(QStringLiteral("bucket")).toString() == m_bucket
            && request.value(QStringLiteral("object")).toString() == object)
            out << request;
    }
    return out;
}

void TestGcloudBastion::uploadFromStdinThenCat()
{
    const ExecResult upload
        = gcloud({ QStringLiteral("cp"), QStringLiteral("-"), url(QStringLiteral("purge.lock")) }, kLock);
    QVERIFY2(upload.succeeded(), qPrintable(upload.describe()));
    const ExecResult cat = gcloud({ QStringLiteral("cat"), url(QStringLiteral("purge.lock")) });
    QVERIFY2(cat.succeeded(), qPrintable(cat.describe()));
    QCOMPARE(cat.stdoutData, kLock);

    // gcloud streamed stdin as a resumable upload, and read the bytes through the object's mediaLink.
    QStringList seen;
    for (const QJsonObject& request : requestsFor(QStringLiteral("purge.lock"))) {
        seen << QStringLiteral("%1 %2 %3")
                    .arg(request.value(QStringLiteral("method")).toString(),
                        request.value(QStringLiteral("path")).toString().section(QLatin1Char('/'), 1, 1),
                        QString::number(request.value(QStringLiteral("status")).toInt()));
    }
    QVERIFY2(seen.contains(QStringLiteral("POST resumable 200")), qPrintable(seen.join(QLatin1Char(','))));
    QVERIFY2(seen.contains(QStringLiteral("PUT upload 200")), qPrintable(seen.join(QLatin1Char(','))));
    QVERIFY2(seen.contains(QStringLiteral("GET download 206")), qPrintable(seen.join(QLatin1Char(','))));
}

void TestGcloudBastion::faultRuleFailsTheDeleteUntilCleared()
{
    const QString object = QStringLiteral("index/chunk-0001");
    const ExecResult upload = gcloud({ QStringLiteral("cp"), QStringLiteral("-"), url(object) }, "keys\n");
    QVERIFY2(upload.succeeded(), qPrintable(upload.describe()));

    const QJsonObject rule { { QStringLiteral("op"), QStringLiteral("delete") }, { QStringLiteral("bucket"), m_bucket },
        { QStringLiteral("prefix"), QStringLiteral("index/") }, { QStringLiteral("status"), 403 } };
    const QJsonObject set = m_sandbox.gcsStandin(
        QStringLiteral("/_standin/faults"), { { QStringLiteral("rules"), QJsonArray { rule } } });
    QCOMPARE(set.value(QStringLiteral("rules")).toArray().size(), 1);
    const ExecResult refused = gcloud({ QStringLiteral("rm"), url(object) });
    QCOMPARE(refused.exitStatus, 1);
    QVERIFY2(refused.stderrData.contains("HTTPError 403: Anonymous caller does not have storage.objects.delete access"),
        refused.stderrData.constData());

    const QJsonObject cleared
        = m_sandbox.gcsStandin(QStringLiteral("/_standin/faults"), { { QStringLiteral("rules"), QJsonArray {} } });
    QVERIFY(cleared.contains(QStringLiteral("rules")));
    QVERIFY(cleared.value(QStringLiteral("rules")).toArray().isEmpty());
    const ExecResult removed = gcloud({ QStringLiteral("rm"), url(object) });
    QVERIFY2(removed.succeeded(), qPrintable(removed.describe()));

    QList<int> deletes;
    for (const QJsonObject& request : requestsFor(object)) {
        if (request.value(QStringLiteral("method")).toString() == QStringLiteral("DELETE"))
            deletes << request.value(QStringLiteral("status")).toInt();
    }
    QCOMPARE(deletes, (QList<int> { 403, 204 }));
}

QTEST_GUILESS_MAIN(TestGcloudBastion)
#include "tst_gcloudbastion.moc"
