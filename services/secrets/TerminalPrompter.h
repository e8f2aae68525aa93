#pragma once

#include "secrets/SecretPrompter.h"

#include <QString>

namespace opsdeck {

// The CLI's prompter: writes the label to the terminal and reads one line with echo off. It talks to the terminal,
// not to stdin/stdout, so piped input and output stay the command's own. Without a terminal (CI, cron) it answers
// std::nullopt at once. ask() blocks until the user presses Enter, so it suits the CLI only.
class TerminalPrompter : public SecretPrompter
{
public:
    // ttyPath is for tests, which hand in a pseudo-terminal.
    explicit TerminalPrompter(const QString& ttyPath = QStringLiteral("/dev/tty"));

    void ask(const Request& request, std::function<void(std::optional<QString>)> done) override;

private:
    QString m_ttyPath;
};

} // namespace opsdeck
