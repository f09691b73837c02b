// Reference Div: out = in0 / in1 with numpy broadcasting up to rank 4, then the fused
// activation's clamp. float32 only, as TFLite's reference_ops::BroadcastDivSlow / Div<float>
// (tensorflow/lite/kernels/internal/reference/div.h): input1 / input2, then
// ActivationFunctionWithMinMax. A zero divisor gives IEEE infinity or NaN, as there.
#include "kernels/reference/broadcast.h"
#include "kernels/reference/output_stage.h"
#include "tinyforge/kernel.h"

namespace tinyforge {

Status check_Div(const DivParams& p, const KernelIO& io) {
  if (const Status s = broadcast::check_binary_io(io); s != Status::ok) return s;
  if (io.out[0].type != DType::f32) return Status::bad_enum;
  return stage::float_stage_ok(p.f_act_min, p.f_act_max) ? Status::ok : Status::bad_params;
}

void eval_Div(const DivParams& p, const KernelIO& io) {
  const broadcast::Walk w = broadcast::make_walk(io.in[0], io.in[1], io.out[0]);
  broadcast::for_each(
      w, io.in[0].as<const float>(), io.in[1].as<const float>(), io.out[0].as<float>(),
      [&p](float x, float y) { return stage::clamp_float(x / y, p.f_act_min, p.f_act_max); });
}

}  // namespace tinyforge
