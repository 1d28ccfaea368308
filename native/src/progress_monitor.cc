#include "progress_monitor.h"

namespace trtforge
{

ProgressMonitor::ProgressMonitor(std::shared_ptr<EventSink> sink, std::shared_ptr<std::atomic<bool>> cancelled)
    : mSink(std::move(sink))
    , mCancelled(std::move(cancelled))
{
}

void ProgressMonitor::send(JsEvent::Kind kind, char const* phase, char const* parent, int32_t number) noexcept
{
    if (!mSink || !mSink->wantsProgress())
    {
        return;
    }
    try
    {
        auto event = std::make_unique<JsEvent>();
        event->kind = kind;
        event->text = phase != nullptr ? phase : "";
        if (parent != nullptr)
        {
            event->parent = parent;
            event->hasParent = true;
        }
        event->number = number;
        mSink->emit(std::move(event));
    }
    catch (...)
    {
    }
}

void ProgressMonitor::phaseStart(char const* phaseName, char const* parentPhase, int32_t nbSteps) noexcept
{
    send(JsEvent::Kind::kPhaseStart, phaseName, parentPhase, nbSteps);
}

bool ProgressMonitor::stepComplete(char const* phaseName, int32_t step) noexcept
{
    send(JsEvent::Kind::kStepComplete, phaseName, nullptr, step);
    if (mCancelled && mCancelled->load())
    {
        mStopped.store(true);
        return false;
    }
    return true;
}

void ProgressMonitor::phaseFinish(char const* phaseName) noexcept
{
    send(JsEvent::Kind::kPhaseFinish, phaseName, nullptr, 0);
}

} // namespace trtforge
