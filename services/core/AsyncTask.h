#pragma once

#include <QMetaObject>
#include <QObject>
#include <QPointer>
#include <QThreadPool>

#include <type_traits>

namespace opsdeck::AsyncTask {

// The one way to run a short job off the GUI thread: `work` runs on the global thread pool, then `done` gets its
// result on `context`'s thread, unless `context` is gone by then. (Operations use OperationRunner instead.)
template <typename Work, typename Done> void run(QObject* context, Work work, Done done)
{
    QPointer<QObject> guard(context);
    QThreadPool::globalInstance()->start([guard, work = std::move(work), done = std::move(done)]() mutable {
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

} // namespace opsdeck::AsyncTask
