#include "engine/job_runner.h"

#include <algorithm>

namespace sllmr::ui {

void JobContext::checkCancelled() const
{
    if (isCancelled())
        throw Error(ErrorKind::Cancelled, "cancelled");
}

void JobContext::post(std::function<void()> fn) const
{
    JobRunner* runner = m_runner;
    QMetaObject::invokeMethod(
        runner,
        [runner, ticket = m_ticket, fn = std::move(fn)] {
            if (runner->isCurrent(ticket) && !ticket->cancel.load())
                fn();
        },
        Qt::QueuedConnection);
}

JobRunner::JobRunner(QObject* owner, Threads threads) : QObject(owner)
{
    if (threads == Threads::OwnThread) {
        m_ownPool = std::make_unique<QThreadPool>();
        m_ownPool->setMaxThreadCount(1);
        m_ownPool->setExpiryTimeout(-1);  // the one thread never expires: jobs share its state
        m_pool = m_ownPool.get();
    } else {
        m_pool = QThreadPool::globalInstance();
    }
}

JobRunner::~JobRunner()
{
    cancelAll();
    waitForAll();
}

std::shared_ptr<JobTicket> JobRunner::begin(const QString& channel)
{
    auto ticket = std::make_shared<JobTicket>();
    ticket->channel = channel;
    bool wasBusy = false;
    if (!channel.isEmpty()) {
        if (auto it = m_current.find(channel); it != m_current.end()) {
            it.value()->cancel = true;  // superseded
            wasBusy = true;
        }
        m_current.insert(channel, ticket);
    }
    m_live.push_back(ticket);
    if (!wasBusy)
        Q_EMIT busyChanged(channel, true);
    return ticket;
}

bool JobRunner::isCurrent(const std::shared_ptr<JobTicket>& ticket) const
{
    if (ticket->channel.isEmpty())
        return std::find(m_live.begin(), m_live.end(), ticket) != m_live.end();
    const auto it = m_current.constFind(ticket->channel);
    return it != m_current.constEnd() && it.value() == ticket;
}

bool JobRunner::end(const std::shared_ptr<JobTicket>& ticket)
{
    const bool current = isCurrent(ticket);
    std::erase(m_live, ticket);
    if (current && !ticket->channel.isEmpty())
        m_current.remove(ticket->channel);
    if (current)
        Q_EMIT busyChanged(ticket->channel, false);
    return current;
}

void JobRunner::cancel(const QString& channel)
{
    if (auto it = m_current.find(channel); it != m_current.end())
        it.value()->cancel = true;
}

void JobRunner::cancelAll()
{
    for (const auto& ticket : m_live)
        ticket->cancel = true;
}

bool JobRunner::isBusy(const QString& channel) const
{
    return m_current.contains(channel);
}

void JobRunner::track(QFuture<void> future)
{
    std::erase_if(m_futures, [](const QFuture<void>& f) { return f.isFinished(); });
    m_futures.push_back(std::move(future));
}

void JobRunner::waitForAll()
{
    for (QFuture<void>& f : m_futures)
        f.waitForFinished();
    m_futures.clear();
}

}  // namespace sllmr::ui
