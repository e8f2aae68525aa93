#pragma once

#include "runbook/UndoWindow.h"
#include "runbook/UndoWindowEndOperation.h"

#include <QMap>
#include <QString>

#include <optional>

namespace opsdeck {

// Where the Pulumi purge's undo windows keep their restore files: on the console that ran the purge (it reaches the
// database directly, not through a host's disk), one folder per run, mode 0700, under the journal's local folder
// ("<base>/<run id>"). The journal's window names the machine, the folder and each file's sha256.
namespace PulumiUndoFiles {

// The folder of run `runId` under `base`.
QString dirFor(const QString& base, const QString& runId);
// Why `dir` is not a run's folder right under `base` (the journal names it, and a trash purge deletes it); empty when
// it is.
QString dirProblem(const QString& base, const QString& dir);
// This machine, as a window's "machine" names it.
QString machine();

// Creates the run's folder (0700); false with *error if it cannot.
bool create(const QString& dir, QString* error);

struct Listed
{
    QMap<QString, QString> sums; // file name -> sha256 of the restore files (*.rows) in the folder
    qint64 bytes = 0;
};
// The restore files in `dir`, summed; nullopt with *error if one cannot be read. An absent folder lists nothing.
std::optional<Listed> list(const QString& dir, QString* error);

// Deletes the folder of `window` (its restore: machine, dir), checked to be a run's folder under `base` on this
// machine; true when it is gone. A folder on another machine is an error naming that machine.
bool remove(const QString& base, const UndoWindow& window, QString* error);

// What `window` keeps here, for its trash purge (UndoWindowEndOperation): the files and bytes, and their removal;
// nullopt with *error when its folder is not a run's folder under `base` or is on another machine.
std::optional<UndoWindowEndOperation::KeptData> keptData(const QString& base, const UndoWindow& window, QString* error);

} // namespace PulumiUndoFiles
} // namespace opsdeck
