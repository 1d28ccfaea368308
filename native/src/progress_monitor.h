// nvinfer1::IProgressMonitor: phase events to the JS onProgress callback (through the EventSink),
// and cancellation: once the shared flag is set, stepComplete returns false and TensorRT stops
// the build (buildSerializedNetwork then returns nullptr).
#pragma once

#include "common.h"
#include "event_sink.h"

#include <atomic>
#include <memory>

namespace trtforge
{

class ProgressMonitor : public nvinfer1::IProgressMonitor
{
public:
    ProgressMonitor(std::shared_ptr<EventSink> sink, std::shared_ptr<std::atomic<bool>> cancelled);

    void phaseStart(char const* phaseName, char const* parentPhase, int32_t nbSteps) noexcept override;
    bool stepComplete(char const* phaseName, int32_t step) noexcept override;
    void phaseFinish(char const* phaseName) noexcept override;

    //! True once stepComplete has returned false at least once.
    bool stoppedBuild() const noexcept { return mStopped.load(); }

private:
    void send(JsEvent::Kind kind, char const* phase, char const* parent, int32_t number) noexcept;

    std::shared_ptr<EventSink> mSink;
    std::shared_ptr<std::atomic<bool>> mCancelled;
    std::atomic<bool> mStopped{false};
};

} // namespace trtforge
