// Lowering of the DSP twins (ops.def's *Dsp rows): the reference lowering of the same node
// does the checking, geometry and requantization arithmetic; this file then repacks its
// constants for the kernel (plan/pack_dsp.h), sizes the kernel's scratch with the
// runtime's twin function, and states how the kernel may run in place (plan/overlap.h).
#include <fmt/format.h>

#include <cstring>

#include "plan/lower.h"
#include "plan/overlap.h"
#include "plan/pack_dsp.h"
#include "plan/plan.h"
#include "tinyforge/packed.h"

namespace tinyforge::plan {
namespace {

std::vector<int32_t> int32s(const ir::Graph& g, int t) {
  const ir::Tensor& tensor = g.tensors.at(t);
  std::vector<int32_t> v(static_cast<size_t>(tensor.elements()));
  std::memcpy(v.data(), tensor.data.data(), v.size() * sizeof(int32_t));
  return v;
}

std::vector<int8_t> int8s(const ir::Graph& g, int t) {
  const ir::Tensor& tensor = g.tensors.at(t);
  return std::vector<int8_t>(tensor.data.begin(), tensor.data.end());
}

// The bias (absent: zeros), one entry per channel.
std::vector<int32_t> bias_or_zero(const ir::Graph& g, int t, int32_t channels) {
  return t >= 0 ? int32s(g, t) : std::vector<int32_t>(static_cast<size_t>(channels), 0);
}

// A constant tensor of `type` and `shape` holding `bytes` bytes of packed data.
int add_constant(ir::Graph& g, const std::string& name, DType type, std::vector<int32_t> shape,
                 const void* data, size_t bytes) {
  ir::Tensor t;
  t.name = name;
  t.type = type;
  t.shape = std::move(shape);
  t.constant = true;
  t.data.resize(bytes);
  std::memcpy(t.data.data(), data, bytes);  // the host is little-endian
  if (t.data.size() != static_cast<size_t>(t.bytes()))
    throw tinyforge::Error(fmt::format(
        "internal error: packed tensor '{}' has {} bytes for its shape", name, t.data.size()));
  return g.add_tensor(std::move(t));
}

int add_words(ir::Graph& g, const std::string& name, std::vector<int32_t> shape,
              const std::vector<int32_t>& words) {
  return add_constant(g, name, DType::i32, std::move(shape), words.data(),
                      words.size() * sizeof(int32_t));
}

int32_t ceil_div(int32_t a, int32_t b) { return (a + b - 1) / b; }

}  // namespace

LoweredOp lower_Conv2DDsp(ir::Graph& g, size_t node) {
  const LoweredOp ref = lower_Conv2D(g, node);
  const Conv2DParams rp = params_of<Conv2DParams>(ref);
  const int input = ref.inputs[0], filter = ref.inputs[1], output = g.nodes[node].outputs[0];
  const std::vector<int32_t> in_shape = g.tensors[input].shape, out_shape = g.tensors[output].shape;
  const std::vector<int32_t> w_shape = g.tensors[filter].shape;  // [OC, KH, KW, IC]
  const int32_t oc = w_shape[0], k = w_shape[1] * w_shape[2] * w_shape[3];

  Conv2DDspParams p{};
  p.stride_h = rp.stride_h;
  p.stride_w = rp.stride_w;
  p.dilation_h = rp.dilation_h;
  p.dilation_w = rp.dilation_w;
  p.pad_top = rp.pad_top;
  p.pad_left = rp.pad_left;
  p.filter_h = static_cast<int16_t>(w_shape[1]);
  p.filter_w = static_cast<int16_t>(w_shape[2]);
  const bool pointwise = w_shape[1] == 1 && w_shape[2] == 1 && rp.stride_h == 1 &&
                         rp.stride_w == 1 && rp.pad_top == 0 && rp.pad_left == 0 &&
                         in_shape[1] == out_shape[1] && in_shape[2] == out_shape[2];
  p.kernel = static_cast<int32_t>(pointwise ? ConvDspKernel::pointwise : ConvDspKernel::im2col);
  p.input_offset = rp.input_offset;
  p.output_offset = rp.output_offset;
  p.act_min = rp.act_min;
  p.act_max = rp.act_max;
  const std::vector<int32_t> bias = bias_or_zero(g, ref.inputs[2], oc);
  const std::vector<int8_t> weights = int8s(g, filter);
  const std::vector<int64_t> spreads =
      accumulator_spreads(weights, oc, k, 255);  // |x + offset| <= 255
  const ChannelRecords records = make_channel_records(
      bias, int32s(g, ref.inputs[3]), int32s(g, ref.inputs[4]), rp.output_offset, spreads);
  p.run_groups = dual_run_groups(spreads, ceil_div(k, 4));
  p.requant = static_cast<int32_t>(records.mode);

  const std::string base = g.tensors[output].name;
  LoweredOp op;
  op.inputs = {input,
               add_words(g, base + "/dsp_filter", {ceil_div(oc, 2), 2 * ceil_div(k, 4)},
                         pack_conv_filter(weights, oc, k)),
               add_words(g, base + "/dsp_channels", {oc, 4}, records.words)};
  op.params = params_bytes(p);
  op.scratch_size = conv2d_dsp_scratch_bytes(p, in_shape[3]);
  op.in_place = {{0, window_gap(in_shape, out_shape, p.stride_h, p.stride_w, p.pad_top, p.pad_left,
                                WriteOrder::after_unit_reads)}};
  return op;
}

LoweredOp lower_DepthwiseConv2DDsp(ir::Graph& g, size_t node) {
  const LoweredOp ref = lower_DepthwiseConv2D(g, node);
  const DepthwiseConv2DParams rp = params_of<DepthwiseConv2DParams>(ref);
  const int input = ref.inputs[0], filter = ref.inputs[1], output = g.nodes[node].outputs[0];
  const std::vector<int32_t> in_shape = g.tensors[input].shape, out_shape = g.tensors[output].shape;
  const std::vector<int32_t> w_shape = g.tensors[filter].shape;  // [1, KH, KW, C]
  const int32_t channels = w_shape[3], taps = w_shape[1] * w_shape[2];

  DepthwiseConv2DDspParams p{};
  p.stride_h = rp.stride_h;
  p.stride_w = rp.stride_w;
  p.dilation_h = rp.dilation_h;
  p.dilation_w = rp.dilation_w;
  p.pad_top = rp.pad_top;
  p.pad_left = rp.pad_left;
  p.filter_h = static_cast<int16_t>(w_shape[1]);
  p.filter_w = static_cast<int16_t>(w_shape[2]);
  const bool k3x3 = w_shape[1] == 3 && w_shape[2] == 3 && rp.dilation_h == 1 && rp.dilation_w == 1;
  p.kernel = static_cast<int32_t>(k3x3 ? DepthwiseDspKernel::k3x3 : DepthwiseDspKernel::generic);
  p.input_offset = rp.input_offset;
  p.output_offset = rp.output_offset;
  p.act_min = rp.act_min;
  p.act_max = rp.act_max;
  const std::vector<int32_t> bias = bias_or_zero(g, ref.inputs[2], channels);
  // Per channel c the taps' weights, for the accumulator bound (filter is [taps][C]).
  const std::vector<int8_t> weights = int8s(g, filter);
  std::vector<int8_t> by_channel(weights.size());
  for (int32_t t = 0; t < taps; ++t)
    for (int32_t c = 0; c < channels; ++c)
      by_channel[static_cast<size_t>(c) * taps + t] =
          weights[static_cast<size_t>(t) * channels + c];
  const ChannelRecords records =
      make_channel_records(bias, int32s(g, ref.inputs[3]), int32s(g, ref.inputs[4]),
                           rp.output_offset, accumulator_spreads(by_channel, channels, taps, 255));
  p.requant = static_cast<int32_t>(records.mode);

  const std::string base = g.tensors[output].name;
  LoweredOp op;
  op.inputs = {input,
               add_words(g, base + "/dsp_filter", {ceil_div(channels, 4), 2 * taps},
                         pack_depthwise_filter(weights, taps, channels)),
               add_words(g, base + "/dsp_channels", {channels, 4}, records.words)};
  op.params = params_bytes(p);
  op.scratch_size = depthwise_conv2d_dsp_scratch_bytes(out_shape[2], channels);
  op.in_place = {{0, window_gap(in_shape, out_shape, p.stride_h, p.stride_w, p.pad_top, p.pad_left,
                                WriteOrder::row_after_next_row)}};
  return op;
}

// The bias of a FullyConnected `ref` (lower_FullyConnected) with its input offset folded in:
// sum(w * (x + offset)) = sum(w * x) + offset * sum(w), wrapping as the int32 accumulator.
std::vector<int32_t> fc_bias_with_input_offset(const ir::Graph& g, const LoweredOp& ref,
                                               const std::vector<int8_t>& w, int32_t units,
                                               int32_t depth) {
  const int64_t offset = params_of<FullyConnectedParams>(ref).input_offset;
  std::vector<int32_t> bias = bias_or_zero(g, ref.inputs[2], units);
  for (int32_t u = 0; u < units; ++u) {
    int64_t sum = 0;
    for (int32_t i = 0; i < depth; ++i) sum += w[static_cast<size_t>(u) * depth + i];
    bias[u] =
        static_cast<int32_t>(static_cast<uint32_t>(bias[u]) + static_cast<uint32_t>(offset * sum));
  }
  return bias;
}

LoweredOp lower_FullyConnectedDsp(ir::Graph& g, size_t node) {
  const LoweredOp ref = lower_FullyConnected(g, node);
  const FullyConnectedParams rp = params_of<FullyConnectedParams>(ref);
  const int input = ref.inputs[0], filter = ref.inputs[1], output = g.nodes[node].outputs[0];
  const int32_t units = g.tensors[filter].shape[0], depth = g.tensors[filter].shape[1];
  const std::vector<int8_t> w = int8s(g, filter);

  const std::vector<int32_t> bias = fc_bias_with_input_offset(g, ref, w, units, depth);
  const std::vector<int64_t> spreads = accumulator_spreads(w, units, depth, 128);  // |x| <= 128
  ChannelRecords records = make_channel_records(
      bias, int32s(g, ref.inputs[3]), int32s(g, ref.inputs[4]), rp.output_offset, spreads);
  // The last filter row's padding units get records too (the kernel computes whole rows):
  // a constant 0, stored nowhere.
  const int32_t padded = ceil_div(units, kFcUnitsPerRow) * kFcUnitsPerRow;
  for (int32_t u = units; u < padded; ++u) records.words.insert(records.words.end(), {0, 0, 1, 1});

  FullyConnectedDspParams p{};
  p.run_groups = dual_run_groups(spreads, ceil_div(depth, 4));
  p.requant = static_cast<int32_t>(records.mode);
  p.output_offset = rp.output_offset;
  p.act_min = rp.act_min;
  p.act_max = rp.act_max;

  const std::string base = g.tensors[output].name;
  LoweredOp op;
  op.inputs = {input,
               add_words(g, base + "/dsp_filter",
                         {ceil_div(units, kFcUnitsPerRow), kFcUnitsPerRow * ceil_div(depth, 4)},
                         pack_fc_filter(w, units, depth)),
               add_words(g, base + "/dsp_channels", {padded, 4}, records.words)};
  op.params = params_bytes(p);
  const int64_t rows = g.tensors[output].elements() / units;
  op.in_place = {{0, row_gap(rows, depth, units, WriteOrder::interleaved)}};
  return op;
}

LoweredOp lower_FullyConnectedSparse(ir::Graph& g, size_t node) {
  const LoweredOp ref = lower_FullyConnected(g, node);
  const FullyConnectedParams rp = params_of<FullyConnectedParams>(ref);
  const int input = ref.inputs[0], filter = ref.inputs[1], output = g.nodes[node].outputs[0];
  const int32_t units = g.tensors[filter].shape[0], depth = g.tensors[filter].shape[1];
  const std::vector<int8_t> w = int8s(g, filter);
  const SparseFilter f = sparse_fc_filter(w, units, depth);
  const std::vector<int32_t> bias = fc_bias_with_input_offset(g, ref, w, units, depth);
  const std::vector<int32_t> multiplier = int32s(g, ref.inputs[3]),
                             shift = int32s(g, ref.inputs[4]);
  std::vector<int32_t> rows;
  for (int32_t u = 0; u < units; ++u)
    rows.insert(rows.end(), {bias[u], multiplier[u], shift[u], f.entries[u]});
  const auto entries = static_cast<int32_t>(f.weights.size());
  const std::string base = g.tensors[output].name;
  LoweredOp op;
  op.inputs = {
      input,
      add_constant(g, base + "/sparse_weights", DType::i8, {entries}, f.weights.data(),
                   f.weights.size()),
      add_constant(g, base + "/sparse_steps", DType::u8, {entries}, f.steps.data(), f.steps.size()),
      add_words(g, base + "/sparse_rows", {units, 4}, rows)};
  FullyConnectedSparseParams p{};
  p.output_offset = rp.output_offset;
  p.act_min = rp.act_min;
  p.act_max = rp.act_max;
  op.params = params_bytes(p);
  return op;
}

LoweredOp lower_AveragePool2DDsp(ir::Graph& g, size_t node) {
  LoweredOp op = lower_AveragePool2D(g, node);
  const Pool2DParams p = params_of<Pool2DParams>(op);
  const int input = op.inputs[0], output = g.nodes[node].outputs[0];
  op.in_place = {{0, window_gap(g.tensors[input].shape, g.tensors[output].shape, p.stride_h,
                                p.stride_w, p.pad_top, p.pad_left, WriteOrder::interleaved)}};
  return op;
}

LoweredOp lower_AddDsp(ir::Graph& g, size_t node) {
  const LoweredOp ref = lower_Add(g, node);
  const AddParams rp = params_of<AddParams>(ref);
  const AddTable table = make_add_table(rp);
  AddDspParams p{};
  p.requant = static_cast<int32_t>(table.mode);
  p.output_offset = rp.output_offset;
  p.act_min = rp.act_min;
  p.act_max = rp.act_max;
  const int output = g.nodes[node].outputs[0];
  LoweredOp op;
  op.inputs = {
      ref.inputs[0], ref.inputs[1],
      add_words(g, g.tensors[output].name + "/dsp_add_table", {kAddTableWords}, table.words)};
  op.params = params_bytes(p);
  const int64_t gap = row_gap(g.tensors[output].elements(), 1, 1, WriteOrder::after_unit_reads);
  op.in_place = {{0, gap}, {1, gap}};
  return op;
}

}  // namespace tinyforge::plan
