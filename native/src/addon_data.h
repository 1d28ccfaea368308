// Per-environment data of the addon (Napi instance data): the Engine class's constructor.
#pragma once

#include "common.h"

namespace trtforge
{

struct AddonData
{
    Napi::FunctionReference engineConstructor;
};

} // namespace trtforge
