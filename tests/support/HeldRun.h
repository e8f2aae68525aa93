#pragma once

#include <QProcess>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

namespace opsdeck::test {

// Where a run is held, and how startHeldAtStep() sees that it got there.
struct HeldStep
{
    QString step; // OPSDECK_HOLD_AT_STEP: the run holds once this step's start is journaled, before its action
    QString holdFile; // OPSDECK_HOLD_WHILE: it holds while this file exists (created by startHeldAtStep())
    QString journalPath; // the journal that shows the step started
    QString target; // the step-start's target
    QString operation; // its operation; any when empty
    int timeoutMs = 120000;
};

// Starts the opsdeck executable with `arguments` in `environment`, held at `held.step`, and returns once the journal
// shows that step started: false if the run ended first, or after `held.timeoutMs`. Removing `held.holdFile` lets the
// held run go on. The journal is read through the QSQLITE connection named "journal", added on first use and left
// open for the test.
bool startHeldAtStep(
    QProcess* cli, const QProcessEnvironment& environment, const QStringList& arguments, const HeldStep& held);

} // namespace opsdeck::test
