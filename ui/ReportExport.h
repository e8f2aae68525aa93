#pragma once

#include "runbook/RunRecord.h"

class QWidget;

namespace opsdeck::ReportExport {

// Writes the report in the format its file name ends with (.pdf, .html, .csv, .json); false with *error.
bool write(const RunRecord& record, const QString& path, QString* error);
// Asks where, with a name that says what and when, then writes; failures are shown.
void askAndWrite(QWidget* parent, const RunRecord& record);

} // namespace opsdeck::ReportExport
