// The engine's I/O tensors (name, input/output, dtype name, shape with -1 for dynamic dimensions,
// location, and the profile's min/opt/max for dynamic inputs), as data and as JS objects.
#pragma once

#include "common.h"

namespace trtforge
{

struct IoTensorInfo
{
    std::string name;
    bool isInput = false;
    nvinfer1::DataType type = nvinfer1::DataType::kFLOAT;
    std::vector<int64_t> shape;
    bool onHost = false;
    bool hasProfile = false;
    std::vector<int64_t> profileMin;
    std::vector<int64_t> profileOpt;
    std::vector<int64_t> profileMax;
};

std::vector<IoTensorInfo> describeIoTensors(nvinfer1::ICudaEngine const& engine);

std::vector<int64_t> dimsToVector(nvinfer1::Dims const& dims);

Napi::Array shapeToJs(Napi::Env env, std::vector<int64_t> const& shape);
Napi::Array ioTensorsToJs(Napi::Env env, std::vector<IoTensorInfo> const& tensors);

} // namespace trtforge
