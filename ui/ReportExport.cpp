#include "ReportExport.h"

#include "ConfirmDialog.h"
#include "runbook/ReportWriter.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QMainWindow>
#include <QRegularExpression>
#include <QStatusBar>

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

QString suggestedName(const RunRecord& record)
{
    // Letters, digits, '.', '_' and '-' only: a name that needs no quoting in a shell or a mail attachment.
    static const QRegularExpression unsafe(QStringLiteral("[^A-Za-z0-9._-]+"));
    const QString target = QString(record.target).replace(unsafe, QStringLiteral("-")).left(60);
    return QStringLiteral("%1-%2-%3.pdf")
        .arg(record.operation, target.endsWith(u'-') ? target.chopped(1) : target,
            record.startedAt.toLocalTime().toString(QStringLiteral("yyyyMMdd-HHmmss")));
}

void askAndWrite(QWidget* parent, const RunRecord& record)
{
    const QString path = QFileDialog::getSaveFileName(parent, QObject::tr("Export report"), suggestedName(record),
        QObject::tr("PDF (*.pdf);;HTML (*.html);;CSV of deleted items (*.csv);;JSON (*.json)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!write(record, path, &error)) {
        ConfirmDialog::inform(parent, QObject::tr("Export failed"), error, {});
        return;
    }
    if (auto* window = qobject_cast<QMainWindow*>(parent->window()))
        window->statusBar()->showMessage(QObject::tr("Saved the report of run %1 to %2").arg(record.id, path), 15000);
}

} // namespace opsdeck::ReportExport
