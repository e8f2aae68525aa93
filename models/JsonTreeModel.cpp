#include "JsonTreeModel.h"

#include "core/Counted.h"

#include <QFont>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>

#include <cmath>

namespace opsdeck {

namespace {

QStandardItem* readOnly(const QString& text)
{
    auto* item = new QStandardItem(text);
    item->setEditable(false);
    return item;
}

} // namespace

JsonTreeModel::JsonTreeModel(QObject* parent)
    : QStandardItemModel(0, ColumnCount, parent)
{
    setHorizontalHeaderLabels({ tr("Key"), tr("Value") });
}

void JsonTreeModel::setJson(const QJsonValue& document)
{
    clearJson();
    m_document = document;
    if (document.isObject() || document.isArray())
        appendMembers(invisibleRootItem(), document);
    else if (!document.isUndefined())
        appendValue(invisibleRootItem(), QStringLiteral("value"), document);
}

void JsonTreeModel::clearJson()
{
    removeRows(0, rowCount());
    m_document = QJsonValue(QJsonValue::Undefined);
}

QString JsonTreeModel::text() const
{
    if (m_document.isObject())
        return QString::fromUtf8(QJsonDocument(m_document.toObject()).toJson(QJsonDocument::Indented));
    if (m_document.isArray())
        return QString::fromUtf8(QJsonDocument(m_document.toArray()).toJson(QJsonDocument::Indented));
    if (m_document.isUndefined())
        return {};
    // A bare value: what it is inside a one-element array, without the brackets.
    const QByteArray array = QJsonDocument(QJsonArray { m_document }).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(array.mid(1, array.size() - 2));
}

QString JsonTreeModel::valueText(const QJsonValue& value)
{
    switch (value.type()) {
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Bool:
        return value.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Double: {
        const double number = value.toDouble();
        // Whole numbers JSON can hold exactly (2^53) without ".0" or an exponent: sizes, counts, epoch seconds.
        if (std::isfinite(number) && std::floor(number) == number && std::fabs(number) <= 9007199254740992.0)
            return QString::number(qint64(number));
        return QString::number(number, 'g', QLocale::FloatingPointShortest);
    }
    case QJsonValue::String:
        return value.toString();
    case QJsonValue::Array:
        return counted(value.toArray().size(), tr("item"));
    case QJsonValue::Object:
        return counted(value.toObject().size(), tr("key"));
    case QJsonValue::Undefined:
        break;
    }
    return {};
}

void JsonTreeModel::appendValue(QStandardItem* parent, const QString& key, const QJsonValue& value)
{
    auto* keyItem = readOnly(key);
    keyItem->setData(int(value.type()), TypeRole);
    const QString text = valueText(value);
    // A string with line breaks on one line in the tree; whole in the tooltip.
    auto* valueItem = readOnly(value.isString() ? QString(text).replace(u'\n', u' ') : text);
    if (value.isString() || value.isDouble()) {
        valueItem->setToolTip(text);
    } else if (value.isObject() || value.isArray()) {
        // A count of members, not a value: in italics.
        QFont font = valueItem->font();
        font.setItalic(true);
        valueItem->setFont(font);
    }
    parent->appendRow({ keyItem, valueItem });
    appendMembers(keyItem, value);
}

void JsonTreeModel::appendMembers(QStandardItem* parent, const QJsonValue& value)
{
    if (value.isObject()) {
        const QJsonObject object = value.toObject();
        for (auto it = object.begin(); it != object.end(); ++it)
            appendValue(parent, it.key(), it.value());
    } else if (value.isArray()) {
        const QJsonArray array = value.toArray();
        for (qsizetype i = 0; i < array.size(); ++i)
            appendValue(parent, QStringLiteral("[%1]").arg(i), array.at(i));
    }
}

} // namespace opsdeck
