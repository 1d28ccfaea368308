// Shared includes and version guards for the TensorRT addon. One source tree serves TensorRT 10.x
// and 11.x; every difference between the majors is an `#if NV_TENSORRT_MAJOR >= 11` (or a
// TRTFORGE_TRT_AT_LEAST) branch, and enum values are never persisted or compared as numbers.
#pragma once

#include <NvInfer.h>
#include <NvInferVersion.h>
#include <NvOnnxParser.h>
#include <cuda_runtime_api.h>
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#if !defined(NV_TENSORRT_MAJOR) || !defined(NV_TENSORRT_MINOR)
#error "NvInferVersion.h did not define NV_TENSORRT_MAJOR/NV_TENSORRT_MINOR"
#endif

#if NV_TENSORRT_MAJOR < 10
#error "the trtforge addon needs TensorRT 10 or newer headers"
#endif

// binding.gyp passes the major it found in NvInferVersion.h; a different header on the include
// path than the one probed would silently build the wrong binary, so refuse.
#if defined(TRTFORGE_TRT_MAJOR) && (TRTFORGE_TRT_MAJOR != NV_TENSORRT_MAJOR)
#error "TRTFORGE_TRT_MAJOR (from the build script) differs from NV_TENSORRT_MAJOR of the headers on the include path"
#endif

#define TRTFORGE_TRT_AT_LEAST(major, minor) (NV_TENSORRT_MAJOR > (major) || (NV_TENSORRT_MAJOR == (major) && NV_TENSORRT_MINOR >= (minor)))

namespace trtforge
{

//! Error codes the addon puts on `error.code`; each is a code of @trtforge/core's ERROR_CODES.
namespace codes
{
constexpr char const* kTrtUnavailable = "TRT_UNAVAILABLE";
constexpr char const* kParseFailed = "TRT_PARSE_FAILED";
constexpr char const* kBuildFailed = "TRT_BUILD_FAILED";
constexpr char const* kModeRemoved = "TRT_MODE_REMOVED";
constexpr char const* kEngineLoadFailed = "ENGINE_LOAD_FAILED";
constexpr char const* kCancelled = "CANCELLED";
constexpr char const* kInvalidDeviceId = "INVALID_DEVICE_ID";
constexpr char const* kInputMismatch = "INPUT_MISMATCH";
constexpr char const* kInternal = "INTERNAL";
//! enqueueV3 or a CUDA call failed while running an engine.
constexpr char const* kRunFailed = "TRT_RUN_FAILED";
//! A method was called on an Engine after dispose().
constexpr char const* kEngineDisposed = "ENGINE_DISPOSED";
} // namespace codes

//! "M.m.p.b" of the headers this binary was compiled against.
inline std::string compiledTrtVersionString()
{
    return std::to_string(NV_TENSORRT_MAJOR) + "." + std::to_string(NV_TENSORRT_MINOR) + "." + std::to_string(NV_TENSORRT_PATCH) + "." +
           std::to_string(NV_TENSORRT_BUILD);
}

} // namespace trtforge
