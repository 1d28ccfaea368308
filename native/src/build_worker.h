// buildEngine(options, callbacks?) -> { promise, cancel() }: reads the options on the JS thread,
// then parses the ONNX and builds the engine in a Napi::AsyncWorker (off the JS thread). Logs and
// progress phases reach the callbacks while it runs; the promise settles only after every queued
// event was delivered. cancel() makes the progress monitor stop TensorRT; the promise then
// rejects with code CANCELLED.
#pragma once

#include "common.h"

namespace trtforge
{

Napi::Value BuildEngine(Napi::CallbackInfo const& info);

} // namespace trtforge
