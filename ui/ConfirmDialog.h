#pragma once

#include "runbook/Plan.h"

#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

#include <optional>

class QWidget;

namespace opsdeck {

// The one way opsdeck asks "do this?": a verb button (never "Yes"), Cancel as the default, and an optional
// typed-name check. Tests pre-answer it with setNextAnswer instead of clicking a modal dialog.
//
// A plan with an undo window shows it (until when, how much it keeps and where, what a restore puts back) with
// "Keep an undo window" checked; unchecking it asks for a reason (the journal keeps it), and the verb stays
// disabled until one is typed.
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
        bool irreversible = false; // says "This cannot be undone." (when there is no undo window to keep)
        // The plan's undo window. Available: shown with the choice to keep it; either way its notRestorable and
        // endsWindows are listed.
        std::optional<Plan::Undo> undo;
    };

    // True if the admin confirmed. Then, given `undoChoice`, its `enabled` and `offReason` are the admin's choice
    // (enabled, no reason, when the request has no undo window to turn off); the rest of it is left as it was.
    static bool ask(QWidget* parent, const Request& request, Plan::Undo* undoChoice = nullptr);
    // A request showing an operation's plan: its steps and details, counts, warnings, environment, and the typed
    // name when the plan needs one, and its undo window. The caller sets title and text.
    static Request fromPlan(const Plan& plan);
    // Shows a message with only a Close button (for refusals such as a changed host key).
    static void inform(QWidget* parent, const QString& title, const QString& text, const QString& details);

    // The next ask() (or inform()) answers `accept` without showing anything. A given `undoOffReason` means the admin
    // unchecked "Keep an undo window" and typed that reason; without one the window is kept.
    static void setNextAnswer(bool accept, std::optional<QString> undoOffReason = {});

private:
    static std::optional<bool> s_nextAnswer;
    static std::optional<QString> s_nextUndoOffReason;
};

} // namespace opsdeck
