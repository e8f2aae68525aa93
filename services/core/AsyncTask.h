#pragma once

#include <QMetaObject>
#include <QObject>
#include <QPointer>
#include <QThreadPool>

#include <type_traits>

namespace opsdeck::AsyncTask {

// The one way to run a short job off the GUI thread: `work` runs on `pool`, then `done` gets its result on
// `context`'s thread, unless `context` is gone by then. (Operations use OperationRunner instead.) A context whose
// jobs may outlive it gives them a pool of its own and waits for that pool when it goes: jobs still running in
// the global pool at exit hold up the application's destruction.
template <typename Work, typename Done> void run(QThreadPool* pool, QObject* context, Work work, Done done)
{
    QPointer<QObject> guard(context);
    pool->start([guard, work = std::move(work), done = std::move(done)]() mutable {
        auto result = work();
        if (!guard)
            return;
        QMetaObject::invokeMethod(
            guard.data(),
            [guard, done = std::move(done), result = std::move(result)]() mutable {
                if (guard)
                    done(std::move(result));
            },
            Qt::QueuedConnection);
    });
}

template <typename Work, typename Done> void run(QObject* context, Work work, Done done)
{
    run(QThreadPool::globalInstance(), context, std::move(work), std::move(done));
}

} // namespace opsdeck::AsyncTask
