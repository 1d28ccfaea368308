// nvinfer1::IErrorRecorder that keeps what TensorRT reports (bounded, thread-safe) and also
// hands each report to the JsLogger, because TensorRT sends errors to an attached recorder instead
// of the logger: the logger's error ring and onLog then see every error, with its code.
#pragma once

#include "common.h"
#include "js_errors.h"
#include "logger_bridge.h"

#include <atomic>
#include <deque>
#include <mutex>

namespace trtforge
{

class CapturingErrorRecorder : public nvinfer1::IErrorRecorder
{
public:
    explicit CapturingErrorRecorder(JsLogger* logger) noexcept;

    int32_t getNbErrors() const noexcept override;
    nvinfer1::ErrorCode getErrorCode(int32_t errorIdx) const noexcept override;
    ErrorDesc getErrorDesc(int32_t errorIdx) const noexcept override;
    bool hasOverflowed() const noexcept override;
    void clear() noexcept override;
    bool reportError(nvinfer1::ErrorCode val, ErrorDesc desc) noexcept override;
    RefCount incRefCount() noexcept override;
    RefCount decRefCount() noexcept override;

private:
    struct Entry
    {
        nvinfer1::ErrorCode code;
        std::string desc;
    };

    JsLogger* mLogger;
    mutable std::mutex mMutex;
    std::deque<Entry> mErrors;
    bool mOverflowed = false;
    std::atomic<RefCount> mRefCount{0};
};

} // namespace trtforge
