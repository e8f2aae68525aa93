#pragma once

#include "core/ConnectionWorker.h"
#include "core/RowSource.h"

namespace opsdeck {

// A RowSource whose pages and counts are jobs on a pane's ConnectionWorker: `pageQuery` and `countQuery` run on
// the worker's thread with its connection (they are a system's queries, e.g. PackitQueries::packetPage).
template <typename Connection> class WorkerRowSource : public RowSource
{
public:
    using PageQuery = std::function<std::optional<QList<RowValues>>(Connection&, const PageRequest&, QString*)>;
    using CountQuery = std::function<std::optional<qint64>(Connection&, const QString& filter, QString*)>;

    WorkerRowSource(ConnectionWorker<Connection>* worker, int idField, PageQuery pageQuery, CountQuery countQuery)
        : m_worker(worker)
        , m_idField(idField)
        , m_pageQuery(std::move(pageQuery))
        , m_countQuery(std::move(countQuery))
    {
    }

    int idField() const override { return m_idField; }

    void page(QObject* context, const PageRequest& request, PageDone done) override
    {
        m_worker->run(
            context,
            [query = m_pageQuery, request](Connection& connection, QString* error) {
                return query(connection, request, error).value_or(QList<RowValues>());
            },
            [done = std::move(done)](const QList<RowValues>& rows, const QString& error) { done(rows, error); });
    }

    void count(QObject* context, const QString& filter, CountDone done) override
    {
        m_worker->run(
            context,
            [query = m_countQuery, filter](
                Connection& connection, QString* error) { return query(connection, filter, error).value_or(-1); },
            [done = std::move(done)](qint64 count, const QString& error) { done(count, error); });
    }

private:
    ConnectionWorker<Connection>* m_worker;
    int m_idField;
    PageQuery m_pageQuery;
    CountQuery m_countQuery;
};

} // namespace opsdeck
