#pragma once

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QString>

namespace opsdeck {

// The Prometheus text exposition format, as far as the deploy matrix reads it: samples with labels. Comments,
// blank lines and lines that are not samples are skipped; label values are unescaped (\\, \", \n).
struct PrometheusSample
{
    QString name;
    QMap<QString, QString> labels;
    double value = 0;
};

namespace PrometheusText {

QList<PrometheusSample> parse(const QByteArray& text);

// The samples named `name`, optionally only those whose `label` is `value`.
QList<PrometheusSample> find(
    const QList<PrometheusSample>& samples, const QString& name, const QString& label = {}, const QString& value = {});

} // namespace PrometheusText
} // namespace opsdeck
