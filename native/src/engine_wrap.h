// The JS Engine class (Napi::ObjectWrap) and loadEngine(bytes, deviceId?, options?) that makes
// one. Methods: ioTensors(), run(inputs) -> Promise, inspectorJson(), dispose() (idempotent),
// and the read-only properties disposed and deviceId. The GC finalizer disposes too, and an
// environment cleanup hook frees the engine at exit.
#pragma once

#include "common.h"
#include "engine_core.h"

#include <memory>

namespace trtforge
{

class EngineWrap : public Napi::ObjectWrap<EngineWrap>
{
public:
    static Napi::Function Define(Napi::Env env);
    //! JS: loadEngine(bytes, deviceId = 0, options?: {onLog?, logSeverity?, allowHostCode?}).
    static Napi::Value LoadEngine(Napi::CallbackInfo const& info);

    explicit EngineWrap(Napi::CallbackInfo const& info);
    void Finalize(Napi::Env env) override;

private:
    Napi::Value IoTensors(Napi::CallbackInfo const& info);
    Napi::Value Run(Napi::CallbackInfo const& info);
    Napi::Value InspectorJson(Napi::CallbackInfo const& info);
    Napi::Value Dispose(Napi::CallbackInfo const& info);
    Napi::Value GetDisposed(Napi::CallbackInfo const& info);
    Napi::Value GetDeviceId(Napi::CallbackInfo const& info);

    std::shared_ptr<EngineCore> mCore;
};

} // namespace trtforge
