// SignalDelay (TFLM signal library, custom op "SignalDelay"): each row of the input (its last
// axis) is a stream delayed by delay_length samples, as signal/micro/kernels/delay.cc defines it
// with a circular buffer per row that starts with delay_length zeros: the output row is the
// first F samples of (pending, input row) and the last delay_length of them stay pending. The
// pending samples are input 1, a Storage::state tensor [..., delay_length] the plan zeroes at
// init and on reset_state (TFLM's Reset writes the zeros again).
#include <cstdint>

#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {

Status check_SignalDelay(const SignalDelayParams& p, const KernelIO& io) {
  if (io.num_inputs != 2 || io.num_outputs != 1) return Status::bad_shape;
  const TensorView &in = io.in[0], &state = io.in[1], &out = io.out[0];
  if (!view::is_valid(in, DType::i16) || !view::is_valid(state, DType::i16) ||
      !view::is_valid(out, DType::i16))
    return Status::bad_enum;
  if (p.delay_length < 1) return Status::bad_params;
  if (in.rank < 1 || !view::same_dims(in, out) || state.rank != in.rank ||
      state.dims[in.rank - 1] != p.delay_length)
    return Status::bad_shape;
  for (int i = 0; i + 1 < in.rank; ++i)
    if (state.dims[i] != in.dims[i]) return Status::bad_shape;
  return Status::ok;
}

void eval_SignalDelay(const SignalDelayParams& p, const KernelIO& io) {
  const TensorView& in_view = io.in[0];
  const int32_t frame = in_view.dims[in_view.rank - 1], delay = p.delay_length;
  const int32_t rows = in_view.elements() / frame;
  for (int32_t r = 0; r < rows; ++r) {
    const int16_t* in = in_view.as<const int16_t>() + r * frame;
    int16_t* pending = io.in[1].as<int16_t>() + r * delay;
    int16_t* out = io.out[0].as<int16_t>() + r * frame;
    // Sample i of (pending, in).
    auto stream = [&](int32_t i) { return i < delay ? pending[i] : in[i - delay]; };
    for (int32_t i = 0; i < frame; ++i) out[i] = stream(i);
    // Ascending: pending[j] takes sample frame + j, which lies at or after it.
    for (int32_t j = 0; j < delay; ++j) pending[j] = stream(frame + j);
  }
}

}  // namespace tinyforge
