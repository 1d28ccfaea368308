#include "calibrator.h"

#if NV_TENSORRT_MAJOR < 11

namespace trtforge
{

CacheOnlyCalibrator::CacheOnlyCalibrator(std::vector<uint8_t> cache)
    : mCache(std::move(cache))
{
}

int32_t CacheOnlyCalibrator::getBatchSize() const noexcept
{
    return 1;
}

bool CacheOnlyCalibrator::getBatch(void* /*bindings*/[], char const* /*names*/[], int32_t /*nbBindings*/) noexcept
{
    // No data: the scales come from the cache alone. TensorRT skips calibration when
    // readCalibrationCache() returns a cache, so this is only reached if the cache was refused.
    return false;
}

void const* CacheOnlyCalibrator::readCalibrationCache(std::size_t& length) noexcept
{
    length = mCache.size();
    return mCache.empty() ? nullptr : mCache.data();
}

void CacheOnlyCalibrator::writeCalibrationCache(void const* /*ptr*/, std::size_t /*length*/) noexcept
{
    // The cache is the caller's artefact (written by trtforge's calibration stage); TensorRT's echo
    // of it is not written back.
}

} // namespace trtforge

#endif
