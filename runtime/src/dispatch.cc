// One switch over the op table for the validator (check_) and the executor (eval_).
//
// Built with the image's kernel set (src/enabled_ops.h), the switch names only those
// kernels, so the linker leaves every other kernel out, and a plan using another op is
// refused by the validator (unsupported_op).
#include "src/dispatch.h"

#include "src/enabled_ops.h"

namespace tinyforge {

Status check_op(OpCode op, const void* params, const KernelIO& io) {
  switch (op) {
#define OP(name, params_t, min_in, max_in, n_out) \
  TINYFORGE_OP_CASE(name, case OpCode::name       \
                    : return check_##name(*static_cast<const params_t*>(params), io);)
#include "tinyforge/ops.def"
#undef OP
    default:
      break;
  }
  return Status::unsupported_op;
}

void eval_op(OpCode op, const void* params, const KernelIO& io) {
  switch (op) {
#define OP(name, params_t, min_in, max_in, n_out)                             \
  TINYFORGE_OP_CASE(name, case OpCode::name                                   \
                    : eval_##name(*static_cast<const params_t*>(params), io); \
                    return;)
#include "tinyforge/ops.def"
#undef OP
    default:
      break;
  }
}

}  // namespace tinyforge
