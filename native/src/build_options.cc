#include "build_options.h"

#include "enum_names.h"
#include "js_errors.h"

#include <cmath>
#include <set>

namespace trtforge
{

std::vector<uint8_t> readBytes(Napi::Env env, Napi::Value value, char const* what)
{
    uint8_t const* data = nullptr;
    size_t length = 0;
    if (value.IsTypedArray())
    {
        Napi::TypedArray array = value.As<Napi::TypedArray>();
        data = static_cast<uint8_t const*>(array.ArrayBuffer().Data()) + array.ByteOffset();
        length = array.ByteLength();
    }
    else if (value.IsDataView())
    {
        Napi::DataView view = value.As<Napi::DataView>();
        data = static_cast<uint8_t const*>(view.ArrayBuffer().Data()) + view.ByteOffset();
        length = view.ByteLength();
    }
    else if (value.IsArrayBuffer())
    {
        Napi::ArrayBuffer buffer = value.As<Napi::ArrayBuffer>();
        data = static_cast<uint8_t const*>(buffer.Data());
        length = buffer.ByteLength();
    }
    else
    {
        throw makeTypeError(env, std::string(what) + " must be a Buffer or Uint8Array");
    }
    return std::vector<uint8_t>(data, data + length);
}

int64_t readInteger(Napi::Env env, Napi::Value value, char const* what, int64_t min, int64_t max)
{
    int64_t result = 0;
    if (value.IsNumber())
    {
        double const d = value.As<Napi::Number>().DoubleValue();
        if (!std::isfinite(d) || std::floor(d) != d || d < static_cast<double>(min) || d > static_cast<double>(max))
        {
            throw makeTypeError(env, std::string(what) + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
        }
        result = static_cast<int64_t>(d);
    }
    else if (value.IsBigInt())
    {
        bool lossless = false;
        result = value.As<Napi::BigInt>().Int64Value(&lossless);
        if (!lossless || result < min || result > max)
        {
            throw makeTypeError(env, std::string(what) + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
        }
    }
    else
    {
        throw makeTypeError(env, std::string(what) + " must be an integer");
    }
    return result;
}

namespace
{

bool isSet(Napi::Object const& object, char const* key)
{
    if (!object.Has(key))
    {
        return false;
    }
    Napi::Value value = object.Get(key);
    return !value.IsUndefined() && !value.IsNull();
}

std::string readString(Napi::Env env, Napi::Value value, char const* what)
{
    if (!value.IsString())
    {
        throw makeTypeError(env, std::string(what) + " must be a string");
    }
    return value.As<Napi::String>().Utf8Value();
}

bool readBool(Napi::Env env, Napi::Value value, char const* what)
{
    if (!value.IsBoolean())
    {
        throw makeTypeError(env, std::string(what) + " must be a boolean");
    }
    return value.As<Napi::Boolean>().Value();
}

std::vector<int64_t> readShape(Napi::Env env, Napi::Value value, std::string const& what)
{
    if (!value.IsArray())
    {
        throw makeTypeError(env, what + " must be an array of dimensions");
    }
    Napi::Array array = value.As<Napi::Array>();
    uint32_t const rank = array.Length();
    if (rank > static_cast<uint32_t>(nvinfer1::Dims::MAX_DIMS))
    {
        throw makeTypeError(env, what + " has " + std::to_string(rank) + " dimensions; TensorRT allows at most " +
                                     std::to_string(nvinfer1::Dims::MAX_DIMS));
    }
    std::vector<int64_t> shape;
    for (uint32_t i = 0; i < rank; ++i)
    {
        std::string const dimWhat = what + "[" + std::to_string(i) + "]";
        shape.push_back(readInteger(env, array.Get(i), dimWhat.c_str(), 0, INT64_MAX));
    }
    return shape;
}

std::vector<ProfileSpec> readProfiles(Napi::Env env, Napi::Value value)
{
    if (!value.IsArray())
    {
        throw makeTypeError(env, "options.profiles must be an array of {input, min, opt, max}");
    }
    Napi::Array array = value.As<Napi::Array>();
    std::vector<ProfileSpec> profiles;
    std::set<std::string> seen;
    for (uint32_t i = 0; i < array.Length(); ++i)
    {
        std::string const what = "options.profiles[" + std::to_string(i) + "]";
        Napi::Value item = array.Get(i);
        if (!item.IsObject())
        {
            throw makeTypeError(env, what + " must be an object {input, min, opt, max}");
        }
        Napi::Object object = item.As<Napi::Object>();
        ProfileSpec spec;
        spec.input = readString(env, object.Get("input"), (what + ".input").c_str());
        spec.min = readShape(env, object.Get("min"), what + ".min");
        spec.opt = readShape(env, object.Get("opt"), what + ".opt");
        spec.max = readShape(env, object.Get("max"), what + ".max");
        if (spec.min.size() != spec.opt.size() || spec.opt.size() != spec.max.size())
        {
            throw makeTypeError(env, what + " (" + spec.input + "): min, opt and max must have the same rank");
        }
        for (size_t d = 0; d < spec.min.size(); ++d)
        {
            if (!(spec.min[d] <= spec.opt[d] && spec.opt[d] <= spec.max[d]))
            {
                throw makeTypeError(env,
                                    what + " (" + spec.input + "): dimension " + std::to_string(d) + " must satisfy min <= opt <= max");
            }
        }
        if (!seen.insert(spec.input).second)
        {
            throw makeTypeError(env, what + ": input " + spec.input + " appears twice; one profile covers every input once");
        }
        profiles.push_back(std::move(spec));
    }
    return profiles;
}

ProfileRange readRange(Napi::Env env, Napi::Value value, std::string const& what)
{
    if (!value.IsObject())
    {
        throw makeTypeError(env, what + " must be an object {min, opt, max}");
    }
    Napi::Object object = value.As<Napi::Object>();
    ProfileRange range;
    range.min = readInteger(env, object.Get("min"), (what + ".min").c_str(), 1, INT64_MAX);
    range.opt = readInteger(env, object.Get("opt"), (what + ".opt").c_str(), 1, INT64_MAX);
    range.max = readInteger(env, object.Get("max"), (what + ".max").c_str(), 1, INT64_MAX);
    if (!(range.min <= range.opt && range.opt <= range.max))
    {
        throw makeTypeError(env, what + " must satisfy min <= opt <= max");
    }
    return range;
}

EncoderProfile readProfile(Napi::Env env, Napi::Value value)
{
    if (!value.IsObject())
    {
        throw makeTypeError(env, "options.profile must be an object {batch, sequence}");
    }
    Napi::Object object = value.As<Napi::Object>();
    EncoderProfile profile;
    profile.batch = readRange(env, object.Get("batch"), "options.profile.batch");
    profile.sequence = readRange(env, object.Get("sequence"), "options.profile.sequence");
    return profile;
}

} // namespace

BuildOptions readBuildOptions(Napi::Env env, Napi::Value value)
{
    if (!value.IsObject())
    {
        throw makeTypeError(env, "buildEngine: options must be an object");
    }
    Napi::Object object = value.As<Napi::Object>();
    BuildOptions options;

    options.onnxPath = readString(env, object.Get("onnxPath"), "options.onnxPath");
    if (options.onnxPath.empty())
    {
        throw makeTypeError(env, "options.onnxPath must not be empty");
    }

    std::string const precision = readString(env, object.Get("precision"), "options.precision");
    if (precision == "fp32")
        options.precision = Precision::kFP32;
    else if (precision == "fp16")
        options.precision = Precision::kFP16;
    else if (precision == "int8")
        options.precision = Precision::kINT8;
    else
        throw makeTypeError(env, "options.precision must be \"fp32\", \"fp16\" or \"int8\", not \"" + precision + "\"");

    if (isSet(object, "typing"))
    {
        std::string const typing = readString(env, object.Get("typing"), "options.typing");
        if (typing == "strong")
            options.typing = Typing::kSTRONG;
        else if (typing == "weak")
            options.typing = Typing::kWEAK;
        else
            throw makeTypeError(env, "options.typing must be \"strong\" or \"weak\", not \"" + typing + "\"");
    }

    if (isSet(object, "calibrationCache"))
    {
        options.calibrationCache = readBytes(env, object.Get("calibrationCache"), "options.calibrationCache");
        options.hasCalibrationCache = true;
    }

#if NV_TENSORRT_MAJOR >= 11
    if (options.typing == Typing::kWEAK)
    {
        throw makeError(env, codes::kModeRemoved,
                        "TensorRT " + compiledTrtVersionString() +
                            " removed weak typing (the kFP16/kINT8 builder flags): every network is strongly typed, so the "
                            "precision must be in the ONNX itself (an fp16 ONNX, or Q/DQ nodes for int8); build with typing "
                            "\"strong\" from such an ONNX");
    }
    if (options.hasCalibrationCache)
    {
        throw makeError(env, codes::kModeRemoved,
                        "TensorRT " + compiledTrtVersionString() +
                            " removed implicit INT8 calibration (IInt8Calibrator and calibration caches): the precision must "
                            "be in the ONNX itself; quantize it with Q/DQ nodes and build with typing \"strong\"");
    }
#else
    if (options.hasCalibrationCache && !(options.typing == Typing::kWEAK && options.precision == Precision::kINT8))
    {
        throw makeTypeError(env, "options.calibrationCache is used only with precision \"int8\" and typing \"weak\"");
    }
#endif

    if (isSet(object, "profiles"))
    {
        options.profiles = readProfiles(env, object.Get("profiles"));
    }
    if (isSet(object, "profile"))
    {
        if (isSet(object, "profiles"))
        {
            throw makeTypeError(env, "options.profile and options.profiles cannot both be given; pass one");
        }
        options.profile = readProfile(env, object.Get("profile"));
        options.hasProfile = true;
    }
    if (isSet(object, "workspaceBytes"))
    {
        options.workspaceBytes =
            static_cast<uint64_t>(readInteger(env, object.Get("workspaceBytes"), "options.workspaceBytes", 1, INT64_MAX));
        options.hasWorkspaceBytes = true;
    }
    if (isSet(object, "builderOptimizationLevel"))
    {
        options.builderOptimizationLevel =
            static_cast<int32_t>(readInteger(env, object.Get("builderOptimizationLevel"), "options.builderOptimizationLevel", 0, 5));
        options.hasOptimizationLevel = true;
    }
    if (isSet(object, "timingCache"))
    {
        options.timingCache = readBytes(env, object.Get("timingCache"), "options.timingCache");
        options.hasTimingCache = true;
    }
    if (isSet(object, "hardwareCompatibility"))
    {
        std::string const level = readString(env, object.Get("hardwareCompatibility"), "options.hardwareCompatibility");
        if (level == "none")
            options.hardwareCompatibility = HardwareCompat::kNONE;
        else if (level == "ampere_plus")
            options.hardwareCompatibility = HardwareCompat::kAMPERE_PLUS;
        else if (level == "same_compute_capability")
        {
#if TRTFORGE_TRT_AT_LEAST(10, 9)
            options.hardwareCompatibility = HardwareCompat::kSAME_COMPUTE_CAPABILITY;
#else
            throw makeTypeError(env, "options.hardwareCompatibility \"same_compute_capability\" needs TensorRT 10.9 or "
                                     "newer; this addon was compiled against " +
                                         compiledTrtVersionString());
#endif
        }
        else
        {
            throw makeTypeError(env, "options.hardwareCompatibility must be \"none\", \"ampere_plus\" or "
                                     "\"same_compute_capability\", not \"" +
                                         level + "\"");
        }
    }
    if (isSet(object, "versionCompatible"))
    {
        options.versionCompatible = readBool(env, object.Get("versionCompatible"), "options.versionCompatible");
    }
    if (isSet(object, "excludeLeanRuntime"))
    {
        options.excludeLeanRuntime = readBool(env, object.Get("excludeLeanRuntime"), "options.excludeLeanRuntime");
        if (options.excludeLeanRuntime && !options.versionCompatible)
        {
            throw makeTypeError(env, "options.excludeLeanRuntime applies only with versionCompatible: true");
        }
    }
    if (isSet(object, "deviceId"))
    {
        options.deviceId = static_cast<int32_t>(readInteger(env, object.Get("deviceId"), "options.deviceId", 0, 1023));
    }
    if (isSet(object, "logSeverity"))
    {
        std::string const name = readString(env, object.Get("logSeverity"), "options.logSeverity");
        if (!severityFromName(name, options.logSeverity))
        {
            throw makeTypeError(env, "options.logSeverity must be \"internal_error\", \"error\", \"warning\", \"info\" "
                                     "or \"verbose\", not \"" +
                                         name + "\"");
        }
    }
    return options;
}

} // namespace trtforge
