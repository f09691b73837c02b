// Reference Reshape: the output holds the input's bytes under another shape. The planner
// usually gives both the same arena offset, so the kernel has nothing to do; otherwise it
// copies (memmove: the buffers may overlap when the planner packs them tightly).
#include <cstring>

#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {

Status check_Reshape(const ReshapeParams&, const KernelIO& io) {
  if (io.num_inputs != 1 || io.num_outputs != 1) return Status::bad_shape;
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  if (in.type != out.type || dtype_size(in.type) == 0) return Status::bad_enum;
  if (!view::is_valid(in, in.type) || !view::is_valid(out, out.type)) return Status::bad_shape;
  if (view::element_count(in) != view::element_count(out)) return Status::bad_shape;
  return Status::ok;
}

void eval_Reshape(const ReshapeParams&, const KernelIO& io) {
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  if (in.data == out.data) return;
  const uint32_t bytes = static_cast<uint32_t>(view::element_count(in)) * dtype_size(in.type);
  std::memmove(out.data, in.data, bytes);
}

}  // namespace tinyforge
