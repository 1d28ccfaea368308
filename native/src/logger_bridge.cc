#include "logger_bridge.h"

#include "enum_names.h"

namespace trtforge
{

namespace
{
constexpr size_t kKeepPerLevel = 32;
}

JsLogger::JsLogger(Severity minSeverity, std::shared_ptr<EventSink> sink)
    : mMinSeverity(minSeverity)
    , mSink(std::move(sink))
{
}

void JsLogger::keep(Severity severity, char const* source, char const* errorCode, std::string const& text)
{
    int const rank = severityRank(severity);
    std::lock_guard<std::mutex> lock(mMutex);
    ++mSeq;
    std::deque<Entry>* ring = nullptr;
    if (rank <= severityRank(Severity::kERROR))
    {
        ring = &mErrors;
    }
    else if (rank == severityRank(Severity::kWARNING))
    {
        ring = &mWarnings;
    }
    if (ring != nullptr)
    {
        ring->push_back(Entry{mSeq, severity, source, errorCode, text});
        if (ring->size() > kKeepPerLevel)
        {
            ring->pop_front();
        }
    }
}

void JsLogger::forward(Severity severity, std::string text)
{
    if (mSink && mSink->wantsLogs() && severityRank(severity) <= severityRank(mMinSeverity))
    {
        auto event = std::make_unique<JsEvent>();
        event->kind = JsEvent::Kind::kLog;
        event->severity = severityName(severity);
        event->text = std::move(text);
        mSink->emit(std::move(event));
    }
}

void JsLogger::log(Severity severity, nvinfer1::AsciiChar const* msg) noexcept
{
    // Verbose builds log a great many info lines that go nowhere: no string, no lock for those.
    bool const kept = severityRank(severity) <= severityRank(Severity::kWARNING);
    bool const forwarded = mSink && mSink->wantsLogs() && severityRank(severity) <= severityRank(mMinSeverity);
    if (!kept && !forwarded)
    {
        return;
    }
    try
    {
        std::string text = msg != nullptr ? msg : "";
        if (kept)
        {
            keep(severity, "log", "", text);
        }
        forward(severity, std::move(text));
    }
    catch (...)
    {
        // log() is noexcept: a failed allocation loses this one message.
    }
}

void JsLogger::recordError(char const* errorCode, std::string const& text) noexcept
{
    try
    {
        keep(Severity::kERROR, "error-recorder", errorCode, text);
        forward(Severity::kERROR, std::string("[") + errorCode + "] " + text);
    }
    catch (...)
    {
    }
}

uint64_t JsLogger::mark() const noexcept
{
    std::lock_guard<std::mutex> lock(mMutex);
    return mSeq;
}

std::vector<TrtMessage> JsLogger::messagesSince(uint64_t mark) const
{
    std::lock_guard<std::mutex> lock(mMutex);
    std::vector<TrtMessage> out;
    for (Entry const& e : mErrors)
    {
        if (e.seq > mark)
        {
            out.push_back(TrtMessage{e.source, severityName(e.severity), e.errorCode, e.text});
        }
    }
    if (out.empty())
    {
        for (Entry const& e : mWarnings)
        {
            if (e.seq > mark)
            {
                out.push_back(TrtMessage{e.source, severityName(e.severity), e.errorCode, e.text});
            }
        }
    }
    return out;
}

std::string JsLogger::lastErrorSince(uint64_t mark) const
{
    std::lock_guard<std::mutex> lock(mMutex);
    if (!mErrors.empty() && mErrors.back().seq > mark)
    {
        return mErrors.back().text;
    }
    return "";
}

void JsLogger::fail(Failure& failure, char const* code, std::string what, uint64_t mark) const
{
    std::string const last = lastErrorSince(mark);
    if (!last.empty())
    {
        what += ": " + last;
    }
    failure.set(code, std::move(what));
    failure.messages = messagesSince(mark);
}

} // namespace trtforge
