#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>

namespace opsdeck {

// The registry of every secret value this process resolved (from the environment, the keychain, a prompt), and the
// one function that takes them out of text before it is kept anywhere: journal entries, step output, reports and
// log messages. Stripping keys by name is not enough: a password echoed by a command, passed in an argument or
// quoted in an error has no key. Thread-safe; values stay for the life of the process.
namespace SecretScrubber {

// What each occurrence of a secret becomes.
inline constexpr QStringView kMask = u"[secret]";

// Remembers `secret`; an empty one is ignored.
void remember(const QString& secret);

// `text` with every remembered secret replaced by kMask (longer secrets first, so that one containing another
// goes whole).
QString scrub(const QString& text);
QByteArray scrub(const QByteArray& utf8);
// Every string in `value`, at any depth (object members and array elements; keys stay).
QJsonValue scrub(const QJsonValue& value);
QJsonObject scrub(const QJsonObject& object);

// Installs a Qt message handler that scrubs each message, then hands it to the handler that was installed before
// (Qt's default: stderr or the journal). Once per process, from main().
void installMessageHandler();

} // namespace SecretScrubber
} // namespace opsdeck
