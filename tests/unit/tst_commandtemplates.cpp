#include "config/CommandTemplates.h"

#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck;

using Values = QMap<QString, QStringList>;

class TestCommandTemplates : public QObject
{
    Q_OBJECT

private slots:
    void names();
    void defaults_data();
    void defaults();
    void defaultsAreValid();
    void unknownName();
    void validate_data();
    void validate();
    void expand_data();
    void expand();
    void expandWithoutErrorPointer();
    void defaultsExpand();
};

void TestCommandTemplates::names()
{
    QCOMPARE(CommandTemplates::names(),
        QStringList({ u"stopUnits"_s, u"startUnits"_s, u"unitState"_s, u"removeTree"_s, u"psql"_s, u"journal"_s,
            u"readMetrics"_s }));
}

void TestCommandTemplates::defaults_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QStringList>("argv");
    QTest::addColumn<QStringList>("placeholders");

    QTest::newRow("stopUnits") << u"stopUnits"_s << QStringList { u"systemctl"_s, u"stop"_s, u"{units...}"_s }
                               << QStringList { u"units"_s };
    QTest::newRow("startUnits") << u"startUnits"_s << QStringList { u"systemctl"_s, u"start"_s, u"{units...}"_s }
                                << QStringList { u"units"_s };
    QTest::newRow("unitState") << u"unitState"_s
                               << QStringList { u"systemctl"_s, u"show"_s, u"-p"_s, u"ActiveState,SubState"_s,
                                      u"{unit}"_s }
                               << QStringList { u"unit"_s };
    QTest::newRow("removeTree") << u"removeTree"_s << QStringList { u"rm"_s, u"-r"_s, u"{path}"_s }
                                << QStringList { u"path"_s };
    QTest::newRow("psql") << u"psql"_s << QStringList { u"psql"_s, u"{database}"_s } << QStringList { u"database"_s };
    QTest::newRow("journal") << u"journal"_s
                             << QStringList { u"journalctl"_s, u"{unitFlags...}"_s, u"-r"_s, u"-n"_s, u"{lines}"_s }
                             << QStringList { u"unitFlags"_s, u"lines"_s };
    QTest::newRow("readMetrics") << u"readMetrics"_s << QStringList { u"cat"_s, u"{file}"_s }
                                 << QStringList { u"file"_s };
}

void TestCommandTemplates::defaults()
{
    QFETCH(QString, name);
    QFETCH(QStringList, argv);
    QFETCH(QStringList, placeholders);
    QCOMPARE(CommandTemplates::defaultFor(name), argv);
    QCOMPARE(CommandTemplates::placeholdersFor(name), placeholders);
}

void TestCommandTemplates::defaultsAreValid()
{
    for (const QString& name : CommandTemplates::names())
        QCOMPARE(CommandTemplates::validate(name, CommandTemplates::defaultFor(name)), QString());
}

void TestCommandTemplates::unknownName()
{
    QCOMPARE(CommandTemplates::defaultFor(u"reboot"_s), CommandTemplate());
    QCOMPARE(CommandTemplates::placeholdersFor(u"reboot"_s), QStringList());
    QCOMPARE(CommandTemplates::validate(u"reboot"_s, { u"reboot"_s }),
        u"command template \"reboot\" is not known: use one of stopUnits, startUnits, unitState, removeTree, "
        "psql, journal, readMetrics"_s);
}

void TestCommandTemplates::validate_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QStringList>("argv");
    QTest::addColumn<QString>("error"); // empty: valid

    QTest::newRow("override with sudo") << u"stopUnits"_s
                                        << QStringList { u"sudo"_s, u"systemctl"_s, u"stop"_s, u"{units...}"_s }
                                        << QString();
    QTest::newRow("embedded single placeholder")
        << u"journal"_s << QStringList { u"journalctl"_s, u"{unitFlags...}"_s, u"--lines={lines}"_s } << QString();
    QTest::newRow("single placeholder twice")
        << u"readMetrics"_s << QStringList { u"cp"_s, u"{file}"_s, u"{file}.bak"_s } << QString();
    QTest::newRow("literal braces are not placeholders")
        << u"readMetrics"_s << QStringList { u"awk"_s, u"{print $1}"_s, u"{file}"_s } << QString();
    QTest::newRow("empty") << u"psql"_s << QStringList()
                           << u"command template psql is empty: give the program and its arguments, e.g. [psql, "
                              "{database}]"_s;
    QTest::newRow("program is a list placeholder")
        << u"stopUnits"_s << QStringList { u"{units...}"_s, u"stop"_s }
        << u"command template stopUnits must start with a fixed program, not \"{units...}\""_s;
    QTest::newRow("program is a single placeholder")
        << u"psql"_s << QStringList { u"{database}"_s }
        << u"command template psql must start with a fixed program, not \"{database}\""_s;
    QTest::newRow("program contains a placeholder")
        << u"removeTree"_s << QStringList { u"/usr/bin/{path}"_s, u"{path}"_s }
        << u"command template removeTree must start with a fixed program, not \"/usr/bin/{path}\""_s;
    QTest::newRow("program is empty") << u"psql"_s << QStringList { QString(), u"{database}"_s }
                                      << u"command template psql must start with a fixed program, not \"\""_s;
    QTest::newRow("foreign placeholder") << u"removeTree"_s
                                         << QStringList { u"rm"_s, u"-r"_s, u"{path}"_s, u"{units...}"_s }
                                         << u"command template removeTree cannot use {units...}: use {path}"_s;
    QTest::newRow("unknown placeholder") << u"stopUnits"_s
                                         << QStringList { u"systemctl"_s, u"stop"_s, u"{units...}"_s, u"{force}"_s }
                                         << u"command template stopUnits cannot use {force}: use {units...}"_s;
    QTest::newRow("list placeholder inside an argument")
        << u"stopUnits"_s << QStringList { u"systemctl"_s, u"stop"_s, u"--unit={units...}"_s }
        << u"command template stopUnits uses {units...} in \"--unit={units...}\": write {units...} as a whole "
           "argument of its own"_s;
    QTest::newRow("list placeholder in single form")
        << u"stopUnits"_s << QStringList { u"systemctl"_s, u"stop"_s, u"{units}"_s }
        << u"command template stopUnits uses {units} in \"{units}\": write {units...} as a whole argument of its "
           "own"_s;
    QTest::newRow("single placeholder in list form")
        << u"unitState"_s << QStringList { u"systemctl"_s, u"show"_s, u"{unit...}"_s }
        << u"command template unitState uses {unit...} in \"{unit...}\": write {unit} for its single value"_s;
    QTest::newRow("placeholder left out")
        << u"journal"_s << QStringList { u"journalctl"_s, u"{unitFlags...}"_s, u"-r"_s }
        << u"command template journal never uses {lines}: the command must act on it"_s;
    QTest::newRow("no placeholders at all") << u"removeTree"_s << QStringList { u"true"_s }
                                            << u"command template removeTree never uses {path}: the command must act "
                                               "on it"_s;
}

void TestCommandTemplates::validate()
{
    QFETCH(QString, name);
    QFETCH(QStringList, argv);
    QFETCH(QString, error);
    QCOMPARE(CommandTemplates::validate(name, argv), error);
}

void TestCommandTemplates::expand_data()
{
    QTest::addColumn<QStringList>("argv");
    QTest::addColumn<Values>("values");
    QTest::addColumn<QStringList>("expected");
    QTest::addColumn<QString>("error"); // empty: expansion succeeds

    const QStringList stop = { u"systemctl"_s, u"stop"_s, u"{units...}"_s };
    QTest::newRow("whole-argument list")
        << stop << Values { { u"units"_s, { u"outpack-training.service"_s, u"packit-api-training.service"_s } } }
        << QStringList { u"systemctl"_s, u"stop"_s, u"outpack-training.service"_s, u"packit-api-training.service"_s }
        << QString();
    QTest::newRow("whole-argument list, one value")
        << stop << Values { { u"units"_s, { u"a.service"_s } } }
        << QStringList { u"systemctl"_s, u"stop"_s, u"a.service"_s } << QString();
    QTest::newRow("whole-argument list, no values")
        << stop << Values { { u"units"_s, {} } } << QStringList { u"systemctl"_s, u"stop"_s } << QString();
    QTest::newRow("list in the middle")
        << QStringList { u"journalctl"_s, u"{unitFlags...}"_s, u"-r"_s, u"-n"_s, u"{lines}"_s }
        << Values { { u"unitFlags"_s, { u"-u"_s, u"a"_s, u"-u"_s, u"b"_s } }, { u"lines"_s, { u"200"_s } } }
        << QStringList { u"journalctl"_s, u"-u"_s, u"a"_s, u"-u"_s, u"b"_s, u"-r"_s, u"-n"_s, u"200"_s } << QString();
    QTest::newRow("embedded single") << QStringList { u"journalctl"_s, u"--lines={lines}"_s }
                                     << Values { { u"lines"_s, { u"50"_s } } }
                                     << QStringList { u"journalctl"_s, u"--lines=50"_s } << QString();
    QTest::newRow("two placeholders in one argument")
        << QStringList { u"echo"_s, u"{a}-{b}/{a}"_s } << Values { { u"a"_s, { u"x"_s } }, { u"b"_s, { u"y"_s } } }
        << QStringList { u"echo"_s, u"x-y/x"_s } << QString();
    QTest::newRow("a value with spaces stays one argument")
        << QStringList { u"rm"_s, u"-r"_s, u"{path}"_s } << Values { { u"path"_s, { u"/srv/a b/c"_s } } }
        << QStringList { u"rm"_s, u"-r"_s, u"/srv/a b/c"_s } << QString();
    QTest::newRow("literal braces untouched")
        << QStringList { u"awk"_s, u"{print $1}"_s, u"{file}"_s } << Values { { u"file"_s, { u"/f"_s } } }
        << QStringList { u"awk"_s, u"{print $1}"_s, u"/f"_s } << QString();
    QTest::newRow("unused values are fine")
        << QStringList { u"cat"_s, u"{file}"_s } << Values { { u"file"_s, { u"/f"_s } }, { u"other"_s, { u"x"_s } } }
        << QStringList { u"cat"_s, u"/f"_s } << QString();
    QTest::newRow("shell metacharacters are data")
        << QStringList { u"systemctl"_s, u"stop"_s, u"{units...}"_s, u"--x={unit}"_s }
        << Values { { u"units"_s, { u"a; rm -rf / #"_s, u"$(reboot)"_s, u"`id`"_s, u"a\nb"_s, u"'\"|&>"_s } },
               { u"unit"_s, { u"$HOME && x"_s } } }
        << QStringList { u"systemctl"_s, u"stop"_s, u"a; rm -rf / #"_s, u"$(reboot)"_s, u"`id`"_s, u"a\nb"_s,
               u"'\"|&>"_s, u"--x=$HOME && x"_s }
        << QString();
    QTest::newRow("values are not expanded again")
        << QStringList { u"cat"_s, u"{file}"_s, u"{units...}"_s }
        << Values { { u"file"_s, { u"{units...}"_s } }, { u"units"_s, { u"{file}"_s } } }
        << QStringList { u"cat"_s, u"{units...}"_s, u"{file}"_s } << QString();
    QTest::newRow("missing list value") << stop << Values { { u"unit"_s, { u"a"_s } } } << QStringList()
                                        << u"no value for {units...}"_s;
    QTest::newRow("missing single value")
        << QStringList { u"rm"_s, u"-r"_s, u"{path}"_s } << Values() << QStringList() << u"no value for {path}"_s;
    QTest::newRow("missing embedded value") << QStringList { u"journalctl"_s, u"--lines={lines}"_s } << Values()
                                            << QStringList() << u"no value for {lines}"_s;
    QTest::newRow("list value for a single placeholder")
        << QStringList { u"systemctl"_s, u"show"_s, u"{unit}"_s } << Values { { u"unit"_s, { u"a"_s, u"b"_s } } }
        << QStringList() << u"{unit} takes exactly one value, not 2"_s;
    QTest::newRow("no value for a single placeholder")
        << QStringList { u"systemctl"_s, u"show"_s, u"{unit}"_s } << Values { { u"unit"_s, {} } } << QStringList()
        << u"{unit} takes exactly one value, not 0"_s;
    QTest::newRow("list placeholder inside an argument")
        << QStringList { u"systemctl"_s, u"stop"_s, u"--unit={units...}"_s } << Values { { u"units"_s, { u"a"_s } } }
        << QStringList() << u"{units...} must be a whole argument, not part of \"--unit={units...}\""_s;
}

void TestCommandTemplates::expand()
{
    QFETCH(QStringList, argv);
    QFETCH(Values, values);
    QFETCH(QStringList, expected);
    QFETCH(QString, error);

    QString actualError = u"untouched"_s;
    QCOMPARE(CommandTemplates::expand(argv, values, &actualError), expected);
    QCOMPARE(actualError, error.isEmpty() ? u"untouched"_s : error);
}

void TestCommandTemplates::expandWithoutErrorPointer()
{
    QCOMPARE(CommandTemplates::expand({ u"rm"_s, u"{path}"_s }, {}), QStringList());
    QCOMPARE(CommandTemplates::expand({ u"rm"_s, u"{path}"_s }, { { u"path"_s, { u"/x"_s } } }),
        QStringList({ u"rm"_s, u"/x"_s }));
}

void TestCommandTemplates::defaultsExpand()
{
    // The runbooks' own commands, as the operations will produce them.
    const Values values = { { u"units"_s, { u"outpack-training"_s, u"packit-api-training"_s } },
        { u"unit"_s, { u"outpack-training"_s } }, { u"path"_s, { u"/var/lib/outpack/training"_s } },
        { u"database"_s, { u"training"_s } }, { u"unitFlags"_s, { u"-u"_s, u"outpack-training"_s } },
        { u"lines"_s, { u"100"_s } }, { u"file"_s, { u"/etc/metrics/configuration-info.prom"_s } } };
    const auto run = [&](const QString& name) {
        QString error;
        const QStringList argv = CommandTemplates::expand(CommandTemplates::defaultFor(name), values, &error);
        return error.isEmpty() ? argv.join(u' ') : error;
    };
    QCOMPARE(run(u"stopUnits"_s), u"systemctl stop outpack-training packit-api-training"_s);
    QCOMPARE(run(u"startUnits"_s), u"systemctl start outpack-training packit-api-training"_s);
    QCOMPARE(run(u"unitState"_s), u"systemctl show -p ActiveState,SubState outpack-training"_s);
    QCOMPARE(run(u"removeTree"_s), u"rm -r /var/lib/outpack/training"_s);
    QCOMPARE(run(u"psql"_s), u"psql training"_s);
    QCOMPARE(run(u"journal"_s), u"journalctl -u outpack-training -r -n 100"_s);
    QCOMPARE(run(u"readMetrics"_s), u"cat /etc/metrics/configuration-info.prom"_s);
}

QTEST_GUILESS_MAIN(TestCommandTemplates)
#include "tst_commandtemplates.moc"
