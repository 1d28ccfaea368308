// Delivers TensorRT's log lines and progress-monitor phases from TensorRT's threads to JS
// callbacks through one Napi::TypedThreadSafeFunction (so logs and phases keep their order).
// Calls are NonBlockingCall: a full queue drops the event and counts it, TensorRT is never made to
// wait for JS. The TSFN is Unref'd, so it never keeps the process alive by itself.
#pragma once

#include "common.h"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

namespace trtforge
{

struct JsEvent
{
    enum class Kind
    {
        kLog,
        kPhaseStart,
        kStepComplete,
        kPhaseFinish
    };
    Kind kind = Kind::kLog;
    std::string severity; // kLog: severityName()
    std::string text;     // kLog: the message; phases: the phase name
    std::string parent;   // kPhaseStart
    bool hasParent = false;
    int32_t number = 0; // kPhaseStart: nbSteps; kStepComplete: step
};

struct EventSinkContext
{
    Napi::FunctionReference onLog;
    Napi::FunctionReference onProgress;
    //! Runs on the JS thread once the TSFN has delivered everything queued and is finalized.
    std::function<void(Napi::Env)> afterDrain;
};

void callJsEvent(Napi::Env env, Napi::Function unused, EventSinkContext* context, JsEvent* event);

using EventTsfn = Napi::TypedThreadSafeFunction<EventSinkContext, JsEvent, callJsEvent>;

class EventSink
{
public:
    //! JS thread. onLog / onProgress may be undefined; with neither, no TSFN is created and every
    //! emit() is a no-op.
    EventSink(Napi::Env env, Napi::Value onLog, Napi::Value onProgress, char const* resourceName);
    ~EventSink();
    EventSink(EventSink const&) = delete;
    EventSink& operator=(EventSink const&) = delete;

    bool wantsLogs() const noexcept { return mWantsLogs; }
    bool wantsProgress() const noexcept { return mWantsProgress; }

    //! Any thread. Drops the event when the sink is closed or the queue is full.
    void emit(std::unique_ptr<JsEvent> event) noexcept;

    //! JS thread. Stops accepting events, lets the queue drain, then runs `then` on the JS thread
    //! (immediately when there is no TSFN). Call once.
    void finish(Napi::Env env, std::function<void(Napi::Env)> then);

    //! Any thread: stop accepting events (environment teardown). Idempotent.
    void close() noexcept;

    uint64_t dropped() const noexcept { return mDropped.load(); }

private:
    static void onTeardown(EventSink* sink);

    std::mutex mMutex;
    bool mOpen = false;
    bool mHasTsfn = false;
    bool mFinished = false;
    bool mWantsLogs = false;
    bool mWantsProgress = false;
    EventTsfn mTsfn;
    EventSinkContext* mContext = nullptr; // owned by the TSFN finalizer once created
    std::atomic<uint64_t> mDropped{0};
    napi_env mEnv = nullptr;
    Napi::Env::CleanupHook<void (*)(EventSink*), EventSink> mHook;
    bool mHookActive = false;
    bool mTornDown = false;
};

} // namespace trtforge
