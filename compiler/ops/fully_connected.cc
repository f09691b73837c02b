// FullyConnected: everything the compiler knows about it, in one file.
//
// Semantics: TFLite FULLY_CONNECTED: rows of the input (its elements in rows of the
// weights' depth) times weights [OUT,IN], optional bias, a fused activation; ONNX Gemm and
// MatMul map to it. int8 as TFLite Micro's
// CalculateOpDataFullyConnected (micro/kernels/fully_connected_common.cc): per-channel
// weights use the conv multipliers, per-tensor weights multiply the two scales in float
// first (GetQuantizedConvolutionMultipler). Invariants the reader checks: DEFAULT weights
// format, the output is [rows, units] or (keep_num_dims) the input's shape with the last
// dim replaced, weights symmetric int8, bias scale input x weight scale. Quantized from
// calibrated ranges with per-tensor weights; channels are consumed. TFLite: builtin
// FULLY_CONNECTED (9), version 4 for int8, 5 with keep_num_dims, 6 without bias
// (tensorflow/lite/tools/versioning/op_version.cc).
#include "ops/fully_connected.h"

#include <fmt/format.h>

#include "export/tflite_builder.h"
#include "import/onnx/onnx_convert.h"
#include "import/tflite/op_mapper.h"
#include "ops/add.h"
#include "ops/host_op.h"
#include "ops/strided_slice.h"
#include "plan/lower_conv.h"

namespace tinyforge {
namespace {

using tflite_import::OpMapper;
using tflite_import::shape_string;

ir::Node read_tflite(OpMapper& m) {
  m.require_arity(2, 3);
  const auto* o = m.options(m.op().builtin_options_as_FullyConnectedOptions(),
                            tfl::BuiltinOptions::FullyConnectedOptions);
  ir::Node n{OpCode::FullyConnected, {}, {}, {}, {}};
  ops::FullyConnectedAttrs a;
  bool keep_num_dims = false;
  if (o) {
    a.activation = m.activation(o->fused_activation_function());
    if (o->weights_format() != tfl::FullyConnectedOptionsWeightsFormat::DEFAULT)
      m.fail(fmt::format("weights_format {} is not supported; expected DEFAULT (0)",
                         static_cast<int>(o->weights_format())));
    keep_num_dims = o->keep_num_dims();
  }
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  m.require_activation_types(in, out, /*int16=*/true);
  const ir::Tensor& w = m.input(1);
  m.require_rank(w, m.in_label(1), 2);
  const int32_t units = w.shape[0], depth = w.shape[1];
  if (in.shape.empty() || in.elements() % depth != 0)
    m.fail(fmt::format("{} has shape {}; expected a whole number of rows of {} elements",
                       m.in_label(0), shape_string(in.shape), depth));
  const int64_t rows = in.elements() / depth;
  tflite_import::check_weights(m, in, 0, units);
  if (keep_num_dims) {
    std::vector<int32_t> expected = in.shape;
    expected.back() = units;
    m.require_shape(out, m.out_label(), expected);
  } else if (out.shape.empty() || out.shape.back() != units || out.elements() != rows * units) {
    m.fail(fmt::format("{} has shape {}; expected {} rows of {} units ([{},{}])", m.out_label(),
                       shape_string(out.shape), rows, units, rows, units));
  }
  n.params = a;
  n.inputs = {m.input_index(0), m.input_index(1), m.input_index(2, /*optional=*/true)};
  return n;
}

void write_tflite(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  refuse_int16x8(b, node);
  const ir::Node& n = b.graph().nodes[node];
  const auto& in = in_tensor(b, node, 0).shape;
  const auto& out = out_tensor(b, node).shape;
  // keep_num_dims: the output keeps the input's leading dims (rank > 2), else [rows, units].
  std::vector<int32_t> kept = in;
  if (!kept.empty()) kept.back() = out.empty() ? 0 : out.back();
  const bool keep_num_dims = out.size() != 2 && out == kept;
  const bool has_bias = n.inputs.size() > 2 && n.inputs[2] >= 0;
  const int32_t version = !has_bias ? 6 : keep_num_dims ? 5 : is_int8(b, node) ? 4 : 1;
  std::vector<int32_t> inputs = io_of(b, n.inputs);
  if (!has_bias) inputs.resize(2);
  const ir::Activation act = n.params.get_or_default<ops::FullyConnectedAttrs>().activation;
  const auto options = tfl::CreateFullyConnectedOptions(
      b.fbb(), activation(act), tfl::FullyConnectedOptionsWeightsFormat::DEFAULT, keep_num_dims);
  b.add_operator(tfl::BuiltinOperator::FULLY_CONNECTED, version, inputs, io_of(b, n.outputs),
                 tfl::BuiltinOptions::FullyConnectedOptions, options.Union());
}

}  // namespace

namespace plan {

using namespace conv_lowering;

namespace {

// `int16`: the 16x8 twin, whose arithmetic differs only in the kernel.
LoweredOp lower_fully_connected(ir::Graph& g, size_t node, bool int16) {
  const Operands o = operands(g, node, true);
  require_rank(g, node, o.filter, "filter", 2);
  require_positive_dims(g, node, o.input, "input");
  require_positive_dims(g, node, o.output, "output");
  const DType type = activation_type(g, node, o, int16);
  const ir::Tensor& in = g.tensors[o.input];
  const ir::Tensor& out = g.tensors[o.output];
  const int32_t units = g.tensors[o.filter].shape[0];
  const int32_t depth = g.tensors[o.filter].shape[1];
  if (in.shape.empty() || in.elements() % depth != 0)
    refuse(g, node,
           fmt::format("{} has shape {}; expected whole rows of {} elements",
                       label(g, o.input, "input"), shape_str(in.shape), depth));
  const int64_t rows = in.elements() / depth;
  if (out.shape.empty() || out.shape.back() != units || out.elements() != rows * units)
    refuse(g, node,
           fmt::format("{} has shape {}; expected {} rows of {} units",
                       label(g, o.output, "output"), shape_str(out.shape), rows, units));
  require_bias_size(g, node, o.bias, units);

  FullyConnectedParams p{};
  p.act_min = -128;
  p.act_max = 127;
  std::vector<double> scales;
  if (type != DType::f32) {
    const ActQuant qi = activation_quant(g, node, o.input, "input");
    const ActQuant qo = activation_quant(g, node, o.output, "output");
    const std::vector<float> fs = filter_scales(g, node, o.filter, units, 0);
    if (g.tensors[o.filter].quant.per_channel()) {
      for (float s : fs)
        scales.push_back(static_cast<double>(qi.scale) * static_cast<double>(s) /
                         static_cast<double>(qo.scale));
    } else {
      const float product = qi.scale * fs[0];  // float, as GetQuantizedConvolutionMultipler
      scales.assign(static_cast<size_t>(units),
                    static_cast<double>(product) / static_cast<double>(qo.scale));
    }
  }
  LoweredOp lowered;
  fill_output_stage(g, node, o, type,
                    g.nodes[node].params.get_or_default<ops::FullyConnectedAttrs>().activation,
                    scales, p, lowered);
  lowered.params = params_bytes(p);
  return lowered;
}

}  // namespace

LoweredOp lower_FullyConnected(ir::Graph& g, size_t node) {
  return lower_fully_connected(g, node, false);
}
// The 16x8 twin (plan/select_kernels.cc picks it for int16 activations).
LoweredOp lower_FullyConnectedInt16(ir::Graph& g, size_t node) {
  return lower_fully_connected(g, node, true);
}

}  // namespace plan

// ONNX import: the ONNX op types that become this op.
namespace onnx_import {
namespace {

// Weights [OUT,IN] whose IN columns are in ONNX (c,h,w) order -> columns in (h,w,c) order.
std::vector<float> permute_columns_to_hwc(const std::vector<float>& w, int64_t out,
                                          const Shape& chw) {
  const int64_t c = chw[0], h = chw[1], wd = chw[2], in = c * h * wd;
  std::vector<float> r(w.size());
  for (int64_t o = 0; o < out; ++o)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < wd; ++x)
        for (int64_t ch = 0; ch < c; ++ch)
          r[o * in + (y * wd + x) * c + ch] = w[o * in + (ch * h + y) * wd + x];
  return r;
}

// Emits FullyConnected(a, weights [out,in], bias) for a 2-D input value `a` of ONNX shape
// [rows, in]; uses a's channels-last flatten directly when that is all we have.
int emit_fc(Context& ctx, Value& a, std::vector<float> weights, int64_t out,
            const std::vector<float>& bias, const std::string& name) {
  const int64_t rows = a.shape[0], in = a.shape[1];
  int input;
  if (a.flat >= 0 && a.onnx < 0) {
    weights = permute_columns_to_hwc(weights, out, a.flat_chw);
    input = a.flat;
  } else {
    input = ctx.as_onnx(a, ctx.node->input(0));
  }
  const int w = ctx.ir_constant(name + "/weights", ctx.ir_shape({out, in}), weights);
  const int b = ctx.ir_constant(name + "/bias", ctx.ir_shape({out}), bias);
  return ctx.emit(OpCode::FullyConnected, {input, w, b}, ctx.ir_shape({rows, out}),
                  ops::FullyConnectedAttrs{}, name);
}

void convert_Gemm(Context& ctx) {
  Value& a = ctx.input(0);
  if (a.is_constant()) ctx.unsupported("Gemm with a constant A");
  if (a.shape.size() != 2)
    ctx.fail(fmt::format("A has shape {}; expected 2-D", shape_str(a.shape)));
  const Constant& bc = ctx.constant_input(1, "B");
  if (!bc.is_float || bc.shape.size() != 2)
    ctx.fail(fmt::format("B has shape {}; expected 2-D float", shape_str(bc.shape)));
  const bool trans_a = ctx.attr_int("transA", 0) != 0, trans_b = ctx.attr_int("transB", 0) != 0;
  const float alpha = ctx.attr_float("alpha", 1.0f), beta = ctx.attr_float("beta", 1.0f);
  const int64_t m = trans_a ? a.shape[1] : a.shape[0], k = trans_a ? a.shape[0] : a.shape[1];
  const int64_t kb = trans_b ? bc.shape[1] : bc.shape[0], n = trans_b ? bc.shape[0] : bc.shape[1];
  if (kb != k)
    ctx.fail(fmt::format("A {} and B {} do not multiply (transA={}, transB={})", shape_str(a.shape),
                         shape_str(bc.shape), trans_a, trans_b));
  std::vector<float> weights(static_cast<size_t>(n * k));
  for (int64_t o = 0; o < n; ++o)
    for (int64_t i = 0; i < k; ++i)
      weights[o * k + i] = alpha * (trans_b ? bc.f[o * k + i] : bc.f[i * n + o]);

  // C broadcasts to [M,N] (Gemm-6's `broadcast = 0` asks for C = [M,N] exactly, which
  // broadcasts too): one row becomes the FC bias; a C that varies by row is
  // added afterwards as a constant [M,N] tensor.
  std::vector<float> bias(static_cast<size_t>(n), 0.0f);
  std::vector<float> matrix_bias;
  if (ctx.has_input(2)) {
    const Constant& cc = ctx.constant_input(2, "C");
    if (!cc.is_float || cc.shape.size() > 2)
      ctx.fail(fmt::format("C has shape {}; expected up to 2-D float", shape_str(cc.shape)));
    const Shape cs = cc.shape;
    const int64_t c_rows = cs.size() == 2 ? cs[0] : 1;
    const int64_t c_cols = cs.empty() ? 1 : cs.back();
    if ((c_cols != 1 && c_cols != n) || (c_rows != 1 && c_rows != m))
      ctx.fail(fmt::format("C of shape {} does not broadcast to [{},{}]", shape_str(cs), m, n));
    std::vector<float> full(static_cast<size_t>(m * n));
    for (int64_t r = 0; r < m; ++r)
      for (int64_t o = 0; o < n; ++o)
        full[r * n + o] = beta * cc.f[(c_rows == 1 ? 0 : r) * c_cols + (c_cols == 1 ? 0 : o)];
    bool rows_equal = true;
    for (int64_t i = n; i < m * n && rows_equal; ++i) rows_equal = full[i] == full[i % n];
    if (rows_equal)
      bias.assign(full.begin(), full.begin() + n);
    else
      matrix_bias = std::move(full);
  }
  const std::string name = ctx.node->output(0);
  Value out;
  out.shape = {m, n};
  const std::string fc_name = matrix_bias.empty() ? name : name + "/fc";
  if (trans_a) {
    Value at;
    at.shape = {m, k};
    at.onnx = ctx.transpose(ctx.as_onnx(a, ctx.node->input(0)), {1, 0}, name + "/transA");
    out.onnx = emit_fc(ctx, at, std::move(weights), n, bias, fc_name);
  } else {
    out.onnx = emit_fc(ctx, a, std::move(weights), n, bias, fc_name);
  }
  if (!matrix_bias.empty()) {
    const int c = ctx.ir_constant(name + "/C", ctx.ir_shape({m, n}), matrix_bias);
    out.onnx = ctx.emit(OpCode::Add, {out.onnx, c}, ctx.ir_shape({m, n}), ops::AddAttrs{}, name);
  }
  ctx.set_output(0, std::move(out));
}

// B^T of one [K, N] matrix of a constant B, as FullyConnected weights [N, K].
std::vector<float> matmul_weights(const Constant& b, int64_t matrix, int64_t k, int64_t n) {
  std::vector<float> w(static_cast<size_t>(n * k));
  const float* m = b.f.data() + matrix * k * n;
  for (int64_t o = 0; o < n; ++o)
    for (int64_t i = 0; i < k; ++i) w[o * k + i] = m[i * n + o];
  return w;
}

// The row-major index into `shape` of the element at `index` of the broadcast shape `out`
// (numpy broadcasting; `shape` is right-aligned to `out`).
int64_t broadcast_source(const Shape& shape, const Shape& out, int64_t index) {
  int64_t src = 0, stride = 1;
  for (size_t d = out.size(); d-- > 0;) {
    const int64_t coord = index % out[d];
    index /= out[d];
    const size_t back = out.size() - d;
    if (back <= shape.size()) {
      const int64_t dim = shape[shape.size() - back];
      src += (dim == 1 ? 0 : coord) * stride;
      stride *= dim;
    }
  }
  return src;
}

// The batch limit of a MatMul with a batched constant B: one FullyConnected per matrix.
constexpr int64_t kMaxMatMulBatch = 64;

// MatMul with a batched constant B ([..., K, N], numpy broadcasting over the batch dims):
// one FullyConnected per output matrix. When A has a single matrix, the matrices of B
// stack into one FullyConnected ([M, T*N]) and a Transpose puts the batch first.
Value batched_matmul(Context& ctx, Value& a, const Constant& b, const std::string& name) {
  const int64_t k = a.shape.back(), m = a.shape.size() >= 2 ? a.shape[a.shape.size() - 2] : 1;
  const int64_t n = b.shape.back();
  const Shape a_batch(a.shape.begin(), a.shape.end() - 2),
      b_batch(b.shape.begin(), b.shape.end() - 2);
  Shape batch;
  if (!broadcast_shape(a_batch, b_batch, batch))
    ctx.fail(fmt::format("A {} and B {} do not broadcast", shape_str(a.shape), shape_str(b.shape)));
  const int64_t count = elements_of(batch), a_count = elements_of(a_batch);
  if (count > kMaxMatMulBatch)
    ctx.unsupported(
        fmt::format("MatMul with {} batched matrices (at most {})", count, kMaxMatMulBatch));
  Value out;
  out.shape = batch;
  out.shape.push_back(m);
  out.shape.push_back(n);
  const std::vector<float> zeros(static_cast<size_t>(n * count), 0.0f);
  if (a_count == 1) {
    std::vector<float> stacked;
    for (int64_t t = 0; t < count; ++t) {
      const std::vector<float> w = matmul_weights(b, broadcast_source(b_batch, batch, t), k, n);
      stacked.insert(stacked.end(), w.begin(), w.end());
    }
    Value a2 = reshaped(ctx, a, {m, k}, name + "/rows");
    const int fc = emit_fc(ctx, a2, std::move(stacked), count * n, zeros, name + "/fc");
    const int mtn = ctx.reshape(fc, ctx.ir_shape({m, count, n}), name + "/split");
    const int tmn = ctx.transpose(mtn, {1, 0, 2}, name + "/batch_first");
    out.onnx = ctx.reshape(tmn, ctx.ir_shape(out.shape), name);
    return out;
  }
  Value a3 = reshaped(ctx, a, {a_count, m, k}, name + "/matrices");
  const int a_ir = ctx.as_onnx(a3, name + "/matrices");
  std::vector<int> pieces;
  for (int64_t t = 0; t < count; ++t) {
    const std::string piece = fmt::format("{}/{}", name, t);
    const int64_t at = broadcast_source(a_batch, batch, t);
    Value rows;
    rows.shape = {m, k};
    const int slice =
        ctx.emit(OpCode::StridedSlice, {a_ir}, ctx.ir_shape({1, m, k}),
                 ops::strided_slice_of({at, 0, 0}, {1, 1, 1}, {1, m, k}), piece + "/a");
    rows.onnx = ctx.reshape(slice, ctx.ir_shape({m, k}), piece + "/rows");
    pieces.push_back(emit_fc(ctx, rows,
                             matmul_weights(b, broadcast_source(b_batch, batch, t), k, n), n,
                             std::vector<float>(static_cast<size_t>(n), 0.0f), piece));
  }
  const int acc = concatenate(ctx, pieces, 0, name + "/concat");
  out.onnx = ctx.reshape(acc, ctx.ir_shape(out.shape), name);
  return out;
}

void convert_MatMul(Context& ctx) {
  Value& a = ctx.input(0);
  if (a.is_constant()) ctx.unsupported("MatMul with a constant left operand");
  if (a.shape.size() < 2)
    ctx.unsupported(fmt::format("MatMul of a {}-D left operand", a.shape.size()));
  Value& bv = ctx.input(1);
  if (!bv.is_constant())
    ctx.unsupported("MatMul of two run-time tensors (the right operand must be constant)");
  const Constant& bc = ctx.constant_input(1, "B");
  if (!bc.is_float) ctx.fail("B must be float");
  if (bc.shape.size() < 2) ctx.unsupported("MatMul with a 1-D B");
  const int64_t k = a.shape.back(), n = bc.shape.back();
  if (bc.shape[bc.shape.size() - 2] != k)
    ctx.fail(fmt::format("A {} and B {} do not multiply", shape_str(a.shape), shape_str(bc.shape)));
  const std::string name = ctx.node->output(0);
  if (elements_of(bc.shape) != k * n) return ctx.set_output(0, batched_matmul(ctx, a, bc, name));
  // One matrix B (batch dims of size 1 broadcast away): FullyConnected over A's rows.
  Value out;
  out.shape = a.shape;
  out.shape.back() = n;
  for (size_t d = out.shape.size(); d < bc.shape.size(); ++d)
    out.shape.insert(out.shape.begin(), 1);
  const std::vector<float> zeros(static_cast<size_t>(n), 0.0f);
  if (a.shape.size() == 2 && out.shape.size() == 2) {
    out.onnx = emit_fc(ctx, a, matmul_weights(bc, 0, k, n), n, zeros, name);
  } else {
    const int64_t rows = elements_of(a.shape) / k;
    Value a2 = reshaped(ctx, a, {rows, k}, name + "/rows");
    const int fc = emit_fc(ctx, a2, matmul_weights(bc, 0, k, n), n, zeros, name + "/fc");
    out.onnx = ctx.reshape(fc, ctx.ir_shape(out.shape), name);
  }
  ctx.set_output(0, std::move(out));
}

}  // namespace
}  // namespace onnx_import

namespace ops {
namespace {

// Weights [OUT, IN]: a 1x1 convolution over the input's rows of IN values.
ir::WeightGeometry fc_geometry(const ir::Graph& g, size_t node) {
  const plan::Operands o = plan::operands(g, node, true);
  plan::require_rank(g, node, o.filter, "weights", 2);
  const ir::Tensor& in = g.tensors[static_cast<size_t>(o.input)];
  const auto& weights = g.tensors[static_cast<size_t>(o.filter)].shape;
  ir::WeightGeometry w;
  w.out_channels = weights[0];
  w.c = w.group_in = weights[1];
  if (w.c < 1 || in.elements() % w.c != 0)
    throw tinyforge::Error(fmt::format("{}: the input's {} values are not rows of {}",
                                       g.node_label(node), in.elements(), w.c));
  w.batch = static_cast<int32_t>(in.elements() / w.c);
  return w;
}

}  // namespace

const HostOp& host_op_FullyConnected() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::calibrated, 0.0f, 0, 0,
                   /*per_tensor_weights=*/true, ir::ChannelRule::consumes},
      {{static_cast<int32_t>(tfl::BuiltinOperator::FULLY_CONNECTED), "FULLY_CONNECTED",
        read_tflite}},
      {{"Gemm", onnx_import::convert_Gemm, 6}, {"MatMul", onnx_import::convert_MatMul, 1}},
      write_tflite,
      activation_field<FullyConnectedAttrs>,
      /*copies_input=*/nullptr,
      /*blocks_channels=*/nullptr,
      /*describe=*/nullptr,
      fc_geometry};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
