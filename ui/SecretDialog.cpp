#include "SecretDialog.h"

#include <QDialog>
#include <QDialogButtonBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace opsdeck {

SecretDialog::SecretDialog(QWidget* parent)
    : m_parent(parent)
{
}

void SecretDialog::ask(const Request& request, std::function<void(std::optional<QString>)> done)
{
    auto* dialog = new QDialog(m_parent);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(QObject::tr("Secret needed"));
    dialog->setMinimumWidth(460);
    auto* layout = new QVBoxLayout(dialog);
    auto* label = new QLabel(request.label.isEmpty() ? request.key : request.label, dialog);
    label->setWordWrap(true);
    layout->addWidget(label);
    auto* field = new QLineEdit(dialog);
    field->setEchoMode(QLineEdit::Password);
    layout->addWidget(field);
    auto* note = new QLabel(request.willBeRemembered
            ? QObject::tr("opsdeck will save it in your keyring as %1. If the keyring refuses, it is "
                          "kept in memory for this session only.")
                  .arg(request.key)
            : QObject::tr("No keyring is available: it will be kept in memory for this session "
                          "only, and asked for again next time."),
        dialog);
    note->setWordWrap(true);
    note->setStyleSheet(QStringLiteral("color: palette(mid);"));
    layout->addWidget(note);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, dialog);
    buttons->addButton(QObject::tr("Use"), QDialogButtonBox::AcceptRole);
    layout->addWidget(buttons);
    QObject::connect(buttons, &QDialogButtonBox::accepted, dialog, &QDialog::accept);
    QObject::connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
    // finished fires exactly once, whether the dialog is accepted, cancelled or closed.
    QObject::connect(dialog, &QDialog::finished, dialog, [field, done](int result) {
        if (result == QDialog::Accepted)
            done(field->text());
        else
            done(std::nullopt);
    });
    dialog->open();
    field->setFocus();
}

} // namespace opsdeck
