#pragma once

#include "runbook/RunRecord.h"

#include <QByteArray>
#include <QString>

#include <optional>

namespace opsdeck {

// The deletion report of a run, in the formats an admin hands on: JSON (the versioned RunRecord schema, for tools),
// CSV (what was deleted, for a spreadsheet), HTML (to read or print) and PDF (the same page, to file away).
class ReportWriter
{
public:
    enum class Format
    {
        Json,
        Csv,
        Html,
        Pdf
    };

    // "json", "csv", "html", "pdf", in any case.
    static std::optional<Format> formatFromName(const QString& name);

    // Replaces path atomically: a reader never sees half a report, and a failure leaves any earlier file intact.
    // PDF needs a QGuiApplication (fonts); without a display, run with QT_QPA_PLATFORM=offscreen.
    static bool write(const RunRecord& run, Format format, const QString& path, QString* error);

    // One row per deleted item: kind,id,name,details, RFC 4180 quoting, formula-like cells neutralised.
    static QByteArray toCsv(const RunRecord& run);
    // A self-contained, printable page; every value escaped.
    static QString toHtml(const RunRecord& run);
};

} // namespace opsdeck
