// Applies BuildOptions to TensorRT: the network-creation flags (strong or weak typing), the one
// optimization profile covering every dynamic input, and the IBuilderConfig (workspace pool,
// optimization level, precision flags and cache-only calibrator on 10.x, timing cache,
// hardware compatibility, version compatibility, detailed profiling verbosity, progress monitor).
#pragma once

#include "build_options.h"
#include "calibrator.h"
#include "common.h"
#include "js_errors.h"
#include "logger_bridge.h"

#include <memory>

namespace trtforge
{

//! Objects the builder config points to; they must outlive buildSerializedNetwork().
struct BuildResources
{
    std::unique_ptr<nvinfer1::ITimingCache> timingCache;
#if NV_TENSORRT_MAJOR < 11
    std::unique_ptr<CacheOnlyCalibrator> calibrator;
#endif
};

nvinfer1::NetworkDefinitionCreationFlags networkCreationFlags(BuildOptions const& options) noexcept;

//! One profile with every options.profiles entry; fails (TRT_BUILD_FAILED) when a dynamic input has
//! no entry, an entry names no input, or ranks and fixed dimensions disagree with the network.
bool addOptimizationProfile(BuildOptions const& options, nvinfer1::IBuilder& builder, nvinfer1::INetworkDefinition const& network,
                            nvinfer1::IBuilderConfig& config, Failure& failure);

bool configureBuilder(BuildOptions const& options, nvinfer1::IBuilderConfig& config, nvinfer1::IProgressMonitor* monitor,
                      BuildResources& resources, JsLogger& logger, Failure& failure);

std::string shapeToString(nvinfer1::Dims const& dims);
std::string shapeToString(std::vector<int64_t> const& shape);
nvinfer1::Dims toDims(std::vector<int64_t> const& shape) noexcept;

} // namespace trtforge
