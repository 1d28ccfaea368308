#include "build_worker.h"

#include "build_options.h"
#include "builder_config.h"
#include "device_info.h"
#include "engine_io.h"
#include "error_recorder.h"
#include "event_sink.h"
#include "inspector.h"
#include "js_errors.h"
#include "logger_bridge.h"
#include "parser_errors.h"
#include "progress_monitor.h"
#include "versions.h"

#include <atomic>
#include <cstdio>
#include <memory>

namespace trtforge
{

namespace
{

struct BuildResult
{
    std::vector<uint8_t> plan;
    std::vector<uint8_t> timingCache;
    std::string inspectorJson;
    std::vector<IoTensorInfo> ioTensors;
    std::string trtVersion;
    DeviceInfo device;
    std::string cudaRuntimeVersion;
    std::string driverVersion;
};

struct BuildOutcome
{
    Failure failure;
    BuildResult result;
};

//! Hands a vector's memory to a Buffer without copying (copies where external buffers are not
//! allowed).
Napi::Buffer<uint8_t> vectorToBuffer(Napi::Env env, std::vector<uint8_t>&& bytes)
{
    auto* owned = new std::vector<uint8_t>(std::move(bytes));
    if (owned->empty())
    {
        delete owned;
        return Napi::Buffer<uint8_t>::New(env, 0);
    }
    return Napi::Buffer<uint8_t>::NewOrCopy(
        env, owned->data(), owned->size(), [](Napi::Env /*env*/, uint8_t* /*data*/, std::vector<uint8_t>* vec) { delete vec; }, owned);
}

Napi::Object resultToJs(Napi::Env env, BuildResult& result)
{
    Napi::Object out = Napi::Object::New(env);
    out.Set("engine", vectorToBuffer(env, std::move(result.plan)));
    out.Set("timingCache", vectorToBuffer(env, std::move(result.timingCache)));
    out.Set("inspectorJson", Napi::String::New(env, result.inspectorJson));
    out.Set("ioTensors", ioTensorsToJs(env, result.ioTensors));
    out.Set("trtVersion", Napi::String::New(env, result.trtVersion));
    Napi::Object device = Napi::Object::New(env);
    device.Set("index", Napi::Number::New(env, result.device.index));
    device.Set("name", Napi::String::New(env, result.device.name));
    device.Set("computeCapability", Napi::String::New(env, result.device.computeCapability));
    device.Set("cudaRuntimeVersion", Napi::String::New(env, result.cudaRuntimeVersion));
    device.Set("driverVersion", Napi::String::New(env, result.driverVersion));
    out.Set("device", device);
    return out;
}

class BuildWorker : public Napi::AsyncWorker
{
public:
    BuildWorker(Napi::Env env, BuildOptions options, std::shared_ptr<EventSink> sink, std::shared_ptr<std::atomic<bool>> cancelled,
                Napi::Promise::Deferred deferred)
        : Napi::AsyncWorker(env, "trtforge.buildEngine")
        , mOptions(std::move(options))
        , mSink(std::move(sink))
        , mCancelled(std::move(cancelled))
        , mDeferred(deferred)
        , mLogger(std::make_unique<JsLogger>(mOptions.logSeverity, mSink))
        , mOutcome(std::make_shared<BuildOutcome>())
    {
        // Environment teardown (process exit, worker thread end) cancels a running build.
        mHook = env.AddCleanupHook(&BuildWorker::onTeardown, mCancelled.get());
        mHookActive = true;
    }

    void Execute() override
    {
        try
        {
            run();
        }
        catch (std::exception const& error)
        {
            mOutcome->failure.set(codes::kInternal, std::string("unexpected C++ exception during the build: ") + error.what());
        }
    }

    void OnOK() override { settleAfterEvents(Env()); }

    void OnError(Napi::Error const& error) override
    {
        // Execute() never calls SetError(); kept for completeness.
        mOutcome->failure.set(codes::kInternal, error.Message());
        settleAfterEvents(Env());
    }

private:
    static void onTeardown(std::atomic<bool>* cancelled) { cancelled->store(true); }

    void settleAfterEvents(Napi::Env env)
    {
        if (mHookActive)
        {
            mHook.Remove(env);
            mHookActive = false;
        }
        std::shared_ptr<BuildOutcome> outcome = mOutcome;
        Napi::Promise::Deferred deferred = mDeferred;
        std::shared_ptr<EventSink> sink = mSink;
        sink->finish(env,
                     [outcome, deferred, sink](Napi::Env settleEnv)
                     {
                         if (sink->dropped() > 0)
                         {
                             std::fprintf(stderr,
                                          "trtforge native: %llu log/progress events were dropped (the JS thread did not keep up)\n",
                                          static_cast<unsigned long long>(sink->dropped()));
                         }
                         Napi::HandleScope scope(settleEnv);
                         if (outcome->failure.failed)
                         {
                             deferred.Reject(failureToError(settleEnv, outcome->failure).Value());
                         }
                         else
                         {
                             deferred.Resolve(resultToJs(settleEnv, outcome->result));
                         }
                     });
    }

    bool cancelledNow(char const* when)
    {
        if (mCancelled->load())
        {
            mOutcome->failure.set(codes::kCancelled, std::string("the build was cancelled ") + when);
            return true;
        }
        return false;
    }

    void failWithLog(char const* code, std::string const& what, uint64_t mark) { mLogger->fail(mOutcome->failure, code, what, mark); }

    void run()
    {
        Failure& failure = mOutcome->failure;
        if (cancelledNow("before it started"))
        {
            return;
        }
        // CUDA's current device is per host thread: set it on this libuv pool thread.
        if (!selectDevice(mOptions.deviceId, failure))
        {
            return;
        }
        JsLogger& logger = *mLogger;
        uint64_t const mark = logger.mark();
        // Declared before every TensorRT object so that it outlives them all.
        CapturingErrorRecorder recorder(&logger);
        if (!buildPlan(logger, recorder, mark))
        {
            return;
        }
        inspectPlan(logger, recorder, mark);
    }

    //! Parse, configure, build; fills result.plan and result.timingCache.
    bool buildPlan(JsLogger& logger, CapturingErrorRecorder& recorder, uint64_t mark)
    {
        Failure& failure = mOutcome->failure;
        // Destroyed in reverse order: monitor and resources after the config that points to them,
        // the parser before the network it fills, the builder last.
        std::unique_ptr<nvinfer1::IBuilder> builder(nvinfer1::createInferBuilder(logger));
        if (!builder)
        {
            failWithLog(codes::kTrtUnavailable, "TensorRT could not create a builder (no usable GPU, or a TensorRT library is missing)",
                        mark);
            return false;
        }
        builder->setErrorRecorder(&recorder);
        std::unique_ptr<nvinfer1::INetworkDefinition> network(builder->createNetworkV2(networkCreationFlags(mOptions)));
        if (!network)
        {
            failWithLog(codes::kBuildFailed, "TensorRT could not create a network definition", mark);
            return false;
        }
        std::unique_ptr<nvonnxparser::IParser> parser(nvonnxparser::createParser(*network, logger));
        if (!parser)
        {
            failWithLog(codes::kBuildFailed, "TensorRT could not create an ONNX parser", mark);
            return false;
        }
        // parseFromFile (not parse()) so that external-data weights beside the model are found.
        bool const parsed = parser->parseFromFile(mOptions.onnxPath.c_str(), static_cast<int>(mOptions.logSeverity));
        if (!parsed)
        {
            failure.parserErrors = collectParserErrors(*parser);
            std::string message = "TensorRT's ONNX parser could not parse " + mOptions.onnxPath;
            if (!failure.parserErrors.empty())
            {
                message += ": " + describeParserError(failure.parserErrors.front());
                if (failure.parserErrors.size() > 1)
                {
                    message += " (and " + std::to_string(failure.parserErrors.size() - 1) + " more)";
                }
                failure.set(codes::kParseFailed, message);
            }
            else
            {
                failWithLog(codes::kParseFailed, message, mark);
            }
            return false;
        }
        if (cancelledNow("after parsing"))
        {
            return false;
        }

        BuildResources resources;
        ProgressMonitor monitor(mSink, mCancelled);
        std::unique_ptr<nvinfer1::IBuilderConfig> config(builder->createBuilderConfig());
        if (!config)
        {
            failWithLog(codes::kBuildFailed, "TensorRT could not create a builder config", mark);
            return false;
        }
        if (!addOptimizationProfile(mOptions, *builder, *network, *config, failure))
        {
            return false;
        }
        if (!configureBuilder(mOptions, *config, &monitor, resources, logger, failure))
        {
            return false;
        }

        std::unique_ptr<nvinfer1::IHostMemory> plan(builder->buildSerializedNetwork(*network, *config));
        if (!plan || plan->size() == 0)
        {
            if (mCancelled->load() || monitor.stoppedBuild())
            {
                failure.set(codes::kCancelled, "the build was cancelled");
                failure.messages = logger.messagesSince(mark);
            }
            else
            {
                failWithLog(codes::kBuildFailed, "TensorRT could not build the engine", mark);
            }
            return false;
        }
        auto const* bytes = static_cast<uint8_t const*>(plan->data());
        mOutcome->result.plan.assign(bytes, bytes + plan->size());
        plan.reset();

        nvinfer1::ITimingCache const* cache = config->getTimingCache();
        if (cache != nullptr)
        {
            std::unique_ptr<nvinfer1::IHostMemory> serialized(cache->serialize());
            if (serialized && serialized->size() > 0)
            {
                auto const* cacheBytes = static_cast<uint8_t const*>(serialized->data());
                mOutcome->result.timingCache.assign(cacheBytes, cacheBytes + serialized->size());
            }
        }
        config.reset();
        parser.reset();
        network.reset();
        builder.reset();
        return true;
    }

    //! Deserializes a copy of the plan: inspector JSON over all layers, I/O tensors, versions, device.
    void inspectPlan(JsLogger& logger, CapturingErrorRecorder& recorder, uint64_t mark)
    {
        BuildResult& result = mOutcome->result;
        result.trtVersion = loadedTrtVersionString();
        result.cudaRuntimeVersion = cudaRuntimeVersionString();
        result.driverVersion = cudaDriverVersionString();
        std::string deviceError;
        if (!queryDevice(mOptions.deviceId, result.device, deviceError))
        {
            logger.log(nvinfer1::ILogger::Severity::kWARNING, ("trtforge: cannot describe the build device: " + deviceError).c_str());
            result.device.index = mOptions.deviceId;
        }

        std::unique_ptr<nvinfer1::IRuntime> runtime(nvinfer1::createInferRuntime(logger));
        if (!runtime)
        {
            failWithLog(codes::kBuildFailed, "the engine was built but TensorRT could not create a runtime to inspect it", mark);
            return;
        }
        runtime->setErrorRecorder(&recorder);
        if (mOptions.versionCompatible)
        {
            runtime->setEngineHostCodeAllowed(true); // a version-compatible plan embeds its lean runtime
        }
        std::unique_ptr<nvinfer1::ICudaEngine> engine(runtime->deserializeCudaEngine(result.plan.data(), result.plan.size()));
        if (!engine)
        {
            failWithLog(codes::kBuildFailed, "the engine was built but could not be deserialized for inspection", mark);
            return;
        }
        result.ioTensors = describeIoTensors(*engine);
        std::string inspectorError;
        result.inspectorJson = engineInspectorJson(*engine, nullptr, inspectorError);
        if (result.inspectorJson.empty())
        {
            logger.log(nvinfer1::ILogger::Severity::kWARNING, ("trtforge: " + inspectorError).c_str());
        }
        engine.reset();
        runtime.reset();
    }

    BuildOptions mOptions;
    std::shared_ptr<EventSink> mSink;
    std::shared_ptr<std::atomic<bool>> mCancelled;
    Napi::Promise::Deferred mDeferred;
    std::unique_ptr<JsLogger> mLogger;
    std::shared_ptr<BuildOutcome> mOutcome;
    Napi::Env::CleanupHook<void (*)(std::atomic<bool>*), std::atomic<bool>> mHook;
    bool mHookActive = false;
};

Napi::Value callbackOrUndefined(Napi::Env env, Napi::Object const& callbacks, char const* key)
{
    if (!callbacks.Has(key))
    {
        return env.Undefined();
    }
    Napi::Value value = callbacks.Get(key);
    if (value.IsUndefined() || value.IsNull())
    {
        return env.Undefined();
    }
    if (!value.IsFunction())
    {
        throw makeTypeError(env, std::string("callbacks.") + key + " must be a function");
    }
    return value;
}

} // namespace

Napi::Value BuildEngine(Napi::CallbackInfo const& info)
{
    Napi::Env env = info.Env();
    BuildOptions options = readBuildOptions(env, info[0]);

    Napi::Value onLog = env.Undefined();
    Napi::Value onProgress = env.Undefined();
    if (info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsNull())
    {
        if (!info[1].IsObject())
        {
            throw makeTypeError(env, "buildEngine: callbacks must be an object {onLog?, onProgress?}");
        }
        Napi::Object callbacks = info[1].As<Napi::Object>();
        onLog = callbackOrUndefined(env, callbacks, "onLog");
        onProgress = callbackOrUndefined(env, callbacks, "onProgress");
    }

    auto sink = std::make_shared<EventSink>(env, onLog, onProgress, "trtforge.buildEngine.events");
    auto cancelled = std::make_shared<std::atomic<bool>>(false);
    Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);

    auto* worker = new BuildWorker(env, std::move(options), sink, cancelled, deferred);
    worker->Queue();

    Napi::Object job = Napi::Object::New(env);
    job.Set("promise", deferred.Promise());
    job.Set("cancel", Napi::Function::New(
                          env,
                          [cancelled](Napi::CallbackInfo const& callInfo) -> Napi::Value
                          {
                              cancelled->store(true);
                              return callInfo.Env().Undefined();
                          },
                          "cancel"));
    return job;
}

} // namespace trtforge
