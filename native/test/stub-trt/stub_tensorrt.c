/*
 * A stand-in for libnvinfer.so.N and libnvonnxparser.so.N with only the exported C entry points,
 * for smoke-running the addon on a host without TensorRT (scripts: native/test/stub-trt/run.sh).
 * Every factory returns NULL, so the addon's "TensorRT could not create ..." paths run; no
 * TensorRT code exists here. The version functions report STUB_MAJOR.STUB_MINOR.STUB_PATCH.STUB_BUILD.
 * With -DSTUB_GPU_RUNTIME the runtime factory comes from stub_runtime.cu instead (a runtime that
 * loads stub plans and runs CUDA kernels; scripts/gpu-smoke.sh).
 */
#include <stddef.h>
#include <stdint.h>

#ifndef STUB_MAJOR
#error "compile with -DSTUB_MAJOR=... -DSTUB_MINOR=... -DSTUB_PATCH=... -DSTUB_BUILD=..."
#endif

int32_t getInferLibVersion(void)
{
    return STUB_MAJOR * 10000 + STUB_MINOR * 100 + STUB_PATCH;
}
int32_t getInferLibMajorVersion(void)
{
    return STUB_MAJOR;
}
int32_t getInferLibMinorVersion(void)
{
    return STUB_MINOR;
}
int32_t getInferLibPatchVersion(void)
{
    return STUB_PATCH;
}
int32_t getInferLibBuildVersion(void)
{
    return STUB_BUILD;
}

void* createInferBuilder_INTERNAL(void* logger, int32_t version)
{
    (void)logger;
    (void)version;
    return NULL;
}
#ifndef STUB_GPU_RUNTIME /* stub_runtime.cu provides a working runtime (scripts/gpu-smoke.sh) */
void* createInferRuntime_INTERNAL(void* logger, int32_t version)
{
    (void)logger;
    (void)version;
    return NULL;
}
#endif
void* createInferRefitter_INTERNAL(void* engine, void* logger, int32_t version)
{
    (void)engine;
    (void)logger;
    (void)version;
    return NULL;
}

void* createNvOnnxParser_INTERNAL(void* network, void* logger, int version)
{
    (void)network;
    (void)logger;
    (void)version;
    return NULL;
}
int getNvOnnxParserVersion(void)
{
    return STUB_MAJOR * 10000 + STUB_MINOR * 100 + STUB_PATCH;
}
