#pragma once

#include <QString>

namespace opsdeck::SqlLike {

// The bound LIKE/ILIKE pattern for "contains `text`": its %, _ and \ escaped with backslash, LIKE's default
// escape character in PostgreSQL and in MySQL/MariaDB alike, so that "a_b" matches only "a_b".
QString contains(const QString& text);

} // namespace opsdeck::SqlLike
