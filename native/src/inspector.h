// IEngineInspector over all layers in kJSON (detailed when the engine was built with
// ProfilingVerbosity::kDETAILED, which buildEngine always sets). The JSON schema differs between
// 10.x ("Bindings", "Format/Datatype") and 11.x ("I/O Tensors", split format and data type); the
// string is passed through unchanged for the TypeScript side to parse.
#pragma once

#include "common.h"

namespace trtforge
{

//! "" with `error` set when the inspector cannot be created or returns nothing.
std::string engineInspectorJson(nvinfer1::ICudaEngine const& engine, nvinfer1::IExecutionContext const* context, std::string& error);

} // namespace trtforge
