#pragma once

// Summaries the C++ benchmarks print: median, min and max of a series, NaN (a missing sample) shown as "-".

#include <QList>
#include <QString>

#include <algorithm>
#include <cmath>

namespace opsdeck::bench {

struct Stats
{
    double median = NAN;
    double min = NAN;
    double max = NAN;
};

// Of the values that are not NaN.
inline Stats stats(QList<double> values)
{
    values.removeIf([](double v) { return std::isnan(v); });
    if (values.isEmpty())
        return {};
    std::sort(values.begin(), values.end());
    const qsizetype n = values.size();
    const double median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    return { median, values.first(), values.last() };
}

inline QString number(double value, int precision = 0)
{
    return std::isnan(value) ? QStringLiteral("-") : QString::number(value, 'f', precision);
}

} // namespace opsdeck::bench
