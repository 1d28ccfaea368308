#include "inspector.h"

#include <memory>

namespace trtforge
{

std::string engineInspectorJson(nvinfer1::ICudaEngine const& engine, nvinfer1::IExecutionContext const* context, std::string& error)
{
    std::unique_ptr<nvinfer1::IEngineInspector> inspector(engine.createEngineInspector());
    if (!inspector)
    {
        error = "TensorRT could not create an engine inspector";
        return "";
    }
    if (context != nullptr)
    {
        inspector->setExecutionContext(context);
    }
    char const* json = inspector->getEngineInformation(nvinfer1::LayerInformationFormat::kJSON);
    if (json == nullptr)
    {
        error = "the engine inspector returned no information";
        return "";
    }
    return std::string(json); // copied: the pointer is only valid until the inspector's next call
}

} // namespace trtforge
