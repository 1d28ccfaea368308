// Drives the stub TensorRT runtime (stub_runtime.cu) from C++ through TensorRT's public classes, on
// any host: without a GPU it checks the host side (plan parsing, I/O description, refusal of another
// version's plan, createExecutionContext failing cleanly without a driver, the inspector). Manual:
//
//   inc=third_party/tensorrt-v10.16/include; GPU_SMOKE_WORK=/tmp/gsw SANITIZER_TOOLS= scripts/gpu-smoke.sh /tmp/gs.log
//   g++ -std=c++17 -Wno-deprecated-declarations -isystem $inc -isystem /usr/local/cuda/include \
//     native/test/stub-trt/host-check.cc -o /tmp/host-check -L/tmp/gsw/trt/lib -lnvinfer -Wl,-rpath,/tmp/gsw/trt/lib
//   /tmp/host-check /tmp/gsw/minilm.plan
#include <NvInfer.h>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>
using namespace nvinfer1;
struct L : ILogger
{
    void log(Severity s, char const* m) noexcept override { std::printf("log %d: %s\n", (int)s, m); }
} logger;
int main(int argc, char** argv)
{
    std::ifstream f(argv[1], std::ios::binary);
    std::vector<char> b((std::istreambuf_iterator<char>(f)), {});
    IRuntime* rt = createInferRuntime(logger);
    std::printf("runtime %p\n", (void*)rt);
    ICudaEngine* e = rt->deserializeCudaEngine(b.data(), b.size());
    std::printf("engine %p n=%d\n", (void*)e, e ? e->getNbIOTensors() : -1);
    for (int i = 0; e && i < e->getNbIOTensors(); ++i)
    {
        char const* n = e->getIOTensorName(i);
        Dims d = e->getTensorShape(n);
        std::printf("%s mode=%d type=%d dims=", n, (int)e->getTensorIOMode(n), (int)e->getTensorDataType(n));
        for (int k = 0; k < d.nbDims; ++k)
            std::printf("%lld,", (long long)d.d[k]);
        if (e->getTensorIOMode(n) == TensorIOMode::kINPUT)
        {
            Dims m = e->getProfileShape(n, 0, OptProfileSelector::kMAX);
            std::printf(" max=%lld,%lld", (long long)m.d[0], (long long)m.d[1]);
        }
        std::printf("\n");
    }
    b[25] = 15;
    ICudaEngine* bad = rt->deserializeCudaEngine(b.data(), b.size());
    std::printf("bad %p\n", (void*)bad);
    IExecutionContext* c = e->createExecutionContext();
    std::printf("context %p (no GPU here)\n", (void*)c);
    IEngineInspector* ins = e->createEngineInspector();
    std::printf("%s\n", ins->getEngineInformation(LayerInformationFormat::kJSON));
    delete ins;
    delete e;
    delete rt;
    return 0;
}
