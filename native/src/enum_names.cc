#include "enum_names.h"

namespace trtforge
{

using Severity = nvinfer1::ILogger::Severity;

char const* severityName(Severity severity) noexcept
{
    switch (severity)
    {
    case Severity::kINTERNAL_ERROR:
        return "internal_error";
    case Severity::kERROR:
        return "error";
    case Severity::kWARNING:
        return "warning";
    case Severity::kINFO:
        return "info";
    case Severity::kVERBOSE:
        return "verbose";
    default:
        return "unknown";
    }
}

bool severityFromName(std::string const& name, Severity& out) noexcept
{
    if (name == "internal_error")
    {
        out = Severity::kINTERNAL_ERROR;
        return true;
    }
    if (name == "error")
    {
        out = Severity::kERROR;
        return true;
    }
    if (name == "warning")
    {
        out = Severity::kWARNING;
        return true;
    }
    if (name == "info")
    {
        out = Severity::kINFO;
        return true;
    }
    if (name == "verbose")
    {
        out = Severity::kVERBOSE;
        return true;
    }
    return false;
}

int severityRank(Severity severity) noexcept
{
    switch (severity)
    {
    case Severity::kINTERNAL_ERROR:
        return 0;
    case Severity::kERROR:
        return 1;
    case Severity::kWARNING:
        return 2;
    case Severity::kINFO:
        return 3;
    case Severity::kVERBOSE:
        return 4;
    default:
        return 4;
    }
}

char const* dataTypeName(nvinfer1::DataType type) noexcept
{
    using nvinfer1::DataType;
    switch (type)
    {
    case DataType::kFLOAT:
        return "fp32";
    case DataType::kHALF:
        return "fp16";
    case DataType::kINT8:
        return "int8";
    case DataType::kINT32:
        return "int32";
    case DataType::kBOOL:
        return "bool";
    case DataType::kUINT8:
        return "uint8";
    case DataType::kFP8:
        return "fp8";
    case DataType::kBF16:
        return "bf16";
    case DataType::kINT64:
        return "int64";
    case DataType::kINT4:
        return "int4";
#if TRTFORGE_TRT_AT_LEAST(10, 8)
    case DataType::kFP4:
        return "fp4";
#endif
#if TRTFORGE_TRT_AT_LEAST(10, 12)
    case DataType::kE8M0:
        return "e8m0";
#endif
    default:
        return "unknown";
    }
}

size_t dataTypeBytes(nvinfer1::DataType type) noexcept
{
    using nvinfer1::DataType;
    switch (type)
    {
    case DataType::kFLOAT:
        return 4;
    case DataType::kHALF:
        return 2;
    case DataType::kINT8:
        return 1;
    case DataType::kINT32:
        return 4;
    case DataType::kBOOL:
        return 1;
    case DataType::kUINT8:
        return 1;
    case DataType::kFP8:
        return 1;
    case DataType::kBF16:
        return 2;
    case DataType::kINT64:
        return 8;
#if TRTFORGE_TRT_AT_LEAST(10, 12)
    case DataType::kE8M0:
        return 1;
#endif
    default:
        return 0; // kINT4, kFP4: packed, not supported by run()
    }
}

char const* trtErrorCodeName(nvinfer1::ErrorCode code) noexcept
{
    using nvinfer1::ErrorCode;
    switch (code)
    {
    case ErrorCode::kSUCCESS:
        return "SUCCESS";
    case ErrorCode::kUNSPECIFIED_ERROR:
        return "UNSPECIFIED_ERROR";
    case ErrorCode::kINTERNAL_ERROR:
        return "INTERNAL_ERROR";
    case ErrorCode::kINVALID_ARGUMENT:
        return "INVALID_ARGUMENT";
    case ErrorCode::kINVALID_CONFIG:
        return "INVALID_CONFIG";
    case ErrorCode::kFAILED_ALLOCATION:
        return "FAILED_ALLOCATION";
    case ErrorCode::kFAILED_INITIALIZATION:
        return "FAILED_INITIALIZATION";
    case ErrorCode::kFAILED_EXECUTION:
        return "FAILED_EXECUTION";
    case ErrorCode::kFAILED_COMPUTATION:
        return "FAILED_COMPUTATION";
    case ErrorCode::kINVALID_STATE:
        return "INVALID_STATE";
    case ErrorCode::kUNSUPPORTED_STATE:
        return "UNSUPPORTED_STATE";
    default:
        return "UNKNOWN";
    }
}

char const* parserErrorCodeName(nvonnxparser::ErrorCode code) noexcept
{
    using nvonnxparser::ErrorCode;
    switch (code)
    {
    case ErrorCode::kSUCCESS:
        return "SUCCESS";
    case ErrorCode::kINTERNAL_ERROR:
        return "INTERNAL_ERROR";
    case ErrorCode::kMEM_ALLOC_FAILED:
        return "MEM_ALLOC_FAILED";
    case ErrorCode::kMODEL_DESERIALIZE_FAILED:
        return "MODEL_DESERIALIZE_FAILED";
    case ErrorCode::kINVALID_VALUE:
        return "INVALID_VALUE";
    case ErrorCode::kINVALID_GRAPH:
        return "INVALID_GRAPH";
    case ErrorCode::kINVALID_NODE:
        return "INVALID_NODE";
    case ErrorCode::kUNSUPPORTED_GRAPH:
        return "UNSUPPORTED_GRAPH";
    case ErrorCode::kUNSUPPORTED_NODE:
        return "UNSUPPORTED_NODE";
    case ErrorCode::kUNSUPPORTED_NODE_ATTR:
        return "UNSUPPORTED_NODE_ATTR";
    case ErrorCode::kUNSUPPORTED_NODE_INPUT:
        return "UNSUPPORTED_NODE_INPUT";
    case ErrorCode::kUNSUPPORTED_NODE_DATATYPE:
        return "UNSUPPORTED_NODE_DATATYPE";
    case ErrorCode::kUNSUPPORTED_NODE_DYNAMIC:
        return "UNSUPPORTED_NODE_DYNAMIC";
    case ErrorCode::kUNSUPPORTED_NODE_SHAPE:
        return "UNSUPPORTED_NODE_SHAPE";
    case ErrorCode::kREFIT_FAILED:
        return "REFIT_FAILED";
    default:
        return "UNKNOWN";
    }
}

} // namespace trtforge
