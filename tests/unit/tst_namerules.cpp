#include "config/NameRules.h"

#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck;

class TestNameRules : public QObject
{
    Q_OBJECT

private slots:
    void isValidName_data();
    void isValidName();
    void nameError();
    void nameErrorEscapesControlCharacters();
    void isValidDnsLabel_data();
    void isValidDnsLabel();
    void isStrictlyUnder_data();
    void isStrictlyUnder();
    void quoted_data();
    void quoted();
};

void TestNameRules::isValidName_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("valid");

    QTest::newRow("simple") << u"training"_s << true;
    QTest::newRow("with dashes") << u"wpia-packit"_s << true;
    QTest::newRow("one letter") << u"a"_s << true;
    QTest::newRow("one digit") << u"0"_s << true;
    QTest::newRow("leading digit") << u"1st-host"_s << true;
    QTest::newRow("trailing dash") << u"a-"_s << true;
    QTest::newRow("63 characters") << QString(63, u'a') << true;
    QTest::newRow("empty") << QString() << false;
    QTest::newRow("64 characters") << QString(64, u'a') << false;
    QTest::newRow("upper case") << u"Training"_s << false;
    QTest::newRow("all upper case") << u"PACKIT"_s << false;
    QTest::newRow("underscore") << u"bad_host"_s << false;
    QTest::newRow("leading dash") << u"-training"_s << false;
    QTest::newRow("only a dash") << u"-"_s << false;
    QTest::newRow("dot") << u"host.example"_s << false;
    QTest::newRow("dot dot") << u".."_s << false;
    QTest::newRow("slash") << u"a/b"_s << false;
    QTest::newRow("unicode letter") << u"réside"_s << false;
    QTest::newRow("fullwidth letter") << u"ａ"_s << false;
    QTest::newRow("unicode digit") << u"٣"_s << false;
    QTest::newRow("semicolon") << u"a;reboot"_s << false;
    QTest::newRow("lone semicolon") << u";"_s << false;
    QTest::newRow("command substitution") << u"$(x)"_s << false;
    QTest::newRow("backticks") << u"`id`"_s << false;
    QTest::newRow("space") << u"a b"_s << false;
    QTest::newRow("leading space") << u" a"_s << false;
    QTest::newRow("trailing newline") << u"a\n"_s << false;
    QTest::newRow("embedded newline") << u"a\nb"_s << false;
    QTest::newRow("tab") << u"a\tb"_s << false;
    QTest::newRow("nul") << QString(QChar(u'a')) + QChar(u'\0') << false;
    QTest::newRow("quote") << u"a'b"_s << false;
    QTest::newRow("glob") << u"a*"_s << false;
}

void TestNameRules::isValidName()
{
    QFETCH(QString, name);
    QFETCH(bool, valid);
    QCOMPARE(NameRules::isValidName(name), valid);
    QCOMPARE(NameRules::nameError(u"host name"_s, name).isEmpty(), valid);
}

void TestNameRules::nameError()
{
    QCOMPARE(NameRules::nameError(u"host name"_s, u"Bad_Host"_s),
        u"host name \"Bad_Host\" is not allowed: use 1-63 characters a-z, 0-9 and '-', starting with a letter or "
        "digit"_s);
    QCOMPARE(NameRules::nameError(u"instance name"_s, QString()),
        u"instance name \"\" is not allowed: use 1-63 characters a-z, 0-9 and '-', starting with a letter or "
        "digit"_s);
    QCOMPARE(NameRules::nameError(u"host name"_s, u"wpia-packit"_s), QString());
}

void TestNameRules::nameErrorEscapesControlCharacters()
{
    // An error is one line of FILE:LINE:COL: message; a name must not be able to start a fake second one.
    const QString message = NameRules::nameError(u"host name"_s, u"a\nfile:1:1: fine"_s);
    QVERIFY(!message.contains(u'\n'));
    QVERIFY(message.startsWith(u"host name \"a\\nfile:1:1: fine\" is not allowed"_s));
}

// Kubernetes namespaces: the names' rule, and no trailing '-'.
void TestNameRules::isValidDnsLabel_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("valid");

    QTest::newRow("namespace") << u"fg-staging"_s << true;
    QTest::newRow("one digit") << u"0"_s << true;
    QTest::newRow("63 characters") << QString(63, u'a') << true;
    QTest::newRow("trailing dash") << u"fg-"_s << false;
    QTest::newRow("leading dash") << u"-fg"_s << false;
    QTest::newRow("64 characters") << QString(64, u'a') << false;
    QTest::newRow("empty") << QString() << false;
    QTest::newRow("dot dot") << u".."_s << false;
    QTest::newRow("semicolon") << u"fg;rm"_s << false;
    QTest::newRow("trailing newline") << u"fg\n"_s << false;
    QTest::newRow("upper case") << u"FG"_s << false;
}

void TestNameRules::isValidDnsLabel()
{
    QFETCH(QString, name);
    QFETCH(bool, valid);
    QCOMPARE(NameRules::isValidDnsLabel(name), valid);
    const QString error = NameRules::dnsLabelError(u"namespace"_s, name);
    QCOMPARE(error.isEmpty(), valid);
    if (!valid)
        QCOMPARE(error,
            u"namespace "_s + NameRules::quoted(name)
                + u" is not allowed: use 1-63 characters a-z, 0-9 and '-', starting and ending with a letter or digit"_s);
}

void TestNameRules::isStrictlyUnder_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("base");
    QTest::addColumn<bool>("under");

    QTest::newRow("child") << u"/var/lib/outpack/training"_s << u"/var/lib/outpack"_s << true;
    QTest::newRow("grandchild") << u"/var/lib/outpack/a/b"_s << u"/var/lib/outpack"_s << true;
    QTest::newRow("three dots is a name") << u"/var/lib/outpack/..."_s << u"/var/lib/outpack"_s << true;
    QTest::newRow("equal") << u"/var/lib/outpack"_s << u"/var/lib/outpack"_s << false;
    QTest::newRow("equal, path trailing slash") << u"/var/lib/outpack/"_s << u"/var/lib/outpack"_s << false;
    QTest::newRow("equal, base trailing slash") << u"/var/lib/outpack"_s << u"/var/lib/outpack/"_s << false;
    QTest::newRow("equal through dot") << u"/var/lib/outpack/."_s << u"/var/lib/outpack"_s << false;
    QTest::newRow("child, both trailing slashes") << u"/var/lib/outpack/x/"_s << u"/var/lib/outpack/"_s << true;
    QTest::newRow("child, doubled slash") << u"/var/lib/outpack//x"_s << u"/var/lib/outpack"_s << true;
    QTest::newRow("child through dot") << u"/var/lib/outpack/./x"_s << u"/var/lib/outpack"_s << true;
    QTest::newRow("sibling sharing a prefix") << u"/var/lib/outpackX"_s << u"/var/lib/outpack"_s << false;
    QTest::newRow("child of a sibling") << u"/var/lib/outpack-old/x"_s << u"/var/lib/outpack"_s << false;
    QTest::newRow("parent") << u"/var/lib"_s << u"/var/lib/outpack"_s << false;
    QTest::newRow("unrelated") << u"/etc/passwd"_s << u"/var/lib/outpack"_s << false;
    QTest::newRow("dot dot escaping") << u"/var/lib/outpack/../../etc"_s << u"/var/lib/outpack"_s << false;
    QTest::newRow("dot dot staying inside") << u"/var/lib/outpack/x/../y"_s << u"/var/lib/outpack"_s << false;
    QTest::newRow("dot dot at the end") << u"/var/lib/outpack/x/.."_s << u"/var/lib/outpack"_s << false;
    QTest::newRow("dot dot in base") << u"/var/lib/outpack/x"_s << u"/var/lib/y/../outpack"_s << false;
    QTest::newRow("relative path") << u"var/lib/outpack/x"_s << u"/var/lib/outpack"_s << false;
    QTest::newRow("relative base") << u"/var/lib/outpack/x"_s << u"var/lib/outpack"_s << false;
    QTest::newRow("both relative") << u"outpack/x"_s << u"outpack"_s << false;
    QTest::newRow("tilde is not expanded") << u"~/outpack/x"_s << u"~/outpack"_s << false;
    QTest::newRow("empty path") << QString() << u"/var/lib/outpack"_s << false;
    QTest::newRow("empty base") << u"/var/lib/outpack/x"_s << QString() << false;
    QTest::newRow("root base") << u"/etc"_s << u"/"_s << true;
    QTest::newRow("root itself") << u"/"_s << u"/"_s << false;
}

void TestNameRules::isStrictlyUnder()
{
    QFETCH(QString, path);
    QFETCH(QString, base);
    QFETCH(bool, under);
    QCOMPARE(NameRules::isStrictlyUnder(path, base), under);
}

void TestNameRules::quoted_data()
{
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("expected");

    QTest::newRow("plain") << u"abc"_s << u"\"abc\""_s;
    QTest::newRow("empty") << QString() << u"\"\""_s;
    QTest::newRow("quote and backslash") << u"a\"b\\c"_s << u"\"a\\\"b\\\\c\""_s;
    QTest::newRow("newline, tab, return") << u"a\nb\tc\rd"_s << u"\"a\\nb\\tc\\rd\""_s;
    QTest::newRow("other control") << u"a\x1b"_s << u"\"a\\u001b\""_s;
    QTest::newRow("line separator") << u"a\u2028b"_s << u"\"a\\u2028b\""_s;
    QTest::newRow("unicode kept") << u"réside"_s << u"\"réside\""_s;
}

void TestNameRules::quoted()
{
    QFETCH(QString, value);
    QFETCH(QString, expected);
    QCOMPARE(NameRules::quoted(value), expected);
}

QTEST_GUILESS_MAIN(TestNameRules)
#include "tst_namerules.moc"
