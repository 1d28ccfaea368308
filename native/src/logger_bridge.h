// nvinfer1::ILogger that forwards TensorRT's messages (from any TensorRT thread) to a JS onLog
// callback through an EventSink, and keeps the last error- and warning-level messages so a failed
// parse, build, load or run can say what TensorRT said.
#pragma once

#include "common.h"
#include "event_sink.h"
#include "js_errors.h"

#include <deque>
#include <memory>
#include <mutex>

namespace trtforge
{

class JsLogger : public nvinfer1::ILogger
{
public:
    JsLogger(Severity minSeverity, std::shared_ptr<EventSink> sink);

    void log(Severity severity, nvinfer1::AsciiChar const* msg) noexcept override;

    //! What the error recorder received: kept as an error with its code, and shown to onLog as an
    //! error line "[CODE] message".
    void recordError(char const* errorCode, std::string const& text) noexcept;

    //! Current position: messages logged after it are those returned by messagesSince().
    uint64_t mark() const noexcept;
    //! Error-level messages logged after `mark` (warnings too when there are no errors), oldest
    //! first, at most the last 32 of each.
    std::vector<TrtMessage> messagesSince(uint64_t mark) const;
    //! The last error-level message after `mark`, or "".
    std::string lastErrorSince(uint64_t mark) const;
    //! Sets `failure` to `code` and `what`, followed by the last error TensorRT logged after `mark`,
    //! with the messages logged since.
    void fail(Failure& failure, char const* code, std::string what, uint64_t mark) const;

private:
    struct Entry
    {
        uint64_t seq;
        Severity severity;
        std::string source;    // "log" | "error-recorder"
        std::string errorCode; // recorder entries only
        std::string text;
    };

    void keep(Severity severity, char const* source, char const* errorCode, std::string const& text);
    void forward(Severity severity, std::string text);

    Severity mMinSeverity;
    std::shared_ptr<EventSink> mSink;
    mutable std::mutex mMutex;
    uint64_t mSeq = 0;
    std::deque<Entry> mErrors;
    std::deque<Entry> mWarnings;
};

} // namespace trtforge
