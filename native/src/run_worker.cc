#include "run_worker.h"

#include "builder_config.h"
#include "device_info.h"
#include "enum_names.h"
#include "js_errors.h"

#include <cstring>
#include <map>

namespace trtforge
{

namespace
{

struct HostTensor
{
    std::string name;
    nvinfer1::DataType type = nvinfer1::DataType::kFLOAT;
    bool onHost = false;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
};

//! The JS typed array that holds elements of `type` (raw bits for fp16, bf16, fp8).
bool typedArrayTypeFor(nvinfer1::DataType type, napi_typedarray_type& out, char const*& jsName)
{
    using nvinfer1::DataType;
    switch (type)
    {
    case DataType::kFLOAT:
        out = napi_float32_array;
        jsName = "Float32Array";
        return true;
    case DataType::kHALF:
        out = napi_uint16_array;
        jsName = "Uint16Array (fp16 bits)";
        return true;
    case DataType::kBF16:
        out = napi_uint16_array;
        jsName = "Uint16Array (bf16 bits)";
        return true;
    case DataType::kINT8:
        out = napi_int8_array;
        jsName = "Int8Array";
        return true;
    case DataType::kINT32:
        out = napi_int32_array;
        jsName = "Int32Array";
        return true;
    case DataType::kINT64:
        out = napi_bigint64_array;
        jsName = "BigInt64Array";
        return true;
    case DataType::kUINT8:
        out = napi_uint8_array;
        jsName = "Uint8Array";
        return true;
    case DataType::kBOOL:
        out = napi_uint8_array;
        jsName = "Uint8Array (0/1)";
        return true;
    case DataType::kFP8:
        out = napi_uint8_array;
        jsName = "Uint8Array (fp8 bits)";
        return true;
    default:
        return false;
    }
}

int64_t volume(std::vector<int64_t> const& shape)
{
    int64_t v = 1;
    for (int64_t d : shape)
    {
        v *= d;
    }
    return v;
}

HostTensor readInput(Napi::Env env, IoTensorInfo const& io, Napi::Value value)
{
    std::string const what = "input " + io.name;
    if (!value.IsObject())
    {
        throw makeError(env, codes::kInputMismatch, what + " must be {data: TypedArray, shape: number[]}");
    }
    Napi::Object object = value.As<Napi::Object>();
    napi_typedarray_type expected{};
    char const* jsName = "";
    if (!typedArrayTypeFor(io.type, expected, jsName))
    {
        throw makeError(env, codes::kInputMismatch,
                        what + " has data type " + dataTypeName(io.type) + ", which run() cannot feed (packed sub-byte types)");
    }
    Napi::Value data = object.Get("data");
    if (!data.IsTypedArray())
    {
        throw makeError(env, codes::kInputMismatch, what + ".data must be a " + jsName);
    }
    Napi::TypedArray array = data.As<Napi::TypedArray>();
    napi_typedarray_type const actual = array.TypedArrayType();
    bool const matches = actual == expected || (expected == napi_uint8_array && actual == napi_uint8_clamped_array);
    if (!matches)
    {
        throw makeError(env, codes::kInputMismatch, what + " is " + dataTypeName(io.type) + " in the engine: pass its data as a " + jsName);
    }
    Napi::Value shapeValue = object.Get("shape");
    if (!shapeValue.IsArray())
    {
        throw makeError(env, codes::kInputMismatch, what + ".shape must be an array of dimensions");
    }
    Napi::Array shapeArray = shapeValue.As<Napi::Array>();
    HostTensor tensor;
    tensor.name = io.name;
    tensor.type = io.type;
    tensor.onHost = io.onHost;
    for (uint32_t i = 0; i < shapeArray.Length(); ++i)
    {
        Napi::Value dim = shapeArray.Get(i);
        double const d = dim.IsNumber() ? dim.As<Napi::Number>().DoubleValue() : -1.0;
        if (!(d >= 0) || d != static_cast<double>(static_cast<int64_t>(d)))
        {
            throw makeError(env, codes::kInputMismatch, what + ".shape[" + std::to_string(i) + "] must be an integer >= 0");
        }
        tensor.shape.push_back(static_cast<int64_t>(d));
    }
    if (tensor.shape.size() != io.shape.size())
    {
        throw makeError(env, codes::kInputMismatch,
                        what + " has shape " + shapeToString(tensor.shape) + " but the engine's input is " + shapeToString(io.shape));
    }
    for (size_t d = 0; d < io.shape.size(); ++d)
    {
        if (io.shape[d] >= 0 && io.shape[d] != tensor.shape[d])
        {
            throw makeError(env, codes::kInputMismatch,
                            what + " has shape " + shapeToString(tensor.shape) + " but the engine fixes it to " + shapeToString(io.shape));
        }
    }
    size_t const elementBytes = dataTypeBytes(io.type);
    if (static_cast<int64_t>(array.ElementLength()) != volume(tensor.shape))
    {
        throw makeError(env, codes::kInputMismatch,
                        what + " has " + std::to_string(array.ElementLength()) + " elements but shape " + shapeToString(tensor.shape) +
                            " needs " + std::to_string(volume(tensor.shape)));
    }
    auto const* begin = static_cast<uint8_t const*>(array.ArrayBuffer().Data()) + array.ByteOffset();
    tensor.bytes.assign(begin, begin + array.ElementLength() * elementBytes);
    return tensor;
}

Napi::Value bytesToTypedArray(Napi::Env env, HostTensor const& tensor)
{
    napi_typedarray_type type{};
    char const* jsName = "";
    typedArrayTypeFor(tensor.type, type, jsName);
    size_t const elementBytes = dataTypeBytes(tensor.type);
    size_t const length = elementBytes == 0 ? 0 : tensor.bytes.size() / elementBytes;
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, tensor.bytes.size());
    if (!tensor.bytes.empty())
    {
        std::memcpy(buffer.Data(), tensor.bytes.data(), tensor.bytes.size());
    }
    napi_value result = nullptr;
    napi_status const status = napi_create_typedarray(env, type, length, buffer, 0, &result);
    NAPI_THROW_IF_FAILED(env, status, Napi::Value());
    return Napi::Value(env, result);
}

//! Device allocations of one inference, freed on its stream (and the stream synchronized) however
//! the inference ends.
class DeviceBuffers
{
public:
    explicit DeviceBuffers(cudaStream_t stream)
        : mStream(stream)
    {
    }
    ~DeviceBuffers()
    {
        for (void* ptr : mPointers)
        {
            if (cudaFreeAsync(ptr, mStream) != cudaSuccess)
            {
                cudaGetLastError();
            }
        }
        if (cudaStreamSynchronize(mStream) != cudaSuccess)
        {
            cudaGetLastError();
        }
    }
    DeviceBuffers(DeviceBuffers const&) = delete;
    DeviceBuffers& operator=(DeviceBuffers const&) = delete;

    cudaError_t allocate(size_t bytes, void*& out)
    {
        out = nullptr;
        // TensorRT wants a non-null, 256-byte aligned address even for an empty tensor.
        cudaError_t const status = cudaMallocAsync(&out, bytes == 0 ? 256 : bytes, mStream);
        if (status == cudaSuccess)
        {
            mPointers.push_back(out);
        }
        return status;
    }

private:
    cudaStream_t mStream;
    std::vector<void*> mPointers;
};

class RunWorker : public Napi::AsyncWorker
{
public:
    RunWorker(Napi::Env env, std::shared_ptr<EngineCore> core, std::vector<HostTensor> inputs, Napi::Promise::Deferred deferred)
        : Napi::AsyncWorker(env, "trtforge.Engine.run")
        , mCore(std::move(core))
        , mInputs(std::move(inputs))
        , mDeferred(deferred)
    {
    }

    void Execute() override
    {
        std::lock_guard<std::mutex> lock(mCore->mutex());
        if (mCore->releasedLocked())
        {
            mFailure.set(codes::kEngineDisposed, "the engine was disposed before the inference ran");
            return;
        }
        if (!selectDevice(mCore->deviceId(), mFailure))
        {
            return;
        }
        try
        {
            infer();
        }
        catch (std::exception const& error)
        {
            mFailure.set(codes::kInternal, std::string("unexpected C++ exception during the inference: ") + error.what());
        }
    }

    void OnOK() override
    {
        Napi::Env env = Env();
        mCore->inferenceSettled(env);
        if (mFailure.failed)
        {
            mDeferred.Reject(failureToError(env, mFailure).Value());
            return;
        }
        Napi::Object outputs = Napi::Object::New(env);
        for (HostTensor const& tensor : mOutputs)
        {
            Napi::Object item = Napi::Object::New(env);
            item.Set("data", bytesToTypedArray(env, tensor));
            item.Set("shape", shapeToJs(env, tensor.shape));
            outputs.Set(tensor.name, item);
        }
        mDeferred.Resolve(outputs);
    }

    void OnError(Napi::Error const& error) override
    {
        mCore->inferenceSettled(Env());
        mDeferred.Reject(error.Value());
    }

private:
    bool cudaOk(cudaError_t status, std::string const& what)
    {
        if (status == cudaSuccess)
        {
            return true;
        }
        cudaGetLastError();
        mFailure.set(codes::kRunFailed, what + " failed: " + cudaErrorText(status));
        return false;
    }

    void failWithLog(char const* code, std::string const& what, uint64_t mark) { mCore->logger().fail(mFailure, code, what, mark); }

    void infer()
    {
        nvinfer1::IExecutionContext* context = mCore->contextLocked();
        cudaStream_t stream = mCore->streamLocked();
        uint64_t const mark = mCore->logger().mark();

        for (HostTensor const& input : mInputs)
        {
            if (!context->setInputShape(input.name.c_str(), toDims(input.shape)))
            {
                failWithLog(codes::kInputMismatch,
                            "TensorRT refused shape " + shapeToString(input.shape) + " for input " + input.name +
                                " (outside the optimization profile's min..max?)",
                            mark);
                return;
            }
        }
        if (!context->allInputDimensionsSpecified())
        {
            failWithLog(codes::kInputMismatch, "not every input shape is specified", mark);
            return;
        }

        DeviceBuffers buffers(stream);
        for (HostTensor& input : mInputs)
        {
            void* address = nullptr;
            if (input.onHost)
            {
                address = input.bytes.data();
            }
            else
            {
                if (!cudaOk(buffers.allocate(input.bytes.size(), address), "cudaMallocAsync for input " + input.name))
                {
                    return;
                }
                if (!input.bytes.empty() &&
                    !cudaOk(cudaMemcpyAsync(address, input.bytes.data(), input.bytes.size(), cudaMemcpyHostToDevice, stream),
                            "cudaMemcpyAsync of input " + input.name))
                {
                    return;
                }
            }
            if (!context->setTensorAddress(input.name.c_str(), address))
            {
                failWithLog(codes::kRunFailed, "TensorRT refused the address of input " + input.name, mark);
                return;
            }
        }

        std::vector<void*> outputAddresses;
        for (IoTensorInfo const& io : mCore->ioTensors())
        {
            if (io.isInput)
            {
                continue;
            }
            HostTensor output;
            output.name = io.name;
            output.type = io.type;
            output.onHost = io.onHost;
            output.shape = dimsToVector(context->getTensorShape(io.name.c_str()));
            for (int64_t d : output.shape)
            {
                if (d < 0)
                {
                    mFailure.set(codes::kRunFailed, "output " + io.name + " has a data-dependent shape " + shapeToString(output.shape) +
                                                        "; run() supports only outputs whose shape follows from the input shapes");
                    return;
                }
            }
            size_t const elementBytes = dataTypeBytes(io.type);
            if (elementBytes == 0)
            {
                mFailure.set(codes::kRunFailed,
                             "output " + io.name + " has data type " + dataTypeName(io.type) + ", which run() cannot read");
                return;
            }
            output.bytes.resize(static_cast<size_t>(volume(output.shape)) * elementBytes);
            void* address = nullptr;
            if (output.onHost)
            {
                address = output.bytes.data();
            }
            else if (!cudaOk(buffers.allocate(output.bytes.size(), address), "cudaMallocAsync for output " + io.name))
            {
                return;
            }
            if (!context->setTensorAddress(io.name.c_str(), address))
            {
                failWithLog(codes::kRunFailed, "TensorRT refused the address of output " + io.name, mark);
                return;
            }
            outputAddresses.push_back(address);
            mOutputs.push_back(std::move(output));
        }

        if (!context->enqueueV3(stream))
        {
            failWithLog(codes::kRunFailed, "enqueueV3 failed", mark);
            return;
        }
        for (size_t i = 0; i < mOutputs.size(); ++i)
        {
            HostTensor& output = mOutputs[i];
            if (output.onHost || output.bytes.empty())
            {
                continue;
            }
            if (!cudaOk(cudaMemcpyAsync(output.bytes.data(), outputAddresses[i], output.bytes.size(), cudaMemcpyDeviceToHost, stream),
                        "cudaMemcpyAsync of output " + output.name))
            {
                return;
            }
        }
        if (!cudaOk(cudaStreamSynchronize(stream), "the inference (cudaStreamSynchronize)"))
        {
            mOutputs.clear();
            return;
        }
    }

    std::shared_ptr<EngineCore> mCore;
    std::vector<HostTensor> mInputs;
    std::vector<HostTensor> mOutputs;
    Napi::Promise::Deferred mDeferred;
    Failure mFailure;
};

} // namespace

Napi::Value queueInference(Napi::Env env, std::shared_ptr<EngineCore> core, Napi::Value inputs)
{
    if (core->disposed())
    {
        throw makeError(env, codes::kEngineDisposed, "Engine.run: the engine was disposed");
    }
    if (!inputs.IsObject())
    {
        throw makeTypeError(env, "Engine.run: inputs must be an object {name: {data, shape}}");
    }
    Napi::Object object = inputs.As<Napi::Object>();
    std::vector<HostTensor> tensors;
    std::map<std::string, bool> known;
    for (IoTensorInfo const& io : core->ioTensors())
    {
        if (!io.isInput)
        {
            continue;
        }
        known[io.name] = true;
        if (!object.Has(io.name) || object.Get(io.name).IsUndefined())
        {
            throw makeError(env, codes::kInputMismatch, "Engine.run: input " + io.name + " is missing");
        }
        tensors.push_back(readInput(env, io, object.Get(io.name)));
    }
    Napi::Array names = object.GetPropertyNames();
    for (uint32_t i = 0; i < names.Length(); ++i)
    {
        std::string const name = names.Get(i).ToString().Utf8Value();
        if (known.find(name) == known.end())
        {
            throw makeError(env, codes::kInputMismatch, "Engine.run: the engine has no input named " + name);
        }
    }
    Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
    auto* worker = new RunWorker(env, core, std::move(tensors), deferred);
    core->inferenceQueued();
    worker->Queue();
    return deferred.Promise();
}

} // namespace trtforge
