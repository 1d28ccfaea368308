// What a loaded engine owns: logger, error recorder, IRuntime, ICudaEngine, one
// IExecutionContext and a CUDA stream, with one mutex serialising inferences. Freed by dispose()
// (JS thread, never while an inference is queued or running), by the Engine's destructor, or by
// an environment cleanup hook at exit (which waits for a running inference to finish).
#pragma once

#include "common.h"
#include "engine_io.h"
#include "error_recorder.h"
#include "event_sink.h"
#include "js_errors.h"
#include "logger_bridge.h"

#include <memory>
#include <mutex>

namespace trtforge
{

class EngineCore
{
public:
    EngineCore(int32_t deviceId, nvinfer1::ILogger::Severity minSeverity, std::shared_ptr<EventSink> sink);
    ~EngineCore();
    EngineCore(EngineCore const&) = delete;
    EngineCore& operator=(EngineCore const&) = delete;

    //! JS thread: deserializes the plan, creates the execution context and the stream.
    bool load(Napi::Env env, uint8_t const* data, size_t size, bool allowHostCode, Failure& failure);

    int32_t deviceId() const noexcept { return mDeviceId; }
    std::vector<IoTensorInfo> const& ioTensors() const noexcept { return mIo; }

    //! JS thread bookkeeping of queued/running inferences.
    bool disposed() const noexcept { return mDisposeRequested; }
    void inferenceQueued() noexcept { ++mInflight; }
    //! JS thread: an inference settled; frees the engine if dispose() was asked meanwhile.
    void inferenceSettled(napi_env env);
    //! JS thread: frees now, or when the last queued inference settles. Idempotent.
    void requestDispose(napi_env env);

    //! JS thread: the inspector's JSON (waits for a running inference).
    std::string inspectorJson(std::string& error);

    //! Worker thread, with the lock held: the objects an inference uses (null once released).
    std::mutex& mutex() noexcept { return mMutex; }
    bool releasedLocked() const noexcept { return mReleased; }
    nvinfer1::IExecutionContext* contextLocked() noexcept { return mContext.get(); }
    cudaStream_t streamLocked() noexcept { return mStream; }
    JsLogger& logger() noexcept { return *mLogger; }

private:
    static void onTeardown(EngineCore* core);
    void releaseLocked() noexcept;
    void disposeNow(napi_env env);

    int32_t mDeviceId;
    std::shared_ptr<EventSink> mSink;
    std::unique_ptr<JsLogger> mLogger;
    std::unique_ptr<CapturingErrorRecorder> mRecorder;
    std::unique_ptr<nvinfer1::IRuntime> mRuntime;
    std::unique_ptr<nvinfer1::ICudaEngine> mEngine;
    std::unique_ptr<nvinfer1::IExecutionContext> mContext;
    cudaStream_t mStream = nullptr;
    std::vector<IoTensorInfo> mIo;

    std::mutex mMutex;
    bool mReleased = false;
    int32_t mInflight = 0;
    bool mDisposeRequested = false;
    napi_env mEnv = nullptr;
    Napi::Env::CleanupHook<void (*)(EngineCore*), EngineCore> mHook;
    bool mHookActive = false;
};

} // namespace trtforge
