#pragma once

// The Studio's one way to run short and medium work off the GUI thread (loading data, reading
// and writing the experiment store, building a results matrix, inspecting a run, scoring with an
// LLM). Long training work has its own controllers (RunController, SweepController) with the
// same rules:
//
//  - A job runs `work(JobContext&) -> Result` on a pool thread (or on the runner's own single
//    thread, for core objects that must stay on one thread, such as the RunInspector).
//  - Every job has a shared cancel token (`JobContext::cancelToken()`), handed to core, which polls
//    it. The owner cancels one channel or all jobs.
//  - Jobs on the same channel: a newer request supersedes an older one; the older one's token is
//    set and its result dropped.
//  - Results, progress and errors reach the owner on its thread, and only while the runner is
//    alive and the job is still current. An error is never swallowed: it goes to `failed`; a job
//    stopped by its token reports nothing.
//  - The runner is a child of its owner; its destructor cancels every job and waits for them, so
//    a job never outlives the object it reports to.

#include <QFuture>
#include <QHash>
#include <QMetaObject>
#include <QObject>
#include <QString>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrentRun>

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/error.h"
#include "error_text.h"

namespace sllmr::ui {

class JobRunner;

/// One job's cancel token and identity.
struct JobTicket
{
    std::atomic<bool> cancel{false};
    QString channel;
};

/// Handed to a job's work function, on its worker thread.
class JobContext
{
public:
    /// The job's cancel token, for core's `cancel` pointers.
    [[nodiscard]] std::atomic<bool>* cancelToken() const { return &m_ticket->cancel; }
    [[nodiscard]] bool isCancelled() const { return m_ticket->cancel.load(); }
    /// Throws Error(Cancelled) once the token is set: a convenient check between stages.
    void checkCancelled() const;
    /// Runs `fn` on the owner's thread while the job is still current (progress reports).
    void post(std::function<void()> fn) const;

private:
    friend class JobRunner;
    JobContext(JobRunner* runner, std::shared_ptr<JobTicket> ticket)
        : m_runner(runner), m_ticket(std::move(ticket))
    {}
    JobRunner* m_runner;
    std::shared_ptr<JobTicket> m_ticket;
};

class JobRunner : public QObject
{
    Q_OBJECT

public:
    enum class Threads {
        SharedPool,  ///< the application's thread pool
        OwnThread    ///< one thread of its own: jobs run in order, always on the same thread
    };
    using FailHandler = std::function<void(const QString& message)>;

    explicit JobRunner(QObject* owner, Threads threads = Threads::SharedPool);
    ~JobRunner() override;

    JobRunner(const JobRunner&) = delete;
    JobRunner& operator=(const JobRunner&) = delete;
    JobRunner(JobRunner&&) = delete;
    JobRunner& operator=(JobRunner&&) = delete;

    /// Starts `work` off the GUI thread. A non-empty `channel` makes it supersede the channel's
    /// previous job. `done(const Result&)` or `failed(message)` runs on the owner's thread.
    template <class Work, class Done>
    void start(const QString& channel, Work work, Done done, FailHandler failed);

    /// Sets the token of the channel's current job; its result will be dropped.
    void cancel(const QString& channel);
    void cancelAll();
    [[nodiscard]] bool isBusy(const QString& channel) const;
    [[nodiscard]] bool isBusy() const { return !m_live.empty(); }
    /// Blocks until every started job has returned (destruction; tests).
    void waitForAll();

Q_SIGNALS:
    /// A channel got its first job, or its current job ended.
    void busyChanged(const QString& channel, bool busy);

private:
    friend class JobContext;
    std::shared_ptr<JobTicket> begin(const QString& channel);
    /// On the owner's thread when a job has returned: true when its result is to be delivered.
    bool end(const std::shared_ptr<JobTicket>& ticket);
    [[nodiscard]] bool isCurrent(const std::shared_ptr<JobTicket>& ticket) const;
    void track(QFuture<void> future);

    QThreadPool* m_pool;
    std::unique_ptr<QThreadPool> m_ownPool;
    QHash<QString, std::shared_ptr<JobTicket>> m_current;  // by channel
    std::vector<std::shared_ptr<JobTicket>> m_live;        // started, not yet ended
    std::vector<QFuture<void>> m_futures;
};

template <class Work, class Done>
void JobRunner::start(const QString& channel, Work work, Done done, FailHandler failed)
{
    using Result = std::decay_t<std::invoke_result_t<Work&, JobContext&>>;
    static_assert(!std::is_void_v<Result>, "a job returns a value (use bool for 'done')");
    std::shared_ptr<JobTicket> ticket = begin(channel);
    // `this` outlives the job: the destructor waits for every job before the object goes away.
    track(QtConcurrent::run(m_pool, [this, ticket, work = std::move(work), done = std::move(done),
                                     failed = std::move(failed)]() mutable {
        JobContext context(this, ticket);
        std::shared_ptr<Result> result;
        QString error;
        bool cancelled = false;
        try {
            result = std::make_shared<Result>(work(context));
        } catch (const Error& e) {
            cancelled = e.kind() == ErrorKind::Cancelled;
            error = errorText(e);
        } catch (const std::exception& e) {
            error = QString::fromStdString(e.what());
        }
        cancelled = cancelled || ticket->cancel.load();
        QMetaObject::invokeMethod(
            this,
            [this, ticket, result, error, cancelled, done = std::move(done),
             failed = std::move(failed)] {
                if (!end(ticket) || cancelled)
                    return;  // superseded, cancelled by the owner or stopped by its token
                if (result)
                    done(*result);
                else if (failed)
                    failed(error);
            },
            Qt::QueuedConnection);
    }));
}

}  // namespace sllmr::ui
