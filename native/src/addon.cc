// Module initialisation: exports of trtforge_trt<major>.node. Nothing here touches CUDA or the
// GPU, so the module loads (and reports versions) on a host without a GPU.
#include "addon_data.h"
#include "build_worker.h"
#include "common.h"
#include "device_info.h"
#include "engine_wrap.h"
#include "versions.h"

namespace trtforge
{

Napi::Object Init(Napi::Env env, Napi::Object exports)
{
    auto* data = new AddonData();
    data->engineConstructor = Napi::Persistent(EngineWrap::Define(env));
    env.SetInstanceData<AddonData>(data);

    exports.Set("trtMajor", Napi::Number::New(env, NV_TENSORRT_MAJOR));
    exports.Set("trtVersion", Napi::Function::New(env, TrtVersion, "trtVersion"));
    exports.Set("compiledTrtVersion", Napi::Function::New(env, CompiledTrtVersion, "compiledTrtVersion"));
    exports.Set("devices", Napi::Function::New(env, Devices, "devices"));
    exports.Set("buildEngine", Napi::Function::New(env, BuildEngine, "buildEngine"));
    exports.Set("loadEngine", Napi::Function::New(env, EngineWrap::LoadEngine, "loadEngine"));
    exports.Set("Engine", data->engineConstructor.Value());
    return exports;
}

} // namespace trtforge

namespace
{
// NODE_API_MODULE pastes the name into an identifier, so it takes an unqualified one.
Napi::Object InitTrtforge(Napi::Env env, Napi::Object exports)
{
    return trtforge::Init(env, exports);
}
} // namespace

NODE_API_MODULE(NODE_GYP_MODULE_NAME, InitTrtforge)
