#include "NaturalSortProxyModel.h"

namespace opsdeck {

namespace {

// The run of digits that starts at `from`.
QStringView digitsAt(QStringView text, qsizetype from)
{
    qsizetype end = from;
    while (end < text.size() && text.at(end).isDigit())
        ++end;
    return text.mid(from, end - from);
}

int compareNumbers(QStringView left, QStringView right)
{
    while (left.size() > 1 && left.front() == u'0')
        left = left.mid(1);
    while (right.size() > 1 && right.front() == u'0')
        right = right.mid(1);
    if (left.size() != right.size())
        return left.size() < right.size() ? -1 : 1;
    return left.compare(right);
}

} // namespace

NaturalSortProxyModel::NaturalSortProxyModel(QObject* parent)
    : QSortFilterProxyModel(parent)
{
    setSortCaseSensitivity(Qt::CaseInsensitive);
}

int NaturalSortProxyModel::compare(QStringView left, QStringView right)
{
    qsizetype i = 0;
    qsizetype j = 0;
    while (i < left.size() && j < right.size()) {
        if (left.at(i).isDigit() && right.at(j).isDigit()) {
            const QStringView a = digitsAt(left, i);
            const QStringView b = digitsAt(right, j);
            if (const int order = compareNumbers(a, b); order != 0)
                return order < 0 ? -1 : 1;
            i += a.size();
            j += b.size();
            continue;
        }
        const char32_t a = QChar::toCaseFolded(left.at(i).unicode());
        const char32_t b = QChar::toCaseFolded(right.at(j).unicode());
        if (a != b)
            return a < b ? -1 : 1;
        ++i;
        ++j;
    }
    if (i < left.size() || j < right.size())
        return i < left.size() ? 1 : -1;
    return 0;
}

bool NaturalSortProxyModel::lessThan(const QModelIndex& left, const QModelIndex& right) const
{
    const QVariant a = left.data(sortRole());
    const QVariant b = right.data(sortRole());
    if (a.userType() == QMetaType::QString && b.userType() == QMetaType::QString)
        return compare(a.toString(), b.toString()) < 0;
    return QSortFilterProxyModel::lessThan(left, right);
}

} // namespace opsdeck
