// ShellQuote against a real POSIX shell: whatever an argument holds, the shell must see exactly it, as one word.
#include "core/ShellQuote.h"

#include <QProcess>
#include <QTest>

using namespace opsdeck;

class TestShellQuote : public QObject
{
    Q_OBJECT

private slots:
    void roundTripsThroughSh_data();
    void roundTripsThroughSh();
    void plainWordsStayReadable();
    void joinKeepsArgumentBoundaries();

private:
    static QByteArray runSh(const QString& commandLine);
};

QByteArray TestShellQuote::runSh(const QString& commandLine)
{
    QProcess sh;
    sh.start(QStringLiteral("/bin/sh"), { QStringLiteral("-c"), commandLine });
    sh.waitForFinished();
    return sh.readAllStandardOutput();
}

void TestShellQuote::roundTripsThroughSh_data()
{
    QTest::addColumn<QString>("argument");
    QTest::newRow("plain") << QStringLiteral("training");
    QTest::newRow("empty") << QString();
    QTest::newRow("space") << QStringLiteral("two words");
    QTest::newRow("semicolon") << QStringLiteral("x; echo INJECTED");
    QTest::newRow("dollar") << QStringLiteral("$HOME ${PATH} $(echo INJECTED) $((1+1))");
    QTest::newRow("backtick") << QStringLiteral("`echo INJECTED`");
    QTest::newRow("single quote") << QStringLiteral("it's");
    QTest::newRow("only quotes") << QStringLiteral("'''");
    QTest::newRow("double quote") << QStringLiteral("say \"hi\"");
    QTest::newRow("backslash") << QStringLiteral("a\\b\\'c\\");
    QTest::newRow("newline") << QStringLiteral("a\nb\n");
    QTest::newRow("tab and CR") << QStringLiteral("a\tb\rc");
    QTest::newRow("glob") << QStringLiteral("* ? [a] ~ ~/x");
    QTest::newRow("brace") << QStringLiteral("{a,b}");
    QTest::newRow("redirects") << QStringLiteral("> /tmp/x < /etc/passwd 2>&1 | cat & wait");
    QTest::newRow("assignment") << QStringLiteral("A=b");
    QTest::newRow("hash") << QStringLiteral("#comment");
    QTest::newRow("dash") << QStringLiteral("-rf");
    QTest::newRow("dotdot") << QStringLiteral("../../etc");
    QTest::newRow("non-ASCII") << QStringLiteral("naïve – 日本語 🚀");
    QTest::newRow("exclamation") << QStringLiteral("!!");
}

void TestShellQuote::roundTripsThroughSh()
{
    QFETCH(QString, argument);
    const QByteArray out
        = runSh(QStringLiteral("printf '%s|' ") + ShellQuote::quote(argument) + QStringLiteral(" end"));
    QCOMPARE(QString::fromUtf8(out), argument + QStringLiteral("|end|"));
}

void TestShellQuote::plainWordsStayReadable()
{
    QCOMPARE(
        ShellQuote::quote(QStringLiteral("/var/lib/outpack/training")), QStringLiteral("/var/lib/outpack/training"));
    QCOMPARE(ShellQuote::quote(QStringLiteral("ActiveState,SubState")), QStringLiteral("ActiveState,SubState"));
    QCOMPARE(ShellQuote::quote(QString()), QStringLiteral("''"));
    QCOMPARE(ShellQuote::quote(QStringLiteral("it's")), QStringLiteral("'it'\\''s'"));
}

void TestShellQuote::joinKeepsArgumentBoundaries()
{
    const QStringList argv = { QStringLiteral("printf"), QStringLiteral("%s|"), QStringLiteral("a b"), QString(),
        QStringLiteral("c;d"), QStringLiteral("e\nf") };
    QCOMPARE(QString::fromUtf8(runSh(ShellQuote::join(argv))), QStringLiteral("a b||c;d|e\nf|"));
}

QTEST_GUILESS_MAIN(TestShellQuote)
#include "tst_shellquote.moc"
