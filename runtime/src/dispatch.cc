#include "src/dispatch.h"

namespace tinyforge {

Status check_op(OpCode op, const void* params, const KernelIO& io) {
  switch (op) {
#define OP(name, params_t, min_in, max_in, n_out) \
  case OpCode::name: return check_##name(*static_cast<const params_t*>(params), io);
#include "tinyforge/ops.def"
#undef OP
    case OpCode::count_: break;
  }
  return Status::unsupported_op;
}

void eval_op(OpCode op, const void* params, const KernelIO& io) {
  switch (op) {
#define OP(name, params_t, min_in, max_in, n_out) \
  case OpCode::name: eval_##name(*static_cast<const params_t*>(params), io); return;
#include "tinyforge/ops.def"
#undef OP
    case OpCode::count_: break;
  }
}

}  // namespace tinyforge
