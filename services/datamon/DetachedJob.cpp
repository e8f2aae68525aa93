#include "datamon/DetachedJob.h"

#include <QList>
#include <QRegularExpression>
#include <algorithm>

namespace opsdeck {

namespace {

// The supervisor: leads the job's process group, runs the command in the foreground (an asynchronous command of a
// non-interactive shell would ignore SIGINT, and so would datamon), survives the signals a stop sends to the group
// (a trap with a command, which its child does not inherit), and writes the exit status atomically.
const QString kSupervise = QStringLiteral("jobdir=$1; shift\n"
                                          "trap : INT TERM HUP\n"
                                          "echo $$ > \"$jobdir/pid.tmp\" && mv -f \"$jobdir/pid.tmp\" \"$jobdir/pid\"\n"
                                          "\"$@\" > \"$jobdir/out\" 2> \"$jobdir/err\" < /dev/null\n"
                                          "echo $? > \"$jobdir/rc.tmp\" && mv -f \"$jobdir/rc.tmp\" \"$jobdir/rc\"\n");

// setsid -f nohup: a new session with no terminal to hang up, forked off the starting shell, which returns at once.
// (Not systemd-run: a transient unit gets the manager's environment, not this cleaned session's, so datamon would
// lose the variables its credentials come from, and a non-root user's units die with its last session unless
// lingering is on.) The start waits (5 s at most) for the pid, so the journal can record it.
const QString kStart
    = QStringLiteral("set -eu\n"
                     "jobdir=$1; cwd=$2; supervise=$3; shift 3\n"
                     "umask 077\n"
                     "mkdir -p -- \"${jobdir%/*}\"\n"
                     "mkdir -- \"$jobdir\"\n"
                     "printf '%s\\n' \"$@\" > \"$jobdir/argv\"\n"
                     "cd -- \"$cwd\"\n"
                     "setsid -f nohup /bin/sh -c \"$supervise\" sh \"$jobdir\" \"$@\" < /dev/null > /dev/null 2>&1\n"
                     "i=0\n"
                     "while [ ! -s \"$jobdir/pid\" ]; do\n"
                     "  i=$((i + 1)); [ $i -le 100 ] || { echo 'the job did not start within 5 s' >&2; exit 1; }\n"
                     "  sleep 0.05\n"
                     "done\n"
                     "cat \"$jobdir/pid\"\n");

// Whether the job runs is read before rc, and rc before the sizes: the supervisor writes rc before it exits, so a job
// seen not running without rc has vanished (not just ended between the two reads), and once rc is there, the output
// it follows is complete. With a wait (tenths of a second), the poll first waits on the host until the job has ended,
// or has new output and `settle` tenths have passed: a step's end is seen within 0.1 s, and a chatty job (datamon's
// zap lines) is read once per settle rather than once per line, with one round trip per wait. The first tenths test
// only rc: no process is started for them but sleep (the bastion runs datamon on the same cores). A job has ended
// when rc is there and none of its session's processes runs. A zombie does not run: the supervisor stays one until
// init reaps it, which some inits (a container's, a VM's agent) do only once a second, and kill -0 still reaches it.
// Without ps, kill -0 decides.
const QString kPoll = QStringLiteral(
    "jobdir=$1; oo=$2; eo=$3; lim=$4; wait=$5; settle=$6\n"
    "[ -d \"$jobdir\" ] || { echo 'job none'; exit 0; }\n"
    "running() {\n"
    "  pid=$(cat \"$jobdir/pid\" 2>/dev/null || true); case $pid in ''|*[!0-9]*) pid=0;; esac\n"
    "  [ \"$pid\" -gt 1 ] && kill -s 0 -- \"-$pid\" 2>/dev/null || return 1\n"
    "  states=$(ps -o stat= -s \"$pid\" 2>/dev/null) || return 0\n"
    "  printf '%s\\n' \"$states\" | grep -qv '^ *Z'\n"
    "}\n"
    "i=0\n"
    "while [ $i -lt \"$wait\" ]; do\n"
    "  if [ -e \"$jobdir/rc\" ]; then\n"
    "    running || break\n"
    "  elif [ $i -ge \"$settle\" ]; then\n"
    "    [ \"$(wc -c < \"$jobdir/out\" 2>/dev/null || echo 0)\" -le \"$oo\" ] || break\n"
    "    [ \"$(wc -c < \"$jobdir/err\" 2>/dev/null || echo 0)\" -le \"$eo\" ] || break\n"
    "  fi\n"
    "  sleep 0.1; i=$((i + 1))\n"
    "done\n"
    "alive=0; if running; then alive=1; fi\n"
    "rc=$(cat \"$jobdir/rc\" 2>/dev/null || true); case $rc in ''|*[!0-9]*) rc=-;; esac\n"
    "os=$(wc -c < \"$jobdir/out\" 2>/dev/null || echo 0); es=$(wc -c < \"$jobdir/err\" 2>/dev/null || echo 0)\n"
    "n=$((os - oo)); [ $n -ge 0 ] || n=0; [ $n -le $lim ] || n=$lim\n"
    "m=$((es - eo)); [ $m -ge 0 ] || m=0; [ $m -le $lim ] || m=$lim\n"
    "echo \"job $pid $alive $rc $os $es $n $m\"\n"
    "if [ $n -gt 0 ]; then tail -c +$((oo + 1)) \"$jobdir/out\" | head -c $n; fi\n"
    "if [ $m -gt 0 ]; then tail -c +$((eo + 1)) \"$jobdir/err\" | head -c $m; fi\n"
    "exit 0\n");

// No exit status yet, and a pid that leads a group: never a signal to a recycled pid of a job long finished.
const QString kStop = QStringLiteral("jobdir=$1; sig=$2\n"
                                     "[ ! -e \"$jobdir/rc\" ] || { echo 'the job has already ended'; exit 0; }\n"
                                     "pid=$(cat \"$jobdir/pid\" 2>/dev/null || true)\n"
                                     "case $pid in ''|*[!0-9]*) echo 'the job has no pid' >&2; exit 1;; esac\n"
                                     "[ \"$pid\" -gt 1 ] || { echo 'the job has no pid' >&2; exit 1; }\n"
                                     "kill -s \"$sig\" -- \"-$pid\"\n");

// One block per job: a header line, then its argv and its stdout's start, each line behind a tag. Names come from the
// glob, and run ids and steps are checked when read.
const QString kFind = QStringLiteral("runs=$1; lim=$2; shift 2\n"
                                     "for step in \"$@\"; do\n"
                                     "  for d in \"$runs\"/*/jobs/\"$step\"; do\n"
                                     "    [ -f \"$d/argv\" ] || continue\n"
                                     "    rc=$(cat \"$d/rc\" 2>/dev/null || true); case $rc in ''|*[!0-9]*) rc=-; "
                                     "ended=-;; *) ended=$(stat -c %.3Y \"$d/rc\");; esac\n"
                                     "    run=${d%/jobs/*}; run=${run##*/}\n"
                                     "    echo \"@job $run $step $(stat -c %.3Y \"$d/argv\") $ended $rc\"\n"
                                     "    sed 's/^/a /' \"$d/argv\"\n"
                                     "    { head -c \"$lim\" \"$d/out\" 2>/dev/null | sed 's/^/o /'; echo; }\n"
                                     "  done\n"
                                     "done\n"
                                     "exit 0\n");

QStringList shell(const QString& script)
{
    return { QStringLiteral("/bin/sh"), QStringLiteral("-c"), script, QStringLiteral("sh") };
}

} // namespace

DetachedJob::DetachedJob(QString dir)
    : m_dir(std::move(dir))
{
}

QStringList DetachedJob::startArgv(const QStringList& command, const QString& cwd) const
{
    return shell(kStart) + QStringList { m_dir, cwd, kSupervise } + command;
}

QStringList DetachedJob::pollArgv(qint64 outOffset, qint64 errOffset, qint64 limit, int waitMs, int settleMs) const
{
    const int wait = std::clamp(waitMs, 0, 60000) / 100;
    return shell(kPoll)
        + QStringList { m_dir, QString::number(outOffset), QString::number(errOffset), QString::number(limit),
              QString::number(wait), QString::number(std::clamp(settleMs / 100, 0, wait)) };
}

QStringList DetachedJob::stopArgv(const QString& signal) const
{
    static const QStringList allowed = { QStringLiteral("INT"), QStringLiteral("TERM"), QStringLiteral("KILL") };
    return shell(kStop) + QStringList { m_dir, allowed.contains(signal) ? signal : QStringLiteral("TERM") };
}

QStringList DetachedJob::findArgv(const QString& runsDir, const QStringList& steps, qint64 outLimit)
{
    return shell(kFind) + QStringList { runsDir, QString::number(outLimit) } + steps;
}

std::optional<QList<DetachedJob::Found>> DetachedJob::parseFound(const QByteArray& text, QString* error)
{
    static const QRegularExpression header(
        QStringLiteral("^@job ([A-Za-z0-9-]{1,64}) ([a-z-]{1,40}) ([0-9]{1,12}(?:\\.[0-9]{1,9})?) "
                       "(-|[0-9]{1,12}(?:\\.[0-9]{1,9})?) (-|[0-9]{1,3})\\z"));
    QList<Found> found;
    const QList<QByteArray> lines = text.split('\n');
    for (qsizetype i = 0; i < lines.size(); ++i) {
        const QByteArray& line = lines[i];
        if (line.isEmpty()) // ends each job's stdout, which may not end with a newline
            continue;
        if (line.startsWith("a ") && !found.isEmpty()) {
            found.last().argv << QString::fromUtf8(line.mid(2));
        } else if (line.startsWith("o ") && !found.isEmpty()) {
            found.last().out += line.mid(2) + '\n';
        } else {
            const QRegularExpressionMatch match = header.match(QString::fromUtf8(line));
            if (!match.hasMatch()) {
                *error = QStringLiteral("unexpected line %1 in the list of jobs: %2")
                             .arg(i + 1)
                             .arg(QString::fromUtf8(line.left(120)));
                return std::nullopt;
            }
            Found job;
            job.runId = match.captured(1);
            job.step = match.captured(2);
            const auto time = [](const QString& seconds) {
                return QDateTime::fromMSecsSinceEpoch(qRound64(seconds.toDouble() * 1000), Qt::UTC);
            };
            job.startedAt = time(match.captured(3));
            if (match.captured(4) != u'-')
                job.endedAt = time(match.captured(4));
            if (match.captured(5) != u'-')
                job.exitCode = match.captured(5).toInt();
            found << job;
        }
    }
    return found;
}

std::optional<DetachedJob::State> DetachedJob::parsePoll(const QByteArray& text, QString* error)
{
    const qsizetype eol = text.indexOf('\n');
    const QList<QByteArray> head = text.left(eol < 0 ? text.size() : eol).split(' ');
    State state;
    if (head.size() == 2 && head[0] == "job" && head[1] == "none" && eol == text.size() - 1)
        return state;
    const auto fail = [&](const QString& why) {
        *error = QStringLiteral("unexpected answer from the job poll (%1): %2")
                     .arg(why, QString::fromUtf8(text.left(120)).toHtmlEscaped());
        return std::nullopt;
    };
    if (eol < 0 || head.size() != 8 || head[0] != "job")
        return fail(QStringLiteral("no job line"));
    bool ok[7] = {};
    state.exists = true;
    state.pid = head[1].toLongLong(&ok[0]);
    const int alive = head[2].toInt(&ok[1]);
    if (head[3] != "-")
        state.exitCode = head[3].toInt(&ok[2]);
    else
        ok[2] = true;
    state.outSize = head[4].toLongLong(&ok[3]);
    state.errSize = head[5].toLongLong(&ok[4]);
    const qint64 n = head[6].toLongLong(&ok[5]);
    const qint64 m = head[7].toLongLong(&ok[6]);
    for (bool b : ok) {
        if (!b)
            return fail(QStringLiteral("a field is not a number"));
    }
    if (state.pid < 0 || (alive != 0 && alive != 1) || n < 0 || m < 0 || text.size() - eol - 1 != n + m)
        return fail(QStringLiteral("the sizes do not add up"));
    state.alive = alive == 1;
    state.out = text.mid(eol + 1, n);
    state.err = text.mid(eol + 1 + n, m);
    return state;
}

} // namespace opsdeck
