// Every secret value the process resolved is scrubbed from what it keeps and logs: journal entries (free text and
// list items too, not only secret-looking keys), step output, reports and log messages.
#include "SecretTestSupport.h"
#include "core/SecretScrubber.h"
#include "runbook/Journal.h"
#include "runbook/Plan.h"
#include "runbook/ReportWriter.h"
#include "runbook/RunContext.h"
#include "secrets/CredentialStore.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QJsonArray>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck;
using namespace opsdeck::test;

class TestSecretScrubber : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void scrubsTextBytesAndJson();
    void everySourceOfTheStoreRegisters();
    void journalKeepsNoSecretValue();
    void stepOutputKeepsNoSecretEvenSplit();
    void reportsKeepNoSecret();
    void logMessagesKeepNoSecret();

private:
    // Every file under the directory, as bytes, that contains `secret`.
    static QStringList filesContaining(const QString& dir, const QString& secret);

    QTemporaryDir m_temp;
};

namespace {
// Unique per source, so that a leak says where it came from.
const QString kFromEnvironment = u"env-secret-51c0e8a4"_s;
const QString kFromPrompt = u"prompt-secret-9d27b3f1"_s;
const QString kStored = u"stored-secret-0a6e4c92"_s;
const QString kRemembered = u"remembered-secret-77f3a1d5"_s;

QStringList captured;
void capture(QtMsgType, const QMessageLogContext&, const QString& message)
{
    captured << message;
}
} // namespace

void TestSecretScrubber::initTestCase()
{
    QVERIFY(m_temp.isValid());
    SecretScrubber::remember(kRemembered);
}

QStringList TestSecretScrubber::filesContaining(const QString& dir, const QString& secret)
{
    QStringList found;
    QDirIterator it(dir, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        QFile file(it.next());
        if (file.open(QIODevice::ReadOnly) && file.readAll().contains(secret.toUtf8()))
            found << file.fileName();
    }
    return found;
}

void TestSecretScrubber::scrubsTextBytesAndJson()
{
    SecretScrubber::remember(u"abc"_s);
    SecretScrubber::remember(u"xxabcxx"_s); // contains the other: goes whole
    SecretScrubber::remember(QString()); // ignored, or every text would be masked
    QCOMPARE(SecretScrubber::scrub(u"pw=xxabcxx and abc, and "_s + kRemembered),
        u"pw=[secret] and [secret], and [secret]"_s);
    QCOMPARE(SecretScrubber::scrub(QByteArray("token " + kRemembered.toUtf8() + "\n")), QByteArray("token [secret]\n"));
    const QJsonObject data { { u"note"_s, u"login with "_s + kRemembered }, { u"count"_s, 3 },
        { u"items"_s, QJsonArray { u"a"_s, kRemembered, QJsonObject { { u"deep"_s, kRemembered } } } } };
    const QJsonObject scrubbed = SecretScrubber::scrub(data);
    QCOMPARE(scrubbed[u"note"_s].toString(), u"login with [secret]"_s);
    QCOMPARE(scrubbed[u"count"_s].toInt(), 3);
    QCOMPARE(scrubbed[u"items"_s][1].toString(), u"[secret]"_s);
    QCOMPARE(scrubbed[u"items"_s][2][u"deep"_s].toString(), u"[secret]"_s);
    QCOMPARE(SecretScrubber::scrub(u"nothing secret here"_s), u"nothing secret here"_s);
}

// The environment, a prompt and a stored secret (the keyring is tests/keyring's tst_keyringstore): each is
// scrubbed once the store has handed it out or taken it in.
void TestSecretScrubber::everySourceOfTheStoreRegisters()
{
    for (const QString& secret : { kFromEnvironment, kFromPrompt, kStored })
        QCOMPARE(SecretScrubber::scrub(secret), secret);
    qputenv("OPSDECK_TEST_SCRUB_ENV", kFromEnvironment.toUtf8());
    CredentialStore store;
    FakePrompter prompter;
    prompter.answer = kFromPrompt;
    store.setPrompter(&prompter);
    auto result = lookupSecret(store, bastionSpec(u"from-env"_s, u"OPSDECK_TEST_SCRUB_ENV"_s));
    QVERIFY(result && result->ok);
    result = lookupSecret(store, bastionSpec(u"from-prompt"_s));
    QVERIFY(result && result->ok);
    QCOMPARE(result->secret, kFromPrompt);
    QVERIFY(storeSecret(store, bastionSpec(u"stored"_s), kStored));
    for (const QString& secret : { kFromEnvironment, kFromPrompt, kStored })
        QCOMPARE(SecretScrubber::scrub(u"x "_s + secret + u" y"_s), u"x [secret] y"_s);
}

void TestSecretScrubber::journalKeepsNoSecretValue()
{
    const QString dir = m_temp.filePath(u"journal"_s);
    Journal journal(dir + u"/journal.sqlite"_s);
    QString error;
    QVERIFY2(journal.open(&error), qPrintable(error));
    // Under keys that do not look secret: free text, a list item, a nested object.
    QVERIFY2(journal.append(u"run-1"_s, u"step-end"_s, u"packit-wipe"_s, u"host/instance"_s,
                 { { u"output"_s, u"psql: connecting with password "_s + kRemembered },
                     { u"deleted"_s, QJsonArray { u"packet-1"_s, kRemembered } },
                     { u"detail"_s, QJsonObject { { u"error"_s, kRemembered } } } },
                 &error),
        qPrintable(error));
    RunRecord run;
    run.id = u"run-1"_s;
    run.operation = u"packit-wipe"_s;
    run.summary = u"failed: "_s + kRemembered;
    QVERIFY2(journal.saveRun(run, &error), qPrintable(error));
    QVERIFY(journal.verify().intact);
    const auto stored = journal.run(u"run-1"_s);
    QVERIFY(stored);
    QCOMPARE(stored->summary, u"failed: [secret]"_s);
    QCOMPARE(filesContaining(dir, kRemembered), QStringList());
}

void TestSecretScrubber::stepOutputKeepsNoSecretEvenSplit()
{
    Plan plan;
    plan.steps << Plan::Step { u"step"_s, u"A step"_s, u"cmd"_s, u"exit 0"_s };
    RunRecord record;
    RunContext context(&record, plan, nullptr, {});
    context.begin(u"step"_s);
    const qsizetype half = kRemembered.size() / 2;
    context.output(u"printed "_s + kRemembered.left(half));
    context.output(kRemembered.mid(half) + u" and more\n"_s);
    context.fail(u"it failed: "_s + kRemembered);
    QCOMPARE(record.steps[0].output, u"printed [secret] and more\n"_s);
    QCOMPARE(record.steps[0].error, u"it failed: [secret]"_s);
}

void TestSecretScrubber::reportsKeepNoSecret()
{
    RunRecord run;
    run.id = u"run-2"_s;
    run.operation = u"pulumi-purge"_s;
    run.target = u"pulumi"_s;
    run.summary = u"stopped: "_s + kRemembered;
    run.deleted = { { u"stacks"_s, QJsonArray { kRemembered } } };
    StepRecord step;
    step.id = u"purge"_s;
    step.output = u"echoed "_s + kRemembered;
    step.error = kRemembered;
    run.steps << step;
    const QString dir = m_temp.filePath(u"reports"_s);
    QVERIFY(QDir().mkpath(dir));
    for (const QString& suffix : { u"json"_s, u"csv"_s, u"html"_s }) {
        QString error;
        QVERIFY2(ReportWriter::write(run, *ReportWriter::formatFromName(suffix), dir + u"/report."_s + suffix, &error),
            qPrintable(error));
    }
    QCOMPARE(filesContaining(dir, kRemembered), QStringList());
    QFile json(dir + u"/report.json"_s);
    QVERIFY(json.open(QIODevice::ReadOnly));
    QVERIFY(json.readAll().contains("stopped: [secret]"));
}

void TestSecretScrubber::logMessagesKeepNoSecret()
{
    const QtMessageHandler original = qInstallMessageHandler(capture);
    SecretScrubber::installMessageHandler();
    qWarning("could not log in with %s", qPrintable(kRemembered));
    qInstallMessageHandler(original);
    QCOMPARE(captured, QStringList { u"could not log in with [secret]"_s });
}

QTEST_MAIN(TestSecretScrubber)
#include "tst_secretscrubber.moc"
