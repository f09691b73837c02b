// The kernel set of a firmware image: "tinyforge_model_ops.h", which runtime/src/dispatch.cc,
// names.cc, runtime.cc and validate.cc include (runtime/src/enabled_ops.h) when the image
// compiles them, so the dispatch switch and the op table name only those ops and the linker
// drops the other kernels (code size). It also says whether the image reads plans with
// memory regions and the most outputs one of its ops has, so the executor and the validator
// carry only the code the image can use.
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "tinyforge/ops.h"

namespace tinyforge::emit {

// Opcodes of the ops of a plan blob that validate_plan() accepted.
std::set<OpCode> ops_in_blob(const std::vector<uint8_t>& blob);

// The header's text: TINYFORGE_OP_ENABLED_<Name> 1 for `ops`, 0 for every other op;
// TINYFORGE_IMAGE_MEMORY_REGIONS 1 when `memory_regions` (the image runs plans of format 1.2,
// see docs/plan-format.md), else 0; TINYFORGE_IMAGE_MAX_OP_INPUTS and _OUTPUTS the largest
// input and output counts of `ops`.
std::string model_ops_header(const std::set<OpCode>& ops, bool memory_regions);

}  // namespace tinyforge::emit
