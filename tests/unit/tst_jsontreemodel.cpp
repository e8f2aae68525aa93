// A packet's metadata as a tree: keys and values, objects and arrays with their members as children, numbers as
// JSON wrote them, and the document kept whole for "Copy JSON".
#include "JsonTreeModel.h"

#include <QAbstractItemModelTester>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace opsdeck;

class TestJsonTreeModel : public QObject
{
    Q_OBJECT

private slots:
    void objectsAndArraysNest();
    void valuesRead();
    void textIsTheWholeDocument();
    void replacedAndCleared();
};

namespace {

// An outpack packet's metadata, shortened.
QJsonObject metadata()
{
    return QJsonDocument::fromJson(R"({
        "schema_version": "0.1.1",
        "id": "20240520-101500-1f2e3d4c",
        "name": "incoming-data",
        "parameters": null,
        "time": { "start": 1716200100.25, "end": 1716200101 },
        "files": [
            { "path": "orderly.R", "size": 512, "hash": "sha256:aa" },
            { "path": "data.csv", "size": 10485760, "hash": "sha256:bb" }
        ],
        "depends": [],
        "custom": { "orderly": { "description": { "display": "Incoming data", "long": "two\nlines" } } },
        "git": { "clean": false }
    })")
        .object();
}

QModelIndex child(const QAbstractItemModel& model, const QModelIndex& parent, const QString& key)
{
    for (int row = 0; row < model.rowCount(parent); ++row) {
        const QModelIndex index = model.index(row, JsonTreeModel::Key, parent);
        if (index.data().toString() == key)
            return index;
    }
    return {};
}

QString valueOf(const QModelIndex& key)
{
    return key.siblingAtColumn(JsonTreeModel::Value).data().toString();
}

} // namespace

void TestJsonTreeModel::objectsAndArraysNest()
{
    JsonTreeModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setJson(metadata());
    QCOMPARE(model.columnCount(), 2);
    QCOMPARE(model.headerData(JsonTreeModel::Key, Qt::Horizontal).toString(), u"Key"_s);
    QCOMPARE(model.headerData(JsonTreeModel::Value, Qt::Horizontal).toString(), u"Value"_s);
    // One row per top-level key.
    QCOMPARE(model.rowCount(), metadata().size());
    QCOMPARE(valueOf(child(model, {}, u"id"_s)), u"20240520-101500-1f2e3d4c"_s);

    // An array: its elements as children keyed by position, its size as its value.
    const QModelIndex files = child(model, {}, u"files"_s);
    QVERIFY(files.isValid());
    QCOMPARE(valueOf(files), u"2 items"_s);
    QCOMPARE(model.rowCount(files), 2);
    const QModelIndex second = child(model, files, u"[1]"_s);
    QVERIFY(second.isValid());
    QCOMPARE(valueOf(second), u"3 keys"_s);
    QCOMPARE(valueOf(child(model, second, u"path"_s)), u"data.csv"_s);
    QCOMPARE(valueOf(child(model, second, u"size"_s)), u"10485760"_s);
    // Only the key column has children.
    QCOMPARE(model.rowCount(second.siblingAtColumn(JsonTreeModel::Value)), 0);

    // Objects nest as deep as they go.
    const QModelIndex description
        = child(model, child(model, child(model, {}, u"custom"_s), u"orderly"_s), u"description"_s);
    QCOMPARE(valueOf(child(model, description, u"display"_s)), u"Incoming data"_s);
    QCOMPARE(valueOf(child(model, {}, u"depends"_s)), u"0 items"_s);
    QCOMPARE(model.rowCount(child(model, {}, u"depends"_s)), 0);
    QVERIFY(
        child(model, {}, u"custom"_s).siblingAtColumn(JsonTreeModel::Value).data(Qt::FontRole).value<QFont>().italic());

    // Each key says what its value is.
    QCOMPARE(files.data(JsonTreeModel::TypeRole).toInt(), int(QJsonValue::Array));
    QCOMPARE(second.data(JsonTreeModel::TypeRole).toInt(), int(QJsonValue::Object));
    QCOMPARE(child(model, {}, u"parameters"_s).data(JsonTreeModel::TypeRole).toInt(), int(QJsonValue::Null));
    QCOMPARE(child(model, {}, u"id"_s).data(JsonTreeModel::TypeRole).toInt(), int(QJsonValue::String));

    // Read-only.
    QVERIFY(!(model.flags(child(model, {}, u"name"_s).siblingAtColumn(JsonTreeModel::Value)) & Qt::ItemIsEditable));
}

void TestJsonTreeModel::valuesRead()
{
    QCOMPARE(JsonTreeModel::valueText(QJsonValue(QJsonValue::Null)), u"null"_s);
    QCOMPARE(JsonTreeModel::valueText(true), u"true"_s);
    QCOMPARE(JsonTreeModel::valueText(false), u"false"_s);
    QCOMPARE(JsonTreeModel::valueText(1716200101.0), u"1716200101"_s);
    QCOMPARE(JsonTreeModel::valueText(1716200100.25), u"1716200100.25"_s);
    QCOMPARE(JsonTreeModel::valueText(-3.0), u"-3"_s);
    QCOMPARE(JsonTreeModel::valueText(0.1), u"0.1"_s);
    QCOMPARE(JsonTreeModel::valueText(1e300), u"1e+300"_s);
    QCOMPARE(JsonTreeModel::valueText(u"text"_s), u"text"_s);
    QCOMPARE(JsonTreeModel::valueText(QJsonArray { 1 }), u"1 item"_s);
    QCOMPARE(JsonTreeModel::valueText(QJsonObject { { u"a"_s, 1 } }), u"1 key"_s);

    // A string with line breaks: one line in the tree, whole in the tooltip.
    JsonTreeModel model;
    model.setJson(QJsonObject { { u"long"_s, u"two\nlines"_s } });
    const QModelIndex value = model.index(0, JsonTreeModel::Value);
    QCOMPARE(value.data().toString(), u"two lines"_s);
    QCOMPARE(value.data(Qt::ToolTipRole).toString(), u"two\nlines"_s);

    // A top-level array is keyed by position; a bare value is one row.
    model.setJson(QJsonArray { u"a"_s, 2 });
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.index(1, JsonTreeModel::Key).data().toString(), u"[1]"_s);
    QCOMPARE(model.index(1, JsonTreeModel::Value).data().toString(), u"2"_s);
    model.setJson(u"only"_s);
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.index(0, JsonTreeModel::Key).data().toString(), u"value"_s);
    QCOMPARE(model.text(), u"\"only\""_s);
}

void TestJsonTreeModel::textIsTheWholeDocument()
{
    JsonTreeModel model;
    QVERIFY(!model.hasJson());
    QCOMPARE(model.text(), QString());
    model.setJson(metadata());
    QVERIFY(model.hasJson());
    const QString text = model.text();
    // Indented, and the same document back (nothing summarised away).
    QVERIFY(text.contains(u"\n    \"files\": ["_s));
    QJsonParseError error;
    const QJsonDocument parsed = QJsonDocument::fromJson(text.toUtf8(), &error);
    QCOMPARE(error.error, QJsonParseError::NoError);
    QCOMPARE(parsed.object(), metadata());
    QCOMPARE(model.json().toObject(), metadata());
}

void TestJsonTreeModel::replacedAndCleared()
{
    JsonTreeModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setJson(metadata());
    model.setJson(QJsonObject { { u"id"_s, u"x"_s } });
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.columnCount(), 2);
    model.clearJson();
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(model.columnCount(), 2);
    QVERIFY(!model.hasJson());
    QCOMPARE(model.text(), QString());
}

QTEST_MAIN(TestJsonTreeModel)
#include "tst_jsontreemodel.moc"
