#include "runbook/ReportWriter.h"

#include "core/Counted.h"
#include "core/CsvWriter.h"
#include "core/SecretScrubber.h"

#include <QBuffer>
#include <QDir>
#include <QGuiApplication>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>
#include <QPageSize>
#include <QPdfWriter>
#include <QSaveFile>
#include <QSet>
#include <QStringList>
#include <QTextDocument>

#include <algorithm>
#include <climits>
#include <cmath>

using namespace Qt::StringLiterals;

namespace opsdeck {

namespace {

// A printed report stays readable; the CSV has every item.
constexpr qsizetype kHtmlItemsPerKind = 1000;
constexpr qsizetype kItemsOnePerRow = 12; // a shorter list stays one item to a row
constexpr qsizetype kOutputLines = 20;
constexpr qsizetype kOutputChars = 2000;
const QString kNone = u"\u2014"_s; // an em dash: "nothing here", distinct from an empty string or a zero

QString esc(const QString& text)
{
    return text.toHtmlEscaped();
}

QString valueText(const QJsonValue& value)
{
    switch (value.type()) {
    case QJsonValue::String:
        return value.toString();
    case QJsonValue::Double: {
        // Counts and ids arrive as doubles; show whole numbers without an exponent or a ".0".
        const double number = value.toDouble();
        if (std::trunc(number) == number && std::abs(number) < 9e15)
            return QString::number(static_cast<qint64>(number));
        return QString::number(number, 'g', QLocale::FloatingPointShortest);
    }
    case QJsonValue::Bool:
        return value.toBool() ? u"true"_s : u"false"_s;
    case QJsonValue::Array:
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact));
    case QJsonValue::Object:
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact));
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        break;
    }
    return {};
}

// Grouped digits ("1,234,567") in every locale, so that printed reports compare at a glance.
QString countText(const QJsonValue& value)
{
    if (value.isUndefined() || value.isNull())
        return kNone;
    const double number = value.toDouble(std::nan(""));
    if (value.isDouble() && std::trunc(number) == number && std::abs(number) < 9e15)
        return numberText(static_cast<qint64>(number));
    return valueText(value);
}

QString timeOfDay(const QDateTime& time)
{
    return time.isValid() ? time.toLocalTime().toString(u"HH:mm:ss"_s) : kNone;
}

QString whenText(const QDateTime& time)
{
    if (!time.isValid())
        return kNone;
    const QDateTime local = time.toLocalTime();
    const QString utc = time.toUTC().toString(u"yyyy-MM-dd HH:mm:ss"_s) + u" UTC"_s;
    if (local.offsetFromUtc() == 0)
        return utc;
    return u"%1 %2 (%3)"_s.arg(local.toString(u"yyyy-MM-dd HH:mm:ss"_s), local.timeZoneAbbreviation(), utc);
}

QString durationText(const QDateTime& start, const QDateTime& end)
{
    if (!start.isValid() || !end.isValid())
        return kNone;
    const qint64 ms = std::max<qint64>(0, start.msecsTo(end));
    if (ms < 10000)
        return u"%1 s"_s.arg(static_cast<double>(ms) / 1000.0, 0, 'f', 1);
    const qint64 seconds = ms / 1000;
    if (seconds < 60)
        return u"%1 s"_s.arg(seconds);
    if (seconds < 3600)
        return u"%1 min %2 s"_s.arg(seconds / 60).arg(seconds % 60, 2, 10, QChar(u'0'));
    return u"%1 h %2 min"_s.arg(seconds / 3600).arg((seconds % 3600) / 60, 2, 10, QChar(u'0'));
}

QString outputExcerpt(const QString& output)
{
    QStringList lines = output.split(u'\n');
    while (!lines.isEmpty() && lines.last().trimmed().isEmpty())
        lines.removeLast();
    if (lines.size() > kOutputLines)
        lines = lines.mid(lines.size() - kOutputLines);
    QString excerpt = lines.join(u'\n');
    if (excerpt.size() > kOutputChars)
        excerpt = u"\u2026"_s + excerpt.right(kOutputChars);
    return excerpt;
}

// Colour for a glance, and always a word beside it, so the state survives black-and-white printing and colour
// blindness.
QString badge(const QString& colour, const QString& word)
{
    return u"<span style=\"background-color:%1; color:#ffffff; font-weight:bold;\">&nbsp;%2&nbsp;</span>"_s.arg(
        colour, esc(word));
}

QString outcomeBadge(RunRecord::Outcome outcome)
{
    switch (outcome) {
    case RunRecord::Outcome::Succeeded:
        return badge(u"#1b7f3b"_s, u"Succeeded"_s);
    case RunRecord::Outcome::Failed:
        return badge(u"#b3261e"_s, u"Failed"_s);
    case RunRecord::Outcome::Cancelled:
        return badge(u"#a15c00"_s, u"Cancelled"_s);
    case RunRecord::Outcome::Running:
        break;
    }
    return badge(u"#1f5fa8"_s, u"Still running"_s);
}

QString stateBadge(StepRecord::State state)
{
    switch (state) {
    case StepRecord::State::Succeeded:
        return badge(u"#1b7f3b"_s, u"Succeeded"_s);
    case StepRecord::State::Failed:
        return badge(u"#b3261e"_s, u"Failed"_s);
    case StepRecord::State::Cancelled:
        return badge(u"#a15c00"_s, u"Cancelled"_s);
    case StepRecord::State::Running:
        return badge(u"#1f5fa8"_s, u"Running"_s);
    case StepRecord::State::Skipped:
        return badge(u"#6b6b6b"_s, u"Skipped"_s);
    case StepRecord::State::Pending:
        break;
    }
    return badge(u"#6b6b6b"_s, u"Not run"_s);
}

// The run's one name, as the Runs dock, the Journal pane and the CLI say it.
QString title(const RunRecord& run)
{
    return run.name();
}

// Attributes as well as CSS: QTextDocument (the PDF) understands the attributes, browsers the CSS. Widths are
// percentages per column; without them QTextDocument squeezes long commands into a narrow column.
QString tableStart(const QStringList& headers, const QList<int>& widths = {}, int padding = 4)
{
    // A <thead> repeats on every page a long table runs onto (QTextTableFormat::headerRowCount).
    QString html
        = u"<table border=\"1\" cellspacing=\"0\" cellpadding=\"%1\" width=\"100%\"><thead><tr>"_s.arg(padding);
    for (qsizetype i = 0; i < headers.size(); ++i) {
        const QString width = i < widths.size() ? u" width=\"%1%\""_s.arg(widths.at(i)) : QString();
        html += u"<th%1>%2</th>"_s.arg(width, esc(headers.at(i)));
    }
    return html + u"</tr></thead>\n"_s;
}

QString row(const QStringList& cellsHtml)
{
    QString html = u"<tr>"_s;
    for (const QString& cell : cellsHtml)
        html += u"<td>%1</td>"_s.arg(cell);
    return html + u"</tr>\n"_s;
}

QString factsHtml(const RunRecord& run)
{
    const QString environment = run.environment.isEmpty() ? u"not tagged"_s : run.environment;
    const QString environmentHtml = run.environment == u"production"_s
        ? u"<span style=\"color:#b3261e; font-weight:bold;\">%1</span>"_s.arg(esc(environment))
        : esc(environment);
    QString html = u"<table border=\"0\" cellspacing=\"0\" cellpadding=\"3\">\n"_s;
    const auto fact = [&html](const QString& name, const QString& valueHtml) {
        html += u"<tr><th align=\"left\">%1</th><td>%2</td></tr>\n"_s.arg(esc(name), valueHtml);
    };
    fact(u"Outcome"_s, outcomeBadge(run.outcome));
    fact(u"Target"_s, esc(run.target));
    fact(u"Environment"_s, environmentHtml);
    fact(u"Run by"_s, esc(run.user));
    fact(u"Started"_s, esc(whenText(run.startedAt)));
    fact(u"Finished"_s, esc(whenText(run.finishedAt)));
    fact(u"Duration"_s, esc(durationText(run.startedAt, run.finishedAt)));
    fact(u"Confirmation"_s, run.confirmation.isEmpty() ? kNone : u"<code>%1</code>"_s.arg(esc(run.confirmation)));
    fact(u"Run id"_s, u"<code>%1</code>"_s.arg(esc(run.id)));
    if (!run.journalAnchor.isEmpty())
        fact(u"Journal anchor"_s, u"<code>%1</code>"_s.arg(esc(run.journalAnchor)));
    // Here rather than as a last line, which a page break can leave alone on a page of its own.
    fact(u"Report"_s, esc(u"opsdeck deletion report, schema %1"_s.arg(RunRecord::kSchemaVersion)));
    return html + u"</table>\n"_s;
}

// "name: value, name: value": an object on one line, without JSON's quotes and braces.
QString membersText(const QJsonObject& object)
{
    QStringList members;
    for (auto it = object.constBegin(); it != object.constEnd(); ++it)
        members << u"%1: %2"_s.arg(it.key(), valueText(it.value()));
    return members.join(u", "_s);
}

// A parameter's value for reading: a list one item to a line, an object one member to a line (a Raft reset's pods, a
// restore's checksums), rather than a paragraph of JSON.
QString parameterHtml(const QJsonValue& value)
{
    QStringList lines;
    if (value.isArray()) {
        const QJsonArray items = value.toArray();
        if (items.isEmpty())
            return kNone;
        for (const QJsonValue& item : items)
            lines << (item.isObject() ? membersText(item.toObject()) : valueText(item));
    } else if (value.isObject()) {
        const QJsonObject object = value.toObject();
        if (object.isEmpty())
            return kNone;
        for (auto it = object.constBegin(); it != object.constEnd(); ++it)
            lines << u"%1: %2"_s.arg(
                it.key(), it.value().isObject() ? membersText(it.value().toObject()) : valueText(it.value()));
    } else {
        lines << valueText(value);
    }
    for (QString& line : lines)
        line = u"<code>%1</code>"_s.arg(esc(line));
    return lines.join(u"<br>"_s);
}

QString parametersHtml(const RunRecord& run)
{
    if (run.parameters.isEmpty())
        return u"<p>None.</p>\n"_s;
    QString html = tableStart({ u"Parameter"_s, u"Value"_s }, { 30, 70 });
    for (auto it = run.parameters.constBegin(); it != run.parameters.constEnd(); ++it)
        html += row({ esc(it.key()), parameterHtml(it.value()) });
    return html + u"</table>\n"_s;
}

// The plan's order (it puts what matters first), then the rest in key order.
QStringList inPlanOrder(const RunRecord& run, QStringList keys)
{
    keys.sort();
    std::stable_sort(keys.begin(), keys.end(), [&run](const QString& a, const QString& b) {
        const int orderA = run.countWords(a).order;
        const int orderB = run.countWords(b).order;
        return (orderA < 0 ? INT_MAX : orderA) < (orderB < 0 ? INT_MAX : orderB);
    });
    return keys;
}

bool isScalar(const QJsonValue& value)
{
    return !value.isObject() && !value.isArray();
}

// "≈ 1,234": an estimate never passes for a count. A number that names something (countInfo's "identifier": a workflow
// run, a pull request) as it is: "19311250001", not "19,311,250,001".
QString shownCount(const QJsonValue& value, bool estimate, bool identifier = false)
{
    const QString text = identifier && value.isDouble() ? valueText(value) : countText(value);
    return estimate && value.isDouble() ? u"\u2248\u00a0"_s + text : text;
}

// A label, " (estimate)" where it is one, and the plan's definition in small print under it.
QString whatHtml(const RunRecord::CountWords& words)
{
    QString html = esc(words.label);
    if (words.estimate)
        html += u" <i>(estimate)</i>"_s;
    if (!words.definition.isEmpty())
        html += u"<br><small><span style=\"color:#555555;\">%1</span></small>"_s.arg(esc(words.definition));
    return html;
}

// One row per thing counted: the plan's count and the snapshots' values of it side by side, where the plan's words
// say a snapshot key measures a count of another key ("runInfoWithPacket" measures "runInfoLeft").
struct CountRow
{
    RunRecord::CountWords words;
    bool identifier = false;
    QString key;
    QJsonValue planned { QJsonValue::Undefined }, before { QJsonValue::Undefined }, after { QJsonValue::Undefined };
};

QList<CountRow> countRows(const RunRecord& run)
{
    QStringList keys = run.planCounts.keys() + run.before.keys() + run.after.keys();
    keys.removeDuplicates();
    QMap<QString, CountRow> rows;
    const auto place = [](QJsonValue* cell, const QJsonValue& value, bool ownKey) {
        if (!value.isUndefined() && (ownKey || cell->isUndefined()))
            *cell = value;
    };
    for (const QString& key : std::as_const(keys)) {
        if (!isScalar(run.before.value(key)) || !isScalar(run.after.value(key)))
            continue; // a list or a table of its own (otherHtml)
        const QString rowKey = run.countWords(key).row;
        CountRow& row = rows[rowKey];
        if (row.key.isEmpty()) {
            row.key = rowKey;
            row.words = run.countWords(rowKey);
            row.planned = run.planCounts.value(rowKey);
            row.identifier = run.countInfo.value(rowKey)[u"identifier"_s].toBool();
        }
        const bool own = key == rowKey;
        place(&row.before, run.before.value(key), own);
        place(&row.after, run.after.value(key), own);
        // A measure of a count that is an estimate makes the row one.
        row.words.estimate = row.words.estimate || run.countWords(key).estimate;
    }
    QList<CountRow> list = rows.values();
    // The plan's order first (it puts what matters first); then the rest by label.
    std::stable_sort(list.begin(), list.end(), [](const CountRow& a, const CountRow& b) {
        const int orderA = a.words.order < 0 ? INT_MAX : a.words.order;
        const int orderB = b.words.order < 0 ? INT_MAX : b.words.order;
        if (orderA != orderB)
            return orderA < orderB;
        return a.words.label.compare(b.words.label, Qt::CaseInsensitive) < 0;
    });
    return list;
}

// A revision, a path: too long for a number's column.
bool isLongText(const QJsonValue& value)
{
    return value.isString() && value.toString().size() > 12;
}

QString countsHtml(const RunRecord& run)
{
    const QList<CountRow> rows = countRows(run);
    if (rows.isEmpty())
        return u"<p>No counts were recorded.</p>\n"_s;
    QString html;
    QString texts; // rows of long text (revisions, paths) get a table of their own, with room for them
    for (const CountRow& count : rows) {
        const bool estimate = count.words.estimate;
        if (count.planned.isUndefined() && (isLongText(count.before) || isLongText(count.after))) {
            const auto cell = [](const QJsonValue& value) {
                return value.isUndefined() ? kNone : u"<code>%1</code>"_s.arg(esc(valueText(value)));
            };
            texts += row({ whatHtml(count.words), cell(count.before), cell(count.after) });
            continue;
        }
        html += u"<tr><td>%1</td><td align=\"right\">%2</td><td align=\"right\">%3</td><td align=\"right\">%4</td>"
                "</tr>\n"_s.arg(whatHtml(count.words), esc(shownCount(count.planned, estimate, count.identifier)),
                    esc(shownCount(count.before, estimate, count.identifier)),
                    esc(shownCount(count.after, estimate, count.identifier)));
    }
    if (!html.isEmpty())
        html = tableStart({ u"What"_s, u"Planned"_s, u"Before"_s, u"After"_s }, { 52, 16, 16, 16 }) + html
            + u"</table>\n"_s;
    if (!texts.isEmpty())
        html += tableStart({ u"What"_s, u"Before"_s, u"After"_s }, { 34, 33, 33 }) + texts + u"</table>\n"_s;
    html += u"<p><small>Planned: what the confirmed plan counted. Before and after: what the run read right before its "
            u"changes and at its end; \u2014 where it read nothing."_s;
    const QStringList keys = run.planCounts.keys() + run.before.keys() + run.after.keys();
    if (std::any_of(keys.cbegin(), keys.cend(), [&run](const QString& key) { return run.countWords(key).estimate; }))
        html += u" \u2248 marks an estimate, not a count: the database's own statistics (information_schema "
                u"TABLE_ROWS), which can be far off for InnoDB tables."_s;
    return html + u"</small></p>\n"_s;
}

QString stepsHtml(const RunRecord& run)
{
    if (run.steps.isEmpty())
        return u"<p>No steps ran.</p>\n"_s;
    // An Error column only where a step has an error: otherwise it is a fifth of the page left empty.
    const bool errors = std::any_of(
        run.steps.cbegin(), run.steps.cend(), [](const StepRecord& step) { return !step.error.isEmpty(); });
    QString html = errors
        ? tableStart({ u"#"_s, u"State"_s, u"Step"_s, u"Started"_s, u"Took"_s, u"Error"_s }, { 4, 15, 40, 12, 9, 20 })
        : tableStart({ u"#"_s, u"State"_s, u"Step"_s, u"Started"_s, u"Took"_s }, { 4, 15, 60, 12, 9 });
    int number = 0;
    for (const StepRecord& step : run.steps) {
        ++number;
        QString stepCell = u"<b>%1</b>"_s.arg(esc(step.title));
        if (step.recovery)
            stepCell += u" <i>(recovery)</i>"_s;
        if (!step.command.isEmpty())
            stepCell += u"<pre class=\"command\">%1</pre>"_s.arg(esc(step.command));
        if (!step.verification.isEmpty())
            stepCell += u"<small>Checked by: %1</small>"_s.arg(esc(step.verification));
        QStringList cells { QString::number(number), stateBadge(step.state), stepCell, esc(timeOfDay(step.startedAt)),
            esc(durationText(step.startedAt, step.finishedAt)) };
        if (errors)
            cells << (step.error.isEmpty() ? QString() : u"<span class=\"error\">%1</span>"_s.arg(esc(step.error)));
        html += row(cells);
    }
    return html + u"</table>\n"_s;
}

// Each step's output, the width of the page: a command's log in a narrow column made page after page of one word per
// line.
QString outputHtml(const RunRecord& run)
{
    QString html;
    int number = 0;
    for (const StepRecord& step : run.steps) {
        ++number;
        const QString excerpt = outputExcerpt(step.output);
        if (!excerpt.isEmpty())
            html += u"<p><b>%1. %2</b> <small>(its last lines)</small></p>\n<pre class=\"output\">%3</pre>\n"_s.arg(
                QString::number(number), esc(step.title), esc(excerpt));
    }
    return html.isEmpty() ? u"<p>No step printed anything.</p>\n"_s : html;
}

// "1.5 GiB", in English like the counts, and IEC units like the panes (QLocale::formattedDataSize).
QString bytesText(qint64 bytes)
{
    return QLocale(QLocale::English).formattedDataSize(bytes);
}

// A field that holds a size in bytes: "bytes", "size", "rootBytes".
bool isByteCount(const QString& key)
{
    return key == u"bytes"_s || key == u"size"_s || key.endsWith(u"Bytes"_s);
}

// A field of the items a run lists (what it deleted, a snapshot's lists) for people, as a header: words for the keys
// operations record whose words made from the key would say too little, and those words for the rest ("runId": "Run
// id", "indexAfterReset": "Index after reset"; tst_reportwriter lists every key an operation puts in `deleted`).
QString fieldLabel(const QString& key)
{
    static const QHash<QString, QString> labels {
        { u"bytes"_s, u"Size"_s }, // shown as a size
        { u"holder"_s, u"Held by"_s }, // a lock's
        { u"process"_s, u"Process id"_s }, // a killed query's
        { u"dataDir"_s, u"Data directory"_s }, // a RAFT reset's
        { u"raftAfterRestart"_s, u"RAFT after restart"_s }, // a RAFT reset's
        { u"keys"_s, u"Blob keys"_s }, // a datamon purge's
    };
    QString label = labels.value(key, RunRecord::wordsFromKey(key));
    if (!label.isEmpty())
        label[0] = label[0].toUpper();
    return label;
}

QJsonValue itemField(const QJsonValue& item, const QString& column)
{
    return item.isObject() ? item.toObject().value(column) : (column == u"value"_s ? item : QJsonValue());
}

// A column whose every value is a number (or missing) is a count or a size: right-aligned, and after the words.
bool isNumberColumn(const QJsonArray& items, qsizetype shown, const QString& column)
{
    for (qsizetype i = 0; i < shown; ++i) {
        const QJsonValue value = itemField(items.at(i), column);
        if (!value.isDouble() && !value.isUndefined() && !value.isNull())
            return false;
    }
    return true;
}

// What identifies an item first ("id", "name", a RAFT node's "pod", a bundle's "repo"); then the other words, the
// numbers, and the sizes last, each in key order (an item's fields have no order of their own).
QStringList itemColumns(const QJsonArray& items, qsizetype shown)
{
    QSet<QString> keySet;
    bool hasPlainValues = false;
    for (qsizetype i = 0; i < shown; ++i) {
        const QJsonValue item = items.at(i);
        if (item.isObject()) {
            const QStringList keys = item.toObject().keys();
            keySet.unite(QSet<QString>(keys.cbegin(), keys.cend()));
        } else {
            hasPlainValues = true;
        }
    }
    QStringList rest(keySet.cbegin(), keySet.cend());
    static const QStringList identifying { u"id"_s, u"name"_s, u"pod"_s, u"repo"_s };
    const auto rank = [&](const QString& key) {
        if (const qsizetype i = identifying.indexOf(key); i >= 0)
            return int(i);
        if (!isNumberColumn(items, shown, key))
            return 10;
        return isByteCount(key) ? 12 : 11;
    };
    QHash<QString, int> ranks; // once per column: a number column is found by reading every item shown
    for (const QString& key : std::as_const(rest))
        ranks.insert(key, rank(key));
    std::sort(rest.begin(), rest.end(), [&ranks](const QString& a, const QString& b) {
        const int rankA = ranks.value(a);
        const int rankB = ranks.value(b);
        return rankA != rankB ? rankA < rankB : a < b;
    });
    if (hasPlainValues || rest.isEmpty())
        rest.prepend(u"value"_s);
    return rest;
}

// A list of items (objects, or plain values) as a table, at most kHtmlItemsPerKind of them.
QString itemsHtml(const QJsonArray& items)
{
    if (items.isEmpty())
        return u"<p>None.</p>\n"_s;
    const qsizetype shown = std::min(items.size(), kHtmlItemsPerKind);
    const QStringList columns = itemColumns(items, shown);
    // A long list of narrow items (a wipe's 300 packets: id and name) two to a row, in small print: a page holds
    // about 150 of them instead of 30.
    const int perRow = columns.size() <= 2 && shown > kItemsOnePerRow ? 2 : 1;
    QStringList labels;
    for (const QString& column : columns)
        labels += fieldLabel(column);
    QStringList headers;
    for (int i = 0; i < perRow; ++i)
        headers += labels;
    QString html = tableStart(headers, {}, 1).replace(u"<table "_s, u"<table class=\"items\" "_s);
    QList<bool> numbers;
    for (const QString& column : columns)
        numbers += isNumberColumn(items, shown, column);
    const auto itemCells = [&](const QJsonValue* item) {
        QString cells;
        for (qsizetype c = 0; c < columns.size(); ++c) {
            const QJsonValue value = item ? itemField(*item, columns.at(c)) : QJsonValue();
            const QString text
                = isByteCount(columns.at(c)) && value.isDouble() ? bytesText(value.toInteger()) : valueText(value);
            cells
                += u"<td%1><small>%2</small></td>"_s.arg(numbers.at(c) ? u" align=\"right\""_s : QString(), esc(text));
        }
        return cells;
    };
    const qsizetype rows = (shown + perRow - 1) / perRow;
    for (qsizetype r = 0; r < rows; ++r) {
        html += u"<tr>"_s;
        for (qsizetype i = r * perRow; i < (r + 1) * perRow; ++i) {
            const QJsonValue item = i < shown ? items.at(i) : QJsonValue();
            html += itemCells(i < shown ? &item : nullptr);
        }
        html += u"</tr>\n"_s;
    }
    html += u"</table>\n"_s;
    if (items.size() > shown) {
        html += u"<p>\u2026 and %1 more; see the CSV report for every item.</p>\n"_s.arg(
            numberText(items.size() - shown));
    }
    return html;
}

QString deletedHtml(const RunRecord& run)
{
    if (run.deleted.isEmpty())
        return u"<p>Nothing was recorded as deleted.</p>\n"_s;
    QString html;
    for (const QString& kind : inPlanOrder(run, run.deleted.keys())) {
        const QJsonValue value = run.deleted.value(kind);
        // The plan's words for the kind, else the words an item's field would get: "Stacks of acme", "Size".
        const QString label = esc(run.countLabels.contains(kind) ? run.countWords(kind).label : fieldLabel(kind));
        if (!value.isArray()) {
            const QString text
                = isByteCount(kind) && value.isDouble() ? bytesText(value.toInteger()) : countText(value);
            html += u"<h3>%1</h3>\n<p>%2</p>\n"_s.arg(label, esc(text));
            continue;
        }
        const QJsonArray items = value.toArray();
        html += u"<h3>%1 (%2)</h3>\n"_s.arg(label, esc(numberText(items.size())));
        html += itemsHtml(items);
    }
    return html;
}

// {"Stacks": {"inserted": 3, "existed": 0}, ...} as [{"name": "Stacks", "inserted": 3, "existed": 0}, ...]: a table
// with a column per member rather than JSON in a cell. Anything else as it is.
QJsonValue tableOfObjects(const QJsonValue& value)
{
    const QJsonObject object = value.toObject();
    if (object.isEmpty() || !std::all_of(object.constBegin(), object.constEnd(), [](const QJsonValue& member) {
            return member.isObject();
        }))
        return value;
    QJsonArray rows;
    for (auto it = object.constBegin(); it != object.constEnd(); ++it) {
        QJsonObject item = it.value().toObject();
        item.insert(u"name"_s, it.key());
        rows.append(item);
    }
    return rows;
}

// A snapshot's lists and tables (a pull request, the rows per table, the stacks skipped), each under the plan's words
// for it: before and after side by side for an object, one list after the other for arrays.
QString otherHtml(const RunRecord& run)
{
    QStringList keys = run.before.keys() + run.after.keys();
    keys.removeDuplicates();
    keys.removeIf(
        [&run](const QString& key) { return isScalar(run.before.value(key)) && isScalar(run.after.value(key)); });
    QString html;
    for (const QString& key : inPlanOrder(run, keys)) {
        const RunRecord::CountWords words = run.countWords(key);
        html += u"<p>%1</p>\n"_s.arg(whatHtml(words));
        const QJsonValue before = tableOfObjects(run.before.value(key));
        const QJsonValue after = tableOfObjects(run.after.value(key));
        if (before.isArray() || after.isArray() || (!before.isObject() && !after.isObject())) {
            for (const auto& [when, value] : { std::pair(u"Before"_s, before), std::pair(u"After"_s, after) }) {
                if (value.isUndefined())
                    continue;
                html += u"<p><i>%1:</i></p>\n"_s.arg(when);
                html += value.isArray() ? itemsHtml(value.toArray())
                                        : u"<p>%1</p>\n"_s.arg(esc(shownCount(value, words.estimate)));
            }
            continue;
        }
        // Objects: one row per member, a column per snapshot that has it.
        const QJsonObject beforeObject = before.toObject();
        const QJsonObject afterObject = after.toObject();
        QStringList members = beforeObject.keys() + afterObject.keys();
        members.removeDuplicates();
        members.sort(Qt::CaseInsensitive);
        QStringList headers { u"Name"_s };
        if (before.isObject())
            headers << u"Before"_s;
        if (after.isObject())
            headers << u"After"_s;
        html += tableStart(headers, headers.size() == 3 ? QList<int> { 52, 24, 24 } : QList<int> { 52, 48 });
        const auto cell = [&words](const QJsonValue& value) {
            if (value.isDouble())
                return u"<td align=\"right\">%1</td>"_s.arg(esc(shownCount(value, words.estimate)));
            if (value.isArray() || value.isObject())
                return u"<td>%1</td>"_s.arg(parameterHtml(value));
            return u"<td>%1</td>"_s.arg(esc(value.isUndefined() ? kNone : valueText(value)));
        };
        for (const QString& member : std::as_const(members)) {
            html += u"<tr><td>%1</td>"_s.arg(esc(member));
            if (before.isObject())
                html += cell(beforeObject.value(member));
            if (after.isObject())
                html += cell(afterObject.value(member));
            html += u"</tr>\n"_s;
        }
        html += u"</table>\n"_s;
    }
    return html;
}

QString listHtml(const QString& label, const QStringList& items)
{
    if (items.isEmpty())
        return {};
    QString html = u"<p><b>%1</b></p>\n<ul>\n"_s.arg(esc(label));
    for (const QString& item : items)
        html += u"<li>%1</li>\n"_s.arg(esc(item));
    return html + u"</ul>\n"_s;
}

// Whether and until when the run can be taken back, and how. One bordered box (a one-cell table: QTextDocument
// draws no borders around a <div>): tinted when a restore is possible, grey when not, and always words that say
// which, so that it survives black-and-white printing.
QString undoHtml(const RunRecord& run)
{
    const Plan::Undo& undo = run.undo;
    QString body;
    const auto sentence = [&body](const QString& html) { body += u"<p>%1</p>\n"_s.arg(html); };
    if (run.undoOpened) {
        sentence(undo.until.isValid() ? u"<b>Can be undone until %1.</b>"_s.arg(esc(utcMinuteText(undo.until)))
                                      : u"<b>Can be undone.</b> The journal did not record until when."_s);
        sentence(u"To undo it, run: <code>opsdeck restore %1</code>"_s.arg(esc(run.id)));
        const QString where = undo.where.trimmed();
        if (undo.bytesHeld >= 0) {
            const QString held = undo.bytesHeld == 0 ? u"no space"_s : undo.bytesHeldText(QLocale(QLocale::English));
            sentence(where.isEmpty() ? u"Holds %1 on the target."_s.arg(esc(held))
                                     : u"Holds %1 at %2."_s.arg(esc(held), esc(where)));
        } else if (!where.isEmpty()) {
            sentence(u"Kept at %1."_s.arg(esc(where)));
        }
        body += listHtml(u"A restore puts back:"_s, undo.restorable);
    } else if (undo.available && undo.enabled) {
        sentence(u"<b>No undo window was kept:</b> the run ended before it kept what a restore needs. This cannot be "
                 u"undone."_s);
    } else if (undo.available) {
        // A reason that ends with a full stop does not make two.
        QString reason = undo.offReason.trimmed();
        while (reason.endsWith(u'.'))
            reason.chop(1);
        const QString who = run.user.isEmpty() ? u"the admin"_s : run.user;
        sentence(reason.isEmpty()
                ? u"<b>The undo window was turned off for this run by %1.</b> This cannot be undone."_s.arg(esc(who))
                : u"<b>The undo window was turned off for this run by %1:</b> %2. This cannot be undone."_s.arg(
                    esc(who), esc(reason)));
    } else {
        sentence(u"<b>This cannot be undone.</b>"_s);
    }
    // Beside a window, what it does not cover. Under "This cannot be undone.", why; under a window that was turned
    // off or not kept, what no window would have put back.
    QString notRestorableLabel = u"Cannot be undone:"_s;
    if (!undo.available)
        notRestorableLabel = u"Why:"_s;
    else if (!run.undoOpened)
        notRestorableLabel = u"Even with a window, a restore could not put back:"_s;
    body += listHtml(notRestorableLabel, undo.notRestorable);
    body += listHtml(u"This run ended the undo windows of:"_s, undo.endsWindows);
    // Colours as attributes for QTextDocument (the PDF: it paints a cell's bgcolor, not a table's), and as the
    // class's CSS for browsers.
    const bool opened = run.undoOpened;
    return u"<table class=\"undo %1\" border=\"1\" cellspacing=\"0\" cellpadding=\"6\" width=\"100%\" "
           u"style=\"border-color:%3; border-style:solid;\"><tr><td bgcolor=\"%2\">\n%4</td></tr></table>\n"_s.arg(
               opened ? u"undo-open"_s : u"undo-closed"_s, opened ? u"#eaf4f0"_s : u"#f2f2f2"_s,
               opened ? u"#2f7d5c"_s : u"#8a8a8a"_s, body);
}

bool renderPdf(const RunRecord& run, QByteArray* pdf, QString* reason)
{
    // QTextDocument needs the font database, which only a QGuiApplication provides; without one it would abort.
    if (!qobject_cast<QGuiApplication*>(QCoreApplication::instance())) {
        *reason = u"PDF needs the GUI libraries initialised; run with a display or with QT_QPA_PLATFORM=offscreen"_s;
        return false;
    }
    // Into memory, then through QSaveFile like the other formats: QPdfWriter closes its device when it ends.
    QBuffer buffer(pdf);
    buffer.open(QIODevice::WriteOnly);
    QPdfWriter writer(&buffer);
    writer.setPageSize(QPageSize(QPageSize::A4));
    writer.setResolution(300);
    // QTextDocument::print() adds 2 cm margins of its own (and the page numbers in them).
    writer.setPageMargins(QMarginsF(0, 0, 0, 0));
    writer.setTitle(title(run));
    writer.setCreator(u"opsdeck"_s);
    QTextDocument document;
    document.setHtml(ReportWriter::toHtml(run));
    document.print(&writer);
    if (pdf->isEmpty()) {
        *reason = u"rendering produced no PDF"_s;
        return false;
    }
    return true;
}

} // namespace

std::optional<ReportWriter::Format> ReportWriter::formatFromName(const QString& name)
{
    const QString lower = name.toLower();
    if (lower == u"json"_s)
        return Format::Json;
    if (lower == u"csv"_s)
        return Format::Csv;
    if (lower == u"html"_s)
        return Format::Html;
    if (lower == u"pdf"_s)
        return Format::Pdf;
    return std::nullopt;
}

bool ReportWriter::write(const RunRecord& record, Format format, const QString& path, QString* error)
{
    // The record in memory has what the operation put in it (summaries, errors, output): a report holds none of
    // the secrets this process resolved, as the journal does not.
    const RunRecord run = RunRecord::fromJson(SecretScrubber::scrub(record.toJson()));
    const auto fail = [&](const QString& reason) {
        if (error)
            *error = u"Cannot write the report %1: %2"_s.arg(QDir::toNativeSeparators(path), reason);
        return false;
    };
    QByteArray bytes;
    switch (format) {
    case Format::Json:
        bytes = QJsonDocument(run.toJson()).toJson(QJsonDocument::Indented);
        break;
    case Format::Csv:
        bytes = toCsv(run);
        break;
    case Format::Html:
        bytes = toHtml(run).toUtf8();
        break;
    case Format::Pdf: {
        QString reason;
        if (!renderPdf(run, &bytes, &reason))
            return fail(reason);
        break;
    }
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return fail(file.errorString());
    if (file.write(bytes) != bytes.size())
        return fail(file.errorString());
    if (!file.commit())
        return fail(file.errorString());
    return true;
}

QByteArray ReportWriter::toCsv(const RunRecord& run)
{
    CsvWriter csv;
    csv.addRow({ u"kind"_s, u"id"_s, u"name"_s, u"details"_s });
    for (auto kind = run.deleted.constBegin(); kind != run.deleted.constEnd(); ++kind) {
        // A kind that is one value (a datamon purge's key count and bytes) is one row.
        const QJsonArray items = kind.value().isArray() ? kind.value().toArray() : QJsonArray { kind.value() };
        for (const QJsonValue& item : items) {
            if (!item.isObject()) {
                csv.addRow({ kind.key(), valueText(item), QString(), QString() });
                continue;
            }
            QJsonObject fields = item.toObject();
            const QString name = valueText(fields.take(u"name"_s));
            // Without an "id", the first other field (in key order) identifies the item.
            const QString idKey = fields.contains(u"id"_s) || fields.isEmpty() ? u"id"_s : fields.constBegin().key();
            const QString id = valueText(fields.take(idKey));
            QStringList details;
            for (auto field = fields.constBegin(); field != fields.constEnd(); ++field)
                details.append(u"%1=%2"_s.arg(field.key(), valueText(field.value())));
            csv.addRow({ kind.key(), id, name, details.join(u"; "_s) });
        }
    }
    return csv.toUtf8();
}

QString ReportWriter::toHtml(const RunRecord& run)
{
    const QString heading = esc(title(run));
    QString html = u"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n<title>%1</title>\n"_s.arg(heading);
    html += uR"(<style>
body { font-family: sans-serif; font-size: 9pt; color: #000000; background-color: #ffffff; }
h1 { font-size: 15pt; margin-top: 0; margin-bottom: 6px; }
h2 { font-size: 12pt; margin-top: 12px; margin-bottom: 4px; }
h3 { font-size: 10pt; margin-top: 8px; margin-bottom: 4px; }
table { border-collapse: collapse; margin-bottom: 8px; }
th { background-color: #eeeeee; text-align: left; }
th, td { vertical-align: top; }
pre { font-family: monospace; white-space: pre-wrap; margin: 0; }
pre.command { font-size: 8pt; }
pre.output { font-size: 7.5pt; }
code { font-family: monospace; }
.error { color: #b3261e; }
table.undo { border: 1px solid #8a8a8a; background-color: #f2f2f2; }
table.undo-open { border-color: #2f7d5c; background-color: #eaf4f0; }
table.undo td { border: none; }
table.undo p { margin-top: 0; margin-bottom: 4px; }
table.undo ul { margin-top: 0; margin-bottom: 4px; }
</style>
</head><body>
)"_s;
    html += u"<h1>%1</h1>\n"_s.arg(heading);
    html += factsHtml(run);
    // Right under the facts rather than at the end: it is what a reader wants first.
    html += u"<h2>Summary</h2>\n<p>%1</p>\n"_s.arg(run.summary.isEmpty() ? kNone : esc(run.summary));
    html += u"<h2>Undo</h2>\n"_s + undoHtml(run);
    html += u"<h2>Parameters</h2>\n"_s + parametersHtml(run);
    html += u"<h2>Counts</h2>\n"_s + countsHtml(run) + otherHtml(run);
    html += u"<h2>Steps</h2>\n"_s + stepsHtml(run);
    html += u"<h2>Deleted</h2>\n"_s + deletedHtml(run);
    // Last: the raw logs are an appendix, and a short report does not end on a page that only says nothing was deleted.
    html += u"<h2>Step output</h2>\n"_s + outputHtml(run);
    html += u"</body></html>\n"_s;
    return html;
}

} // namespace opsdeck
