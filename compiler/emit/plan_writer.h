// Serializes a Plan into the plan-blob format of runtime/include/tinyforge/plan_format.h
// (documented in docs/plan-format.md). Identical constant data is stored once.
#pragma once
#include <cstdint>
#include <vector>

#include "plan/build_plan.h"
#include "plan/plan.h"

namespace tinyforge::emit {

// `options` name the target and kernel set recorded in the blob's PlanTarget.
std::vector<uint8_t> write_plan_blob(const plan::Plan& plan, const plan::PlanOptions& options = {});

}  // namespace tinyforge::emit
