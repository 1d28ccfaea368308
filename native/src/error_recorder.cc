#include "error_recorder.h"

#include "enum_names.h"

namespace trtforge
{

namespace
{
constexpr size_t kMaxErrors = 256;
}

CapturingErrorRecorder::CapturingErrorRecorder(JsLogger* logger) noexcept
    : mLogger(logger)
{
}

int32_t CapturingErrorRecorder::getNbErrors() const noexcept
{
    std::lock_guard<std::mutex> lock(mMutex);
    return static_cast<int32_t>(mErrors.size());
}

nvinfer1::ErrorCode CapturingErrorRecorder::getErrorCode(int32_t errorIdx) const noexcept
{
    std::lock_guard<std::mutex> lock(mMutex);
    if (errorIdx < 0 || static_cast<size_t>(errorIdx) >= mErrors.size())
    {
        return nvinfer1::ErrorCode::kINVALID_ARGUMENT;
    }
    return mErrors[static_cast<size_t>(errorIdx)].code;
}

CapturingErrorRecorder::ErrorDesc CapturingErrorRecorder::getErrorDesc(int32_t errorIdx) const noexcept
{
    std::lock_guard<std::mutex> lock(mMutex);
    if (errorIdx < 0 || static_cast<size_t>(errorIdx) >= mErrors.size())
    {
        return "error index out of range";
    }
    // Valid until the next clear() or reportError() that evicts it (entries are never modified).
    return mErrors[static_cast<size_t>(errorIdx)].desc.c_str();
}

bool CapturingErrorRecorder::hasOverflowed() const noexcept
{
    std::lock_guard<std::mutex> lock(mMutex);
    return mOverflowed;
}

void CapturingErrorRecorder::clear() noexcept
{
    std::lock_guard<std::mutex> lock(mMutex);
    mErrors.clear();
    mOverflowed = false;
}

bool CapturingErrorRecorder::reportError(nvinfer1::ErrorCode val, ErrorDesc desc) noexcept
{
    try
    {
        std::string text = desc != nullptr ? desc : "";
        {
            std::lock_guard<std::mutex> lock(mMutex);
            if (mErrors.size() >= kMaxErrors)
            {
                mOverflowed = true;
            }
            else
            {
                mErrors.push_back(Entry{val, text});
            }
        }
        if (mLogger != nullptr)
        {
            mLogger->recordError(trtErrorCodeName(val), text);
        }
    }
    catch (...)
    {
    }
    // Not fatal by our decision: TensorRT decides whether the call can go on.
    return false;
}

CapturingErrorRecorder::RefCount CapturingErrorRecorder::incRefCount() noexcept
{
    return ++mRefCount;
}

CapturingErrorRecorder::RefCount CapturingErrorRecorder::decRefCount() noexcept
{
    // The recorder's lifetime is its owner's (the build worker or the engine), which outlives every
    // TensorRT object it is attached to; the count is kept only because the interface asks for it.
    return --mRefCount;
}

} // namespace trtforge
