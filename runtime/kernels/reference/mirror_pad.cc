// Reference MirrorPad: every output element copies the input element its coordinates fold
// back to (params.h MirrorPadParams). As TFLite's mirror_pad.cc (GetInputDimension: REFLECT
// offsets by one, SYMMETRIC by zero) and ONNX Pad's reflect and edge modes.
#include <cstdint>
#include <cstring>

#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

// The input coordinate of padded coordinate v (= output coordinate - before) along a dim of n.
int32_t fold(int32_t v, int32_t n, MirrorPadMode mode) {
  if (v >= 0 && v < n) return v;
  switch (mode) {
    case MirrorPadMode::reflect:
      return v < 0 ? -v : 2 * (n - 1) - v;
    case MirrorPadMode::symmetric:
      return v < 0 ? -v - 1 : 2 * n - 1 - v;
    default:  // edge
      return v < 0 ? 0 : n - 1;
  }
}

}  // namespace

Status check_MirrorPad(const MirrorPadParams& p, const KernelIO& io) {
  const Status padded = view::check_padded(p.before, p.after, io);
  if (padded != Status::ok) return padded;
  if (p.mode < 0 || p.mode > 2) return Status::bad_enum;
  const auto mode = static_cast<MirrorPadMode>(p.mode);
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  for (int i = 0; i < in.rank; ++i) {
    const int32_t n = in.dims[i];
    if (n < 1) return Status::bad_shape;
    // One fold must land inside the input.
    const int32_t limit = mode == MirrorPadMode::reflect     ? n - 1
                          : mode == MirrorPadMode::symmetric ? n
                                                             : out.dims[i];
    if (p.before[i] > limit || p.after[i] > limit) return Status::bad_params;
  }
  if (!view::same_quantization(in, out)) return Status::bad_params;
  return Status::ok;
}

void eval_MirrorPad(const MirrorPadParams& p, const KernelIO& io) {
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  const uint32_t esize = dtype_size(in.type);
  const auto mode = static_cast<MirrorPadMode>(p.mode);
  int32_t d[kMaxRank], od[kMaxRank], b[kMaxRank];  // extended to rank 4 (leading 1s)
  const int lead = kMaxRank - in.rank;
  for (int i = 0; i < kMaxRank; ++i) {
    d[i] = i < lead ? 1 : in.dims[i - lead];
    od[i] = i < lead ? 1 : out.dims[i - lead];
    b[i] = i < lead ? 0 : p.before[i - lead];
  }
  const auto* src = static_cast<const uint8_t*>(in.data);
  auto* dst = static_cast<uint8_t*>(out.data);
  size_t o = 0;
  for (int32_t x = 0; x < od[0]; ++x) {
    const int32_t ix = fold(x - b[0], d[0], mode);
    for (int32_t y = 0; y < od[1]; ++y) {
      const int32_t iy = fold(y - b[1], d[1], mode);
      for (int32_t z = 0; z < od[2]; ++z) {
        const int32_t iz = fold(z - b[2], d[2], mode);
        const int64_t row = ((int64_t{ix} * d[1] + iy) * d[2] + iz) * d[3];
        for (int32_t w = 0; w < od[3]; ++w, ++o) {
          const int64_t i = row + fold(w - b[3], d[3], mode);
          std::memcpy(dst + o * esize, src + static_cast<size_t>(i) * esize, esize);
        }
      }
    }
  }
}

}  // namespace tinyforge
