// The kernel set of a firmware image: "tinyforge_model_ops.h", which runtime/src/dispatch.cc
// and names.cc include (runtime/src/enabled_ops.h) when the image compiles them, so the
// dispatch switch and the op table name only those ops and the linker drops the other
// kernels (code size).
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
