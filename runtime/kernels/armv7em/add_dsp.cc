// AddDsp: same-shape int8 Add by table lookup.
//
// TFLite's int8 Add rescales each input value v to (v + offset) << left_shift times a
// multiplier before summing; an int8 input has only 256 values, so the compiler tabulates
// both rescalings (tinyforge/packed.h, kAddTableWords) and the kernel does two loads, an
// add and the output stage per element instead of three MultiplyByQuantizedMultiplier.
// Bit-exact with the reference Add (the tables hold its exact intermediate values).
// In-place safety: element i is written after both inputs' element i were read.
#include "kernels/armv7em/dsp.h"
#include "kernels/armv7em/dsp_checks.h"
#include "kernels/armv7em/requantize.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

template <RequantMode mode, bool full_range>
void run(const int8_t* a, const int8_t* b, int8_t* out, int32_t n, const int32_t* table,
         const dsp::OutputClamp& clamp) {
  const int32_t* rescaled_a = table + 128;  // indexed by the signed value
  const int32_t* rescaled_b = table + 256 + 128;
  const ChannelQuant& q = *reinterpret_cast<const ChannelQuant*>(table + kAddTableStage);
  for (int32_t i = 0; i < n; ++i) {
    const int32_t sum = dsp::wrap_add(rescaled_a[a[i]], rescaled_b[b[i]]);
    out[i] = dsp::requantize<mode, full_range>(sum, q, clamp);
  }
}

}  // namespace

Status check_AddDsp(const AddDspParams& p, const KernelIO& io) {
  if (io.num_inputs != 3 || io.num_outputs != 1) return Status::bad_params;
  const TensorView& a = io.in[0];
  const TensorView& b = io.in[1];
  const TensorView& out = io.out[0];
  if (!view::is_valid(a, DType::i8) || !view::is_valid(b, DType::i8) || !view::is_valid(out, DType::i8))
    return Status::bad_shape;
  if (!view::same_dims(a, out) || !view::same_dims(b, out)) return Status::bad_shape;
  const TensorView& table = io.in[2];
  if (!view::is_valid(table, DType::i32) || table.rank != 1 || table.dims[0] != kAddTableWords)
    return Status::bad_shape;
  if (!dsp_checks::stage_ok(p.requant, 0, p.output_offset, p.act_min, p.act_max)) return Status::bad_params;
  return Status::ok;
}

void eval_AddDsp(const AddDspParams& p, const KernelIO& io) {
  const int32_t n = static_cast<int32_t>(view::element_count(io.out[0]));
  const dsp::OutputClamp clamp{p.output_offset, p.act_min, p.act_max};
  dsp::dispatch_stage(p.requant, p.act_min, p.act_max, [&](auto mode, auto full_range) {
    run<decltype(mode)::value, decltype(full_range)::value>(io.in[0].as<const int8_t>(), io.in[1].as<const int8_t>(),
                                                            io.out[0].as<int8_t>(), n, io.in[2].as<const int32_t>(),
                                                            clamp);
  });
}

}  // namespace tinyforge
