// SignalEnergy (TFLM signal library, custom op "SignalEnergy"): the power of each complex bin
// of an int16 spectrum, as signal/src/energy.cc SpectrumToEnergy defines it:
// re * re + im * im in 32 bits, for bins start_index <= i < end_index. TFLM sums the two
// products as int32 (only -32768 twice overflows it) and stores uint32: the sum is taken
// modulo 2^32 here, which is the value its wrap stores. TFLM leaves the other bins as the
// arena held them; here they are 0, so a plan's outputs never depend on earlier ops.
#include <cstdint>

#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {

Status check_SignalEnergy(const SignalEnergyParams& p, const KernelIO& io) {
  if (io.num_inputs != 1 || io.num_outputs != 1) return Status::bad_shape;
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  if (!view::is_valid(in, DType::i16) || !view::is_valid(out, DType::u32)) return Status::bad_enum;
  if (in.rank != 1 || out.rank != 1 || in.dims[0] != 2 * out.dims[0]) return Status::bad_shape;
  if (p.start_index < 0 || p.start_index > p.end_index || p.end_index > out.dims[0])
    return Status::bad_params;
  return Status::ok;
}

void eval_SignalEnergy(const SignalEnergyParams& p, const KernelIO& io) {
  const int16_t* in = io.in[0].as<const int16_t>();
  uint32_t* out = io.out[0].as<uint32_t>();
  const int32_t bins = io.out[0].dims[0];
  for (int32_t i = 0; i < bins; ++i) {
    if (i < p.start_index || i >= p.end_index) {
      out[i] = 0;
      continue;
    }
    const int32_t re = in[2 * i], im = in[2 * i + 1];
    out[i] = static_cast<uint32_t>(re * re) + static_cast<uint32_t>(im * im);
  }
}

}  // namespace tinyforge
