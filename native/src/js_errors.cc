#include "js_errors.h"

namespace trtforge
{

Napi::Error makeError(Napi::Env env, char const* code, std::string const& message)
{
    Napi::Error error = Napi::Error::New(env, message);
    error.Value().Set("code", Napi::String::New(env, code));
    return error;
}

Napi::Error makeTypeError(Napi::Env env, std::string const& message)
{
    Napi::Error error = Napi::TypeError::New(env, message);
    error.Value().Set("code", Napi::String::New(env, "ERR_INVALID_ARG_VALUE"));
    return error;
}

namespace
{

Napi::Array parserDetails(Napi::Env env, std::vector<ParserErrorInfo> const& errors)
{
    Napi::Array out = Napi::Array::New(env, errors.size());
    for (size_t i = 0; i < errors.size(); ++i)
    {
        ParserErrorInfo const& e = errors[i];
        Napi::Object item = Napi::Object::New(env);
        item.Set("node", Napi::Number::New(env, e.node));
        item.Set("nodeName", Napi::String::New(env, e.nodeName));
        item.Set("operator", Napi::String::New(env, e.nodeOperator));
        item.Set("message", Napi::String::New(env, e.message));
        item.Set("errorCode", Napi::String::New(env, e.errorCode));
        out.Set(static_cast<uint32_t>(i), item);
    }
    return out;
}

Napi::Array messageDetails(Napi::Env env, std::vector<TrtMessage> const& messages)
{
    Napi::Array out = Napi::Array::New(env, messages.size());
    for (size_t i = 0; i < messages.size(); ++i)
    {
        TrtMessage const& m = messages[i];
        Napi::Object item = Napi::Object::New(env);
        item.Set("source", Napi::String::New(env, m.source));
        item.Set("severity", Napi::String::New(env, m.severity));
        if (!m.errorCode.empty())
        {
            item.Set("errorCode", Napi::String::New(env, m.errorCode));
        }
        item.Set("message", Napi::String::New(env, m.message));
        out.Set(static_cast<uint32_t>(i), item);
    }
    return out;
}

} // namespace

Napi::Error failureToError(Napi::Env env, Failure const& failure)
{
    Napi::Error error = makeError(env, failure.code.empty() ? codes::kInternal : failure.code.c_str(), failure.message);
    if (!failure.parserErrors.empty())
    {
        error.Value().Set("details", parserDetails(env, failure.parserErrors));
    }
    else if (!failure.messages.empty())
    {
        error.Value().Set("details", messageDetails(env, failure.messages));
    }
    return error;
}

} // namespace trtforge
