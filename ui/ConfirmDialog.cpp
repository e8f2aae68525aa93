#include "ConfirmDialog.h"

#include <QDialog>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

#include <algorithm>

namespace opsdeck {

std::optional<bool> ConfirmDialog::s_nextAnswer;

void ConfirmDialog::setNextAnswer(bool accept)
{
    s_nextAnswer = accept;
}

namespace {
QDialog* buildDialog(QWidget* parent, const QString& title, const QString& text, const QString& details)
{
    auto* dialog = new QDialog(parent);
    dialog->setWindowTitle(title);
    dialog->setMinimumWidth(560);
    auto* layout = new QVBoxLayout(dialog);
    auto* heading = new QLabel(QStringLiteral("<b>%1</b>").arg(title.toHtmlEscaped()), dialog);
    layout->addWidget(heading);
    auto* body = new QLabel(text, dialog);
    body->setWordWrap(true);
    body->setMinimumWidth(540); // wrapped labels size their height for this width, not a narrow guess
    body->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(body);
    if (!details.isEmpty()) {
        auto* block = new QPlainTextEdit(details, dialog);
        block->setReadOnly(true);
        block->setLineWrapMode(QPlainTextEdit::NoWrap);
        block->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
        // As tall as its lines, so a one-line fingerprint does not sit in a large empty box.
        const int lines = int(details.count(u'\n')) + 1;
        block->setFixedHeight(std::min(160, block->fontMetrics().lineSpacing() * lines + 16));
        layout->addWidget(block);
    }
    return dialog;
}
} // namespace

bool ConfirmDialog::ask(QWidget* parent, const Request& request)
{
    if (s_nextAnswer) {
        const bool answer = *s_nextAnswer;
        s_nextAnswer.reset();
        return answer;
    }
    QDialog* dialog = buildDialog(parent, request.title, request.text, request.details);
    auto* layout = static_cast<QVBoxLayout*>(dialog->layout());
    QLineEdit* typed = nullptr;
    if (!request.typedName.isEmpty()) {
        layout->addWidget(
            new QLabel(QObject::tr("Type <b>%1</b> to confirm:").arg(request.typedName.toHtmlEscaped()), dialog));
        typed = new QLineEdit(dialog);
        layout->addWidget(typed);
    }
    auto* buttons = new QDialogButtonBox(dialog);
    QPushButton* cancel = buttons->addButton(QDialogButtonBox::Cancel);
    QPushButton* verb = buttons->addButton(request.verb, QDialogButtonBox::AcceptRole);
    if (request.destructive)
        verb->setStyleSheet(QStringLiteral("QPushButton { color: #b71c1c; font-weight: bold; }"));
    verb->setAutoDefault(false);
    cancel->setDefault(true);
    cancel->setFocus();
    if (typed) {
        verb->setEnabled(false);
        QObject::connect(typed, &QLineEdit::textChanged, verb,
            [verb, name = request.typedName](const QString& text) { verb->setEnabled(text == name); });
    }
    QObject::connect(buttons, &QDialogButtonBox::accepted, dialog, &QDialog::accept);
    QObject::connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
    layout->addWidget(buttons);
    dialog->adjustSize();
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
    QDialog* dialog = buildDialog(parent, title, text, details);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
    QObject::connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
    dialog->layout()->addWidget(buttons);
    dialog->adjustSize();
    dialog->exec();
    delete dialog;
}

} // namespace opsdeck
