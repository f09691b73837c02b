// SignalFilterBankSquareRoot (TFLM signal library, custom op "SignalFilterBankSquareRoot"):
// each uint64 channel's rounded square root shifted right by scale_bits, as
// signal/src/filter_bank_square_root.cc FilterbankSqrt defines it (Sqrt64 of
// signal/src/square_root_64.cc, the micro front-end's own: audio/audio_math.h). scale_bits is
// the op's second input, an int32 tensor of one element (a shift TFLM never checks: one
// outside 0..31 gives 0 here).
#include <cstdint>

#include "audio/audio_math.h"
#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {

Status check_SignalFilterBankSquareRoot(const SignalFilterBankSquareRootParams&,
                                        const KernelIO& io) {
  if (io.num_inputs != 2 || io.num_outputs != 1) return Status::bad_shape;
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  if (!view::is_valid(in, DType::u64) || !view::is_valid(io.in[1], DType::i32) ||
      !view::is_valid(out, DType::u32))
    return Status::bad_enum;
  if (in.rank != 1 || out.rank != 1 || in.dims[0] != out.dims[0] || io.in[1].elements() != 1)
    return Status::bad_shape;
  return Status::ok;
}

void eval_SignalFilterBankSquareRoot(const SignalFilterBankSquareRootParams&, const KernelIO& io) {
  const uint64_t* in = io.in[0].as<const uint64_t>();
  const int32_t shift = *io.in[1].as<const int32_t>();
  uint32_t* out = io.out[0].as<uint32_t>();
  for (int32_t i = 0; i < io.out[0].dims[0]; ++i)
    out[i] = shift >= 0 && shift <= 31 ? audio::sqrt64(in[i]) >> shift : 0;
}

}  // namespace tinyforge
