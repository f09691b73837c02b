// Reference Pad (constant mode): output dim i = before[i] + input dim i + after[i]
// (rank <= 4); the border holds f_value (float32) or q_value (int8 or int16, already
// quantized: TFLite's PAD/PADV2 pad with the output zero point or the quantized constant).
#include <cstdint>
#include <cstring>

#include "kernels/reference/view_checks.h"
#include "src/enabled_ops.h"
#include "tinyforge/kernel.h"

namespace tinyforge {

Status check_Pad(const PadParams& p, const KernelIO& io) {
  const Status padded = view::check_padded(p.before, p.after, io);
  if (padded != Status::ok) return padded;
  if (io.in[0].type == DType::i8 && (p.q_value < -128 || p.q_value > 127))
    return Status::bad_params;
  if (image_int16(io.in[0].type) && (p.q_value < -32768 || p.q_value > 32767))
    return Status::bad_params;
  return Status::ok;
}

void eval_Pad(const PadParams& p, const KernelIO& io) {
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  const uint32_t esize = dtype_size(in.type);
  // Fill the border value everywhere, then copy the input rows into place.
  uint8_t value[4];
  if (in.type == DType::f32) {
    std::memcpy(value, &p.f_value, 4);
  } else if (image_int16(in.type)) {
    const auto q = static_cast<int16_t>(p.q_value);
    std::memcpy(value, &q, 2);
  } else {
    const auto q = static_cast<int8_t>(p.q_value);
    std::memcpy(value, &q, 1);
  }
  auto* dst = static_cast<uint8_t*>(out.data);
  const auto out_elements = static_cast<int32_t>(view::element_count(out));
  for (int32_t i = 0; i < out_elements; ++i)
    std::memcpy(dst + static_cast<size_t>(i) * esize, value, esize);

  int32_t d[kMaxRank], od[kMaxRank], b[kMaxRank];  // extended to rank 4 (leading 1s)
  const int lead = kMaxRank - in.rank;
  for (int i = 0; i < kMaxRank; ++i) {
    d[i] = i < lead ? 1 : in.dims[i - lead];
    od[i] = i < lead ? 1 : out.dims[i - lead];
    b[i] = i < lead ? 0 : p.before[i - lead];
  }
  const auto* src = static_cast<const uint8_t*>(in.data);
  const size_t row = static_cast<size_t>(d[3]) * esize;
  for (int32_t x = 0; x < d[0]; ++x)
    for (int32_t y = 0; y < d[1]; ++y)
      for (int32_t z = 0; z < d[2]; ++z) {
        const int64_t o =
            ((int64_t{x + b[0]} * od[1] + (y + b[1])) * od[2] + (z + b[2])) * od[3] + b[3];
        // memmove: only a damaged plan overlaps input and output; it must stay defined.
        std::memmove(dst + static_cast<size_t>(o) * esize, src, row);
        src += row;
      }
}

}  // namespace tinyforge
