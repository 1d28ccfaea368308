#include "engine_wrap.h"

#include "addon_data.h"
#include "build_options.h"
#include "engine_io.h"
#include "enum_names.h"
#include "event_sink.h"
#include "js_errors.h"
#include "run_worker.h"

namespace trtforge
{

namespace
{

//! Carries the core from LoadEngine into the constructor; `new Engine()` from JS has none and throws.
struct PendingCore
{
    std::shared_ptr<EngineCore> core;
};

} // namespace

Napi::Function EngineWrap::Define(Napi::Env env)
{
    return DefineClass(env, "Engine",
                       {
                           InstanceMethod<&EngineWrap::IoTensors>("ioTensors"),
                           InstanceMethod<&EngineWrap::Run>("run"),
                           InstanceMethod<&EngineWrap::InspectorJson>("inspectorJson"),
                           InstanceMethod<&EngineWrap::Dispose>("dispose"),
                           InstanceAccessor<&EngineWrap::GetDisposed>("disposed"),
                           InstanceAccessor<&EngineWrap::GetDeviceId>("deviceId"),
                       });
}

EngineWrap::EngineWrap(Napi::CallbackInfo const& info)
    : Napi::ObjectWrap<EngineWrap>(info)
{
    if (info.Length() != 1 || !info[0].IsExternal())
    {
        throw Napi::TypeError::New(info.Env(), "Engine cannot be constructed directly: use loadEngine(bytes, deviceId)");
    }
    PendingCore* pending = info[0].As<Napi::External<PendingCore>>().Data();
    mCore = pending->core;
}

void EngineWrap::Finalize(Napi::Env env)
{
    if (mCore)
    {
        mCore->requestDispose(env);
    }
}

Napi::Value EngineWrap::LoadEngine(Napi::CallbackInfo const& info)
{
    Napi::Env env = info.Env();
    if (info.Length() < 1)
    {
        throw makeTypeError(env, "loadEngine(bytes, deviceId?, options?): bytes is required");
    }
    Napi::Value bytesValue = info[0];
    uint8_t const* data = nullptr;
    size_t size = 0;
    if (bytesValue.IsTypedArray())
    {
        Napi::TypedArray array = bytesValue.As<Napi::TypedArray>();
        data = static_cast<uint8_t const*>(array.ArrayBuffer().Data()) + array.ByteOffset();
        size = array.ByteLength();
    }
    else
    {
        throw makeTypeError(env, "loadEngine: bytes must be a Buffer or Uint8Array");
    }
    int32_t deviceId = 0;
    if (info.Length() > 1 && !info[1].IsUndefined())
    {
        deviceId = static_cast<int32_t>(readInteger(env, info[1], "loadEngine: deviceId", 0, 1023));
    }
    Napi::Value onLog = env.Undefined();
    bool allowHostCode = false;
    nvinfer1::ILogger::Severity severity = nvinfer1::ILogger::Severity::kWARNING;
    if (info.Length() > 2 && !info[2].IsUndefined() && !info[2].IsNull())
    {
        if (!info[2].IsObject())
        {
            throw makeTypeError(env, "loadEngine: options must be an object {onLog?, logSeverity?, allowHostCode?}");
        }
        Napi::Object options = info[2].As<Napi::Object>();
        Napi::Value log = options.Get("onLog");
        if (!log.IsUndefined() && !log.IsNull())
        {
            if (!log.IsFunction())
            {
                throw makeTypeError(env, "loadEngine: options.onLog must be a function");
            }
            onLog = log;
        }
        Napi::Value severityValue = options.Get("logSeverity");
        if (!severityValue.IsUndefined())
        {
            if (!severityValue.IsString() || !severityFromName(severityValue.As<Napi::String>().Utf8Value(), severity))
            {
                throw makeTypeError(env, "loadEngine: options.logSeverity must be \"internal_error\", \"error\", "
                                         "\"warning\", \"info\" or \"verbose\"");
            }
        }
        Napi::Value hostCode = options.Get("allowHostCode");
        if (!hostCode.IsUndefined())
        {
            if (!hostCode.IsBoolean())
            {
                throw makeTypeError(env, "loadEngine: options.allowHostCode must be a boolean");
            }
            allowHostCode = hostCode.As<Napi::Boolean>().Value();
        }
    }

    auto sink = std::make_shared<EventSink>(env, onLog, env.Undefined(), "trtforge.Engine.log");
    auto core = std::make_shared<EngineCore>(deviceId, severity, sink);
    Failure failure;
    if (!core->load(env, data, size, allowHostCode, failure))
    {
        sink->finish(env, nullptr);
        throw failureToError(env, failure);
    }
    PendingCore pending{core};
    AddonData* addon = env.GetInstanceData<AddonData>();
    return addon->engineConstructor.New({Napi::External<PendingCore>::New(env, &pending)});
}

Napi::Value EngineWrap::IoTensors(Napi::CallbackInfo const& info)
{
    if (mCore->disposed())
    {
        throw makeError(info.Env(), codes::kEngineDisposed, "Engine.ioTensors: the engine was disposed");
    }
    return ioTensorsToJs(info.Env(), mCore->ioTensors());
}

Napi::Value EngineWrap::Run(Napi::CallbackInfo const& info)
{
    return queueInference(info.Env(), mCore, info.Length() > 0 ? info[0] : info.Env().Undefined());
}

Napi::Value EngineWrap::InspectorJson(Napi::CallbackInfo const& info)
{
    if (mCore->disposed())
    {
        throw makeError(info.Env(), codes::kEngineDisposed, "Engine.inspectorJson: the engine was disposed");
    }
    std::string error;
    std::string json = mCore->inspectorJson(error);
    if (json.empty())
    {
        throw makeError(info.Env(), codes::kEngineLoadFailed, "Engine.inspectorJson: " + error);
    }
    return Napi::String::New(info.Env(), json);
}

Napi::Value EngineWrap::Dispose(Napi::CallbackInfo const& info)
{
    mCore->requestDispose(info.Env());
    return info.Env().Undefined();
}

Napi::Value EngineWrap::GetDisposed(Napi::CallbackInfo const& info)
{
    return Napi::Boolean::New(info.Env(), mCore->disposed());
}

Napi::Value EngineWrap::GetDeviceId(Napi::CallbackInfo const& info)
{
    return Napi::Number::New(info.Env(), mCore->deviceId());
}

} // namespace trtforge
