// Engine.run(inputs): inputs are checked and copied on the JS thread; the inference runs in a
// Napi::AsyncWorker: setInputShape, cudaMallocAsync device buffers on the engine's own stream,
// cudaMemcpyAsync in, setTensorAddress, enqueueV3, copy out, synchronize, free.
#pragma once

#include "common.h"
#include "engine_core.h"

#include <memory>

namespace trtforge
{

//! JS thread. Throws INPUT_MISMATCH / ENGINE_DISPOSED / TypeError synchronously for bad inputs.
Napi::Value queueInference(Napi::Env env, std::shared_ptr<EngineCore> core, Napi::Value inputs);

} // namespace trtforge
