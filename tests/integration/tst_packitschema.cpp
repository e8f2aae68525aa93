// The sandbox's Packit databases against a real Packit database's catalog (tests/data/packit-schema-catalog.txt,
// from /work/shared/reference/packit-schema.md): tables, columns (position, type, nullability, default),
// constraints (keys, checks, foreign keys with their ON DELETE action), indexes, extensions and the rows the
// migrations insert. Any drift of the sandbox's schema.sql or seed.py fails here, whichever side it is on.
#include "Sandbox.h"

#include <QDebug>
#include <QFile>
#include <QJsonArray>
#include <QSet>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck::test;

namespace {

// One line per fact, in the data file's format (its header explains each kind). ROW(...)::text prints NULL as
// nothing and quotes values with spaces, so a row line shows NULLs and values unambiguously.
const QString catalogQuery = uR"(
SELECT 'table ' || c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
UNION ALL
SELECT format('column %s.%s %s %s %s%s', c.relname, a.attname,
    row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum), format_type(a.atttypid, a.atttypmod),
    CASE WHEN a.attnotnull THEN 'NOT NULL' ELSE 'NULL' END, ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid))
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE n.nspname = 'public' AND c.relkind = 'r'
UNION ALL
SELECT format('constraint %s.%s %s%s', c.relname, co.conname, pg_get_constraintdef(co.oid),
    CASE WHEN co.contype = 'f' AND co.confdeltype = 'a' THEN ' ON DELETE NO ACTION' ELSE '' END)
FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public'
UNION ALL
SELECT 'index ' || pg_get_indexdef(x.indexrelid)
FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public'
UNION ALL
SELECT 'extension ' || extname FROM pg_extension WHERE extname <> 'plpgsql'
)"_s;

// The rows the migrations insert (and the app's one, and Flyway's), one query a table: a table that lacks a column
// fails its own query only, and shows as its missing rows.
const QStringList rowQueries {
    uR"(SELECT 'row role ' || ROW(id, name, is_username)::text FROM role WHERE name = 'ADMIN')"_s,
    uR"(SELECT 'row permission ' || ROW(id, name, description)::text FROM permission)"_s,
    uR"(SELECT 'row role_permission ' || ROW(rp.id, r.name, p.name, rp.packet_id, rp.packet_group_id, rp.tag_id)::text
        FROM role_permission rp JOIN role r ON r.id = rp.role_id JOIN permission p ON p.id = rp.permission_id
        WHERE r.name = 'ADMIN')"_s,
    uR"(SELECT 'row user ' || ROW(username, display_name, password, email, disabled, user_source, last_logged_in)::text
        FROM "user" WHERE username = 'SERVICE')"_s,
    uR"(SELECT 'row user_role ' || ROW(ur.id, u.username, r.name)::text
        FROM user_role ur JOIN "user" u ON u.id = ur.user_id JOIN role r ON r.id = ur.role_id
        WHERE u.username = 'SERVICE')"_s,
    uR"(SELECT 'row one_time_job ' || ROW(id, name, status, error)::text FROM one_time_job)"_s,
    uR"(SELECT 'row flyway_schema_history '
        || ROW(installed_rank, version, description, type, script, success)::text FROM flyway_schema_history)"_s,
};

QString describe(const QString& what, QStringList lines)
{
    lines.sort();
    return lines.isEmpty() ? QString() : u"%1 (%2):\n  %3\n"_s.arg(what).arg(lines.size()).arg(lines.join(u"\n  "_s));
}

} // namespace

class TestPackitSchema : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void catalogMatchesTheReference_data();
    void catalogMatchesTheReference();
    void driftIsReported_data();
    void driftIsReported();

private:
    QSqlDatabase database(const QString& name);
    // The catalog's lines; empty (with a QWARN) when the query fails.
    QSet<QString> catalog(QSqlDatabase& db);
    // "" when `actual` is the expected catalog, else what is missing and what is not expected.
    QString differences(const QSet<QString>& expected, const QSet<QString>& actual) const;

    Sandbox m_sandbox;
    QSet<QString> m_expected;
    QStringList m_databases;
};

void TestPackitSchema::initTestCase()
{
    QVERIFY2(m_sandbox.ok(), qPrintable(m_sandbox.error()));
    QFile file(QStringLiteral(OPSDECK_TEST_DATA_DIR "/packit-schema-catalog.txt"));
    QVERIFY2(file.open(QIODevice::ReadOnly | QIODevice::Text), qPrintable(file.fileName()));
    while (!file.atEnd()) {
        const QString line = QString::fromUtf8(file.readLine()).trimmed();
        if (!line.isEmpty() && !line.startsWith(u'#'))
            m_expected.insert(line);
    }
    QVERIFY(m_expected.size() > 200);
    for (const QJsonValue& instance : m_sandbox.json().value(u"packit"_s).toArray())
        m_databases << instance[u"database"_s].toString();
    QCOMPARE(m_databases.size(), 6);
}

void TestPackitSchema::cleanupTestCase()
{
    for (const QString& name : QSqlDatabase::connectionNames())
        QSqlDatabase::removeDatabase(name);
}

QSqlDatabase TestPackitSchema::database(const QString& name)
{
    if (QSqlDatabase::contains(name))
        return QSqlDatabase::database(name);
    QSqlDatabase db = m_sandbox.postgres().addPostgresConnection(name, name);
    if (!db.open())
        qWarning("cannot open %s: %s", qPrintable(name), qPrintable(db.lastError().text()));
    return db;
}

QSet<QString> TestPackitSchema::catalog(QSqlDatabase& db)
{
    QSqlQuery query(db);
    // pg_get_expr and pg_get_indexdef qualify names by the search path: print them as Packit's connections do.
    if (!query.exec(u"SET search_path TO public"_s) || !query.exec(catalogQuery)) {
        qWarning("catalog of %s: %s", qPrintable(db.databaseName()), qPrintable(query.lastError().text()));
        return {};
    }
    QSet<QString> lines;
    while (query.next())
        lines.insert(query.value(0).toString());
    for (const QString& rows : rowQueries) {
        if (!query.exec(rows)) {
            lines.insert(u"query failed: "_s + query.lastError().databaseText() + u" in "_s + rows.simplified());
            continue;
        }
        while (query.next())
            lines.insert(query.value(0).toString());
    }
    return lines;
}

QString TestPackitSchema::differences(const QSet<QString>& expected, const QSet<QString>& actual) const
{
    return describe(u"missing"_s, (expected - actual).values())
        + describe(u"not expected"_s, (actual - expected).values());
}

void TestPackitSchema::catalogMatchesTheReference_data()
{
    QTest::addColumn<QString>("name");
    for (const QString& name : std::as_const(m_databases))
        QTest::newRow(qPrintable(name)) << name;
}

void TestPackitSchema::catalogMatchesTheReference()
{
    QFETCH(QString, name);
    QSqlDatabase db = database(name);
    QVERIFY2(db.isOpen(), qPrintable(db.lastError().text()));
    const QSet<QString> actual = catalog(db);
    QVERIFY(!actual.isEmpty());
    const QString diff = differences(m_expected, actual);
    // In full: QTest cuts a failure message short.
    if (!diff.isEmpty())
        qWarning().noquote() << name << u"differs from tests/data/packit-schema-catalog.txt:\n"_s + diff;
    QVERIFY2(diff.isEmpty(), "the catalog differs from the reference: the lines are above");
}

// Each kind of drift, made inside a transaction that is rolled back (PostgreSQL's DDL is transactional), is
// reported as exactly the lines it changes.
void TestPackitSchema::driftIsReported_data()
{
    QTest::addColumn<QString>("statement");
    QTest::addColumn<QStringList>("missing");
    QTest::addColumn<QStringList>("unexpected");
    QTest::newRow("ON DELETE action")
        << u"ALTER TABLE packet_tag DROP CONSTRAINT packet_tag_tag_id_fkey, "
           "ADD CONSTRAINT packet_tag_tag_id_fkey FOREIGN KEY (tag_id) REFERENCES tag(id)"_s
        << QStringList { u"constraint packet_tag.packet_tag_tag_id_fkey FOREIGN KEY (tag_id) "
                         "REFERENCES tag(id) ON DELETE CASCADE"_s }
        << QStringList { u"constraint packet_tag.packet_tag_tag_id_fkey FOREIGN KEY (tag_id) "
                         "REFERENCES tag(id) ON DELETE NO ACTION"_s };
    QTest::newRow("index") << u"DROP INDEX role_permission_tag_id_idx"_s
                           << QStringList { u"index CREATE INDEX role_permission_tag_id_idx ON public.role_permission "
                                            "USING btree (tag_id)"_s }
                           << QStringList {};
    QTest::newRow("type") << u"ALTER TABLE run_info ALTER COLUMN logs TYPE text[] USING NULL"_s
                          << QStringList { u"column run_info.logs 7 json NULL"_s }
                          << QStringList { u"column run_info.logs 7 text[] NULL"_s };
    QTest::newRow("nullability") << u"ALTER TABLE \"user\" ALTER COLUMN user_source SET NOT NULL"_s
                                 << QStringList { u"column user.user_source 7 text NULL"_s }
                                 << QStringList { u"column user.user_source 7 text NOT NULL"_s };
    QTest::newRow("seed row") << u"UPDATE permission SET description = 'read packets' WHERE id = 1"_s
                              << QStringList { u"row permission (1,packet.read,\"Read packets\")"_s }
                              << QStringList { u"row permission (1,packet.read,\"read packets\")"_s };
}

void TestPackitSchema::driftIsReported()
{
    QFETCH(QString, statement);
    QFETCH(QStringList, missing);
    QFETCH(QStringList, unexpected);
    QSqlDatabase db = database(m_databases.constFirst());
    QVERIFY(db.transaction());
    QSqlQuery query(db);
    const bool changed = query.exec(statement);
    const QSet<QString> actual = catalog(db);
    QVERIFY(db.rollback());
    QVERIFY2(changed, qPrintable(query.lastError().text()));
    QCOMPARE(
        differences(m_expected, actual), describe(u"missing"_s, missing) + describe(u"not expected"_s, unexpected));
    QVERIFY(differences(m_expected, catalog(db)).isEmpty());
}

QTEST_GUILESS_MAIN(TestPackitSchema)
#include "tst_packitschema.moc"
