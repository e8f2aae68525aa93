#include "runbook/UndoWindow.h"

#include <QJsonArray>
#include <QVariant>

using namespace Qt::StringLiterals;

namespace opsdeck {

namespace {

std::optional<UndoWindow::State> stateFromName(const QString& name)
{
    for (const UndoWindow::State state : { UndoWindow::State::Open, UndoWindow::State::Expired,
             UndoWindow::State::Restored, UndoWindow::State::Ended }) {
        if (UndoWindow::stateName(state) == name)
            return state;
    }
    return std::nullopt;
}

} // namespace

QString UndoWindow::stateName(State state)
{
    switch (state) {
    case State::Open:
        return u"open"_s;
    case State::Expired:
        return u"expired"_s;
    case State::Restored:
        return u"restored"_s;
    case State::Ended:
        return u"ended"_s;
    }
    return {};
}

QString UndoWindow::stateText() const
{
    switch (state) {
    case State::Open:
        return u"open until %1"_s.arg(utcMinuteText(until));
    case State::Expired:
        return u"expired at %1"_s.arg(utcMinuteText(until));
    case State::Restored:
        return u"restored by run %1 at %2"_s.arg(closedBy, utcMinuteText(closedAt));
    case State::Ended:
        return u"ended by run %1 at %2%3"_s.arg(
            closedBy, utcMinuteText(closedAt), closedReason.isEmpty() ? QString() : u": "_s + closedReason);
    }
    return {};
}

QJsonObject UndoWindow::entryData() const
{
    return { { u"until"_s, until.toUTC().toString(Qt::ISODateWithMs) }, { u"where"_s, where }, { u"bytes"_s, bytes },
        { u"restorable"_s, QJsonArray::fromStringList(restorable) },
        { u"notRestorable"_s, QJsonArray::fromStringList(notRestorable) }, { u"confirmWith"_s, confirmWith },
        { u"restore"_s, restore } };
}

QJsonObject UndoWindow::toJson() const
{
    QJsonObject object = entryData();
    object.insert(u"runId"_s, runId);
    object.insert(u"operation"_s, operation);
    object.insert(u"target"_s, target);
    object.insert(u"user"_s, user);
    object.insert(u"openedAt"_s, openedAt.toUTC().toString(Qt::ISODateWithMs));
    object.insert(u"state"_s, stateName(state));
    if (!closedBy.isEmpty()) {
        object.insert(u"closedBy"_s, closedBy);
        object.insert(u"closedReason"_s, closedReason);
        object.insert(u"closedAt"_s, closedAt.toUTC().toString(Qt::ISODateWithMs));
    }
    return object;
}

namespace UndoWindows {

QList<UndoWindow> fold(const QList<JournalEntry>& entries, const QDateTime& now)
{
    QList<UndoWindow> windows;
    QHash<QString, qsizetype> byRun;
    for (const JournalEntry& entry : entries) {
        if (entry.kind == UndoWindow::kOpenedKind) {
            // A run keeps one window; journaling it again (a resumed run) only updates it.
            UndoWindow window;
            window.runId = entry.runId;
            window.operation = entry.operation;
            window.target = entry.target;
            window.user = entry.user;
            window.openedAt = entry.at;
            window.until = QDateTime::fromString(entry.data.value(u"until"_s).toString(), Qt::ISODateWithMs);
            window.where = entry.data.value(u"where"_s).toString();
            window.bytes = entry.data.value(u"bytes"_s).toInteger(-1);
            window.restorable = entry.data.value(u"restorable"_s).toVariant().toStringList();
            window.notRestorable = entry.data.value(u"notRestorable"_s).toVariant().toStringList();
            window.confirmWith = entry.data.value(u"confirmWith"_s).toString();
            window.restore = entry.data.value(u"restore"_s).toObject();
            if (const auto known = byRun.constFind(window.runId); known != byRun.cend()) {
                windows[*known] = window;
            } else {
                byRun.insert(window.runId, windows.size());
                windows << window;
            }
        } else if (entry.kind == UndoWindow::kClosedKind) {
            const auto known = byRun.constFind(entry.data.value(u"window"_s).toString());
            const auto state = stateFromName(entry.data.value(u"state"_s).toString());
            // A window is closed once; a later close of a closed one (two restores racing past their plans) changes
            // nothing, and an unknown state (a newer console's) leaves it as it was.
            if (known == byRun.cend() || !state || windows[*known].state != UndoWindow::State::Open)
                continue;
            UndoWindow& window = windows[*known];
            window.state = *state;
            window.closedBy = entry.runId;
            window.closedReason = entry.data.value(u"reason"_s).toString();
            window.closedAt = entry.at;
        }
    }
    for (UndoWindow& window : windows) {
        // A window without a valid end is not open: nothing may be restored on a guess.
        if (window.state == UndoWindow::State::Open && (!window.until.isValid() || window.until <= now))
            window.state = UndoWindow::State::Expired;
    }
    return windows;
}

std::optional<QList<UndoWindow>> read(const Journal& journal, QString* error)
{
    const auto now = journal.now(error);
    if (!now)
        return std::nullopt;
    QString readError;
    const QList<JournalEntry> entries
        = journal.entriesOfKinds({ UndoWindow::kOpenedKind, UndoWindow::kClosedKind }, &readError);
    if (!readError.isEmpty()) {
        if (error)
            *error = readError;
        return std::nullopt;
    }
    return fold(entries, *now);
}

std::optional<UndoWindow> find(const QList<UndoWindow>& windows, const QString& runId)
{
    for (const UndoWindow& window : windows) {
        if (window.runId == runId)
            return window;
    }
    return std::nullopt;
}

QJsonObject closedData(const QString& runId, UndoWindow::State state, const QString& reason)
{
    return { { u"window"_s, runId }, { u"state"_s, UndoWindow::stateName(state) }, { u"reason"_s, reason } };
}

QJsonObject sumsJson(const QMap<QString, QString>& sums)
{
    QJsonObject object;
    for (auto it = sums.cbegin(); it != sums.cend(); ++it)
        object.insert(it.key(), it.value());
    return object;
}

QMap<QString, QString> sumsFrom(const QJsonObject& object)
{
    QMap<QString, QString> sums;
    for (auto it = object.begin(); it != object.end(); ++it)
        sums.insert(it.key(), it.value().toString());
    return sums;
}

} // namespace UndoWindows

} // namespace opsdeck
