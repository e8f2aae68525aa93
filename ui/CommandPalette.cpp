#include "CommandPalette.h"

#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QVBoxLayout>
#include <algorithm>

namespace opsdeck {

namespace {
constexpr int kEntryRole = Qt::UserRole;
}

CommandPalette::CommandPalette(QWidget* parent)
    : QDialog(parent)
    , m_search(new QLineEdit(this))
    , m_list(new QListWidget(this))
{
    setObjectName(QStringLiteral("commandPalette"));
    setWindowTitle(tr("Find a command or target"));
    setModal(true);
    auto* layout = new QVBoxLayout(this);
    m_search->setObjectName(QStringLiteral("paletteSearch"));
    m_search->setPlaceholderText(tr("Type an action (wipe, deploy, refresh), a target (an instance, a machine) or a "
                                    "pane…"));
    m_search->setClearButtonEnabled(true);
    layout->addWidget(m_search);
    m_list->setObjectName(QStringLiteral("paletteList"));
    m_list->setUniformItemSizes(true);
    m_list->setFocusPolicy(Qt::NoFocus); // the keys stay in the search; Up and Down move in the list from there
    layout->addWidget(m_list, 1);
    auto* hint = new QLabel(tr("Enter runs or selects · Up/Down choose · Esc closes"), this);
    hint->setStyleSheet(QStringLiteral("color: palette(mid);"));
    layout->addWidget(hint);
    resize(720, 420);

    m_search->installEventFilter(this);
    connect(m_search, &QLineEdit::textChanged, this, &CommandPalette::refilter);
    connect(m_list, &QListWidget::itemActivated, this, &CommandPalette::runCurrent);
}

void CommandPalette::present(QList<Entry> entries)
{
    m_entries = std::move(entries);
    m_search->clear();
    refilter();
    if (parentWidget()) {
        // Near the top of the window, as wide as it allows: where the eye already is.
        const QRect area = parentWidget()->window()->geometry();
        resize(std::min(720, area.width() - 40), std::min(420, area.height() - 80));
        move(area.x() + (area.width() - width()) / 2, area.y() + 60);
    }
    QDialog::open();
    activateWindow();
    m_search->setFocus(Qt::PopupFocusReason);
}

QList<int> CommandPalette::matches(const QList<Entry>& entries, const QString& query)
{
    const QStringList words = query.split(QLatin1Char(' '), Qt::SkipEmptyParts);
    QList<int> found;
    for (qsizetype i = 0; i < entries.size(); ++i) {
        const Entry& entry = entries[i];
        const QString haystack = entry.place + QLatin1Char(' ') + entry.text + QLatin1Char(' ') + entry.detail;
        const bool all = std::all_of(words.cbegin(), words.cend(),
            [&](const QString& word) { return haystack.contains(word, Qt::CaseInsensitive); });
        if (all)
            found << int(i);
    }
    // What can run now first, in the window's order: a greyed entry never hides a usable one below it.
    std::stable_partition(found.begin(), found.end(), [&](int i) { return bool(entries[i].run); });
    return found;
}

void CommandPalette::refilter()
{
    m_list->clear();
    for (int index : matches(m_entries, m_search->text())) {
        const Entry& entry = m_entries[index];
        QString label = entry.place + QStringLiteral(" › ") + entry.text;
        if (!entry.shortcut.isEmpty())
            label += QStringLiteral("    ") + entry.shortcut.toString(QKeySequence::NativeText);
        auto* item = new QListWidgetItem(label, m_list);
        item->setData(kEntryRole, index);
        item->setToolTip(entry.detail);
        if (!entry.run) {
            item->setFlags(item->flags() & ~Qt::ItemIsEnabled);
            item->setToolTip(
                entry.detail.isEmpty() ? tr("Not available now") : tr("Not available now: %1").arg(entry.detail));
        }
    }
    if (m_list->count() > 0 && (m_list->item(0)->flags() & Qt::ItemIsEnabled))
        m_list->setCurrentRow(0);
}

void CommandPalette::runCurrent()
{
    QListWidgetItem* item = m_list->currentItem();
    if (!item || !(item->flags() & Qt::ItemIsEnabled))
        return;
    const std::function<void()> run = m_entries[item->data(kEntryRole).toInt()].run;
    accept();
    // The keyboard back to the window (a window manager would do it; without one nothing does), then the action,
    // which may open a dialog of its own or move the focus.
    if (parentWidget())
        parentWidget()->window()->activateWindow();
    run();
}

bool CommandPalette::eventFilter(QObject* watched, QEvent* event)
{
    if (watched != m_search || event->type() != QEvent::KeyPress)
        return QDialog::eventFilter(watched, event);
    const int key = static_cast<QKeyEvent*>(event)->key();
    if (key == Qt::Key_Return || key == Qt::Key_Enter) {
        runCurrent();
        return true;
    }
    if (key == Qt::Key_Down || key == Qt::Key_Up || key == Qt::Key_PageDown || key == Qt::Key_PageUp) {
        // Moves among the enabled entries only.
        const int step = (key == Qt::Key_Down || key == Qt::Key_PageDown) ? 1 : -1;
        for (int row = m_list->currentRow() + step; row >= 0 && row < m_list->count(); row += step) {
            if (m_list->item(row)->flags() & Qt::ItemIsEnabled) {
                m_list->setCurrentRow(row);
                break;
            }
        }
        return true;
    }
    return QDialog::eventFilter(watched, event);
}

} // namespace opsdeck
