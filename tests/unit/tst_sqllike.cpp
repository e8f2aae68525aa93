// The one LIKE pattern for a typed filter: LIKE's own characters match only themselves.
#include "sql/SqlLike.h"

#include <QTest>

using namespace opsdeck;

class TestSqlLike : public QObject
{
    Q_OBJECT

private slots:
    void escapesWildcardsAndTheEscape();
};

void TestSqlLike::escapesWildcardsAndTheEscape()
{
    QCOMPARE(SqlLike::contains(QStringLiteral("globex")), QStringLiteral("%globex%"));
    QCOMPARE(SqlLike::contains(QString()), QStringLiteral("%%"));
    QCOMPARE(SqlLike::contains(QStringLiteral("a_b%c")), QStringLiteral("%a\\_b\\%c%"));
    QCOMPARE(SqlLike::contains(QStringLiteral("C:\\x")), QStringLiteral("%C:\\\\x%"));
}

QTEST_GUILESS_MAIN(TestSqlLike)
#include "tst_sqllike.moc"
