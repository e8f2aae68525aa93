#pragma once

#include "runbook/Journal.h"

#include <QString>
#include <QStringList>

#include <functional>

namespace opsdeck::test {

// What a journal test's own executable does when a test starts it again as another console: opens `journal` and
// appends `count` "output" entries of run `runId`, numbered 0, 1, ... in "line". Its exit code: 0, or 1 with the
// reason on stderr.
int appendAsChild(Journal journal, const QString& runId, int count);

// Runs `append(runId, &failures)` for each run id on a thread of its own, all at once; the failures of all once every
// thread ended (a thread that did not within two minutes is one).
QStringList appendOnThreads(
    const QStringList& runIds, const std::function<void(const QString& runId, QStringList* failures)>& append);

} // namespace opsdeck::test
