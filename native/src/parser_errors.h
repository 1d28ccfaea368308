// Copies every IParserError out of the ONNX parser (node index, node name, operator, message,
// error code name) so the failure can outlive the parser.
#pragma once

#include "common.h"
#include "js_errors.h"

namespace trtforge
{

std::vector<ParserErrorInfo> collectParserErrors(nvonnxparser::IParser const& parser);

//! "node 12 (/encoder/layer.0/attention/Softmax, Softmax): <desc>" for the error message.
std::string describeParserError(ParserErrorInfo const& error);

} // namespace trtforge
