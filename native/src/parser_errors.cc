#include "parser_errors.h"

#include "enum_names.h"

namespace trtforge
{

std::vector<ParserErrorInfo> collectParserErrors(nvonnxparser::IParser const& parser)
{
    std::vector<ParserErrorInfo> out;
    int32_t const count = parser.getNbErrors();
    for (int32_t i = 0; i < count; ++i)
    {
        nvonnxparser::IParserError const* error = parser.getError(i);
        if (error == nullptr)
        {
            continue;
        }
        ParserErrorInfo info;
        info.node = error->node();
        info.nodeName = error->nodeName() != nullptr ? error->nodeName() : "";
        info.nodeOperator = error->nodeOperator() != nullptr ? error->nodeOperator() : "";
        info.message = error->desc() != nullptr ? error->desc() : "";
        info.errorCode = parserErrorCodeName(error->code());
        out.push_back(std::move(info));
    }
    return out;
}

std::string describeParserError(ParserErrorInfo const& error)
{
    std::string where;
    if (error.node >= 0)
    {
        where = "node " + std::to_string(error.node);
        if (!error.nodeName.empty() || !error.nodeOperator.empty())
        {
            where += " (" + error.nodeName + (error.nodeOperator.empty() ? "" : ", " + error.nodeOperator) + ")";
        }
        where += ": ";
    }
    return where + "[" + error.errorCode + "] " + error.message;
}

} // namespace trtforge
