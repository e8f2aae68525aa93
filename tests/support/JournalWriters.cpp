#include "JournalWriters.h"

#include <QDebug>
#include <QThread>

#include <memory>
#include <vector>

namespace opsdeck::test {

int appendAsChild(Journal journal, const QString& runId, int count)
{
    QString error;
    if (!journal.open(&error)) {
        qCritical().noquote() << error;
        return 1;
    }
    for (int i = 0; i < count; ++i) {
        if (!journal.append(runId, QStringLiteral("output"), QStringLiteral("op"), QStringLiteral("t"),
                { { QStringLiteral("line"), i } }, &error)) {
            qCritical().noquote() << error;
            return 1;
        }
    }
    return 0;
}

QStringList appendOnThreads(
    const QStringList& runIds, const std::function<void(const QString& runId, QStringList* failures)>& append)
{
    std::vector<QStringList> failures(std::size_t(runIds.size()));
    std::vector<std::unique_ptr<QThread>> threads;
    for (qsizetype i = 0; i < runIds.size(); ++i)
        threads.emplace_back(QThread::create(append, runIds.at(i), &failures[std::size_t(i)]));
    for (const auto& thread : threads)
        thread->start();
    QStringList all;
    for (qsizetype i = 0; i < runIds.size(); ++i) {
        if (!threads[std::size_t(i)]->wait(120000))
            all << QStringLiteral("thread %1 did not end within two minutes").arg(runIds.at(i));
        all << failures[std::size_t(i)];
    }
    return all;
}

} // namespace opsdeck::test
