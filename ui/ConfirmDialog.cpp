#include "ConfirmDialog.h"

#include "runbook/Plan.h"

#include <QCheckBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QFrame>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QScreen>
#include <QScrollBar>
#include <QTextDocument>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace opsdeck {

std::optional<bool> ConfirmDialog::s_nextAnswer;
std::optional<QString> ConfirmDialog::s_nextUndoOffReason;

void ConfirmDialog::setNextAnswer(bool accept, std::optional<QString> undoOffReason)
{
    s_nextAnswer = accept;
    s_nextUndoOffReason = std::move(undoOffReason);
}

namespace {

// The verb's button text with an Alt+letter: its first letter but C, which Cancel may have.
QString withMnemonic(const QString& verb)
{
    QString text = verb;
    text.replace(QLatin1Char('&'), QStringLiteral("&&"));
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (text[i].isLetter() && text[i].toLower() != QLatin1Char('c')
            && (i == 0 || text[i - 1] != QLatin1Char('&'))) {
            text.insert(i, QLatin1Char('&'));
            break;
        }
    }
    return text;
}
QDialog* buildDialog(QWidget* parent, const QString& title, const QString& text)
{
    auto* dialog = new QDialog(parent);
    dialog->setWindowTitle(title);
    dialog->setMinimumWidth(600);
    auto* layout = new QVBoxLayout(dialog);
    auto* heading = new QLabel(QStringLiteral("<b>%1</b>").arg(title.toHtmlEscaped()), dialog);
    layout->addWidget(heading);
    auto* body = new QLabel(text, dialog);
    body->setWordWrap(true);
    body->setMinimumWidth(580); // wrapped labels size their height for this width, not a narrow guess
    body->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(body);
    return dialog;
}

// adjustSize() stops at two thirds of the screen and squeezes the rows; a confirmation must show all of them. It stops
// the width there too (853 px at 1280), narrower than the plan's box may be: the dialog is then as wide as its layout's
// minimum, or the box runs past the dialog's edge and its lines are cut.
void fitToContents(QDialog* dialog)
{
    dialog->adjustSize();
    const int least = dialog->layout()->totalMinimumSize().width();
    if (dialog->width() < least) {
        dialog->setMinimumWidth(least);
        dialog->resize(least, dialog->height());
    }
    dialog->setMinimumHeight(dialog->sizeHint().height());
}

// Commands, fingerprints: monospace, selectable, as tall as its lines up to a limit (then it scrolls).
void addDetails(QDialog* dialog, const QString& details)
{
    if (details.isEmpty())
        return;
    auto* block = new QPlainTextEdit(details, dialog);
    block->setObjectName(QStringLiteral("details"));
    block->setReadOnly(true);
    block->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    block->ensurePolished(); // the font it draws with, resolved
    const QFontMetrics metrics(block->font());
    const QStringList lines = details.split(u'\n');
    int widest = 0;
    for (const QString& line : lines)
        widest = std::max(widest, metrics.horizontalAdvance(line));
    // As wide as its widest line (the dialog grows with it) up to a limit; longer lines wrap, so that every command
    // is read whole without scrolling sideways. As tall as its lines, up to three tenths of the screen; beyond, it
    // scrolls down. The margins: the frame, the document's margin on each side, and two characters' room for the
    // cursor and rounding.
    // At most 900 px, and three quarters of the screen's width: the dialog around it must fit on the screen.
    const QRect screen = dialog->screen() ? dialog->screen()->availableGeometry() : QRect(0, 0, 1280, 800);
    const int kWidest = std::min(900, screen.width() * 3 / 4);
    const int screenTall = screen.height();
    const int tallest = std::max(110, screenTall * 3 / 10);
    const int margins = 2 * (block->frameWidth() + int(std::ceil(block->document()->documentMargin())))
        + 2 * metrics.averageCharWidth();
    const int scrollBar = block->verticalScrollBar()->sizeHint().width();
    const int wide = std::min(kWidest, widest + margins);
    const int textWide = std::max(1, wide - margins - (widest + margins > kWidest ? scrollBar : 0));
    int rows = 0;
    for (const QString& line : lines)
        rows += std::max(1, int(std::ceil(double(metrics.horizontalAdvance(line)) / textWide)));
    const int tall = metrics.lineSpacing() * rows + margins;
    const bool scrollsDown = tall > tallest;
    block->setLineWrapMode(QPlainTextEdit::WidgetWidth);
    block->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    // A bar that is not needed would take the room that then makes it needed.
    block->setVerticalScrollBarPolicy(scrollsDown ? Qt::ScrollBarAsNeeded : Qt::ScrollBarAlwaysOff);
    block->setMinimumWidth(std::min(kWidest, wide + (scrollsDown ? scrollBar : 0)));
    block->setFixedHeight(std::min(tallest, tall));
    dialog->layout()->addWidget(block);
}

QLabel* irreversibleLabel(QWidget* parent)
{
    auto* label = new QLabel(QObject::tr("This cannot be undone."), parent);
    label->setObjectName(QStringLiteral("irreversible"));
    label->setStyleSheet(QStringLiteral("color: #b71c1c; font-weight: bold;"));
    return label;
}

QLabel* wrappedLabel(const QString& text, QWidget* parent)
{
    auto* label = new QLabel(text, parent);
    label->setWordWrap(true);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return label;
}

// "<b>Heading:</b> one; two" with the items as plain text.
QString listed(const QString& heading, const QStringList& items)
{
    QStringList escaped;
    for (const QString& item : items)
        escaped << item.toHtmlEscaped();
    return QStringLiteral("<b>%1</b> %2").arg(heading.toHtmlEscaped(), escaped.join(QStringLiteral("; ")));
}

// `color` mixed into the window's colour: a tint that reads in light and dark themes alike.
QColor tint(const QWidget* widget, const QColor& color, double amount)
{
    const QColor base = widget->palette().color(QPalette::Window);
    auto mix = [amount](int from, int to) { return int(std::lround(from + (to - from) * amount)); };
    return QColor(mix(base.red(), color.red()), mix(base.green(), color.green()), mix(base.blue(), color.blue()));
}

// "Can be undone until 2025-06-14 09:30 — keeps 603 MB at HOST:/PATH" ("keeps ≈ 603 MB (estimate) at"), in local time.
QString windowHeadline(const Plan::Undo& undo)
{
    QString line
        = QStringLiteral("<b>%1</b>")
              .arg(undo.until.isValid()
                      ? QObject::tr("Can be undone until %1")
                            .arg(undo.until.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm")).toHtmlEscaped())
                      : QObject::tr("Can be undone"));
    const QString size = undo.bytesHeldText(QLocale());
    if (undo.where.isEmpty()) {
        if (undo.bytesHeld >= 0)
            line += QStringLiteral(" — ")
                + (undo.bytesHeld > 0 ? QObject::tr("keeps %1").arg(size) : QObject::tr("no extra space"));
        return line;
    }
    line += QStringLiteral(" — ")
        + (undo.bytesHeld > 0         ? QObject::tr("keeps %1 at").arg(size)
                : undo.bytesHeld == 0 ? QObject::tr("no extra space, kept at")
                                      : QObject::tr("kept at"));
    // A path (no spaces) is monospace, on a line of its own that never breaks (a line may break after any '/').
    if (undo.where.contains(QRegularExpression(QStringLiteral("\\s"))))
        return line + u' ' + undo.where.toHtmlEscaped();
    return line
        + QStringLiteral("<p style=\"font-family: monospace; white-space: pre; margin: 0;\">%1</p>")
              .arg(undo.where.toHtmlEscaped());
}

// Once the undo box's reason shows or goes, the dialog's height follows (fitToContents fixed its minimum).
void refit(QDialog* dialog)
{
    dialog->setMinimumHeight(0);
    dialog->layout()->activate();
    const int height
        = dialog->hasHeightForWidth() ? dialog->heightForWidth(dialog->width()) : dialog->sizeHint().height();
    dialog->setMinimumHeight(height);
    dialog->resize(dialog->width(), height);
}
} // namespace

ConfirmDialog::Request ConfirmDialog::fromPlan(const Plan& plan)
{
    Request request;
    QStringList steps;
    int number = 1;
    for (const Plan::Step& step : plan.steps)
        steps << QStringLiteral("%1. %2\n   %3").arg(number++).arg(step.title, step.command);
    request.details = steps.join(u'\n');
    if (!plan.detailText.isEmpty())
        request.details += QStringLiteral("\n\n") + plan.detailText;
    request.verb = QStringLiteral("%1 %2").arg(plan.verb, plan.targetName);
    request.destructive = true;
    request.irreversible = plan.irreversible;
    request.environment = plan.environment();
    if (plan.needsTypedName())
        request.typedName = plan.targetName;
    const QLocale locale;
    for (const Plan::Count& count : plan.counts) {
        const QString value = count.key == QStringLiteral("bytes") ? locale.formattedDataSize(count.value)
                                                                   : locale.toString(count.value);
        request.counts << qMakePair(count.label, value);
    }
    request.warnings = plan.warnings;
    request.undo = plan.undo;
    return request;
}

bool ConfirmDialog::ask(QWidget* parent, const Request& request, Plan::Undo* undoChoice)
{
    if (s_nextAnswer) {
        const bool answer = *s_nextAnswer;
        const std::optional<QString> offReason = std::move(s_nextUndoOffReason);
        s_nextAnswer.reset();
        s_nextUndoOffReason.reset();
        if (answer && undoChoice) {
            undoChoice->enabled = !offReason;
            undoChoice->offReason = offReason.value_or(QString());
        }
        return answer;
    }
    QDialog* dialog = buildDialog(parent, request.title, request.text);
    auto* layout = static_cast<QVBoxLayout*>(dialog->layout());
    if (!request.environment.isEmpty()) {
        auto* environment = new QLabel(QObject::tr("Environment: %1").arg(request.environment.toUpper()), dialog);
        environment->setObjectName(QStringLiteral("environment"));
        environment->setStyleSheet(request.environment == QStringLiteral("production")
                ? QStringLiteral("color: #b71c1c; font-weight: bold;")
                : QString());
        layout->insertWidget(1, environment);
    }
    if (!request.counts.isEmpty()) {
        auto* grid = new QGridLayout;
        int row = 0;
        for (const auto& [label, value] : request.counts) {
            auto* number = new QLabel(value, dialog);
            number->setAlignment(Qt::AlignRight);
            number->setStyleSheet(QStringLiteral("font-weight: bold;"));
            grid->addWidget(number, row, 0);
            grid->addWidget(new QLabel(label, dialog), row++, 1);
        }
        grid->setColumnStretch(1, 1);
        grid->setVerticalSpacing(4);
        grid->setHorizontalSpacing(12);
        layout->addLayout(grid);
    }
    for (const QString& warning : request.warnings) {
        auto* note = new QLabel(QStringLiteral("⚠ ") + warning, dialog);
        note->setWordWrap(true);
        note->setStyleSheet(QStringLiteral("color: #e65100;"));
        layout->addWidget(note);
    }
    addDetails(dialog, request.details);
    const bool hasWindow = request.undo && request.undo->available;
    QCheckBox* keep = nullptr;
    QLineEdit* reason = nullptr;
    if (hasWindow) {
        // A calm box: the window is the safe default, and the admin may turn it off for this run only.
        const Plan::Undo& undo = *request.undo;
        auto* box = new QFrame(dialog);
        box->setObjectName(QStringLiteral("undoWindow"));
        box->setStyleSheet(
            QStringLiteral("QFrame#undoWindow { background: %1; border: 1px solid %2; border-radius: 4px; }")
                .arg(tint(dialog, QColor(0x2e, 0x7d, 0x32), 0.10).name(),
                    tint(dialog, QColor(0x2e, 0x7d, 0x32), 0.45).name()));
        auto* boxLayout = new QVBoxLayout(box);
        boxLayout->setContentsMargins(10, 8, 10, 8);
        boxLayout->setSpacing(4);
        auto* headline = wrappedLabel(windowHeadline(undo), box);
        headline->setObjectName(QStringLiteral("undoHeadline"));
        const QString howToRestore
            = QObject::tr("<nobr>Until then, <code>opsdeck restore RUN_ID</code> takes the run "
                          "back;</nobr><br><nobr><code>opsdeck trash list</code> lists what each "
                          "run keeps.</nobr>");
        headline->setToolTip(howToRestore);
        boxLayout->addWidget(headline);
        QLabel* restorable = nullptr;
        if (!undo.restorable.isEmpty()) {
            restorable = wrappedLabel(listed(QObject::tr("A restore puts back:"), undo.restorable), box);
            restorable->setObjectName(QStringLiteral("undoRestorable"));
            boxLayout->addWidget(restorable);
        }
        keep = new QCheckBox(QObject::tr("Keep an undo window"), box);
        keep->setObjectName(QStringLiteral("keepUndo"));
        keep->setChecked(true);
        boxLayout->addWidget(keep);
        auto* reasonRow = new QWidget(box);
        auto* reasonLayout = new QHBoxLayout(reasonRow);
        reasonLayout->setContentsMargins(0, 0, 0, 0);
        auto* reasonLabel = new QLabel(QObject::tr("Reason:"), reasonRow);
        reason = new QLineEdit(reasonRow);
        reason->setObjectName(QStringLiteral("undoOffReason"));
        reason->setPlaceholderText(QObject::tr("required: why this run keeps no undo window (the journal keeps it)"));
        reasonLabel->setBuddy(reason);
        reasonLayout->addWidget(reasonLabel);
        reasonLayout->addWidget(reason, 1);
        reasonRow->setVisible(false);
        boxLayout->addWidget(reasonRow);
        layout->addWidget(box);
        // Without the window, the run is as final as any other: said as it is said there.
        QLabel* gone = irreversibleLabel(dialog);
        gone->setVisible(false);
        layout->addWidget(gone);
        QObject::connect(keep, &QCheckBox::toggled, dialog, [=](bool kept) {
            // Turned off, what the window would keep is greyed: it will not be there.
            headline->setEnabled(kept);
            headline->setToolTip(kept ? howToRestore : QString());
            if (restorable)
                restorable->setEnabled(kept);
            reasonRow->setVisible(!kept);
            gone->setVisible(!kept);
            if (!kept)
                reason->setFocus();
            refit(dialog);
        });
    } else if (request.irreversible) {
        layout->addWidget(irreversibleLabel(dialog));
    }
    if (request.undo && !request.undo->notRestorable.isEmpty()) {
        auto* label = wrappedLabel(listed(QObject::tr("Cannot be undone:"), request.undo->notRestorable), dialog);
        label->setObjectName(QStringLiteral("notRestorable"));
        layout->addWidget(label);
    }
    if (request.undo && !request.undo->endsWindows.isEmpty()) {
        auto* label = wrappedLabel(
            listed(QObject::tr("This run ends the undo windows of:"), request.undo->endsWindows), dialog);
        label->setObjectName(QStringLiteral("endsWindows"));
        label->setStyleSheet(QStringLiteral("color: #e65100;"));
        layout->addWidget(label);
    }
    QLineEdit* typed = nullptr;
    if (!request.typedName.isEmpty()) {
        layout->addWidget(
            new QLabel(QObject::tr("Type <b>%1</b> to confirm:").arg(request.typedName.toHtmlEscaped()), dialog));
        typed = new QLineEdit(dialog);
        typed->setObjectName(QStringLiteral("typedName"));
        layout->addWidget(typed);
    }
    auto* buttons = new QDialogButtonBox(dialog);
    QPushButton* cancel = buttons->addButton(QDialogButtonBox::Cancel);
    QPushButton* verb = buttons->addButton(withMnemonic(request.verb), QDialogButtonBox::AcceptRole);
    verb->setObjectName(QStringLiteral("verb"));
    if (request.destructive)
        verb->setStyleSheet(QStringLiteral("QPushButton:enabled { color: #b71c1c; font-weight: bold; }"));
    verb->setAutoDefault(false);
    cancel->setDefault(true);
    // Enter cancels; the keyboard goes where the admin must type, if anywhere.
    if (typed)
        typed->setFocus();
    else
        cancel->setFocus();
    // The verb needs both: the name typed (when asked for) and a reason when the undo window is turned off.
    const auto updateVerb = [verb, typed, keep, reason, name = request.typedName] {
        const bool named = !typed || typed->text() == name;
        const bool explained = !keep || keep->isChecked() || !reason->text().trimmed().isEmpty();
        verb->setEnabled(named && explained);
    };
    updateVerb();
    if (typed)
        QObject::connect(typed, &QLineEdit::textChanged, verb, updateVerb);
    if (keep) {
        QObject::connect(keep, &QCheckBox::toggled, verb, updateVerb);
        QObject::connect(reason, &QLineEdit::textChanged, verb, updateVerb);
    }
    QObject::connect(buttons, &QDialogButtonBox::accepted, dialog, &QDialog::accept);
    QObject::connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
    layout->addWidget(buttons);
    fitToContents(dialog);
    const bool accepted = dialog->exec() == QDialog::Accepted;
    if (accepted && undoChoice) {
        undoChoice->enabled = !keep || keep->isChecked();
        undoChoice->offReason = undoChoice->enabled ? QString() : reason->text().trimmed();
    }
    delete dialog;
    return accepted;
}

void ConfirmDialog::inform(QWidget* parent, const QString& title, const QString& text, const QString& details)
{
    if (s_nextAnswer) {
        s_nextAnswer.reset();
        s_nextUndoOffReason.reset();
        return;
    }
    QDialog* dialog = buildDialog(parent, title, text);
    addDetails(dialog, details);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
    QObject::connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
    dialog->layout()->addWidget(buttons);
    fitToContents(dialog);
    dialog->exec();
    delete dialog;
}

} // namespace opsdeck
