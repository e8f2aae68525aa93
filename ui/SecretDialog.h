#pragma once

#include "secrets/SecretPrompter.h"

#include <QPointer>
#include <QWidget>

namespace opsdeck {

// Asks for a password or passphrase in a window-modal dialog, without blocking the caller. When there is no
// working keychain it says the answer is kept for this session only.
class SecretDialog : public SecretPrompter
{
public:
    explicit SecretDialog(QWidget* parent);
    void ask(const Request& request, std::function<void(std::optional<QString>)> done) override;

private:
    QPointer<QWidget> m_parent;
};

} // namespace opsdeck
