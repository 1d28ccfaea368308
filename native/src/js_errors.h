// Failures as plain C++ data (filled on worker threads) and their conversion to JS Errors with a
// `code` and a `details` array (done on the JS thread).
#pragma once

#include "common.h"

namespace trtforge
{

//! One IParserError, copied out of the parser before it is destroyed.
struct ParserErrorInfo
{
    int32_t node = -1;
    std::string nodeName;
    std::string nodeOperator;
    std::string message;
    std::string errorCode; // parserErrorCodeName()
};

//! A message TensorRT gave through the logger or the error recorder.
struct TrtMessage
{
    std::string source;    // "log" | "error-recorder"
    std::string severity;  // severityName(), "error" for recorder entries
    std::string errorCode; // trtErrorCodeName() for recorder entries, empty for log lines
    std::string message;
};

struct Failure
{
    bool failed = false;
    std::string code;
    std::string message;
    std::vector<ParserErrorInfo> parserErrors; // TRT_PARSE_FAILED
    std::vector<TrtMessage> messages;          // everything else

    void set(char const* errorCode, std::string text)
    {
        failed = true;
        code = errorCode;
        message = std::move(text);
    }
};

//! An Error (or TypeError) with `code` set; `details` is added when the failure carries any.
Napi::Error makeError(Napi::Env env, char const* code, std::string const& message);
Napi::Error makeTypeError(Napi::Env env, std::string const& message);
Napi::Error failureToError(Napi::Env env, Failure const& failure);

} // namespace trtforge
