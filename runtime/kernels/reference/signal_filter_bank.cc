// SignalFilterBank (TFLM signal library, custom op "SignalFilterBank"): triangular filters
// over uint32 energies summed in 64 bits, as signal/src/filter_bank.cc
// FilterbankAccumulateChannels defines them: for channel i of num_channels + 1, over
// j < width[i], weight_acc += weights[ws[i] + j] * uint64(energy[fs[i] + j]) and likewise
// unweight_acc with unweights; channel i's sum is weight_acc, and the next channel starts
// from unweight_acc. Channel 0 only seeds channel 1: the kernel
// (signal/micro/kernels/filter_bank.cc) drops it, so output c is sum c + 1. The int16 weight
// is converted to uint64 before the product (usual arithmetic conversions), as in TFLM.
//
// The tables are constants the compiler checked; a start or width that would read outside
// the views (a damaged plan) makes that channel read nothing instead.
#include <cstdint>

#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

enum Input { kEnergy, kWeights, kUnweights, kFreqStarts, kWeightStarts, kWidths };

}  // namespace

Status check_SignalFilterBank(const SignalFilterBankParams& p, const KernelIO& io) {
  if (io.num_inputs != 6 || io.num_outputs != 1) return Status::bad_shape;
  const TensorView& out = io.out[0];
  if (!view::is_valid(io.in[kEnergy], DType::u32) || !view::is_valid(out, DType::u64))
    return Status::bad_enum;
  for (int i = kWeights; i <= kWidths; ++i)
    if (!view::is_valid(io.in[i], DType::i16) || io.in[i].rank != 1) return Status::bad_enum;
  if (io.in[kEnergy].rank != 1 || out.rank != 1 || p.num_channels != out.dims[0] ||
      p.num_channels < 1)
    return Status::bad_shape;
  if (io.in[kUnweights].dims[0] != io.in[kWeights].dims[0]) return Status::bad_shape;
  for (int i = kFreqStarts; i <= kWidths; ++i)
    if (io.in[i].dims[0] != p.num_channels + 1) return Status::bad_shape;
  return Status::ok;
}

void eval_SignalFilterBank(const SignalFilterBankParams& p, const KernelIO& io) {
  const uint32_t* energy = io.in[kEnergy].as<const uint32_t>();
  const int16_t* weights = io.in[kWeights].as<const int16_t>();
  const int16_t* unweights = io.in[kUnweights].as<const int16_t>();
  const int16_t* freq_starts = io.in[kFreqStarts].as<const int16_t>();
  const int16_t* weight_starts = io.in[kWeightStarts].as<const int16_t>();
  const int16_t* widths = io.in[kWidths].as<const int16_t>();
  const int32_t num_energies = io.in[kEnergy].dims[0];
  const int32_t num_weights = io.in[kWeights].dims[0];
  uint64_t* out = io.out[0].as<uint64_t>();
  uint64_t weight_acc = 0, unweight_acc = 0;
  for (int32_t ch = 0; ch <= p.num_channels; ++ch) {
    const int32_t fs = freq_starts[ch], ws = weight_starts[ch], width = widths[ch];
    if (fs >= 0 && ws >= 0 && width >= 0 && fs + width <= num_energies && ws + width <= num_weights)
      for (int32_t j = 0; j < width; ++j) {
        const uint64_t e = energy[fs + j];
        weight_acc += static_cast<uint64_t>(int64_t{weights[ws + j]}) * e;
        unweight_acc += static_cast<uint64_t>(int64_t{unweights[ws + j]}) * e;
      }
    if (ch > 0) out[ch - 1] = weight_acc;
    weight_acc = unweight_acc;
    unweight_acc = 0;
  }
}

}  // namespace tinyforge
