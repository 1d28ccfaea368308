#include "builder_config.h"
#include "engine_io.h"

#include <map>

namespace trtforge
{

using nvinfer1::ILogger;

std::string shapeToString(std::vector<int64_t> const& shape)
{
    std::string out = "[";
    for (size_t i = 0; i < shape.size(); ++i)
    {
        out += (i == 0 ? "" : ",") + std::to_string(shape[i]);
    }
    return out + "]";
}

std::string shapeToString(nvinfer1::Dims const& dims)
{
    return shapeToString(dimsToVector(dims));
}

nvinfer1::Dims toDims(std::vector<int64_t> const& shape) noexcept
{
    nvinfer1::Dims dims{};
    dims.nbDims = static_cast<int32_t>(shape.size());
    for (size_t i = 0; i < shape.size() && i < static_cast<size_t>(nvinfer1::Dims::MAX_DIMS); ++i)
    {
        dims.d[i] = shape[i];
    }
    return dims;
}

nvinfer1::NetworkDefinitionCreationFlags networkCreationFlags(BuildOptions const& options) noexcept
{
#if NV_TENSORRT_MAJOR >= 11
    // Every 11.x network is strongly typed; kSTRONGLY_TYPED is deprecated there and ignored.
    (void)options;
    return 0U;
#else
    if (options.typing == Typing::kSTRONG)
    {
        return 1U << static_cast<uint32_t>(nvinfer1::NetworkDefinitionCreationFlag::kSTRONGLY_TYPED);
    }
    // Weak typing: the precision builder flags (and a calibrator) choose the layer precisions.
    return 0U;
#endif
}

namespace
{

//! options.profile as one ProfileSpec per dynamic input ([batch, sequence]; fixed dimensions stay fixed).
bool expandEncoderProfile(EncoderProfile const& encoder, nvinfer1::INetworkDefinition const& network, std::vector<ProfileSpec>& specs,
                          Failure& failure)
{
    for (int32_t i = 0; i < network.getNbInputs(); ++i)
    {
        nvinfer1::ITensor const* tensor = network.getInput(i);
        if (tensor == nullptr)
        {
            continue;
        }
        nvinfer1::Dims const dims = tensor->getDimensions();
        bool dynamic = false;
        for (int32_t d = 0; d < dims.nbDims; ++d)
        {
            dynamic = dynamic || dims.d[d] < 0;
        }
        if (!dynamic)
        {
            continue;
        }
        std::string const name = tensor->getName();
        if (dims.nbDims != 2)
        {
            failure.set(codes::kBuildFailed, "options.profile gives [batch, sequence] shapes but input " + name + " is " +
                                                 shapeToString(dims) + "; give options.profiles for such a network");
            return false;
        }
        ProfileRange const* axes[2] = {&encoder.batch, &encoder.sequence};
        ProfileSpec spec;
        spec.input = name;
        for (int32_t d = 0; d < 2; ++d)
        {
            bool const fixed = dims.d[d] >= 0;
            spec.min.push_back(fixed ? dims.d[d] : axes[d]->min);
            spec.opt.push_back(fixed ? dims.d[d] : axes[d]->opt);
            spec.max.push_back(fixed ? dims.d[d] : axes[d]->max);
        }
        specs.push_back(std::move(spec));
    }
    return true;
}

} // namespace

bool addOptimizationProfile(BuildOptions const& options, nvinfer1::IBuilder& builder, nvinfer1::INetworkDefinition const& network,
                            nvinfer1::IBuilderConfig& config, Failure& failure)
{
    std::vector<ProfileSpec> expanded;
    if (options.hasProfile && !expandEncoderProfile(options.profile, network, expanded, failure))
    {
        return false;
    }
    std::vector<ProfileSpec> const& profiles = options.hasProfile ? expanded : options.profiles;
    std::map<std::string, ProfileSpec const*> specs;
    for (ProfileSpec const& spec : profiles)
    {
        specs[spec.input] = &spec;
    }
    std::map<std::string, bool> matched;
    std::string inputNames;
    for (int32_t i = 0; i < network.getNbInputs(); ++i)
    {
        nvinfer1::ITensor const* tensor = network.getInput(i);
        if (tensor == nullptr)
        {
            continue;
        }
        std::string const name = tensor->getName();
        nvinfer1::Dims const dims = tensor->getDimensions();
        inputNames += (inputNames.empty() ? "" : ", ") + name + " " + shapeToString(dims);
        bool dynamic = false;
        for (int32_t d = 0; d < dims.nbDims; ++d)
        {
            dynamic = dynamic || dims.d[d] < 0;
        }
        auto found = specs.find(name);
        if (found == specs.end())
        {
            if (dynamic)
            {
                failure.set(codes::kBuildFailed,
                            "input " + name + " has dynamic dimensions " + shapeToString(dims) +
                                " but options.profiles has no entry for it; give min/opt/max shapes for every dynamic input");
                return false;
            }
            continue;
        }
        matched[name] = true;
        ProfileSpec const& spec = *found->second;
        if (tensor->isShapeTensor())
        {
            failure.set(codes::kBuildFailed,
                        "input " + name + " is a shape tensor; profiles for shape-tensor inputs (setShapeValues) are not supported");
            return false;
        }
        if (static_cast<int32_t>(spec.min.size()) != dims.nbDims)
        {
            failure.set(codes::kBuildFailed, "the profile for " + name + " has rank " + std::to_string(spec.min.size()) +
                                                 " but the input is " + shapeToString(dims));
            return false;
        }
        for (int32_t d = 0; d < dims.nbDims; ++d)
        {
            if (dims.d[d] >= 0 && (spec.min[d] != dims.d[d] || spec.opt[d] != dims.d[d] || spec.max[d] != dims.d[d]))
            {
                failure.set(codes::kBuildFailed, "the profile for " + name + " sets dimension " + std::to_string(d) +
                                                     " but the ONNX fixes it to " + std::to_string(dims.d[d]) + " (input " +
                                                     shapeToString(dims) + ")");
                return false;
            }
        }
    }
    for (ProfileSpec const& spec : profiles)
    {
        if (matched.find(spec.input) == matched.end())
        {
            failure.set(codes::kBuildFailed,
                        "options.profiles names input " + spec.input + ", which the network does not have; its inputs are: " + inputNames);
            return false;
        }
    }
    if (profiles.empty())
    {
        return true;
    }
    nvinfer1::IOptimizationProfile* profile = builder.createOptimizationProfile(); // owned by the builder
    if (profile == nullptr)
    {
        failure.set(codes::kBuildFailed, "TensorRT could not create an optimization profile");
        return false;
    }
    for (ProfileSpec const& spec : profiles)
    {
        using nvinfer1::OptProfileSelector;
        if (!profile->setDimensions(spec.input.c_str(), OptProfileSelector::kMIN, toDims(spec.min)) ||
            !profile->setDimensions(spec.input.c_str(), OptProfileSelector::kOPT, toDims(spec.opt)) ||
            !profile->setDimensions(spec.input.c_str(), OptProfileSelector::kMAX, toDims(spec.max)))
        {
            failure.set(codes::kBuildFailed, "TensorRT refused the profile for " + spec.input + " (min " + shapeToString(spec.min) +
                                                 ", opt " + shapeToString(spec.opt) + ", max " + shapeToString(spec.max) + ")");
            return false;
        }
    }
    if (!profile->isValid() || config.addOptimizationProfile(profile) < 0)
    {
        failure.set(codes::kBuildFailed, "TensorRT refused the optimization profile as a whole");
        return false;
    }
    return true;
}

namespace
{

bool configureTimingCache(BuildOptions const& options, nvinfer1::IBuilderConfig& config, BuildResources& resources, JsLogger& logger,
                          Failure& failure)
{
    if (options.hasTimingCache)
    {
        resources.timingCache.reset(config.createTimingCache(options.timingCache.data(), options.timingCache.size()));
        if (resources.timingCache && config.setTimingCache(*resources.timingCache, /*ignoreMismatch=*/false))
        {
            return true;
        }
        logger.log(ILogger::Severity::kWARNING,
                   "trtforge: the timing cache given was refused (made by another TensorRT version or GPU?); building "
                   "with an empty one");
    }
    resources.timingCache.reset(config.createTimingCache(nullptr, 0));
    if (!resources.timingCache || !config.setTimingCache(*resources.timingCache, false))
    {
        failure.set(codes::kBuildFailed, "TensorRT could not create an empty timing cache");
        return false;
    }
    return true;
}

void configurePrecision(BuildOptions const& options, nvinfer1::IBuilderConfig& config, BuildResources& resources)
{
#if NV_TENSORRT_MAJOR >= 11
    // Strongly typed only (weak typing was refused when the options were read): the ONNX carries
    // the precision, nothing to set.
    (void)options;
    (void)config;
    (void)resources;
#else
    if (options.typing == Typing::kWEAK)
    {
        if (options.precision == Precision::kFP16 || options.precision == Precision::kINT8)
        {
            config.setFlag(nvinfer1::BuilderFlag::kFP16);
        }
        if (options.precision == Precision::kINT8)
        {
            // int8 where calibrated (or where the ONNX has Q/DQ), fp16 elsewhere.
            config.setFlag(nvinfer1::BuilderFlag::kINT8);
            if (options.hasCalibrationCache)
            {
                resources.calibrator = std::make_unique<CacheOnlyCalibrator>(options.calibrationCache);
                config.setInt8Calibrator(resources.calibrator.get());
            }
        }
    }
#endif
}

bool configureCompatibility(BuildOptions const& options, nvinfer1::IBuilderConfig& config)
{
    using nvinfer1::HardwareCompatibilityLevel;
    switch (options.hardwareCompatibility)
    {
    case HardwareCompat::kNONE:
        config.setHardwareCompatibilityLevel(HardwareCompatibilityLevel::kNONE);
        break;
    case HardwareCompat::kAMPERE_PLUS:
        config.setHardwareCompatibilityLevel(HardwareCompatibilityLevel::kAMPERE_PLUS);
        break;
    case HardwareCompat::kSAME_COMPUTE_CAPABILITY:
#if TRTFORGE_TRT_AT_LEAST(10, 9)
        config.setHardwareCompatibilityLevel(HardwareCompatibilityLevel::kSAME_COMPUTE_CAPABILITY);
        break;
#else
        return false; // refused when the options were read
#endif
    }
    if (options.versionCompatible)
    {
        config.setFlag(nvinfer1::BuilderFlag::kVERSION_COMPATIBLE);
        if (options.excludeLeanRuntime)
        {
            config.setFlag(nvinfer1::BuilderFlag::kEXCLUDE_LEAN_RUNTIME);
        }
    }
    return true;
}

} // namespace

bool configureBuilder(BuildOptions const& options, nvinfer1::IBuilderConfig& config, nvinfer1::IProgressMonitor* monitor,
                      BuildResources& resources, JsLogger& logger, Failure& failure)
{
    if (options.hasWorkspaceBytes)
    {
        config.setMemoryPoolLimit(nvinfer1::MemoryPoolType::kWORKSPACE, static_cast<std::size_t>(options.workspaceBytes));
    }
    if (options.hasOptimizationLevel)
    {
        config.setBuilderOptimizationLevel(options.builderOptimizationLevel);
    }
    // Layer names, precisions and tactics in the engine inspector's JSON: the proof that fp16/int8
    // took effect.
    config.setProfilingVerbosity(nvinfer1::ProfilingVerbosity::kDETAILED);
    if (monitor != nullptr)
    {
        config.setProgressMonitor(monitor);
    }
    configurePrecision(options, config, resources);
    if (!configureCompatibility(options, config))
    {
        failure.set(codes::kBuildFailed, "hardwareCompatibility \"same_compute_capability\" needs TensorRT 10.9+");
        return false;
    }
    return configureTimingCache(options, config, resources, logger, failure);
}

} // namespace trtforge
