// Version functions: the TensorRT library actually loaded, the headers compiled against.
#pragma once

#include "common.h"

namespace trtforge
{

//! "M.m.p.b" from getInferLibMajorVersion() et al. of the loaded libnvinfer.
std::string loadedTrtVersionString();

//! JS: trtVersion() -> the loaded library's version.
Napi::Value TrtVersion(Napi::CallbackInfo const& info);
//! JS: compiledTrtVersion() -> the headers' version (NV_TENSORRT_MAJOR...BUILD).
Napi::Value CompiledTrtVersion(Napi::CallbackInfo const& info);

} // namespace trtforge
