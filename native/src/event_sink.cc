#include "event_sink.h"

#include <cstdio>

namespace trtforge
{

namespace
{

constexpr size_t kMaxQueuedEvents = 16384;

bool isFunction(Napi::Value value)
{
    return !value.IsEmpty() && value.IsFunction();
}

Napi::Object eventToJs(Napi::Env env, JsEvent const& event)
{
    Napi::Object out = Napi::Object::New(env);
    switch (event.kind)
    {
    case JsEvent::Kind::kLog:
        out.Set("severity", Napi::String::New(env, event.severity));
        out.Set("message", Napi::String::New(env, event.text));
        break;
    case JsEvent::Kind::kPhaseStart:
        out.Set("type", Napi::String::New(env, "phaseStart"));
        out.Set("phase", Napi::String::New(env, event.text));
        out.Set("parent", event.hasParent ? Napi::Value(Napi::String::New(env, event.parent)) : env.Null());
        out.Set("nbSteps", Napi::Number::New(env, event.number));
        break;
    case JsEvent::Kind::kStepComplete:
        out.Set("type", Napi::String::New(env, "stepComplete"));
        out.Set("phase", Napi::String::New(env, event.text));
        out.Set("step", Napi::Number::New(env, event.number));
        break;
    case JsEvent::Kind::kPhaseFinish:
        out.Set("type", Napi::String::New(env, "phaseFinish"));
        out.Set("phase", Napi::String::New(env, event.text));
        break;
    }
    return out;
}

} // namespace

void callJsEvent(Napi::Env env, Napi::Function /*unused*/, EventSinkContext* context, JsEvent* event)
{
    std::unique_ptr<JsEvent> owned(event);
    if (env == nullptr || context == nullptr || owned == nullptr)
    {
        return; // the TSFN is being torn down: drop
    }
    Napi::FunctionReference& target = owned->kind == JsEvent::Kind::kLog ? context->onLog : context->onProgress;
    if (target.IsEmpty())
    {
        return;
    }
    try
    {
        target.Call({eventToJs(env, *owned)});
    }
    catch (Napi::Error const& error)
    {
        // A throwing callback must not take the build down with an uncaught exception from a
        // TensorRT thread's event; report it where a developer will see it.
        std::fprintf(stderr, "trtforge native: a %s callback threw: %s\n", owned->kind == JsEvent::Kind::kLog ? "onLog" : "onProgress",
                     error.Message().c_str());
    }
}

EventSink::EventSink(Napi::Env env, Napi::Value onLog, Napi::Value onProgress, char const* resourceName)
{
    mWantsLogs = isFunction(onLog);
    mWantsProgress = isFunction(onProgress);
    if (!mWantsLogs && !mWantsProgress)
    {
        return;
    }
    auto* context = new EventSinkContext();
    if (mWantsLogs)
    {
        context->onLog = Napi::Persistent(onLog.As<Napi::Function>());
    }
    if (mWantsProgress)
    {
        context->onProgress = Napi::Persistent(onProgress.As<Napi::Function>());
    }
    mTsfn = EventTsfn::New(env, resourceName, kMaxQueuedEvents, 1, context,
                           [](Napi::Env finalizeEnv, void* /*data*/, EventSinkContext* ctx)
                           {
                               std::unique_ptr<EventSinkContext> owned(ctx);
                               if (owned && owned->afterDrain)
                               {
                                   try
                                   {
                                       owned->afterDrain(finalizeEnv);
                                   }
                                   catch (Napi::Error const& error)
                                   {
                                       std::fprintf(stderr, "trtforge native: settling after the event queue drained failed: %s\n",
                                                    error.Message().c_str());
                                   }
                               }
                           });
    mContext = context;
    mEnv = env;
    mTsfn.Unref(env);
    mHasTsfn = true;
    mOpen = true;
    // Registered after the TSFN, so it runs before Node's own teardown of the TSFN (cleanup hooks
    // run in reverse order): no TensorRT thread can call into a TSFN that is already gone.
    mHook = env.AddCleanupHook(&EventSink::onTeardown, this);
    mHookActive = true;
}

EventSink::~EventSink()
{
    close();
    // Owners call finish(); this only covers an owner that failed before it could (the sink is
    // always destroyed on the JS thread: by an AsyncWorker's destructor or an Engine's disposal).
    if (mHookActive)
    {
        mHook.Remove(Napi::BasicEnv(mEnv));
        mHookActive = false;
    }
    if (mHasTsfn && !mFinished && !mTornDown)
    {
        mTsfn.Release();
    }
}

void EventSink::emit(std::unique_ptr<JsEvent> event) noexcept
{
    std::lock_guard<std::mutex> lock(mMutex);
    if (!mOpen)
    {
        return;
    }
    JsEvent* raw = event.release();
    napi_status status = mTsfn.NonBlockingCall(raw);
    if (status != napi_ok)
    {
        delete raw;
        mDropped.fetch_add(1);
        if (status == napi_closing)
        {
            mOpen = false;
        }
    }
}

void EventSink::finish(Napi::Env env, std::function<void(Napi::Env)> then)
{
    bool release = false;
    {
        std::lock_guard<std::mutex> lock(mMutex);
        if (mFinished)
        {
            return;
        }
        mFinished = true;
        release = mHasTsfn && mOpen;
        mOpen = false;
    }
    if (mHookActive)
    {
        mHook.Remove(env);
        mHookActive = false;
    }
    if (!release)
    {
        if (then)
        {
            then(env);
        }
        return;
    }
    mContext->afterDrain = std::move(then);
    // Referenced while it drains, so the promise settles before the process may exit.
    mTsfn.Ref(env);
    mTsfn.Release();
}

void EventSink::close() noexcept
{
    std::lock_guard<std::mutex> lock(mMutex);
    mOpen = false;
}

void EventSink::onTeardown(EventSink* sink)
{
    sink->mHookActive = false;
    sink->mTornDown = true;
    sink->close();
}

} // namespace trtforge
