#include "ConfirmDialog.h"

#include "runbook/Plan.h"

#include <QDialog>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QGridLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QTextDocument>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace opsdeck {

std::optional<bool> ConfirmDialog::s_nextAnswer;

void ConfirmDialog::setNextAnswer(bool accept)
{
    s_nextAnswer = accept;
}

namespace {
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

// adjustSize() stops at two thirds of the screen and squeezes the rows; a confirmation must show all of them.
void fitToContents(QDialog* dialog)
{
    dialog->adjustSize();
    dialog->setMinimumHeight(dialog->sizeHint().height());
}

// Commands, fingerprints: monospace, selectable, as tall as its lines up to a limit (then it scrolls).
void addDetails(QDialog* dialog, const QString& details)
{
    if (details.isEmpty())
        return;
    auto* block = new QPlainTextEdit(details, dialog);
    block->setReadOnly(true);
    block->setLineWrapMode(QPlainTextEdit::NoWrap);
    block->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    block->ensurePolished(); // the font it draws with, resolved
    const QFontMetrics metrics(block->font());
    const QStringList lines = details.split(u'\n');
    int widest = 0;
    for (const QString& line : lines)
        widest = std::max(widest, metrics.horizontalAdvance(line));
    // As wide as its widest line (the dialog grows with it) up to a limit; wider lines scroll sideways, and then the
    // scroll bar takes room of its own instead of hiding the last line. The margins: the frame, the document's
    // margin on each side, and two characters' room for the cursor and rounding.
    constexpr int kWidest = 900;
    constexpr int kTallest = 110;
    const int margins = 2 * (block->frameWidth() + int(std::ceil(block->document()->documentMargin())))
        + 2 * metrics.averageCharWidth();
    const int tall = metrics.lineSpacing() * int(lines.size()) + margins;
    const bool scrollsDown = tall > kTallest;
    const int vertical = scrollsDown ? block->verticalScrollBar()->sizeHint().width() : 0;
    const bool scrollsSideways = widest + margins + vertical > kWidest;
    block->setMinimumWidth(std::min(kWidest, widest + margins + vertical));
    // A bar that is not needed would take the room that then makes it needed.
    block->setVerticalScrollBarPolicy(scrollsDown ? Qt::ScrollBarAsNeeded : Qt::ScrollBarAlwaysOff);
    block->setHorizontalScrollBarPolicy(scrollsSideways ? Qt::ScrollBarAsNeeded : Qt::ScrollBarAlwaysOff);
    const int horizontal = scrollsSideways ? block->horizontalScrollBar()->sizeHint().height() : 0;
    block->setFixedHeight(std::min(kTallest, tall) + horizontal);
    dialog->layout()->addWidget(block);
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
    return request;
}

bool ConfirmDialog::ask(QWidget* parent, const Request& request)
{
    if (s_nextAnswer) {
        const bool answer = *s_nextAnswer;
        s_nextAnswer.reset();
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
    if (request.irreversible) {
        auto* undo = new QLabel(QObject::tr("This cannot be undone."), dialog);
        undo->setStyleSheet(QStringLiteral("color: #b71c1c; font-weight: bold;"));
        layout->addWidget(undo);
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
    QPushButton* verb = buttons->addButton(request.verb, QDialogButtonBox::AcceptRole);
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
    if (typed) {
        verb->setEnabled(false);
        QObject::connect(typed, &QLineEdit::textChanged, verb,
            [verb, name = request.typedName](const QString& text) { verb->setEnabled(text == name); });
    }
    QObject::connect(buttons, &QDialogButtonBox::accepted, dialog, &QDialog::accept);
    QObject::connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
    layout->addWidget(buttons);
    fitToContents(dialog);
    const bool accepted = dialog->exec() == QDialog::Accepted;
    delete dialog;
    return accepted;
}

void ConfirmDialog::inform(QWidget* parent, const QString& title, const QString& text, const QString& details)
{
    if (s_nextAnswer) {
        s_nextAnswer.reset();
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
