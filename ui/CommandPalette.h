#pragma once

#include <QDialog>
#include <QKeySequence>

#include <functional>

class QLineEdit;
class QListWidget;

namespace opsdeck {

// Ctrl+K: one line that finds any action or target of the console by name, and runs or selects it with Enter. The
// window gives it its entries each time it opens, so it lists what the panes hold now.
class CommandPalette : public QDialog
{
    Q_OBJECT
public:
    struct Entry
    {
        QString place; // where it is: "Packit", "View"
        QString text; // what it is: "Wipe kipling…", "kipling"
        QString detail; // what it does or says more, shown dim: a tooltip, a host
        QKeySequence shortcut; // its own key, shown, so that the palette also teaches the keys
        std::function<void()> run; // null when it cannot run now (a disabled button): listed, greyed
    };

    explicit CommandPalette(QWidget* parent);

    // Shows `entries` (clearing the search) and waits, without blocking, for a choice.
    void present(QList<Entry> entries);
    QLineEdit* search() const { return m_search; }
    QListWidget* list() const { return m_list; }
    // The entries that match `query`: every word of it in the place, text or detail, in any case.
    static QList<int> matches(const QList<Entry>& entries, const QString& query);

private:
    bool eventFilter(QObject* watched, QEvent* event) override;
    void refilter();
    void runCurrent();

    QLineEdit* m_search;
    QListWidget* m_list;
    QList<Entry> m_entries;
};

} // namespace opsdeck
