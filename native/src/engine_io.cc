#include "engine_io.h"

#include "enum_names.h"

namespace trtforge
{

std::vector<int64_t> dimsToVector(nvinfer1::Dims const& dims)
{
    std::vector<int64_t> out;
    for (int32_t i = 0; i < dims.nbDims && i < nvinfer1::Dims::MAX_DIMS; ++i)
    {
        out.push_back(dims.d[i]);
    }
    return out;
}

std::vector<IoTensorInfo> describeIoTensors(nvinfer1::ICudaEngine const& engine)
{
    std::vector<IoTensorInfo> out;
    int32_t const count = engine.getNbIOTensors();
    bool const hasProfiles = engine.getNbOptimizationProfiles() > 0;
    for (int32_t i = 0; i < count; ++i)
    {
        char const* name = engine.getIOTensorName(i);
        if (name == nullptr)
        {
            continue;
        }
        IoTensorInfo info;
        info.name = name;
        info.isInput = engine.getTensorIOMode(name) == nvinfer1::TensorIOMode::kINPUT;
        info.type = engine.getTensorDataType(name);
        info.shape = dimsToVector(engine.getTensorShape(name));
        info.onHost = engine.getTensorLocation(name) == nvinfer1::TensorLocation::kHOST;
        bool dynamic = false;
        for (int64_t d : info.shape)
        {
            dynamic = dynamic || d < 0;
        }
        if (info.isInput && dynamic && hasProfiles)
        {
            using nvinfer1::OptProfileSelector;
            info.hasProfile = true;
            info.profileMin = dimsToVector(engine.getProfileShape(name, 0, OptProfileSelector::kMIN));
            info.profileOpt = dimsToVector(engine.getProfileShape(name, 0, OptProfileSelector::kOPT));
            info.profileMax = dimsToVector(engine.getProfileShape(name, 0, OptProfileSelector::kMAX));
        }
        out.push_back(std::move(info));
    }
    return out;
}

Napi::Array shapeToJs(Napi::Env env, std::vector<int64_t> const& shape)
{
    Napi::Array out = Napi::Array::New(env, shape.size());
    for (size_t i = 0; i < shape.size(); ++i)
    {
        out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(shape[i])));
    }
    return out;
}

Napi::Array ioTensorsToJs(Napi::Env env, std::vector<IoTensorInfo> const& tensors)
{
    Napi::Array out = Napi::Array::New(env, tensors.size());
    for (size_t i = 0; i < tensors.size(); ++i)
    {
        IoTensorInfo const& t = tensors[i];
        Napi::Object item = Napi::Object::New(env);
        item.Set("name", Napi::String::New(env, t.name));
        item.Set("mode", Napi::String::New(env, t.isInput ? "input" : "output"));
        item.Set("dtype", Napi::String::New(env, dataTypeName(t.type)));
        item.Set("shape", shapeToJs(env, t.shape));
        item.Set("location", Napi::String::New(env, t.onHost ? "host" : "device"));
        if (t.hasProfile)
        {
            Napi::Object profile = Napi::Object::New(env);
            profile.Set("min", shapeToJs(env, t.profileMin));
            profile.Set("opt", shapeToJs(env, t.profileOpt));
            profile.Set("max", shapeToJs(env, t.profileMax));
            item.Set("profile", profile);
        }
        out.Set(static_cast<uint32_t>(i), item);
    }
    return out;
}

} // namespace trtforge
