// Reference Split and Unpack, the input cut along `axis` (TFLite SPLIT / SPLIT_V and UNPACK),
// and Pack, Unpack's inverse (TFLite PACK).
// With outer = the product of the input dims before the axis, the input is `outer` rows, each
// the outputs' pieces one after another; a piece of output k is its dims from the axis on
// (Unpack: the dims after the axis, one slice). A pure byte copy for any element type: int8
// outputs share the input's scale and zero point (TFLite's split and unpack kernels copy
// values and require it; int16 likewise), checked here from the views.
#include <cstdint>
#include <cstring>

#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

int64_t extent(const TensorView& v, int from, int to) {
  int64_t n = 1;
  for (int i = from; i < to; ++i) n *= v.dims[i];
  return n;
}

// The output is a valid view of the input's type and quantization.
bool copies_input(const TensorView& in, const TensorView& out) {
  if (!view::is_valid(out, in.type)) return false;
  return view::same_quantization(in, out);
}

// Copies row after row of the input into the outputs, `piece[k]` bytes to output k per row.
void cut_rows(const TensorView& in, int64_t outer, const KernelIO& io, const int64_t* piece) {
  const auto* src = static_cast<const uint8_t*>(in.data);
  for (int64_t o = 0; o < outer; ++o)
    for (uint8_t k = 0; k < io.num_outputs; ++k) {
      const auto bytes = static_cast<size_t>(piece[k]);
      std::memcpy(static_cast<uint8_t*>(io.out[k].data) + static_cast<size_t>(o) * bytes, src,
                  bytes);
      src += bytes;
    }
}

}  // namespace

Status check_Split(const SplitParams& p, const KernelIO& io) {
  if (io.num_inputs != 1 || io.num_outputs < 1 || io.num_outputs > kMaxOpOutputs)
    return Status::bad_shape;
  const TensorView& in = io.in[0];
  if (dtype_size(in.type) == 0) return Status::bad_enum;
  if (!view::is_valid(in, in.type) || in.rank < 1) return Status::bad_shape;
  if (p.axis < 0 || p.axis >= in.rank) return Status::bad_params;
  int64_t total = 0;
  for (uint8_t k = 0; k < io.num_outputs; ++k) {
    const TensorView& out = io.out[k];
    if (out.type != in.type) return Status::bad_enum;
    if (!copies_input(in, out) || out.rank != in.rank) return Status::bad_shape;
    for (int d = 0; d < in.rank; ++d)
      if (d != p.axis && out.dims[d] != in.dims[d]) return Status::bad_shape;
    if (out.dims[p.axis] < 1) return Status::bad_shape;
    total += out.dims[p.axis];
  }
  if (total != in.dims[p.axis]) return Status::bad_shape;
  return Status::ok;
}

void eval_Split(const SplitParams& p, const KernelIO& io) {
  const TensorView& in = io.in[0];
  int64_t piece[kMaxOpOutputs];
  for (uint8_t k = 0; k < io.num_outputs; ++k)
    piece[k] = extent(io.out[k], p.axis, io.out[k].rank) * dtype_size(in.type);
  cut_rows(in, extent(in, 0, p.axis), io, piece);
}

namespace {

// Unpack's input and Pack's output: `whole` holds the `n` pieces stacked along `axis`, each
// of whole's dtype and quantization and of its shape without that axis.
Status check_stacked(const TensorView& whole, const TensorView* pieces, uint8_t n, int32_t axis) {
  if (dtype_size(whole.type) == 0) return Status::bad_enum;
  if (!view::is_valid(whole, whole.type) || whole.rank < 1) return Status::bad_shape;
  if (axis < 0 || axis >= whole.rank) return Status::bad_params;
  if (whole.dims[axis] != n) return Status::bad_shape;
  for (uint8_t k = 0; k < n; ++k) {
    const TensorView& piece = pieces[k];
    if (piece.type != whole.type) return Status::bad_enum;
    if (!copies_input(whole, piece) || piece.rank + 1 != whole.rank) return Status::bad_shape;
    for (int d = 0; d < piece.rank; ++d)
      if (piece.dims[d] != whole.dims[d < axis ? d : d + 1]) return Status::bad_shape;
  }
  return Status::ok;
}

}  // namespace

Status check_Unpack(const SplitParams& p, const KernelIO& io) {
  if (io.num_inputs != 1 || io.num_outputs < 1 || io.num_outputs > kMaxOpOutputs)
    return Status::bad_shape;
  return check_stacked(io.in[0], io.out, io.num_outputs, p.axis);
}

void eval_Unpack(const SplitParams& p, const KernelIO& io) {
  const TensorView& in = io.in[0];
  int64_t piece[kMaxOpOutputs];
  const int64_t slice = extent(in, p.axis + 1, in.rank) * dtype_size(in.type);
  for (uint8_t k = 0; k < io.num_outputs; ++k) piece[k] = slice;
  cut_rows(in, extent(in, 0, p.axis), io, piece);
}

// Pack: output row o is input 0's row o, then input 1's, ... (a row: the input dims from
// `axis` on). Same dtype and quantization rules as Split.
Status check_Pack(const ConcatenationParams& p, const KernelIO& io) {
  if (io.num_inputs < 1 || io.num_outputs != 1) return Status::bad_shape;
  return check_stacked(io.out[0], io.in, io.num_inputs, p.axis);
}

void eval_Pack(const ConcatenationParams& p, const KernelIO& io) {
  const TensorView& out = io.out[0];
  const int64_t outer = extent(out, 0, p.axis);
  const auto row = static_cast<size_t>(extent(out, p.axis + 1, out.rank) * dtype_size(out.type));
  auto* dst = static_cast<uint8_t*>(out.data);
  for (int64_t o = 0; o < outer; ++o)
    for (uint8_t k = 0; k < io.num_inputs; ++k) {
      std::memcpy(dst, static_cast<const uint8_t*>(io.in[k].data) + static_cast<size_t>(o) * row,
                  row);
      dst += row;
    }
}

}  // namespace tinyforge
