#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace opsdeck {

// A long command (a purge step: hours on a real store) started on the datamon host so that it outlives the console,
// its SSH connection and a laptop going to sleep: datamon has no signal handling, so a hangup would kill it and
// leave purge.lock behind. Everything about it is a file in its job directory on the host, so any console can
// follow it, and re-attach after a restart, from what it reads there:
//   argv      the command, one argument per line (for the admin; never run again from it)
//   pid       the supervising shell's pid, which leads the job's process group (and session)
//   out, err  the command's stdout and stderr
//   rc        its exit status, written by the supervisor once it has ended (128+N: killed by signal N)
// This class only builds the argv of the three things done to a job (start, poll, stop) and reads a poll's answer;
// DatamonHost runs them.
class DetachedJob
{
public:
    // `dir`: an absolute path on the host, strictly under the context's workDir (the caller checks it).
    explicit DetachedJob(QString dir);

    const QString& dir() const { return m_dir; }

    // Creates the job directory (refused if it exists: a step starts once), starts `command` in `cwd` detached, and
    // prints the job's pid once it runs. The command gets the starting shell's environment (already cleaned).
    QStringList startArgv(const QStringList& command, const QString& cwd) const;

    // What a poll reads: the job's state and its output after the given offsets (at most `limit` bytes of each),
    // once the job has ended, or has output past them and `settleMs` have passed, or `waitMs` have passed.
    QStringList pollArgv(qint64 outOffset, qint64 errOffset, qint64 limit, int waitMs = 0, int settleMs = 0) const;

    // Sends `signal` (INT, TERM or KILL) to the job's process group, only while it has no exit status yet.
    QStringList stopArgv(const QString& signal) const;

    struct State
    {
        bool exists = false; // no directory: never started (or another host)
        qint64 pid = 0; // 0: the supervisor has not written it (yet)
        bool alive = false; // some process of its group still runs
        std::optional<int> exitCode; // set once the supervisor wrote rc
        qint64 outSize = 0;
        qint64 errSize = 0;
        QByteArray out; // from the poll's outOffset on
        QByteArray err;
        // Ended without an exit status: the supervisor itself was killed (SIGKILL, the host rebooted).
        bool vanished() const { return exists && pid > 0 && !alive && !exitCode; }
    };

    // Reads pollArgv's stdout; nullopt with *error when it is not what the poll script prints.
    static std::optional<State> parsePoll(const QByteArray& text, QString* error);

    // A job found in a runs directory (<runsDir>/<run>/jobs/<step>), as its files say.
    struct Found
    {
        QString runId;
        QString step;
        QString dir;
        QDateTime startedAt; // argv's time, to the millisecond
        QDateTime endedAt; // rc's; invalid while it has none
        std::optional<int> exitCode;
        QStringList argv;
        QByteArray out; // its first `outLimit` bytes
    };
    // Lists the jobs of the given steps of every run under `runsDir`, with the first `outLimit` bytes of their stdout.
    static QStringList findArgv(const QString& runsDir, const QStringList& steps, qint64 outLimit);
    static std::optional<QList<Found>> parseFound(const QByteArray& text, QString* error);

private:
    QString m_dir;
};

} // namespace opsdeck
