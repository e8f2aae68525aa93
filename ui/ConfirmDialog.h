#pragma once

#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

#include <optional>

class QWidget;

namespace opsdeck {

struct Plan;

// The one way opsdeck asks "do this?": a verb button (never "Yes"), Cancel as the default, and an optional
// typed-name check. Tests pre-answer it with setNextAnswer instead of clicking a modal dialog.
class ConfirmDialog
{
public:
    struct Request
    {
        QString title; // names the action and the target
        QString text; // what will happen, in plain words
        QString details; // monospace block: fingerprints, commands, counts
        QString verb; // the button: "Trust host", "Wipe training"
        bool destructive = false;
        QString typedName; // non-empty: the verb stays disabled until this is typed
        QString environment; // "production" is shown in red
        QList<QPair<QString, QString>> counts; // label, value: what will be lost
        QStringList warnings;
        bool irreversible = false; // says "This cannot be undone."
    };

    static bool ask(QWidget* parent, const Request& request);
    // A request showing an operation's plan: its steps and details, counts, warnings, environment, and the typed
    // name when the plan needs one. The caller sets title and text.
    static Request fromPlan(const Plan& plan);
    // Shows a message with only a Close button (for refusals such as a changed host key).
    static void inform(QWidget* parent, const QString& title, const QString& text, const QString& details);

    static void setNextAnswer(bool accept);

private:
    static std::optional<bool> s_nextAnswer;
};

} // namespace opsdeck
