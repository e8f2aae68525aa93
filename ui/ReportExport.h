#pragma once

#include "runbook/RunRecord.h"

class QWidget;

namespace opsdeck::ReportExport {

// Writes the report in the format its file name ends with (.pdf, .html, .csv, .json); false with *error.
bool write(const RunRecord& record, const QString& path, QString* error);
// "deploy-all-3-machines-wpia-packit-dev-wpia-packit-20261207-063222.pdf": what and when, in characters that need no
// quoting.
QString suggestedName(const RunRecord& record);
// Asks where, with a name that says what and when, then writes; failures are shown.
void askAndWrite(QWidget* parent, const RunRecord& record);

} // namespace opsdeck::ReportExport
