// The per-model op list of a firmware image: "tinyforge_model_ops.h", which
// runtime/src/dispatch.cc includes when the image compiles it, so the dispatch switch names
// only the kernels the plan uses and the linker drops the rest (code size).
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "tinyforge/ops.h"

namespace tinyforge::emit {

// Opcodes of the ops of a plan blob that validate_plan() accepted.
std::set<OpCode> ops_in_blob(const std::vector<uint8_t>& blob);

// The header's text: TINYFORGE_OP_ENABLED_<Name> 1 for `ops`, 0 for every other op.
std::string model_ops_header(const std::set<OpCode>& ops);

}  // namespace tinyforge::emit
