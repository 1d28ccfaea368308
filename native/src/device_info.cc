#include "device_info.h"

namespace trtforge
{

std::string cudaErrorText(cudaError_t status)
{
    char const* name = cudaGetErrorName(status);
    char const* text = cudaGetErrorString(status);
    return std::string(name != nullptr ? name : "cudaError") + ": " + (text != nullptr ? text : "unknown error");
}

std::string cudaVersionString(int version)
{
    if (version <= 0)
    {
        return "";
    }
    return std::to_string(version / 1000) + "." + std::to_string((version % 1000) / 10);
}

bool selectDevice(int32_t deviceId, Failure& failure)
{
    cudaError_t const status = cudaSetDevice(deviceId);
    if (status == cudaSuccess)
    {
        return true;
    }
    cudaGetLastError(); // reset this thread's last-error state
    if (status == cudaErrorInvalidDevice)
    {
        int count = 0;
        if (cudaGetDeviceCount(&count) != cudaSuccess)
        {
            cudaGetLastError();
            count = 0;
        }
        failure.set(codes::kInvalidDeviceId,
                    "CUDA device " + std::to_string(deviceId) + " does not exist; this host has " + std::to_string(count) + " device(s)");
        return false;
    }
    failure.set(codes::kTrtUnavailable, "cannot use CUDA device " + std::to_string(deviceId) + ": " + cudaErrorText(status));
    return false;
}

std::string uuidString(cudaUUID_t const& uuid)
{
    static char const hex[] = "0123456789abcdef";
    std::string out = "GPU-";
    for (int i = 0; i < 16; ++i)
    {
        if (i == 4 || i == 6 || i == 8 || i == 10)
        {
            out += '-';
        }
        auto const byte = static_cast<unsigned char>(uuid.bytes[i]);
        out += hex[byte >> 4];
        out += hex[byte & 0xF];
    }
    return out;
}

bool queryDevice(int32_t deviceId, DeviceInfo& out, std::string& error)
{
    cudaDeviceProp props{};
    cudaError_t const status = cudaGetDeviceProperties(&props, deviceId);
    if (status != cudaSuccess)
    {
        cudaGetLastError();
        error = cudaErrorText(status);
        return false;
    }
    out.index = deviceId;
    out.name = props.name;
    out.computeCapability = std::to_string(props.major) + "." + std::to_string(props.minor);
    out.uuid = uuidString(props.uuid);
    out.totalMemoryBytes = static_cast<uint64_t>(props.totalGlobalMem);
    out.multiProcessorCount = props.multiProcessorCount;
    return true;
}

std::string cudaRuntimeVersionString()
{
    int version = 0;
    if (cudaRuntimeGetVersion(&version) != cudaSuccess)
    {
        cudaGetLastError();
        return "";
    }
    return cudaVersionString(version);
}

std::string cudaDriverVersionString()
{
    int version = 0;
    if (cudaDriverGetVersion(&version) != cudaSuccess)
    {
        cudaGetLastError();
        return "";
    }
    return cudaVersionString(version);
}

Napi::Value Devices(Napi::CallbackInfo const& info)
{
    Napi::Env env = info.Env();
    int count = 0;
    cudaError_t const status = cudaGetDeviceCount(&count);
    if (status == cudaErrorNoDevice || status == cudaErrorInsufficientDriver)
    {
        cudaGetLastError();
        return Napi::Array::New(env, 0);
    }
    if (status != cudaSuccess)
    {
        cudaGetLastError();
        throw makeError(env, codes::kTrtUnavailable, "cudaGetDeviceCount failed: " + cudaErrorText(status));
    }
    Napi::Array out = Napi::Array::New(env, static_cast<size_t>(count));
    for (int i = 0; i < count; ++i)
    {
        DeviceInfo device;
        std::string error;
        if (!queryDevice(i, device, error))
        {
            throw makeError(env, codes::kTrtUnavailable, "cudaGetDeviceProperties(" + std::to_string(i) + ") failed: " + error);
        }
        Napi::Object item = Napi::Object::New(env);
        item.Set("index", Napi::Number::New(env, device.index));
        item.Set("name", Napi::String::New(env, device.name));
        item.Set("computeCapability", Napi::String::New(env, device.computeCapability));
        item.Set("uuid", Napi::String::New(env, device.uuid));
        item.Set("totalMemoryBytes", Napi::Number::New(env, static_cast<double>(device.totalMemoryBytes)));
        item.Set("multiProcessorCount", Napi::Number::New(env, device.multiProcessorCount));
        out.Set(static_cast<uint32_t>(i), item);
    }
    return out;
}

} // namespace trtforge
