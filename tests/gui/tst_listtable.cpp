// The list tables' and list trees' shared code (ui/ListTable), offscreen: columns fitted so that no table needs a
// sideways scroll bar, widths the admin dragged kept through refits and restarts until fitted again, and one look for
// tables and for trees that show a flat list.
#include "ListTable.h"

#include <QAction>
#include <QApplication>
#include <QHeaderView>
#include <QLineEdit>
#include <QMouseEvent>
#include <QScrollBar>
#include <QSettings>
#include <QStandardItemModel>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;
using namespace opsdeck;

namespace {

enum PackitColumn
{
    Instance,
    Host,
    Outpack,
    Api,
    Packets,
    Groups,
    Root,
    Reachability,
    HostKey,
    Error,
};

// Packit's instance table as the sandbox fills it: ten columns, a long host key and, last, an empty Error.
QStandardItemModel* packitInstances(QObject* parent)
{
    auto* model = new QStandardItemModel(0, 10, parent);
    model->setHorizontalHeaderLabels({ u"Instance"_s, u"Host"_s, u"outpack"_s, u"packit-api"_s, u"Packets"_s,
        u"Groups"_s, u"outpack root"_s, u"Reachability"_s, u"Host key"_s, u"Error"_s });
    for (const QString& instance : { u"priority-pathogens"_s, u"reside"_s, u"malariaverse-sitefiles"_s, u"training"_s,
             u"reside-dev"_s, u"kipling"_s }) {
        QList<QStandardItem*> row;
        for (const QString& cell : { instance, u"wpia-packit-private"_s, u"active"_s, u"active"_s, u"300"_s, u"30"_s,
                 u"1,463 files, 1.81 MiB"_s, u"Reachable"_s,
                 u"SHA256:g1Jnim1UtRdWq0S1kq0y6n3u7vXhQz2C8pLMqSRcTpu4k (known)"_s, QString() })
            row << new QStandardItem(cell);
        model->appendRow(row);
    }
    return model;
}

// Lets the refit (50 ms after a resize), the header's stretch and the scroll bars settle.
void settle()
{
    QTest::qWait(150);
}

// A list table of those rows, shown, `width` wide, with its columns fitted.
std::unique_ptr<QTableView> showInstances(QStandardItemModel* model, int width)
{
    auto view = std::make_unique<QTableView>();
    view->setObjectName(u"instances"_s);
    view->setModel(model);
    setUpListTable(view.get());
    view->resize(width, 300);
    view->show();
    if (!QTest::qWaitForWindowExposed(view.get()))
        return nullptr;
    settle();
    return view;
}

int contentWidth(const QAbstractItemView& view, const QHeaderView& header, int column)
{
    return std::max(view.sizeHintForColumn(column), header.sectionSizeHint(column));
}

void sendMouse(QWidget* widget, QEvent::Type type, const QPoint& at, Qt::MouseButtons buttons)
{
    QMouseEvent event(type, at, widget->mapToGlobal(at), type == QEvent::MouseMove ? Qt::NoButton : Qt::LeftButton,
        buttons, Qt::NoModifier);
    QApplication::sendEvent(widget, &event);
}

QPoint edgeOf(const QHeaderView& header, int column)
{
    return { header.sectionViewportPosition(column) + header.sectionSize(column) - 1, header.height() / 2 };
}

// Drags the right edge of `column` by `dx` pixels, as the admin does with the mouse.
void dragEdge(QHeaderView& header, int column, int dx)
{
    const QPoint edge = edgeOf(header, column);
    sendMouse(header.viewport(), QEvent::MouseButtonPress, edge, Qt::LeftButton);
    sendMouse(header.viewport(), QEvent::MouseMove, edge + QPoint(dx / 2, 0), Qt::LeftButton);
    sendMouse(header.viewport(), QEvent::MouseMove, edge + QPoint(dx, 0), Qt::LeftButton);
    sendMouse(header.viewport(), QEvent::MouseButtonRelease, edge + QPoint(dx, 0), Qt::NoButton);
}

QStringList rememberedColumns(const QString& view)
{
    QSettings settings;
    settings.beginGroup(u"columns/"_s + view);
    return settings.childKeys();
}

} // namespace

class TestListTable : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void tenColumnsNeedNoSidewaysScrollBar();
    void handSetWidthStaysAndIsRemembered();
    void fittingAgainForgetsHandSetWidths();
    void resizesByCodeAreNotRemembered();
    void listTreeLooksLikeAListTable();

private:
    QTemporaryDir m_config;
};

void TestListTable::initTestCase()
{
    QVERIFY(m_config.isValid());
    // Widths go to QSettings: this test's own, never the admin's.
    qputenv("XDG_CONFIG_HOME", m_config.path().toLocal8Bit());
}

void TestListTable::init()
{
    QSettings().clear();
}

// Packit's instance table at 1280x800 overflowed by about 20 pixels: a sideways scroll bar, the Error column cut. At
// the width it has there (1088), at 1920x1080 (1728) and at every width down to where ten columns narrowed to the
// narrowest still fit, the columns fit the table.
void TestListTable::tenColumnsNeedNoSidewaysScrollBar()
{
    auto* model = packitInstances(this);
    const auto view = showInstances(model, 1728);
    QVERIFY(view);
    QHeaderView* header = view->horizontalHeader();
    for (int width = 1728; width >= 800; width -= 16) {
        view->resize(width, 300);
        fitColumns(view.get()); // as a refresh does, besides the refit after the resize
        settle();
        QVERIFY2(!view->horizontalScrollBar()->isVisible(), qPrintable(u"at %1 pixels"_s.arg(width)));
        QVERIFY2(header->length() <= view->viewport()->width(),
            qPrintable(u"at %1 pixels: %2 in %3"_s.arg(width).arg(header->length()).arg(view->viewport()->width())));
        // Every column shows (the narrowed ones at 64 pixels at least), whole when there is room; the instance's
        // name always.
        for (int column = 0; column < model->columnCount(); ++column) {
            const int content = contentWidth(*view, *header, column);
            QVERIFY(header->sectionSize(column) >= std::min(width >= 1280 ? content : 64, content));
        }
        QCOMPARE(header->sectionSize(Instance), contentWidth(*view, *header, Instance));
    }
}

void TestListTable::handSetWidthStaysAndIsRemembered()
{
    auto* model = packitInstances(this);
    int handSet = 0;
    {
        const auto view = showInstances(model, 1088);
        QVERIFY(view);
        QHeaderView* header = view->horizontalHeader();
        const int fitted = header->sectionSize(Host);
        dragEdge(*header, Host, 60);
        handSet = header->sectionSize(Host);
        QCOMPARE(handSet, fitted + 60);
        // A refresh's refit and a narrower window leave it; the other columns still fit, narrowed.
        fitColumns(view.get());
        settle();
        QCOMPARE(header->sectionSize(Host), handSet);
        view->resize(900, 300);
        settle();
        QCOMPARE(header->sectionSize(Host), handSet);
        QVERIFY(!view->horizontalScrollBar()->isVisible());
        QVERIFY(header->sectionSize(HostKey) < contentWidth(*view, *header, HostKey));
        // Only that column is remembered (the stretched last one followed the drag, by itself).
        QCOMPARE(rememberedColumns(u"instances"_s), QStringList { QString::number(Host) });
        QCOMPARE(QSettings().value(u"columns/instances/%1"_s.arg(Host)).toInt(), handSet);
    }
    // After a restart: a new view of that name has it, and fits the others.
    const auto view = showInstances(model, 1088);
    QVERIFY(view);
    QHeaderView* header = view->horizontalHeader();
    QCOMPARE(header->sectionSize(Host), handSet);
    QCOMPARE(header->sectionSize(Packets), contentWidth(*view, *header, Packets));
    QVERIFY(!view->horizontalScrollBar()->isVisible());
    // A table of another name keeps its own.
    QTableView hosts;
    hosts.setObjectName(u"hosts"_s);
    hosts.setModel(model);
    setUpListTable(&hosts);
    fitColumns(&hosts);
    QCOMPARE(hosts.horizontalHeader()->sectionSize(Host), contentWidth(hosts, *hosts.horizontalHeader(), Host));
}

// A double click on a column's edge fits that column again; the header's "Fit columns to contents" every column; and
// neither width is remembered any more.
void TestListTable::fittingAgainForgetsHandSetWidths()
{
    auto* model = packitInstances(this);
    const auto view = showInstances(model, 1280);
    QVERIFY(view);
    QHeaderView* header = view->horizontalHeader();
    const int host = header->sectionSize(Host);
    const int root = header->sectionSize(Root);
    dragEdge(*header, Host, 50);
    dragEdge(*header, Root, -30);
    QCOMPARE(header->sectionSize(Host), host + 50);
    QCOMPARE(header->sectionSize(Root), root - 30);
    QCOMPARE(rememberedColumns(u"instances"_s).size(), 2);

    sendMouse(header->viewport(), QEvent::MouseButtonDblClick, edgeOf(*header, Host), Qt::LeftButton);
    settle();
    QCOMPARE(header->sectionSize(Host), host);
    QCOMPARE(header->sectionSize(Root), root - 30);
    QCOMPARE(rememberedColumns(u"instances"_s), QStringList { QString::number(Root) });

    QCOMPARE(header->contextMenuPolicy(), Qt::ActionsContextMenu);
    auto* fit = header->findChild<QAction*>(u"fitColumns"_s);
    QVERIFY(fit);
    QVERIFY(header->actions().contains(fit));
    QCOMPARE(fit->text(), u"Fit columns to contents"_s);
    fit->trigger();
    settle();
    QCOMPARE(header->sectionSize(Root), root);
    QVERIFY(rememberedColumns(u"instances"_s).isEmpty());
}

// Only the admin's drags are kept: widths set by code, refits, a narrower or wider window are not.
void TestListTable::resizesByCodeAreNotRemembered()
{
    auto* model = packitInstances(this);
    const auto view = showInstances(model, 1280);
    QVERIFY(view);
    QHeaderView* header = view->horizontalHeader();
    const int host = header->sectionSize(Host);
    view->setColumnWidth(Host, host + 70);
    for (int width : { 900, 1600, 1100 }) {
        view->resize(width, 300);
        settle();
    }
    view->resize(1280, 300);
    settle();
    QCOMPARE(header->sectionSize(Host), host);
    // A click on a header sorts (a press and a release, no drag): nothing is kept either.
    view->setSortingEnabled(true);
    const QPoint middle(header->sectionViewportPosition(Packets) + header->sectionSize(Packets) / 2, 5);
    sendMouse(header->viewport(), QEvent::MouseButtonPress, middle, Qt::LeftButton);
    sendMouse(header->viewport(), QEvent::MouseButtonRelease, middle, Qt::NoButton);
    settle();
    QVERIFY(rememberedColumns(u"instances"_s).isEmpty());
}

// A tree widget that shows a flat list (Pulumi's organisations, with check boxes) looks and behaves as a list table:
// alternating rows as tall as the table's, no root decoration, no wrapping, long values elided in the middle by the
// same rule, whole rows selected, and Tab leaves it.
void TestListTable::listTreeLooksLikeAListTable()
{
    QWidget window;
    auto* layout = new QVBoxLayout(&window);
    auto* tree = new QTreeWidget(&window);
    tree->setObjectName(u"organizations"_s);
    tree->setHeaderLabels({ u"Organisation"_s, u"Name"_s, u"Soft-deleted"_s, u"Live"_s });
    setUpListTree(tree);
    for (const QString& login : { u"acme-corp"_s, u"moolumi"_s, u"sean-gillespie"_s }) {
        auto* item = new QTreeWidgetItem(tree,
            { login, u"An organisation whose name is far longer than any column should be allowed to grow"_s, u"275"_s,
                u"33"_s });
        item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
        item->setCheckState(0, Qt::Unchecked);
    }
    auto* table = new QTableView(&window);
    table->setObjectName(u"instances"_s);
    table->setModel(packitInstances(table));
    setUpListTable(table);
    auto* next = new QLineEdit(&window);
    layout->addWidget(tree);
    layout->addWidget(table);
    layout->addWidget(next);
    window.resize(620, 600);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    fitColumns(tree);
    settle();

    QVERIFY(tree->alternatingRowColors());
    QVERIFY(!tree->rootIsDecorated());
    QVERIFY(tree->uniformRowHeights());
    QVERIFY(!tree->wordWrap());
    QCOMPARE(tree->textElideMode(), table->textElideMode());
    QCOMPARE(tree->textElideMode(), Qt::ElideMiddle);
    QCOMPARE(tree->selectionBehavior(), QAbstractItemView::SelectRows);
    QCOMPARE(tree->selectionMode(), table->selectionMode());
    QVERIFY(!table->showGrid());
    QCOMPARE(tree->visualItemRect(tree->topLevelItem(0)).height(), table->rowHeight(0));
    QVERIFY(table->rowHeight(0) >= table->fontMetrics().height() + 4);

    // The long name gives way as a table's would, the others are whole, the last column fills the rest, and nothing
    // scrolls sideways.
    QHeaderView* header = tree->header();
    const int name = header->sectionSize(1);
    QVERIFY(name < contentWidth(*tree, *header, 1));
    for (int column : { 0, 2 })
        QCOMPARE(header->sectionSize(column), contentWidth(*tree, *header, column));
    QVERIFY(header->sectionSize(3) >= contentWidth(*tree, *header, 3));
    QVERIFY(!tree->horizontalScrollBar()->isVisible());
    QCOMPARE(header->length(), tree->viewport()->width());
    window.resize(420, 600);
    settle();
    QVERIFY(header->sectionSize(1) < name);
    QVERIFY(!tree->horizontalScrollBar()->isVisible());

    // Tab leaves the tree and the table for the next control, wherever their current row is.
    tree->setFocus();
    tree->setCurrentItem(tree->topLevelItem(1));
    QTest::keyClick(tree, Qt::Key_Tab);
    QVERIFY(table->hasFocus());
    table->setCurrentIndex(table->model()->index(2, 3));
    QTest::keyClick(table, Qt::Key_Tab);
    QVERIFY(next->hasFocus());
    QCOMPARE(tree->currentItem(), tree->topLevelItem(1));
}

QTEST_MAIN(TestListTable)
#include "tst_listtable.moc"
