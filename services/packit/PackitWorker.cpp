#include "packit/PackitWorker.h"

#include "packit/PackitConnection.h"

#include <QJsonDocument>
#include <QSqlError>
#include <QSqlQuery>

namespace opsdeck {

namespace {

// Sorting is by a column name from this list only: it goes into the SQL text.
QString orderColumn(const QString& requested)
{
    static const QStringList allowed = { QStringLiteral("id"), QStringLiteral("name"), QStringLiteral("display_name"),
        QStringLiteral("start_time"), QStringLiteral("end_time") };
    return allowed.contains(requested) ? requested : QStringLiteral("id");
}

QString likePattern(const QString& filter)
{
    QString escaped = filter;
    escaped.replace(u'\\', QStringLiteral("\\\\"))
        .replace(u'%', QStringLiteral("\\%"))
        .replace(u'_', QStringLiteral("\\_"));
    return u'%' + escaped + u'%';
}

} // namespace

PackitWorker::PackitWorker(PackitTarget target, QObject* parent)
    : QObject(parent)
    , m_target(std::move(target))
    , m_context(new QObject)
{
    m_thread.setObjectName(QStringLiteral("packit:") + m_target.id());
    m_context->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_context, &QObject::deleteLater);
    // The session and the database connection belong to the worker thread: they end there, once its event loop
    // (and any request waiting inside it) has returned.
    connect(
        &m_thread, &QThread::finished, m_context, [this] { m_connection.reset(); }, Qt::DirectConnection);
    m_thread.start();
}

PackitWorker::~PackitWorker()
{
    // Quitting ends every event loop of the thread, so a request waiting on a command returns at once (its
    // command is cancelled); requests still queued are dropped.
    m_thread.quit();
    m_thread.wait();
}

PackitConnection* PackitWorker::connection(QString* error)
{
    if (!m_connection)
        m_connection = std::make_unique<PackitConnection>(m_target);
    return m_connection->openDatabase(error) ? m_connection.get() : nullptr;
}

void PackitWorker::requestState(quint64 tag)
{
    QMetaObject::invokeMethod(m_context, [this, tag] {
        if (!m_connection)
            m_connection = std::make_unique<PackitConnection>(m_target);
        emit stateReady(tag, m_connection->instanceState());
    });
}

void PackitWorker::requestPackets(
    quint64 tag, int offset, int limit, const QString& filter, const QString& orderBy, bool descending)
{
    QMetaObject::invokeMethod(m_context, [=, this] {
        QString error;
        PackitConnection* db = connection(&error);
        if (!db) {
            emit packetsReady(tag, offset, {}, error);
            return;
        }
        const QString where = filter.isEmpty()
            ? QString()
            : QStringLiteral(" WHERE name ILIKE ? OR id ILIKE ? OR display_name ILIKE ?");
        QSqlQuery page(db->database());
        page.setForwardOnly(true);
        page.prepare(
            QStringLiteral("SELECT id, name, display_name, start_time, end_time FROM packet%1 ORDER BY %2 %3, id "
                           "LIMIT ? OFFSET ?")
                .arg(where, orderColumn(orderBy), descending ? QStringLiteral("DESC") : QStringLiteral("ASC")));
        if (!filter.isEmpty()) {
            for (int i = 0; i < 3; ++i)
                page.addBindValue(likePattern(filter));
        }
        page.addBindValue(limit);
        page.addBindValue(offset);
        if (!page.exec()) {
            emit packetsReady(tag, offset, {}, page.lastError().text());
            return;
        }
        QJsonArray rows;
        while (page.next()) {
            rows.append(QJsonObject { { QStringLiteral("id"), page.value(0).toString() },
                { QStringLiteral("name"), page.value(1).toString() },
                { QStringLiteral("displayName"), page.value(2).toString() },
                { QStringLiteral("startTime"), page.value(3).toDouble() },
                { QStringLiteral("endTime"), page.value(4).toDouble() } });
        }
        emit packetsReady(tag, offset, rows, {});
        if (offset != 0)
            return;
        QSqlQuery count(db->database());
        count.prepare(QStringLiteral("SELECT count(*) FROM packet") + where);
        if (!filter.isEmpty()) {
            for (int i = 0; i < 3; ++i)
                count.addBindValue(likePattern(filter));
        }
        if (count.exec() && count.next())
            emit packetCountReady(tag, count.value(0).toLongLong());
    });
}

void PackitWorker::requestGroups(quint64 tag)
{
    QMetaObject::invokeMethod(m_context, [this, tag] {
        QString error;
        PackitConnection* db = connection(&error);
        if (!db) {
            emit groupsReady(tag, {}, error);
            return;
        }
        QSqlQuery query(db->database());
        query.setForwardOnly(true);
        if (!query.exec(
                QStringLiteral("SELECT g.id, g.name, count(p.id), max(p.start_time) FROM packet_group g "
                               "LEFT JOIN packet p ON p.name = g.name GROUP BY g.id, g.name ORDER BY g.name"))) {
            emit groupsReady(tag, {}, query.lastError().text());
            return;
        }
        QJsonArray rows;
        while (query.next()) {
            rows.append(QJsonObject { { QStringLiteral("id"), query.value(0).toLongLong() },
                { QStringLiteral("name"), query.value(1).toString() },
                { QStringLiteral("packets"), query.value(2).toLongLong() },
                { QStringLiteral("latest"), query.value(3).toDouble() } });
        }
        emit groupsReady(tag, rows, {});
    });
}

void PackitWorker::requestMetadata(quint64 tag, const QString& packetId)
{
    QMetaObject::invokeMethod(m_context, [this, tag, packetId] {
        static const QRegularExpression idPattern(QStringLiteral("^[0-9]{8}-[0-9]{6}-[0-9a-fA-F]{8}$"));
        if (!idPattern.match(packetId).hasMatch()) {
            emit metadataReady(tag, {}, QStringLiteral("\"%1\" is not an outpack packet id").arg(packetId));
            return;
        }
        if (!m_connection)
            m_connection = std::make_unique<PackitConnection>(m_target);
        const QString path = m_target.instance.outpackRoot + QStringLiteral("/.outpack/metadata/") + packetId;
        const ExecResult result = m_connection->run({ QStringLiteral("cat"), QStringLiteral("--"), path }, 30000);
        if (!result.succeeded()) {
            emit metadataReady(tag, {}, result.describe());
            return;
        }
        QJsonParseError parseError;
        const QJsonDocument document = QJsonDocument::fromJson(result.stdoutData, &parseError);
        if (parseError.error != QJsonParseError::NoError) {
            emit metadataReady(tag, {}, QStringLiteral("%1 is not JSON: %2").arg(path, parseError.errorString()));
            return;
        }
        emit metadataReady(tag, document.object(), {});
    });
}

} // namespace opsdeck
