#pragma once

#include "kube/KubeClient.h"

#include <QByteArray>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>
#include <QUrlQuery>

#include <optional>
#include <utility>

namespace opsdeck {

// One command run once as a batch/v1 Job of one cluster: created (one pod, restartPolicy Never, backoffLimit 0, so
// that Kubernetes never runs it a second time, whatever the first did), inspected, followed through its pod's log, and
// stopped. Blocking calls on a KubeClient, so a worker thread's. Everything needed to follow a Job is in the Job
// object: a KubeJob made afresh (another console, this one after a restart) re-attaches by namespace and name.
//
// stdout and stderr: a pod's log is both streams mixed line by line in the order they came, and nothing says which
// line came from which. A command whose result is its stdout (datamon's summaries) while its stderr is progress,
// errors or a Go panic cannot be parsed from that mix reliably: the summary's lines interleave with stderr's as they
// come. So the container runs the command (argv, never shell text) under a small `/bin/sh -c` wrapper that sends its
// stdout to a file on the Job's volume and, once the command has ended, prints that file between two marker lines
// holding a random nonce (kept in an annotation of the Job), then exits with the command's status. The log is then the
// command's stderr as it comes (its progress can be followed) and, at the end, its stdout whole. Nothing of the
// command can write between the markers (it has ended) and its output cannot forge one (it never sees the nonce).
// The image needs a POSIX sh, mkdir, cat (and df for Spec::minFreeKiB). The wrapper passes SIGTERM on to the command (a
// pod's deletion signals the container's first process only) and starts it with stdin from /dev/null.
class KubeJob
{
public:
    struct Spec
    {
        QString image;
        QString serviceAccount; // empty: the namespace's default
        QStringList argv; // the command
        QList<std::pair<QString, QString>> env; // name, value
        QString volumeClaim; // a PersistentVolumeClaim mounted at mountPath; empty: an emptyDir there
        QString mountPath; // absolute
        QString stdoutFile; // where the wrapper keeps the command's stdout: absolute, under mountPath
        QMap<QString, QString> labels; // on the Job and its pod, so that a console finds them by run and step
        qint64 minFreeKiB = 0; // the wrapper refuses to start the command with less free on the stdout file's volume
        int ttlSecondsAfterFinished = 0; // when set, Kubernetes deletes the Job and its pod that long after it ended
    };

    struct State
    {
        bool exists = false; // the Job object
        int active = 0;
        int succeeded = 0;
        int failed = 0;
        QString condition; // Complete or Failed once the Job controller has decided; empty before
        QString conditionReason; // BackoffLimitExceeded, DeadlineExceeded, ...
        QString pod; // its newest pod; empty when none is left
        QString podPhase; // Pending, Running, Succeeded, Failed
        bool podDeleting = false; // the pod has a deletionTimestamp
        std::optional<int> exitCode; // the container's terminated state
        QString reason; // terminated (Completed, Error, OOMKilled, StartError), waiting (ImagePullBackOff, ...) or
                        // the pod's own (Evicted)
        QString message;
        QDateTime startedAt; // the Job's start (its creation until the controller has started it)
        QDateTime endedAt; // its container's end, else the Job's completion; invalid while it runs

        // The command is over: its container terminated (the exit code is known), or the Job or its pod say it is
        // over without one (vanished).
        bool ended() const;
        // Over without an exit status: its pod was deleted or evicted (its node lost) before it terminated.
        bool vanished() const { return ended() && !exitCode; }
        // The container cannot start and will not without a change (an image that cannot be pulled, a secret or
        // config map missing): the Job would wait for ever.
        bool cannotStart() const;
        // One sentence: how it ended, or what it is doing.
        QString describe() const;
    };

    // What the pod's log gave since the last read.
    struct Output
    {
        QByteArray err; // the command's stderr, whole lines
        QByteArray out; // its stdout, when the wrapper prints it at the end
        bool outComplete = false; // the end marker was read: everything `out` gave, over all reads, is its stdout
    };

    KubeJob(KubeClient& client, QString ns, QString name);

    QString name() const { return m_name; }
    // "Job NS/NAME on cluster C (https://SERVER)", for messages.
    QString where() const;

    // Creates the Job. A create whose answer was lost may have created it: inspect() says.
    bool create(const Spec& spec, QString* error);
    // The Job and its pod now. `transient`, when given, says whether a failure may pass by itself (no answer, a 5xx,
    // 429), as against one that needs the admin (401, 403).
    std::optional<State> inspect(QString* error, bool* transient = nullptr);
    // The log of `state`'s pod since the last read (the whole log on the first read of a pod, or after
    // rewindLog()); nothing while the pod has not started or when it has gone.
    std::optional<Output> readLog(const State& state, QString* error, bool* transient = nullptr);
    void rewindLog();
    // The whole stdout of an ended Job (`state` from inspect()), from the end of its pod's log; nullopt with the
    // reason when it cannot be read (the pod has gone, the Job has not ended, the log does not hold it).
    std::optional<QByteArray> readStdout(const State& state, QString* error);
    // Deletes the Job and its pods (the pod's processes get SIGTERM, then SIGKILL after its grace period), then reads
    // until the Job and every pod of it are gone, at most `timeoutMs`.
    bool stop(int timeoutMs, QString* error);

    // The Job object create() sends: `spec`'s command under the wrapper that prints its stdout between `marker` lines.
    static QJsonObject manifest(const QString& name, const Spec& spec, const QString& marker);
    // What a Job object (empty: none) and its pods (a PodList's items) say.
    static State stateOf(const QJsonObject& job, const QJsonArray& pods);
    // The command (Spec::argv) of a Job object that create() made.
    static QStringList commandOf(const QJsonObject& job);
    // A Job name from `parts` joined by '-', lowercase: a DNS label of at most 63 characters, since its pods carry it
    // in a label; a longer one is cut and ends in a hash of the whole, so that names stay distinct.
    static QString jobName(const QStringList& parts);

private:
    // Where the log was read up to: its lines' times are the cursor, since the log API has no byte offset. A read
    // asks from the last line's second (sinceTime has a second's precision) and drops what it already had.
    struct LogCursor
    {
        QString pod;
        qint64 second = -1; // of the last line read; -1: nothing read yet
        qint64 nanos = 0;
        int seenAtLast = 0; // lines read with exactly that time
    };
    // Appends one line of the log (its text, without the time) to `output`, as stderr or the wrapper's stdout.
    void take(const QByteArray& text, Output* output);
    // One read of `pod`'s log with `query`, its lines taken from the cursor on.
    std::optional<Output> readLogQuery(
        const QString& pod, const QUrlQuery& query, QString* error, bool* transient = nullptr);
    QList<QJsonObject> pods(QString* error, bool* transient = nullptr);

    KubeClient& m_client;
    QString m_ns;
    QString m_name;
    QString m_marker; // the Job's stdout marker, from its annotation
    LogCursor m_cursor;
    bool m_inStdout = false;
    bool m_stdoutDone = false;
};

} // namespace opsdeck
