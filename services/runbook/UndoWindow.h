#pragma once

#include "runbook/Journal.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>

#include <optional>

namespace opsdeck {

// What a run kept so that it can be taken back (`opsdeck restore RUN_ID`), and until when. The journal is the index
// of windows: a run that keeps one journals an "undo-window" entry, and the run that ends it (a restore, a trash
// purge) an "undo-closed" entry naming it. Whether the kept data is still there is read from the target by the
// restore's plan, never assumed from the journal.
struct UndoWindow
{
    enum class State
    {
        Open, // restorable until `until`
        Expired, // `until` has passed (by the journal's clock): a restore is refused
        Restored, // a restore run put it back
        Ended // ended early (trash purge), or made unrestorable (a datamon purge took its blobs)
    };

    static constexpr QLatin1StringView kOpenedKind { "undo-window" };
    static constexpr QLatin1StringView kClosedKind { "undo-closed" };

    QString runId; // the run that kept it
    QString operation; // that run's operation: "deploy", "packit-wipe", ...
    QString target;
    QString user; // who ran it
    QDateTime openedAt;
    QDateTime until;
    QString where; // for people: where the kept data is
    qint64 bytes = -1; // the space it holds; -1 unknown
    QStringList restorable; // what a restore puts back
    QStringList notRestorable;
    QString confirmWith; // the name a restore of it is confirmed with
    QJsonObject restore; // what the system's restore needs (revisions, paths, checksums), as the run journaled it
    State state = State::Open;
    QString closedBy; // the run that ended it
    QString closedReason;
    QDateTime closedAt;

    static QString stateName(State state);
    // For people: "open", "expired at …", "restored by run …".
    QString stateText() const;
    // The data of its "undo-window" entry (the run's own fields come from the entry).
    QJsonObject entryData() const;
    // For `opsdeck trash list --json`: every field.
    QJsonObject toJson() const;
};

namespace UndoWindows {

// The windows the entries (kinds undo-window and undo-closed, in journal order) describe, judged at `now` (the
// journal's clock), in the order they were opened. Pure.
QList<UndoWindow> fold(const QList<JournalEntry>& entries, const QDateTime& now);
// The journal's windows, read and folded; nullopt with *error when the journal cannot be read.
std::optional<QList<UndoWindow>> read(const Journal& journal, QString* error);
// The window run `runId` kept, if any.
std::optional<UndoWindow> find(const QList<UndoWindow>& windows, const QString& runId);
// The data of the "undo-closed" entry that ends run `runId`'s window.
QJsonObject closedData(const QString& runId, UndoWindow::State state, const QString& reason);
// The sha256 of each file a window keeps (file name -> hex), as its `restore` data journals them, and back.
QJsonObject sumsJson(const QMap<QString, QString>& sums);
QMap<QString, QString> sumsFrom(const QJsonObject& object);

} // namespace UndoWindows

} // namespace opsdeck
