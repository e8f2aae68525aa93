#pragma once

#include <QWidget>

class QHBoxLayout;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableView;
class QTimer;

namespace opsdeck {

class PagedTableModel;

// A PagedTableModel's table with what every such table has: the filter (sent to the model when typing pauses,
// since each filter is a query), the "1,234 of 100,000 loaded" label that says honestly what is known (counting,
// at least so many, the count or a failure), and the export of the loaded rows as CSV.
class PagedTableView : public QWidget
{
    Q_OBJECT
public:
    // How long the filter waits for the next key: "globex" typed is one query, not six.
    static constexpr int kFilterPauseMs = 150;

    explicit PagedTableView(QWidget* parent = nullptr);

    // The model keeps its own sort; the header shows it.
    void setModel(PagedTableModel* model);
    QTableView* table() const { return m_table; }
    QLineEdit* filterEdit() const { return m_filter; }
    QLabel* progressLabel() const { return m_progress; }
    QLabel* problemLabel() const { return m_problem; }
    // Adds a widget to the bar, after the label and before the export button (e.g. an action on the selection).
    void addBarWidget(QWidget* widget);

    // The loaded rows, as shown, with the headers; through CsvWriter, so formulas are neutralised.
    bool exportCsv(const QString& path, QString* error) const;
    // What the label says of a model.
    static QString progressText(const PagedTableModel& model);

private:
    void updateProgress();
    void askAndExport();

    PagedTableModel* m_model = nullptr;
    bool m_columnsFitted = false;
    QLineEdit* m_filter;
    QLabel* m_progress;
    QLabel* m_problem; // a failed page or count, in full, under the bar
    QPushButton* m_export;
    QTableView* m_table;
    QTimer* m_filterPause;
    QHBoxLayout* m_bar;
};

} // namespace opsdeck
