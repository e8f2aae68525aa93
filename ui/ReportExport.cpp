#include "ReportExport.h"

#include "ConfirmDialog.h"
#include "runbook/ReportWriter.h"

#include <QFileDialog>
#include <QFileInfo>

namespace opsdeck::ReportExport {

bool write(const RunRecord& record, const QString& path, QString* error)
{
    const auto format = ReportWriter::formatFromName(QFileInfo(path).suffix());
    if (!format) {
        *error = QObject::tr("%1: use a .pdf, .html, .csv or .json file name").arg(path);
        return false;
    }
    return ReportWriter::write(record, *format, path, error);
}

void askAndWrite(QWidget* parent, const RunRecord& record)
{
    const QString suggested = QStringLiteral("%1-%2-%3.pdf")
                                  .arg(record.operation, QString(record.target).replace(u'/', u'-'),
                                      record.startedAt.toLocalTime().toString(QStringLiteral("yyyyMMdd-HHmmss")));
    const QString path = QFileDialog::getSaveFileName(parent, QObject::tr("Export report"), suggested,
        QObject::tr("PDF (*.pdf);;HTML (*.html);;CSV of deleted items (*.csv);;JSON (*.json)"));
    QString error;
    if (!path.isEmpty() && !write(record, path, &error))
        ConfirmDialog::inform(parent, QObject::tr("Export failed"), error, {});
}

} // namespace opsdeck::ReportExport
