// TensorRT 10.x only: an IInt8EntropyCalibrator2 that serves a calibration cache and never
// supplies batches, so the builder takes every scale from the cache (a cache-only calibration).
// TensorRT 11 removed the calibrator family; there this header declares nothing.
#pragma once

#include "common.h"

#if NV_TENSORRT_MAJOR < 11

namespace trtforge
{

class CacheOnlyCalibrator : public nvinfer1::IInt8EntropyCalibrator2
{
public:
    explicit CacheOnlyCalibrator(std::vector<uint8_t> cache);

    int32_t getBatchSize() const noexcept override;
    bool getBatch(void* bindings[], char const* names[], int32_t nbBindings) noexcept override;
    void const* readCalibrationCache(std::size_t& length) noexcept override;
    void writeCalibrationCache(void const* ptr, std::size_t length) noexcept override;

private:
    std::vector<uint8_t> mCache;
};

} // namespace trtforge

#endif
