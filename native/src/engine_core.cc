#include "engine_core.h"

#include "device_info.h"
#include "inspector.h"
#include "versions.h"

#include <cstring>

namespace trtforge
{

EngineCore::EngineCore(int32_t deviceId, nvinfer1::ILogger::Severity minSeverity, std::shared_ptr<EventSink> sink)
    : mDeviceId(deviceId)
    , mSink(std::move(sink))
    , mLogger(std::make_unique<JsLogger>(minSeverity, mSink))
    , mRecorder(std::make_unique<CapturingErrorRecorder>(mLogger.get()))
{
}

EngineCore::~EngineCore()
{
    {
        std::lock_guard<std::mutex> lock(mMutex);
        releaseLocked();
    }
    if (mHookActive) // only when neither dispose nor teardown ran (always on the JS thread)
    {
        mHook.Remove(Napi::BasicEnv(mEnv));
        mHookActive = false;
    }
}

namespace
{

//! Why a plan may not deserialize, from its public header (magic "ftrt", version at bytes 24..27).
std::string planHint(uint8_t const* data, size_t size)
{
    if (size < 4 || std::memcmp(data, "ftrt", 4) != 0)
    {
        return " (the bytes do not start with the TensorRT plan magic \"ftrt\": not a serialized engine, or a "
               "trtforge marker engine)";
    }
    if (size >= 28)
    {
        std::string const planVersion =
            std::to_string(data[24]) + "." + std::to_string(data[25]) + "." + std::to_string(data[26]) + "." + std::to_string(data[27]);
        std::string const loaded = loadedTrtVersionString();
        if (planVersion != loaded)
        {
            return " (the plan was built by TensorRT " + planVersion + ", this process loaded TensorRT " + loaded +
                   "; plans load only in the TensorRT version that built them unless built version-compatible)";
        }
    }
    return "";
}

} // namespace

bool EngineCore::load(Napi::Env env, uint8_t const* data, size_t size, bool allowHostCode, Failure& failure)
{
    if (!selectDevice(mDeviceId, failure))
    {
        return false;
    }
    uint64_t const mark = mLogger->mark();
    auto fail = [&](char const* code, std::string const& what) { mLogger->fail(failure, code, what, mark); };

    mRuntime.reset(nvinfer1::createInferRuntime(*mLogger));
    if (!mRuntime)
    {
        fail(codes::kTrtUnavailable, "TensorRT could not create a runtime");
        return false;
    }
    mRuntime->setErrorRecorder(mRecorder.get());
    if (allowHostCode)
    {
        mRuntime->setEngineHostCodeAllowed(true);
    }
    mEngine.reset(mRuntime->deserializeCudaEngine(data, size));
    if (!mEngine)
    {
        fail(codes::kEngineLoadFailed, "TensorRT could not deserialize the engine" + planHint(data, size));
        return false;
    }
    mContext.reset(mEngine->createExecutionContext());
    if (!mContext)
    {
        fail(codes::kEngineLoadFailed, "TensorRT could not create an execution context (out of device memory?)");
        return false;
    }
    cudaError_t const status = cudaStreamCreateWithFlags(&mStream, cudaStreamNonBlocking);
    if (status != cudaSuccess)
    {
        cudaGetLastError();
        mStream = nullptr;
        failure.set(codes::kEngineLoadFailed, "cudaStreamCreateWithFlags failed: " + cudaErrorText(status));
        return false;
    }
    mIo = describeIoTensors(*mEngine);
    // Registered after the sink's TSFN, so it runs before Node tears that down.
    mEnv = env;
    mHook = env.AddCleanupHook(&EngineCore::onTeardown, this);
    mHookActive = true;
    return true;
}

void EngineCore::releaseLocked() noexcept
{
    if (mReleased)
    {
        return;
    }
    mReleased = true;
    if (mDeviceId >= 0)
    {
        if (cudaSetDevice(mDeviceId) != cudaSuccess)
        {
            cudaGetLastError();
        }
    }
    // Dependency order: context, engine, runtime; the stream after the work on it is done.
    mContext.reset();
    mEngine.reset();
    mRuntime.reset();
    if (mStream != nullptr)
    {
        if (cudaStreamSynchronize(mStream) != cudaSuccess || cudaStreamDestroy(mStream) != cudaSuccess)
        {
            cudaGetLastError();
        }
        mStream = nullptr;
    }
}

void EngineCore::disposeNow(napi_env env)
{
    {
        std::lock_guard<std::mutex> lock(mMutex);
        releaseLocked();
    }
    if (mHookActive)
    {
        mHook.Remove(Napi::BasicEnv(env));
        mHookActive = false;
    }
    if (mSink)
    {
        mSink->finish(Napi::Env(env), nullptr);
    }
}

void EngineCore::requestDispose(napi_env env)
{
    mDisposeRequested = true;
    if (mInflight == 0)
    {
        disposeNow(env);
    }
}

void EngineCore::inferenceSettled(napi_env env)
{
    if (mInflight > 0)
    {
        --mInflight;
    }
    if (mInflight == 0 && mDisposeRequested)
    {
        disposeNow(env);
    }
}

std::string EngineCore::inspectorJson(std::string& error)
{
    std::lock_guard<std::mutex> lock(mMutex);
    if (mReleased || !mEngine)
    {
        error = "the engine was disposed";
        return "";
    }
    return engineInspectorJson(*mEngine, mContext.get(), error);
}

void EngineCore::onTeardown(EngineCore* core)
{
    core->mHookActive = false;
    if (core->mSink)
    {
        core->mSink->close();
    }
    std::lock_guard<std::mutex> lock(core->mMutex); // waits for a running inference
    core->releaseLocked();
}

} // namespace trtforge
