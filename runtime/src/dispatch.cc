// One switch over the op table for the validator (check_) and the executor (eval_).
//
// A firmware image compiles this file again with its own generated
// "tinyforge_model_ops.h" (compiler/emit/model_ops.h), which sets
// TINYFORGE_OP_ENABLED_<Name> to 1 for the ops its plan uses and 0 for the others: the
// switch then names only those kernels, so the linker leaves every other kernel out, and a
// plan using another op is refused by the validator (unsupported_op). Without that header
// (the runtime library, the host) every op is enabled.
#include "src/dispatch.h"

#if __has_include("tinyforge_model_ops.h")
#include "tinyforge_model_ops.h"
#define TINYFORGE_OP_CASE(name, ...) TINYFORGE_OP_CASE_(TINYFORGE_OP_ENABLED_##name, __VA_ARGS__)
#define TINYFORGE_OP_CASE_(enabled, ...) TINYFORGE_OP_CASE__(enabled, __VA_ARGS__)
#define TINYFORGE_OP_CASE__(enabled, ...) TINYFORGE_OP_WHEN_##enabled(__VA_ARGS__)
#define TINYFORGE_OP_WHEN_1(...) __VA_ARGS__
#define TINYFORGE_OP_WHEN_0(...)
#else
#define TINYFORGE_OP_CASE(name, ...) __VA_ARGS__
#endif

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
