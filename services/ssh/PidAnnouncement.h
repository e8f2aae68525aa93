#pragma once

#include <QByteArray>

namespace opsdeck {

// The remote command's pid, announced on stderr by the login shell before it execs the command
// (`echo opsdeck-pid-<nonce>:$$ >&2; exec ...`). Each command gets a random nonce, and only a line with exactly
// that marker counts: login output (a .bashrc, a motd) cannot know it, so it cannot make opsdeck kill another
// process group. A pid <= 1 is refused: `kill -- -1` would signal every process the user may signal.
class PidAnnouncement
{
public:
    PidAnnouncement(); // a new random nonce
    explicit PidAnnouncement(const QByteArray& nonce); // tests

    // "opsdeck-pid-<nonce>:"
    const QByteArray& marker() const { return m_marker; }
    // The shell text that announces the pid; the command's own text follows it.
    QByteArray shellPrefix() const;

    // Feeds stderr while the announcement is awaited. Returns false (and holds the data back) until it is decided;
    // then *data is what passes through: every other line, the announcement taken out. After kSearchLimit bytes
    // without it, there is none (a shell that did not run the prefix): nothing is stripped.
    bool take(QByteArray* data);
    bool decided() const { return m_pid != 0; }
    // The announced process group to kill, or -1: none came, or it was refused (<= 1 or not a number).
    qint64 pid() const { return m_pid; }
    // Stderr held back while waiting (the command ended first); emptied.
    QByteArray release();

    static constexpr qsizetype kSearchLimit = 4096;

private:
    QByteArray m_marker;
    QByteArray m_head;
    qint64 m_pid = 0;
};

} // namespace opsdeck
