#pragma once

#include <QString>

#include <functional>
#include <optional>

namespace opsdeck {

// Asks a person for a secret the store could not find. The UI implements it with a dialog, the CLI with
// TerminalPrompter. Asynchronous so a dialog need not block the caller.
class SecretPrompter
{
public:
    virtual ~SecretPrompter();

    struct Request
    {
        QString key; // "opsdeck/<kind>/<target>/<account>"
        QString label; // e.g. "Password for opsdeck-sandbox@bastion"; may be empty
        bool willBeRemembered; // false when there is no working keychain: say the answer lasts for this run only
    };

    // Called on the store's thread. Call done exactly once, on that thread: with the secret, or with std::nullopt
    // when the user cancels.
    virtual void ask(const Request& request, std::function<void(std::optional<QString>)> done) = 0;
};

} // namespace opsdeck
