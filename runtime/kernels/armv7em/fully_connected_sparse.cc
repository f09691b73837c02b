// FullyConnectedSparse: a pruned int8 fully connected layer that stores and multiplies only
// its nonzero weights (params.h, packed.h), four entries a turn at about 5.5 estimated
// Cortex-M4 cycles an entry plus about 100 a unit (the exact output stage), against the
// dense twin's 1.5 a weight: the compiler picks it per layer where it saves cycles and flash
// (plan/select_kernels.cc). The sum is the reference's over the nonzero weights (the zeros
// and padding add nothing), and int32 sums wrap the same in any order: the bytes are the
// reference's.
#include "kernels/armv7em/dsp.h"
#include "kernels/armv7em/dsp_checks.h"
#include "kernels/reference/fixed_point.h"
#include "kernels/reference/output_stage.h"
#include "tinyforge/kernel.h"
#include "tinyforge/packed.h"

namespace tinyforge {
namespace {

struct Shape {
  int32_t rows, depth, units, entries;
};

Shape shape(const KernelIO& io) {  // the checks bound every count to int32
  const int32_t units = io.in[3].dims[0];
  const auto rows = static_cast<int32_t>(view::element_count(io.out[0])) / units;
  return {rows, static_cast<int32_t>(view::element_count(io.in[0])) / rows, units,
          io.in[1].dims[0]};
}

}  // namespace

// Unlike the dense kernels' checks this one reads the values of two constant operands (the
// validator's views of blob constants carry their data): the steps and entry counts decide
// which input bytes the kernel reads, so every row must end inside the input row and the
// counts must add up to the stored entries. Without their data (operands copied to another
// memory region) the op is refused; the compiler keeps them in the blob.
Status check_FullyConnectedSparse(const FullyConnectedSparseParams& p, const KernelIO& io) {
  if (io.num_inputs != 4 || io.num_outputs != 1) return Status::bad_params;
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  if (!view::is_valid(in, DType::i8) || !view::is_valid(out, DType::i8) ||
      !checks::has_positive_dims(in, in.rank) || !checks::has_positive_dims(out, out.rank))
    return Status::bad_enum;
  const TensorView& weights = io.in[1];
  const TensorView& steps = io.in[2];
  if (!view::is_valid(weights, DType::i8) || !view::is_valid(steps, DType::u8) ||
      weights.rank != 1 || steps.rank != 1 || steps.dims[0] != weights.dims[0] ||
      weights.dims[0] < 1 || io.in[3].rank != 2 || io.in[3].dims[0] < 1 ||
      !dsp_checks::is_channel_records(io.in[3], io.in[3].dims[0]))
    return Status::bad_shape;
  if (steps.data == nullptr || io.in[3].data == nullptr) return Status::bad_params;
  const int32_t units = io.in[3].dims[0];
  if (out.dims[out.rank - 1] != units) return Status::bad_shape;
  const int64_t rows = view::element_count(out) / units;
  const int64_t elements = view::element_count(in);
  if (rows < 1 || elements % rows != 0 || elements / rows > checks::kMaxExtent)
    return Status::bad_shape;
  if (!stage::int8_stage_ok(0, p.output_offset, p.act_min, p.act_max)) return Status::bad_params;
  const auto depth = static_cast<int32_t>(elements / rows);
  const auto* row = static_cast<const SparseRow*>(io.in[3].data);
  const auto* step = static_cast<const uint8_t*>(steps.data);
  int64_t entry = 0;
  for (int32_t u = 0; u < units; ++u) {
    if (row[u].entries < 0 || row[u].entries % 4 != 0 || entry + row[u].entries > weights.dims[0])
      return Status::bad_shape;
    int64_t column = 0;
    for (int32_t k = 0; k < row[u].entries; ++k) column += step[entry++];
    if (row[u].entries > 0 && column >= depth) return Status::bad_shape;
  }
  return entry == weights.dims[0] ? Status::ok : Status::bad_shape;
}

void eval_FullyConnectedSparse(const FullyConnectedSparseParams& p, const KernelIO& io) {
  const Shape s = shape(io);
  const auto* input = io.in[0].as<const int8_t>();
  const auto* rows = io.in[3].as<const SparseRow>();
  auto* output = io.out[0].as<int8_t>();
  for (int32_t r = 0; r < s.rows; ++r, input += s.depth) {
    const auto* weight = io.in[1].as<const uint8_t>();
    const auto* step = io.in[2].as<const uint8_t>();
    for (int32_t u = 0; u < s.units; ++u) {
      const SparseRow& row = rows[u];
      auto x = reinterpret_cast<uintptr_t>(input);
      int32_t acc = row.bias;
      // Four entries a turn: their steps and weights are one word each; the steps walk the
      // input (dsp.h), the weights pair up (SXTB16) for SMLABB/SMLABT.
      for (int32_t k = 0, n = row.entries; k < n; k += 4, step += 4, weight += 4) {
        const uint32_t steps = dsp::load32(step), w = dsp::load32(weight);
        int32_t v[4];
        dsp::load_stepped4(x, steps, v);
        const uint32_t w02 = dsp::sxtb16(w), w13 = dsp::sxtb16_ror8(w);
        acc = dsp::smlabb(static_cast<uint32_t>(v[0]), w02, acc);
        acc = dsp::smlabb(static_cast<uint32_t>(v[1]), w13, acc);
        acc = dsp::smlabt(static_cast<uint32_t>(v[2]), w02, acc);
        acc = dsp::smlabt(static_cast<uint32_t>(v[3]), w13, acc);
      }
      int32_t v = stage::wrapping_add(
          fixed::multiply_by_quantized_multiplier(acc, row.multiplier, stage::safe_shift(row.shift)),
          p.output_offset);
      v = v < p.act_min ? p.act_min : v;
      *output++ = static_cast<int8_t>(v > p.act_max ? p.act_max : v);
    }
  }
}

}  // namespace tinyforge
