// Names <-> TensorRT enums. Every mapping is a switch over enumerators, so a value that moved
// between majors (BuilderFlag, NetworkDefinitionCreationFlag) can never leak out as a number.
#pragma once

#include "common.h"

namespace trtforge
{

char const* severityName(nvinfer1::ILogger::Severity severity) noexcept;
//! Accepts "internal_error", "error", "warning", "info", "verbose".
bool severityFromName(std::string const& name, nvinfer1::ILogger::Severity& out) noexcept;
//! 0 for internal_error .. 4 for verbose: only for "at least this severe" comparisons.
int severityRank(nvinfer1::ILogger::Severity severity) noexcept;

//! "fp32", "fp16", "int8", "int32", "bool", "uint8", "fp8", "bf16", "int64", "int4", "fp4", "e8m0".
char const* dataTypeName(nvinfer1::DataType type) noexcept;
//! Bytes per element, or 0 for packed sub-byte types (int4, fp4) that the runtime does not copy.
size_t dataTypeBytes(nvinfer1::DataType type) noexcept;

//! IErrorRecorder / IParserError codes without the leading k, e.g. "UNSUPPORTED_NODE".
char const* trtErrorCodeName(nvinfer1::ErrorCode code) noexcept;
char const* parserErrorCodeName(nvonnxparser::ErrorCode code) noexcept;

} // namespace trtforge
