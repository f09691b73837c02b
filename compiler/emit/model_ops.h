// The kernel set of a firmware image: "tinyforge_model_ops.h", which runtime/src/dispatch.cc,
// names.cc, runtime.cc and validate.cc include (runtime/src/enabled_ops.h) when the image
// compiles them, so the dispatch switch and the op table name only those ops and the linker
// drops the other kernels (code size). It also says whether the image reads plans with
// memory regions or with int16 tensors and the most outputs one of its ops has, so the
// executor, the validator and the kernels carry only the code the image can use.
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "tinyforge/ops.h"

namespace tinyforge::emit {

// Opcodes of the ops of a plan blob that validate_plan() accepted.
std::set<OpCode> ops_in_blob(const std::vector<uint8_t>& blob);

// The kernel paths an image carries beyond int8 with the fast output stage (the image
// switches of runtime/src/enabled_ops.h that shape the kernels: an image without them links
// a runtime library compiled without them, emit/cross_build.h). Default: all of them.
struct KernelPaths {
  bool int16 = true;          // TINYFORGE_IMAGE_INT16: int16 tensors (TFLite's 16x8 scheme)
  bool exact_requant = true;  // TINYFORGE_IMAGE_EXACT_REQUANT: DSP ops with RequantMode::exact
  bool float32 = true;        // TINYFORGE_IMAGE_FLOAT: float32 tensors
  bool operator==(const KernelPaths& o) const {
    return int16 == o.int16 && exact_requant == o.exact_requant && float32 == o.float32;
  }
};

// The paths a plan needs: int16 (float32) when it has a tensor of type int16 (float32),
// activation or constant; exact_requant when one of its DSP ops (or a stage of a
// ConvChainDsp) has RequantMode::exact.
KernelPaths kernel_paths(const std::vector<uint8_t>& blob);

// The defines of the runtime library's form for `paths` ("TINYFORGE_IMAGE_INT16=0", ...):
// empty when it needs every path.
std::vector<std::string> runtime_defines(const KernelPaths& paths);

// The header's text: TINYFORGE_OP_ENABLED_<Name> 1 for `ops`, 0 for every other op;
// TINYFORGE_IMAGE_MEMORY_REGIONS 1 when `memory_regions` (the image runs plans of format 1.2,
// see docs/plan-format.md), else 0; TINYFORGE_IMAGE_INT16, _EXACT_REQUANT and _FLOAT from
// `paths`;
// TINYFORGE_IMAGE_MAX_OP_INPUTS and _OUTPUTS the largest input and output counts of `ops`.
std::string model_ops_header(const std::set<OpCode>& ops, bool memory_regions,
                             const KernelPaths& paths);

}  // namespace tinyforge::emit
