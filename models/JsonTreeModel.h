#pragma once

#include <QJsonValue>
#include <QStandardItemModel>

namespace opsdeck {

// A JSON document as a tree for a QTreeView, as a JSON viewer shows it: one row per key (or array element, keyed
// [0], [1], ...) with its value; an object or an array has its members as children and says how many in its value
// column. The document itself stays available as text, for a "Copy JSON".
class JsonTreeModel : public QStandardItemModel
{
    Q_OBJECT
public:
    enum Column
    {
        Key,
        Value,
        ColumnCount
    };

    // On the Key column: the value's QJsonValue::Type.
    static constexpr int TypeRole = Qt::UserRole + 1;

    explicit JsonTreeModel(QObject* parent = nullptr);

    // The members of `document` (an object or an array) at the top level; anything else is one row keyed "value".
    void setJson(const QJsonValue& document);
    // Empty, no document.
    void clearJson();
    const QJsonValue& json() const { return m_document; }
    bool hasJson() const { return !m_document.isUndefined(); }
    // The document as indented JSON text, keys sorted (empty without a document).
    QString text() const;

    // How a value reads in the Value column: strings as they are (on one line), numbers without a needless
    // exponent or ".0", true/false/null, "3 keys" or "12 items" for an object or an array.
    static QString valueText(const QJsonValue& value);

private:
    void appendValue(QStandardItem* parent, const QString& key, const QJsonValue& value);
    // An object's or an array's members under `parent` (nothing for other values).
    void appendMembers(QStandardItem* parent, const QJsonValue& value);

    QJsonValue m_document = QJsonValue(QJsonValue::Undefined);
};

} // namespace opsdeck
