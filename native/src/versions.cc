#include "versions.h"

namespace trtforge
{

std::string loadedTrtVersionString()
{
    return std::to_string(getInferLibMajorVersion()) + "." + std::to_string(getInferLibMinorVersion()) + "." +
           std::to_string(getInferLibPatchVersion()) + "." + std::to_string(getInferLibBuildVersion());
}

Napi::Value TrtVersion(Napi::CallbackInfo const& info)
{
    return Napi::String::New(info.Env(), loadedTrtVersionString());
}

Napi::Value CompiledTrtVersion(Napi::CallbackInfo const& info)
{
    return Napi::String::New(info.Env(), compiledTrtVersionString());
}

} // namespace trtforge
