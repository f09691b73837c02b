// Serializes a Plan into the plan-blob format of runtime/include/tinyforge/plan_format.h
// (documented in docs/plan-format.md). Identical constant data is stored once.
#pragma once
#include <cstdint>
#include <vector>

#include "plan/plan.h"

namespace tinyforge::emit {

std::vector<uint8_t> write_plan_blob(const plan::Plan& plan);

}  // namespace tinyforge::emit
