// buildEngine()'s options, read and checked on the JS thread into plain data the build worker
// can use off the JS thread. Wrong types and values throw a TypeError; asking TensorRT 11 for
// weak typing or a calibration cache throws an Error with code TRT_MODE_REMOVED.
#pragma once

#include "common.h"

namespace trtforge
{

enum class Precision
{
    kFP32,
    kFP16,
    kINT8
};

enum class Typing
{
    kSTRONG,
    kWEAK
};

enum class HardwareCompat
{
    kNONE,
    kAMPERE_PLUS,
    kSAME_COMPUTE_CAPABILITY
};

struct ProfileSpec
{
    std::string input;
    std::vector<int64_t> min;
    std::vector<int64_t> opt;
    std::vector<int64_t> max;
};

//! One axis of options.profile (the pipeline's Profile): smallest, tuned-for and largest size.
struct ProfileRange
{
    int64_t min = 1;
    int64_t opt = 1;
    int64_t max = 1;
};

//! options.profile: every dynamic input is [batch, sequence] (addOptimizationProfile expands it per input).
struct EncoderProfile
{
    ProfileRange batch;
    ProfileRange sequence;
};

struct BuildOptions
{
    std::string onnxPath;
    Precision precision = Precision::kFP32;
    Typing typing = Typing::kSTRONG;
    std::vector<ProfileSpec> profiles;
    bool hasProfile = false;
    EncoderProfile profile;
    bool hasWorkspaceBytes = false;
    uint64_t workspaceBytes = 0;
    bool hasOptimizationLevel = false;
    int32_t builderOptimizationLevel = 3;
    bool hasCalibrationCache = false;
    std::vector<uint8_t> calibrationCache;
    bool hasTimingCache = false;
    std::vector<uint8_t> timingCache;
    HardwareCompat hardwareCompatibility = HardwareCompat::kNONE;
    bool versionCompatible = false;
    bool excludeLeanRuntime = false;
    int32_t deviceId = 0;
    nvinfer1::ILogger::Severity logSeverity = nvinfer1::ILogger::Severity::kINFO;
};

//! Throws Napi::Error (TypeError, or code TRT_MODE_REMOVED) on invalid options.
BuildOptions readBuildOptions(Napi::Env env, Napi::Value value);

//! Copies a Buffer / TypedArray / DataView / ArrayBuffer; throws a TypeError naming `what` otherwise.
std::vector<uint8_t> readBytes(Napi::Env env, Napi::Value value, char const* what);

//! Reads an integer in [min, max] (a Number with no fraction, or a BigInt); throws a TypeError.
int64_t readInteger(Napi::Env env, Napi::Value value, char const* what, int64_t min, int64_t max);

} // namespace trtforge
