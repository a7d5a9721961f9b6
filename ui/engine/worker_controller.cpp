#include "engine/worker_controller.h"

#include <chrono>
#include <utility>

namespace sllmr::ui {

void RunControlBlock::holdWhilePaused()
{
    std::unique_lock lock(mutex);
    if (!paused || cancel)
        return;
    const auto from = std::chrono::steady_clock::now();
    wake.wait(lock, [&] { return !paused || cancel; });
    pausedSeconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - from).count();
}

bool RunControlBlock::setPaused(bool value)
{
    {
        std::lock_guard lock(mutex);
        if (paused == value)
            return false;
        paused = value;
    }
    wake.notify_all();
    return true;
}

void RunControlBlock::raiseCancel()
{
    {
        std::lock_guard lock(mutex);
        cancel = true;
    }
    wake.notify_all();
}

WorkerController::WorkerController(QString databasePath, QObject* parent)
    : QObject(parent), m_databasePath(std::move(databasePath))
{}

bool WorkerController::isPaused() const
{
    if (!m_control)
        return false;
    std::lock_guard lock(m_control->mutex);
    return m_control->paused;
}

void WorkerController::setPaused(bool paused)
{
    if (m_control && m_control->setPaused(paused))
        Q_EMIT pausedChanged(paused);
}

void WorkerController::cancel()
{
    if (m_control)
        m_control->raiseCancel();
}

void WorkerController::cancelAndWait()
{
    if (!m_thread)
        return;
    cancel();
    tearDown();
}

bool WorkerController::prepare()
{
    if (m_thread)
        return false;
    m_control = std::make_shared<RunControlBlock>();
    return true;
}

void WorkerController::startThread()
{
    m_thread->start();
    Q_EMIT runningChanged(true);
}

std::function<bool()> WorkerController::isCurrent() const
{
    return [this, generation = m_generation] { return m_generation == generation && m_thread; };
}

void WorkerController::tearDown()
{
    m_thread->quit();
    m_thread->wait();
    delete m_worker;  // its thread has finished
    m_worker = nullptr;
    delete m_thread;
    m_thread = nullptr;
    m_control.reset();
    Q_EMIT runningChanged(false);
}

}  // namespace sllmr::ui
