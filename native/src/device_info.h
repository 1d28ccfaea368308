// CUDA device queries: devices() for JS, the build device's description for build results, and the
// mapping of cudaSetDevice failures to error codes (no GPU -> TRT_UNAVAILABLE, bad index ->
// INVALID_DEVICE_ID).
#pragma once

#include "common.h"
#include "js_errors.h"

namespace trtforge
{

struct DeviceInfo
{
    int32_t index = 0;
    std::string name;
    std::string computeCapability; // "8.6"
    std::string uuid;              // "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", as nvidia-smi and CUDA_VISIBLE_DEVICES spell it
    uint64_t totalMemoryBytes = 0;
    int32_t multiProcessorCount = 0;
};

//! "cudaErrorNoDevice: no CUDA-capable device is detected"
std::string cudaErrorText(cudaError_t status);

//! "13.0" from 13000; "" for 0 (no driver).
std::string cudaVersionString(int version);

//! cudaSetDevice(deviceId) on the calling thread; on failure fills `failure` and returns false.
bool selectDevice(int32_t deviceId, Failure& failure);

bool queryDevice(int32_t deviceId, DeviceInfo& out, std::string& error);

//! The runtime version this binary loaded (cudaRuntimeGetVersion) and the driver's.
std::string cudaRuntimeVersionString();
std::string cudaDriverVersionString();

//! "GPU-" and the 16 bytes of cudaDeviceProp::uuid in nvidia-smi's 8-4-4-4-12 hex grouping.
std::string uuidString(cudaUUID_t const& uuid);

//! JS: devices() -> [{index, name, computeCapability, uuid, totalMemoryBytes, multiProcessorCount}].
//! [] without a GPU or driver; throws (TRT_UNAVAILABLE) on any other CUDA failure.
Napi::Value Devices(Napi::CallbackInfo const& info);

} // namespace trtforge
