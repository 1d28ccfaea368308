/*
 * The runtime half of a stand-in libnvinfer.so.N for running the addon's CUDA paths on a GPU host
 * without TensorRT (scripts/gpu-smoke.sh). createInferRuntime_INTERNAL returns an IRuntime whose
 * implementation objects derive from TensorRT's own apiv::V* interfaces, exactly as the real
 * library's do, so the addon's calls through the public inline wrappers land here unchanged.
 *
 * deserializeCudaEngine accepts a "stub plan" (make-stub-plan.mjs): TensorRT's public header
 * (magic "ftrt" at 0..3, version bytes at 24..27) with "TRTFORGE-STUB-PLAN" at 4..21, then text
 * lines declaring the I/O tensors of a real exported model (taken from a published engine's
 * metadata) and one optimization profile:
 *
 *   input  <name> <dtype> <dims> <min> <opt> <max>     dims like -1,-1 ; min/opt/max like 1,1
 *   output <name> <dtype> <dims>                       a dim is N, or @I.D: input I's dimension D
 *
 * enqueueV3 does real GPU work on the caller's stream, never synchronizing:
 *   checksum[b] = sum over inputs i, over the row's elements j of (i+1) * (j+1) * input_i[b, j]
 *   output_o[b, k] = (checksum[b] + 7919 * (k+1) + 104729 * o) mod M   (k: index within row b)
 * with M = 2^23 (exact in float32) or 2^11 (exact in float16). One block per batch row reduces
 * through shared memory (racecheck has something real to check), a second kernel fills every
 * output element, both stream-ordered after the caller's copies. So a wrong pointer, size, stride,
 * copy direction or missing synchronization gives wrong numbers or a sanitizer report.
 */
#include "stub_unimplemented.h"

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <algorithm>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace stubtrt
{

void unimplemented(char const* method) noexcept
{
    std::fprintf(stderr, "stub TensorRT: %s is not implemented by the stub; the caller used an API the stub does not cover\n", method);
    std::fflush(stderr);
    std::abort();
}

namespace
{

constexpr char kPlanMagic[] = "ftrt";
constexpr char kStubTag[] = "TRTFORGE-STUB-PLAN";
constexpr size_t kHeaderBytes = 28;
constexpr int kMaxInputs = 8;
constexpr int64_t kModFloat = int64_t{1} << 23;
constexpr int64_t kModHalf = int64_t{1} << 11;

struct DimRef
{
    int64_t fixed = -1; // >= 0: a fixed dimension
    int32_t input = -1; // else input `input`'s dimension `dim`
    int32_t dim = -1;
};

struct TensorDecl
{
    std::string name;
    bool isInput = false;
    DataType type = DataType::kFLOAT;
    std::vector<DimRef> dims;
    std::vector<int64_t> min, opt, max;
};

struct Plan
{
    std::vector<TensorDecl> tensors;
    std::vector<int32_t> inputs; // indices into tensors, in declaration order
    std::vector<int32_t> outputs;
    int64_t maxBatch = 0;
};

bool parseDataType(std::string const& text, DataType& out)
{
    if (text == "float32")
    {
        out = DataType::kFLOAT;
        return true;
    }
    if (text == "float16")
    {
        out = DataType::kHALF;
        return true;
    }
    if (text == "int32")
    {
        out = DataType::kINT32;
        return true;
    }
    if (text == "int64")
    {
        out = DataType::kINT64;
        return true;
    }
    if (text == "int8")
    {
        out = DataType::kINT8;
        return true;
    }
    if (text == "uint8")
    {
        out = DataType::kUINT8;
        return true;
    }
    if (text == "bool")
    {
        out = DataType::kBOOL;
        return true;
    }
    return false;
}

bool parseInts(std::string const& text, std::vector<int64_t>& out)
{
    out.clear();
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ','))
    {
        char* end = nullptr;
        long long const value = std::strtoll(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0')
        {
            return false;
        }
        out.push_back(value);
    }
    return !out.empty() && out.size() <= static_cast<size_t>(Dims::MAX_DIMS);
}

bool parseOutputDims(std::string const& text, std::vector<DimRef>& out)
{
    out.clear();
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ','))
    {
        DimRef ref;
        if (!item.empty() && item[0] == '@')
        {
            if (std::sscanf(item.c_str(), "@%d.%d", &ref.input, &ref.dim) != 2 || ref.input < 0 || ref.dim < 0)
            {
                return false;
            }
        }
        else
        {
            char* end = nullptr;
            ref.fixed = std::strtoll(item.c_str(), &end, 10);
            if (item.empty() || *end != '\0' || ref.fixed < 0)
            {
                return false;
            }
        }
        out.push_back(ref);
    }
    return !out.empty() && out.size() <= static_cast<size_t>(Dims::MAX_DIMS);
}

//! Parses and checks a stub plan; on failure `error` says why.
bool parsePlan(uint8_t const* data, size_t size, Plan& plan, std::string& error)
{
    if (size < kHeaderBytes || std::memcmp(data, kPlanMagic, 4) != 0)
    {
        error = "not a serialized engine (no \"ftrt\" magic)";
        return false;
    }
    if (std::memcmp(data + 4, kStubTag, sizeof(kStubTag) - 1) != 0)
    {
        error = "a plan of real TensorRT (or another format): the stub runtime loads only stub plans";
        return false;
    }
    int const version[4] = {data[24], data[25], data[26], data[27]};
    if (version[0] != NV_TENSORRT_MAJOR || version[1] != NV_TENSORRT_MINOR || version[2] != NV_TENSORRT_PATCH ||
        version[3] != NV_TENSORRT_BUILD)
    {
        error = "the plan is for TensorRT " + std::to_string(version[0]) + "." + std::to_string(version[1]) + "." +
                std::to_string(version[2]) + "." + std::to_string(version[3]) + ", this library is " + std::to_string(NV_TENSORRT_MAJOR) +
                "." + std::to_string(NV_TENSORRT_MINOR) + "." + std::to_string(NV_TENSORRT_PATCH) + "." + std::to_string(NV_TENSORRT_BUILD);
        return false;
    }
    std::stringstream text(std::string(reinterpret_cast<char const*>(data) + kHeaderBytes, size - kHeaderBytes));
    std::string line;
    int lineNo = 0;
    while (std::getline(text, line))
    {
        ++lineNo;
        if (line.empty() || line[0] == '#')
        {
            continue;
        }
        std::stringstream fields(line);
        std::string kind, name, dtype, dims, min, opt, max;
        fields >> kind >> name >> dtype >> dims;
        TensorDecl decl;
        decl.name = name;
        bool ok = !name.empty() && parseDataType(dtype, decl.type);
        if (kind == "input")
        {
            fields >> min >> opt >> max;
            std::vector<int64_t> fixed;
            decl.isInput = true;
            ok = ok && parseInts(dims, fixed) && parseInts(min, decl.min) && parseInts(opt, decl.opt) && parseInts(max, decl.max) &&
                 decl.min.size() == fixed.size() && decl.opt.size() == fixed.size() && decl.max.size() == fixed.size();
            for (size_t d = 0; ok && d < fixed.size(); ++d)
            {
                DimRef ref;
                ref.fixed = fixed[d];
                decl.dims.push_back(ref);
                ok = decl.min[d] >= 0 && decl.min[d] <= decl.opt[d] && decl.opt[d] <= decl.max[d] &&
                     (fixed[d] < 0 || (decl.min[d] == fixed[d] && decl.max[d] == fixed[d]));
            }
            ok = ok && decl.type != DataType::kHALF; // the checksum reads integer and float32 inputs
        }
        else if (kind == "output")
        {
            ok = ok && parseOutputDims(dims, decl.dims) &&
                 (decl.type == DataType::kFLOAT || decl.type == DataType::kHALF || decl.type == DataType::kINT32 ||
                  decl.type == DataType::kINT64);
        }
        else
        {
            ok = false;
        }
        if (!ok)
        {
            error = "stub plan line " + std::to_string(lineNo) + " is malformed: " + line;
            return false;
        }
        (decl.isInput ? plan.inputs : plan.outputs).push_back(static_cast<int32_t>(plan.tensors.size()));
        plan.tensors.push_back(std::move(decl));
    }
    if (plan.inputs.empty() || plan.outputs.empty() || plan.inputs.size() > static_cast<size_t>(kMaxInputs))
    {
        error = "a stub plan needs 1.." + std::to_string(kMaxInputs) + " inputs and at least one output";
        return false;
    }
    // Dimension 0 of every tensor is the batch: input 0's dimension 0.
    for (TensorDecl const& t : plan.tensors)
    {
        DimRef const& first = t.dims[0];
        bool const isBatch = t.isInput ? t.dims[0].fixed < 0 || &t == &plan.tensors[plan.inputs[0]] : first.input == 0 && first.dim == 0;
        for (DimRef const& ref : t.dims)
        {
            if (ref.input >= static_cast<int32_t>(plan.inputs.size()) ||
                (ref.input >= 0 && ref.dim >= static_cast<int32_t>(plan.tensors[plan.inputs[ref.input]].dims.size())))
            {
                error = "tensor " + t.name + " refers to a dimension of an input that does not exist";
                return false;
            }
        }
        if (!isBatch)
        {
            error = "tensor " + t.name + ": dimension 0 must be the batch (dynamic for inputs, @0.0 for outputs)";
            return false;
        }
    }
    plan.maxBatch = plan.tensors[plan.inputs[0]].max[0];
    return true;
}

Dims toDims(std::vector<int64_t> const& v)
{
    Dims dims{};
    dims.nbDims = static_cast<int32_t>(v.size());
    for (size_t i = 0; i < v.size(); ++i)
    {
        dims.d[i] = v[i];
    }
    return dims;
}

//! Where the stub reports errors: the error recorder when one is set (as TensorRT does), else the logger.
struct Reporter
{
    ILogger* logger = nullptr;
    IErrorRecorder* recorder = nullptr;

    void error(ErrorCode code, std::string const& text) const
    {
        if (recorder != nullptr)
        {
            recorder->reportError(code, text.c_str());
        }
        else if (logger != nullptr)
        {
            logger->log(ILogger::Severity::kERROR, text.c_str());
        }
    }
    void info(std::string const& text) const
    {
        if (logger != nullptr)
        {
            logger->log(ILogger::Severity::kINFO, text.c_str());
        }
    }
    void setRecorder(IErrorRecorder* next)
    {
        if (next != nullptr)
        {
            next->incRefCount();
        }
        if (recorder != nullptr)
        {
            recorder->decRefCount();
        }
        recorder = next;
    }
};

//! The public TensorRT object whose mImpl is `Impl`. The caller owns it (the addon deletes it, as
//! it deletes TensorRT's objects), and deleting it deletes the implementation.
template <class Public, class Impl> class Handle final : public Public
{
public:
    explicit Handle(Impl* impl) noexcept
    {
        this->mImpl = impl;
        impl->mHandle = this;
    }
    ~Handle() noexcept override { delete static_cast<Impl*>(this->mImpl); }
};

template <class Impl, class... Args> auto* makeHandle(Args&&... args)
{
    using Public = typename Impl::Public;
    return static_cast<Public*>(new Handle<Public, Impl>(new Impl(std::forward<Args>(args)...)));
}

// ---- kernels --------------------------------------------------------------------------------

struct InputView
{
    void const* data[kMaxInputs];
    int32_t type[kMaxInputs]; // 0 int64, 1 int32, 2 int8, 3 uint8/bool, 4 float32
    int64_t rowElements[kMaxInputs];
    int32_t count;
};

__device__ int64_t readElement(void const* data, int32_t type, int64_t index)
{
    switch (type)
    {
    case 0:
        return static_cast<int64_t const*>(data)[index];
    case 1:
        return static_cast<int32_t const*>(data)[index];
    case 2:
        return static_cast<int8_t const*>(data)[index];
    case 3:
        return static_cast<uint8_t const*>(data)[index];
    default:
        return __float2ll_rn(static_cast<float const*>(data)[index]);
    }
}

constexpr int kReduceThreads = 256;

__global__ void checksumKernel(InputView inputs, int64_t* checksums)
{
    __shared__ int64_t partial[kReduceThreads];
    int64_t const row = blockIdx.x;
    int64_t sum = 0;
    for (int32_t i = 0; i < inputs.count; ++i)
    {
        int64_t const n = inputs.rowElements[i];
        for (int64_t j = threadIdx.x; j < n; j += blockDim.x)
        {
            sum += (i + 1) * (j + 1) * readElement(inputs.data[i], inputs.type[i], row * n + j);
        }
    }
    partial[threadIdx.x] = sum;
    __syncthreads();
    for (int32_t stride = blockDim.x / 2; stride > 0; stride /= 2)
    {
        if (threadIdx.x < stride)
        {
            partial[threadIdx.x] += partial[threadIdx.x + stride];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0)
    {
        checksums[row] = partial[0];
    }
}

__global__ void fillKernel(void* out, int32_t type, int64_t total, int64_t rowElements, int32_t outputIndex, int64_t const* checksums)
{
    int64_t const mod = type == 1 ? kModHalf : kModFloat;
    for (int64_t idx = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; idx < total;
         idx += static_cast<int64_t>(gridDim.x) * blockDim.x)
    {
        int64_t const row = idx / rowElements;
        int64_t const k = idx - row * rowElements;
        int64_t value = (checksums[row] + 7919 * (k + 1) + 104729 * int64_t{outputIndex}) % mod;
        value = value < 0 ? value + mod : value;
        switch (type)
        {
        case 0:
            static_cast<float*>(out)[idx] = static_cast<float>(value);
            break;
        case 1:
            reinterpret_cast<__half_raw*>(out)[idx] = __half_raw(__float2half_rn(static_cast<float>(value)));
            break;
        case 2:
            static_cast<int32_t*>(out)[idx] = static_cast<int32_t>(value);
            break;
        default:
            static_cast<int64_t*>(out)[idx] = value;
            break;
        }
    }
}

int32_t inputKernelType(DataType type)
{
    switch (type)
    {
    case DataType::kINT64:
        return 0;
    case DataType::kINT32:
        return 1;
    case DataType::kINT8:
        return 2;
    case DataType::kUINT8:
    case DataType::kBOOL:
        return 3;
    default:
        return 4;
    }
}

int32_t outputKernelType(DataType type)
{
    switch (type)
    {
    case DataType::kFLOAT:
        return 0;
    case DataType::kHALF:
        return 1;
    case DataType::kINT32:
        return 2;
    default:
        return 3;
    }
}

// ---- engine, context, inspector -------------------------------------------------------------

class StubEngine;

class StubContext final : public UnimplementedVExecutionContext
{
public:
    StubContext(StubEngine& engine, std::shared_ptr<Plan const> plan, Reporter reporter, int64_t* checksums)
        : mEngine(engine)
        , mPlan(std::move(plan))
        , mReporter(reporter)
        , mChecksums(checksums)
        , mShapes(mPlan->tensors.size())
        , mShapeSet(mPlan->tensors.size(), false)
        , mAddresses(mPlan->tensors.size(), nullptr)
    {
        mReporter.recorder = nullptr;
        setErrorRecorder(reporter.recorder);
    }
    ~StubContext() noexcept override
    {
        mReporter.setRecorder(nullptr);
        if (cudaFree(mChecksums) != cudaSuccess)
        {
            cudaGetLastError();
        }
    }
    using Public = IExecutionContext;
    Public* mHandle = nullptr;

    IExecutionContext* getPImpl() noexcept override { return mHandle; }
    ICudaEngine const& getEngine() const noexcept override;
    void setName(char const* name) noexcept override { mName = name != nullptr ? name : ""; }
    char const* getName() const noexcept override { return mName.c_str(); }
    int32_t getOptimizationProfile() const noexcept override { return 0; }
    void setErrorRecorder(IErrorRecorder* recorder) noexcept override { mReporter.setRecorder(recorder); }
    IErrorRecorder* getErrorRecorder() const noexcept override { return mReporter.recorder; }

    bool setInputShape(char const* tensorName, Dims const& dims) noexcept override
    {
        int32_t const index = find(tensorName);
        if (index < 0 || !mPlan->tensors[index].isInput)
        {
            mReporter.error(ErrorCode::kINVALID_ARGUMENT,
                            std::string("setInputShape: no input named ") + (tensorName ? tensorName : "(null)"));
            return false;
        }
        TensorDecl const& t = mPlan->tensors[index];
        bool ok = dims.nbDims == static_cast<int32_t>(t.dims.size());
        for (int32_t d = 0; ok && d < dims.nbDims; ++d)
        {
            ok = dims.d[d] >= t.min[d] && dims.d[d] <= t.max[d];
        }
        if (!ok)
        {
            mReporter.error(ErrorCode::kINVALID_ARGUMENT,
                            "setInputShape: the shape given for " + t.name + " is outside the optimization profile's min..max");
            return false;
        }
        mShapes[index].assign(dims.d, dims.d + dims.nbDims);
        mShapeSet[index] = true;
        return true;
    }

    bool allInputDimensionsSpecified() const noexcept override
    {
        for (int32_t i : mPlan->inputs)
        {
            if (!mShapeSet[i])
            {
                return false;
            }
        }
        return true;
    }

    Dims getTensorShape(char const* tensorName) const noexcept override
    {
        int32_t const index = find(tensorName);
        if (index < 0)
        {
            Dims none{};
            none.nbDims = -1;
            return none;
        }
        return toDims(resolvedShape(index));
    }

    bool setTensorAddress(char const* tensorName, void* data) noexcept override
    {
        int32_t const index = find(tensorName);
        if (index < 0)
        {
            mReporter.error(ErrorCode::kINVALID_ARGUMENT,
                            std::string("setTensorAddress: no tensor named ") + (tensorName ? tensorName : "(null)"));
            return false;
        }
        if (data == nullptr || reinterpret_cast<uintptr_t>(data) % 256 != 0)
        {
            mReporter.error(ErrorCode::kINVALID_ARGUMENT,
                            "setTensorAddress: the address of " + mPlan->tensors[index].name + " is null or not 256-byte aligned");
            return false;
        }
        mAddresses[index] = data;
        return true;
    }

    void const* getTensorAddress(char const* tensorName) const noexcept override
    {
        int32_t const index = find(tensorName);
        return index < 0 ? nullptr : mAddresses[index];
    }

    bool enqueueV3(cudaStream_t stream) noexcept override
    {
        if (!allInputDimensionsSpecified())
        {
            mReporter.error(ErrorCode::kINVALID_STATE, "enqueueV3: not every input shape is set");
            return false;
        }
        int64_t const batch = mShapes[mPlan->inputs[0]][0];
        InputView view{};
        view.count = static_cast<int32_t>(mPlan->inputs.size());
        for (size_t i = 0; i < mPlan->inputs.size(); ++i)
        {
            int32_t const index = mPlan->inputs[i];
            if (!checkAddress(index) || mShapes[index][0] != batch)
            {
                if (mShapes[index][0] != batch)
                {
                    mReporter.error(ErrorCode::kINVALID_ARGUMENT,
                                    "enqueueV3: input " + mPlan->tensors[index].name + " has another batch size than the first input");
                }
                return false;
            }
            view.data[i] = mAddresses[index];
            view.type[i] = inputKernelType(mPlan->tensors[index].type);
            view.rowElements[i] = rowElements(resolvedShape(index));
        }
        for (int32_t index : mPlan->outputs)
        {
            if (!checkAddress(index))
            {
                return false;
            }
        }
        if (batch == 0)
        {
            return true;
        }
        checksumKernel<<<static_cast<unsigned>(batch), kReduceThreads, 0, stream>>>(view, mChecksums);
        if (!launched("checksumKernel"))
        {
            return false;
        }
        for (size_t o = 0; o < mPlan->outputs.size(); ++o)
        {
            int32_t const index = mPlan->outputs[o];
            std::vector<int64_t> const shape = resolvedShape(index);
            int64_t const row = rowElements(shape);
            int64_t const total = row * batch;
            if (total == 0)
            {
                continue;
            }
            unsigned const blocks = static_cast<unsigned>(std::min<int64_t>((total + 255) / 256, 4096));
            fillKernel<<<blocks, 256, 0, stream>>>(mAddresses[index], outputKernelType(mPlan->tensors[index].type), total, row,
                                                   static_cast<int32_t>(o), mChecksums);
            if (!launched("fillKernel"))
            {
                return false;
            }
        }
        return true;
    }

private:
    int32_t find(char const* name) const noexcept
    {
        for (size_t i = 0; name != nullptr && i < mPlan->tensors.size(); ++i)
        {
            if (mPlan->tensors[i].name == name)
            {
                return static_cast<int32_t>(i);
            }
        }
        return -1;
    }

    std::vector<int64_t> resolvedShape(int32_t index) const
    {
        TensorDecl const& t = mPlan->tensors[index];
        if (t.isInput && mShapeSet[index])
        {
            return mShapes[index];
        }
        std::vector<int64_t> out;
        for (DimRef const& ref : t.dims)
        {
            if (ref.input < 0)
            {
                out.push_back(ref.fixed);
                continue;
            }
            int32_t const source = mPlan->inputs[ref.input];
            out.push_back(mShapeSet[source] ? mShapes[source][ref.dim] : -1);
        }
        return out;
    }

    static int64_t rowElements(std::vector<int64_t> const& shape)
    {
        int64_t n = 1;
        for (size_t d = 1; d < shape.size(); ++d)
        {
            n *= shape[d];
        }
        return n;
    }

    //! The address is set and is device memory (the kernels cannot read host memory).
    bool checkAddress(int32_t index) const
    {
        std::string const& name = mPlan->tensors[index].name;
        if (mAddresses[index] == nullptr)
        {
            mReporter.error(ErrorCode::kINVALID_STATE, "enqueueV3: no address set for tensor " + name);
            return false;
        }
        cudaPointerAttributes attributes{};
        if (cudaPointerGetAttributes(&attributes, mAddresses[index]) != cudaSuccess || attributes.type != cudaMemoryTypeDevice)
        {
            cudaGetLastError();
            mReporter.error(ErrorCode::kINVALID_ARGUMENT, "enqueueV3: the address of tensor " + name + " is not device memory");
            return false;
        }
        return true;
    }

    bool launched(char const* kernel) const
    {
        cudaError_t const status = cudaGetLastError();
        if (status != cudaSuccess)
        {
            mReporter.error(ErrorCode::kFAILED_EXECUTION,
                            std::string("enqueueV3: launching ") + kernel + " failed: " + cudaGetErrorString(status));
            return false;
        }
        return true;
    }

    StubEngine& mEngine;
    std::shared_ptr<Plan const> mPlan;
    Reporter mReporter;
    int64_t* mChecksums;
    std::string mName;
    std::vector<std::vector<int64_t>> mShapes;
    std::vector<bool> mShapeSet;
    std::vector<void*> mAddresses;
};

class StubInspector final : public UnimplementedVEngineInspector
{
public:
    StubInspector(std::shared_ptr<Plan const> plan)
        : mPlan(std::move(plan))
    {
    }
    using Public = IEngineInspector;
    Public* mHandle = nullptr;
    IEngineInspector* getPImpl() noexcept override { return mHandle; }
    bool setExecutionContext(IExecutionContext const* context) noexcept override
    {
        mContext = context;
        return true;
    }
    IExecutionContext const* getExecutionContext() const noexcept override { return mContext; }
    void setErrorRecorder(IErrorRecorder* recorder) noexcept override { mRecorder = recorder; }
    IErrorRecorder* getErrorRecorder() const noexcept override { return mRecorder; }
    char const* getEngineInformation(LayerInformationFormat format) const noexcept override
    {
        std::string json = "{\"Layers\":[{\"Name\":\"stub checksum kernel\",\"LayerType\":\"Stub\"},{\"Name\":\"stub fill "
                           "kernel\",\"LayerType\":\"Stub\"}],\"Bindings\":[";
        for (size_t i = 0; i < mPlan->tensors.size(); ++i)
        {
            json += (i == 0 ? "\"" : ",\"") + mPlan->tensors[i].name + "\"";
        }
        json += "]}";
        mText = format == LayerInformationFormat::kJSON ? json : std::string("stub engine: 2 layers");
        return mText.c_str();
    }

private:
    std::shared_ptr<Plan const> mPlan;
    IExecutionContext const* mContext = nullptr;
    IErrorRecorder* mRecorder = nullptr;
    mutable std::string mText;
};

class StubEngine final : public UnimplementedVCudaEngine
{
public:
    StubEngine(std::shared_ptr<Plan const> plan, Reporter reporter)
        : mPlan(std::move(plan))
        , mReporter(reporter)
    {
        mReporter.recorder = nullptr;
        setErrorRecorder(reporter.recorder);
    }
    ~StubEngine() noexcept override { mReporter.setRecorder(nullptr); }
    using Public = ICudaEngine;
    Public* mHandle = nullptr;

    ICudaEngine* getPImpl() noexcept override { return mHandle; }
    int32_t getNbLayers() const noexcept override { return 2; }
    char const* getName() const noexcept override { return "trtforge stub engine"; }
    int32_t getNbOptimizationProfiles() const noexcept override { return 1; }
    void setErrorRecorder(IErrorRecorder* recorder) noexcept override { mReporter.setRecorder(recorder); }
    IErrorRecorder* getErrorRecorder() const noexcept override { return mReporter.recorder; }
    int32_t getNbIOTensors() const noexcept override { return static_cast<int32_t>(mPlan->tensors.size()); }
    char const* getIOTensorName(int32_t index) const noexcept override
    {
        return index >= 0 && index < getNbIOTensors() ? mPlan->tensors[index].name.c_str() : nullptr;
    }
    TensorIOMode getTensorIOMode(char const* name) const noexcept override
    {
        TensorDecl const* t = find(name);
        return t == nullptr ? TensorIOMode::kNONE : t->isInput ? TensorIOMode::kINPUT : TensorIOMode::kOUTPUT;
    }
    DataType getTensorDataType(char const* name) const noexcept override
    {
        TensorDecl const* t = find(name);
        return t == nullptr ? DataType::kFLOAT : t->type;
    }
    TensorLocation getTensorLocation(char const* name) const noexcept override
    {
        (void)name;
        return TensorLocation::kDEVICE;
    }
    bool isShapeInferenceIO(char const* name) const noexcept override
    {
        (void)name;
        return false;
    }
    Dims getTensorShape(char const* name) const noexcept override
    {
        TensorDecl const* t = find(name);
        Dims dims{};
        dims.nbDims = t == nullptr ? -1 : static_cast<int32_t>(t->dims.size());
        for (int32_t d = 0; t != nullptr && d < dims.nbDims; ++d)
        {
            dims.d[d] = t->dims[d].input >= 0 ? -1 : t->dims[d].fixed;
        }
        return dims;
    }
    Dims getProfileShape(char const* name, int32_t profileIndex, OptProfileSelector select) const noexcept override
    {
        TensorDecl const* t = find(name);
        if (t == nullptr || !t->isInput || profileIndex != 0)
        {
            Dims none{};
            none.nbDims = -1;
            return none;
        }
        return toDims(select == OptProfileSelector::kMIN ? t->min : select == OptProfileSelector::kOPT ? t->opt : t->max);
    }
    IExecutionContext* createExecutionContext(ExecutionContextAllocationStrategy strategy) noexcept override
    {
        (void)strategy;
        // The checksum scratch of the largest batch: the context's own device memory, as TensorRT's
        // activation memory is.
        int64_t* checksums = nullptr;
        cudaError_t const status = cudaMalloc(reinterpret_cast<void**>(&checksums), static_cast<size_t>(mPlan->maxBatch) * sizeof(int64_t));
        if (status != cudaSuccess)
        {
            cudaGetLastError();
            mReporter.error(ErrorCode::kFAILED_ALLOCATION,
                            std::string("createExecutionContext: cudaMalloc failed: ") + cudaGetErrorString(status));
            return nullptr;
        }
        return makeHandle<StubContext>(*this, mPlan, mReporter, checksums);
    }
    IEngineInspector* createEngineInspector() const noexcept override { return makeHandle<StubInspector>(mPlan); }

private:
    TensorDecl const* find(char const* name) const noexcept
    {
        for (TensorDecl const& t : mPlan->tensors)
        {
            if (name != nullptr && t.name == name)
            {
                return &t;
            }
        }
        return nullptr;
    }

    std::shared_ptr<Plan const> mPlan;
    Reporter mReporter;
};

ICudaEngine const& StubContext::getEngine() const noexcept
{
    return *mEngine.getPImpl();
}

} // namespace

class StubRuntime final : public UnimplementedVRuntime
{
public:
    explicit StubRuntime(ILogger* logger) { mReporter.logger = logger; }
    ~StubRuntime() noexcept override { mReporter.setRecorder(nullptr); }
    using Public = IRuntime;
    Public* mHandle = nullptr;

    IRuntime* getPImpl() noexcept override { return mHandle; }
    using UnimplementedVRuntime::deserializeCudaEngine; // the stream-reader overloads stay unimplemented
    void setErrorRecorder(IErrorRecorder* recorder) noexcept override { mReporter.setRecorder(recorder); }
    IErrorRecorder* getErrorRecorder() const noexcept override { return mReporter.recorder; }
    ILogger* getLogger() const noexcept override { return mReporter.logger; }
    void setEngineHostCodeAllowed(bool allowed) noexcept override { mHostCodeAllowed = allowed; }
    bool getEngineHostCodeAllowed() const noexcept override { return mHostCodeAllowed; }
    ICudaEngine* deserializeCudaEngine(void const* blob, std::size_t size) noexcept override
    {
        auto plan = std::make_shared<Plan>();
        std::string error;
        if (blob == nullptr || !parsePlan(static_cast<uint8_t const*>(blob), size, *plan, error))
        {
            mReporter.error(ErrorCode::kINVALID_ARGUMENT,
                            "stub TensorRT: cannot deserialize the engine: " + (blob == nullptr ? std::string("null blob") : error));
            return nullptr;
        }
        mReporter.info("stub TensorRT: deserialized a stub plan with " + std::to_string(plan->inputs.size()) + " inputs and " +
                       std::to_string(plan->outputs.size()) + " outputs");
        return makeHandle<StubEngine>(plan, mReporter);
    }

private:
    Reporter mReporter;
    bool mHostCodeAllowed = false;
};

} // namespace stubtrt

extern "C" void* createInferRuntime_INTERNAL(void* logger, int32_t version) noexcept
{
    if (version != NV_TENSORRT_VERSION)
    {
        return nullptr;
    }
    return stubtrt::makeHandle<stubtrt::StubRuntime>(static_cast<nvinfer1::ILogger*>(logger));
}
