#pragma once

#include <QList>
#include <QObject>
#include <QString>
#include <QVariant>

#include <functional>
#include <optional>

namespace opsdeck {

// One row of a table read in pages: its values by field index (the row source says which field is which).
using RowValues = QVariantList;

// The order of a paged table: one field, then the row's id field as a unique tie-breaker in the same direction.
struct RowSort
{
    int field = 0;
    bool descending = false;
    bool operator==(const RowSort&) const = default;
};

// Where the next page starts (keyset paging): the last loaded row's sort value and id. The next page has the
// rows strictly after it in the sort order, so any page costs what the first does (no OFFSET to skip over).
struct RowKey
{
    QVariant value;
    QVariant id;
};

struct PageRequest
{
    std::optional<RowKey> after; // none: the first page
    int limit = 0;
    QString filter; // a substring, as the user typed it; the source decides which fields it matches
    RowSort sort;
};

// Rows of one table that a model reads a page at a time, sorted and filtered where the data is (a database).
// Asynchronous: every call is answered exactly once, on `context`'s thread, unless `context` is gone by then;
// an empty error means success.
class RowSource
{
public:
    virtual ~RowSource() = default;

    using PageDone = std::function<void(const QList<RowValues>& rows, const QString& error)>;
    using CountDone = std::function<void(qint64 count, const QString& error)>;

    // The field that identifies a row (unique, never NULL): the tie-breaker of every sort.
    virtual int idField() const = 0;
    // At most request.limit rows after request.after; fewer only at the end.
    virtual void page(QObject* context, const PageRequest& request, PageDone done) = 0;
    // How many rows match the filter.
    virtual void count(QObject* context, const QString& filter, CountDone done) = 0;
};

} // namespace opsdeck
