// Lstm: everything the compiler knows about it, in one file.
//
// Semantics: TFLite UNIDIRECTIONAL_SEQUENCE_LSTM (builtin 44; operands in lstm.h, options
// fused activation, cell_clip, proj_clip, time_major), a one-layer LSTM over the sequence of
// the input's time axis whose output state and cell state are variable tensors kept between
// invocations (TFLM keeps them; reset_state() zeroes them). The plan's kernel takes the gates
// packed (tinyforge/params.h, LstmParams): lowering concatenates the gates' weights,
// recurrent weights, biases and peepholes into one tensor each. Supported: float32, with or
// without the input gate (CIFG), peepholes and projection, time-major or batch-major; and
// TFLM's integer LSTM (kernels/lstm_eval.h): int8 input, output and hidden state with int32
// biases (8x8_16), or int16 ones with INT64 biases (16x8), per-tensor symmetric int8
// weights, an int16 cell state whose scale is a power of two, the TANH gate activation. Its
// lowering computes what TFLM's prepare does (lstm_eval_common.cc: CreateGateParams with the
// gates' FC output scale 2^-12, CreateInterGateMulParams with the gate outputs' 2^-15,
// CreateLstmCellStateInfo) into the requantization table of tinyforge/lstm_quant.h.
// Refused by name: layer normalization, diagonal recurrent weights, the hybrid form (float
// input, int8 weights), an integer LSTM without the input gate, with peepholes or a
// projection (TFLM's integer kernel has none). `tinyforge quantize` makes the integer form
// from a float LSTM (compiler/quantize/quantize_graph.cc). TFLite version 1
// (tools/versioning/op_version.cc).
#include "ops/lstm.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>

#include "export/tflite_builder.h"
#include "import/onnx/onnx_convert.h"
#include "import/onnx/onnx_recurrent.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "ops/strided_slice.h"
#include "plan/lower_checks.h"
#include "plan/quant_math.h"
#include "tinyforge/lstm_quant.h"

namespace tinyforge {

namespace ops {

namespace {

using namespace lstm_input;

constexpr const char* kRoles[kCount] = {"input",
                                        "input-to-input weights",
                                        "input-to-forget weights",
                                        "input-to-cell weights",
                                        "input-to-output weights",
                                        "recurrent-to-input weights",
                                        "recurrent-to-forget weights",
                                        "recurrent-to-cell weights",
                                        "recurrent-to-output weights",
                                        "cell-to-input (peephole) weights",
                                        "cell-to-forget (peephole) weights",
                                        "cell-to-output (peephole) weights",
                                        "input gate bias",
                                        "forget gate bias",
                                        "cell gate bias",
                                        "output gate bias",
                                        "projection weights",
                                        "projection bias",
                                        "output state",
                                        "cell state",
                                        "input layer-norm coefficients",
                                        "forget layer-norm coefficients",
                                        "cell layer-norm coefficients",
                                        "output layer-norm coefficients"};

constexpr size_t kRequired[] = {
    kInput,           kInputToForget,     kInputToCell,    kInputToOutput, kRecurrentToForget,
    kRecurrentToCell, kRecurrentToOutput, kForgetGateBias, kCellGateBias,  kOutputGateBias,
    kOutputState,     kCellState};

std::string label(const std::array<const ir::Tensor*, kCount>& in, size_t k) {
  return fmt::format("input {} ({} '{}')", k, kRoles[k], in[k]->name);
}

bool per_tensor(const ir::Tensor& t) {
  return t.quant.scale.size() == 1 && t.quant.zero_point.size() == 1 && t.quant.scale[0] > 0 &&
         std::isfinite(t.quant.scale[0]);
}

// TFLM's CheckedLog2 (kernels/kernel_util.cc): the rounded log2 of a scale within 1e-3 of a
// power of two, or nullopt.
std::optional<int32_t> scale_power(float scale) {
  const float exact = std::log(scale) * (1.0f / std::log(2.0f));
  const float rounded = std::round(exact);
  if (!(std::fabs(exact - rounded) < 1e-3f)) return std::nullopt;
  return static_cast<int32_t>(rounded);
}

// The dtypes and quantization of an int8 or int16 LSTM, or "".
std::string integer_error(const std::array<const ir::Tensor*, kCount>& in, const ir::Tensor& output,
                          const LstmAttrs& a) {
  const std::string variant = integer_variant_error(in, a);
  if (!variant.empty()) return variant;
  const DType act = in[kInput]->type;
  const auto expect = [&](size_t k, DType type) -> std::string {
    if (in[k]->type != type)
      return fmt::format("{} is {}; expected {}", label(in, k), dtype_name(in[k]->type),
                         dtype_name(type));
    if (type != DType::i32 && !per_tensor(*in[k]))
      return fmt::format("{} has no per-tensor quantization; expected one scale and zero point",
                         label(in, k));
    return "";
  };
  std::vector<std::string> errors = {expect(kInput, act), expect(kOutputState, act),
                                     expect(kCellState, DType::i16)};
  for (size_t k = kInputToInput; k <= kRecurrentToOutput; ++k)
    errors.push_back(expect(k, DType::i8));
  for (size_t k = kInputGateBias; k <= kOutputGateBias; ++k)
    errors.push_back(expect(k, DType::i32));
  for (const std::string& e : errors)
    if (!e.empty()) return e;
  for (size_t k = kInputToInput; k <= kRecurrentToOutput; ++k)
    if (in[k]->quant.zero_point[0] != 0)
      return fmt::format("{} has zero point {}; expected 0 (symmetric int8 weights)", label(in, k),
                         in[k]->quant.zero_point[0]);
  const ir::Tensor& cell = *in[kCellState];
  const std::optional<int32_t> power = scale_power(cell.quant.scale[0]);
  if (cell.quant.zero_point[0] != 0 || !power || *power < -42 || *power > 2)
    return fmt::format(
        "{} has scale {} and zero point {}; expected a power of two in [2^-42, 4] and 0",
        label(in, kCellState), cell.quant.scale[0], cell.quant.zero_point[0]);
  if (output.type != act || !per_tensor(output))
    return fmt::format("output is {}; expected {} with one scale and zero point",
                       dtype_name(output.type), dtype_name(act));
  return "";
}

}  // namespace

// TFLM's LstmTensors::ValidateTensorStatus: the variants its integer LSTM does not have.
std::string integer_variant_error(const std::array<const ir::Tensor*, kCount>& in,
                                  const LstmAttrs& a) {
  if (in[kInputToInput] == nullptr)
    return "an integer LSTM without the input gate (CIFG) is not supported (TFLM's integer "
           "LSTM has none); expected inputs 1, 5 and 12";
  if (in[kCellToForget] != nullptr || in[kCellToInput] != nullptr)
    return "peephole weights (inputs 9-11) in an integer LSTM are not supported (TFLM's "
           "integer LSTM has none)";
  if (in[kProjectionWeights] != nullptr)
    return "a projection (inputs 16-17) in an integer LSTM is not supported (TFLM's integer "
           "LSTM has none)";
  if (a.activation != LstmActivation::tanh)
    return fmt::format("fused activation {} in an integer LSTM is not supported; expected TANH",
                       static_cast<int32_t>(a.activation));
  return "";
}

bool is_integer_lstm(const ir::Tensor& input) {
  return input.type == DType::i8 || input.type == DType::i16;
}

std::string lstm_error(const std::array<const ir::Tensor*, kCount>& in, const ir::Tensor& output,
                       const LstmAttrs& a) {
  const auto has = [&](size_t k) { return in[k] != nullptr; };
  for (size_t k : kRequired)
    if (!has(k)) return fmt::format("input {} ({}) is missing", k, kRoles[k]);
  for (size_t k = kFirstLayerNorm; k < kCount; ++k)
    if (has(k))
      return "layer normalization (inputs 20-23) is not supported; use an LSTM without it";
  if (has(kInputToInput) != has(kRecurrentToInput) || has(kInputToInput) != has(kInputGateBias))
    return "the input gate's weights, recurrent weights and bias (inputs 1, 5, 12) must be all "
           "present or all absent (CIFG)";
  const bool cifg = !has(kInputToInput);
  if (has(kCellToForget) != has(kCellToOutput) ||
      (!cifg && has(kCellToInput) != has(kCellToForget)) || (cifg && has(kCellToInput)))
    return "the peephole weights (inputs 9-11) must be present for every gate or for none";
  if (has(kProjectionBias) && !has(kProjectionWeights))
    return "a projection bias without projection weights (input 17 without 16)";
  if (is_integer_lstm(*in[kInput])) {
    const std::string e = integer_error(in, output, a);
    if (!e.empty()) return e;
  } else {
    for (size_t k = 0; k < kCount; ++k)
      if (has(k) && in[k]->type != DType::f32)
        return fmt::format("{} is {}; expected float32", label(in, k), dtype_name(in[k]->type));
    if (output.type != DType::f32)
      return fmt::format("output is {}; expected float32", dtype_name(output.type));
  }
  for (size_t k = kInputToInput; k <= kProjectionBias; ++k)
    if (has(k) && !in[k]->constant)
      return fmt::format("{} is not constant; expected constant weights", label(in, k));
  for (size_t k : {kOutputState, kCellState})
    if (!in[k]->variable) return fmt::format("{} is not a variable tensor", label(in, k));
  if (!(a.cell_clip >= 0.0f) || !(a.proj_clip >= 0.0f) || !std::isfinite(a.cell_clip) ||
      !std::isfinite(a.proj_clip))
    return fmt::format("cell_clip {} and proj_clip {}; expected finite values >= 0", a.cell_clip,
                       a.proj_clip);
  const auto& x = in[kInput]->shape;
  const auto& w = in[kInputToForget]->shape;
  const auto& r = in[kRecurrentToForget]->shape;
  if (x.size() != 3 || w.size() != 2 || r.size() != 2)
    return "the input must have rank 3 and the weights rank 2";
  const int32_t batch = a.time_major ? x[1] : x[0], features = x[2];
  const int32_t cells = w[0], outputs = r[1];
  if (batch < 1 || features < 1 || cells < 1 || outputs < 1 || (a.time_major ? x[0] : x[1]) < 1)
    return "every dimension must be at least 1";
  if (!has(kProjectionWeights) && outputs != cells)
    return fmt::format(
        "the recurrent weights have {} columns and there are {} cells; expected "
        "equal counts without a projection",
        outputs, cells);
  const auto expect = [&](size_t k, std::vector<int32_t> shape) -> std::string {
    if (!has(k) || in[k]->shape == shape) return "";
    return fmt::format("{} has shape {}; expected {}", label(in, k),
                       tflite_import::shape_string(in[k]->shape),
                       tflite_import::shape_string(shape));
  };
  std::vector<std::string> errors;
  for (size_t k = kInputToInput; k <= kInputToOutput; ++k)
    errors.push_back(expect(k, {cells, features}));
  for (size_t k = kRecurrentToInput; k <= kRecurrentToOutput; ++k)
    errors.push_back(expect(k, {cells, outputs}));
  for (size_t k = kCellToInput; k <= kOutputGateBias; ++k) errors.push_back(expect(k, {cells}));
  errors.push_back(expect(kProjectionWeights, {outputs, cells}));
  errors.push_back(expect(kProjectionBias, {outputs}));
  errors.push_back(expect(kOutputState, {batch, outputs}));
  errors.push_back(expect(kCellState, {batch, cells}));
  for (const std::string& e : errors)
    if (!e.empty()) return e;
  const std::vector<int32_t> out_shape = {x[0], x[1], outputs};
  if (output.shape != out_shape)
    return fmt::format("output has shape {}; expected {}",
                       tflite_import::shape_string(output.shape),
                       tflite_import::shape_string(out_shape));
  return "";
}

}  // namespace ops

namespace {

using tflite_import::OpMapper;
using namespace ops::lstm_input;

ir::Node read_lstm(OpMapper& m) {
  m.require_arity(20, 24);
  if (m.num_inputs() != 20 && m.num_inputs() != 24)
    m.fail(fmt::format("has {} inputs; expected 20 or 24", m.num_inputs()));
  const auto* o = m.options(m.op().builtin_options_as_UnidirectionalSequenceLSTMOptions(),
                            tfl::BuiltinOptions::UnidirectionalSequenceLSTMOptions);
  if (!o)
    m.fail("UnidirectionalSequenceLSTMOptions missing; expected the activation and time_major");
  const ir::Tensor& in = m.input(kInput);
  const int forget = m.input_index(kInputToForget, true);
  if (in.type == DType::f32 && forget >= 0 && m.input(kInputToForget).type == DType::i8)
    m.unsupported(
        "the hybrid form (float input, int8 weights) is not supported; use the float32 model");
  if (in.type != DType::f32 && !ops::is_integer_lstm(in))
    m.unsupported(fmt::format("{} is {}; expected float32, int8 or int16", m.in_label(kInput),
                              dtype_name(in.type)));
  // TFLM's 16x8 LSTM accumulates in 64 bits with the INT64 biases its converter emits (they
  // import narrowed to int32: lowering keeps the 64-bit sums).
  if (in.type == DType::i16)
    for (size_t k = kInputGateBias; k <= kOutputGateBias; ++k)
      if (m.input_index(k, true) >= 0 && m.input_file_type(k) != tfl::TensorType::INT64)
        m.unsupported(fmt::format("{} is not INT64; expected the INT64 biases of a 16x8 LSTM",
                                  m.in_label(k)));
  if (o->diagonal_recurrent_tensors())
    m.unsupported("diagonal recurrent weights are not supported; expected full matrices");
  const auto code = static_cast<int32_t>(o->fused_activation_function());
  if (code < 0 || code > static_cast<int32_t>(LstmActivation::tanh))
    m.unsupported(
        fmt::format("fused activation {} is not supported; expected NONE, RELU, "
                    "RELU_N1_TO_1, RELU6 or TANH",
                    code));
  ops::LstmAttrs a;
  a.activation = static_cast<LstmActivation>(code);
  a.cell_clip = o->cell_clip();
  a.proj_clip = o->proj_clip();
  a.time_major = o->time_major();
  std::array<const ir::Tensor*, kCount> tensors{};
  ir::Node n{OpCode::Lstm, {}, {}, {}, {}};
  for (size_t k = 0; k < kCount; ++k) {
    const int t = m.input_index(k, true);
    tensors[k] = t >= 0 ? &m.input(k) : nullptr;
    n.inputs.push_back(t);
  }
  if (ops::is_integer_lstm(in)) {
    const std::string variant = ops::integer_variant_error(tensors, a);
    if (!variant.empty()) m.unsupported(variant);
  }
  const std::string error = ops::lstm_error(tensors, m.output(), a);
  if (!error.empty()) m.fail(error);
  n.params = a;
  return n;
}

void write_lstm(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  const ir::Node& n = b.graph().nodes[node];
  const auto& a = n.params.get<ops::LstmAttrs>();
  if (a.zero_state)
    refuse(b, node,
           "an LSTM imported from ONNX starts every invocation from zero state, TFLite's "
           "keeps its state: not exported (compile the ONNX model instead)");
  const auto options = tfl::CreateUnidirectionalSequenceLSTMOptions(
      b.fbb(), static_cast<tfl::ActivationFunctionType>(a.activation), a.cell_clip, a.proj_clip,
      a.time_major);
  b.add_operator(tfl::BuiltinOperator::UNIDIRECTIONAL_SEQUENCE_LSTM, 1, io_of(b, n.inputs),
                 io_of(b, n.outputs), tfl::BuiltinOptions::UnidirectionalSequenceLSTMOptions,
                 options.Union());
}

const char* activation_name(LstmActivation a) {
  switch (a) {
    case LstmActivation::relu:
      return "relu";
    case LstmActivation::relu_n1_to_1:
      return "relu_n1_to_1";
    case LstmActivation::relu6:
      return "relu6";
    case LstmActivation::tanh:
      return "tanh";
    case LstmActivation::none:
      break;
  }
  return "none";
}

// `activation` is a name, as inspect prints every op's (the LSTM's gate activation).
void describe(const ir::Node& n, nlohmann::json& out) {
  const auto& a = n.params.get<ops::LstmAttrs>();
  out["activation"] = activation_name(a.activation);
  out["cell_clip"] = a.cell_clip;
  out["proj_clip"] = a.proj_clip;
  out["time_major"] = a.time_major;
  out["zero_state"] = a.zero_state;
  out["cifg"] = n.inputs.at(kInputToInput) < 0;
  out["peephole"] = n.inputs.at(kCellToForget) >= 0;
  out["projection"] = n.inputs.at(kProjectionWeights) >= 0;
}

// Appends the float32 values of tensor t of `g`, or `count` zeros for t = -1.
void append_values(const ir::Graph& g, int t, int64_t count, std::vector<float>& out) {
  for (int64_t i = 0; i < count; ++i)
    out.push_back(t >= 0 ? g.tensors[static_cast<size_t>(t)].at<float>(i) : 0.0f);
}

int add_f32_constant(ir::Graph& g, const std::string& name, std::vector<int32_t> shape,
                     const std::vector<float>& values) {
  ir::Tensor t;
  t.name = name;
  t.type = DType::f32;
  t.shape = std::move(shape);
  t.constant = true;
  t.data.resize(values.size() * sizeof(float));
  std::memcpy(t.data.data(), values.data(), t.data.size());  // host is little-endian
  return g.add_tensor(std::move(t));
}

}  // namespace

namespace onnx_import {
namespace {

// ONNX LSTM (onnx/defs/rnn/defs.cc, opsets 7 and 14): X [T,B,I] (layout 0) or [B,T,I]
// (layout 1), W [D,4H,I] and R [D,4H,H] with the gates in the order i, o, f, c, B [D,8H]
// (input biases, then recurrent biases, same order), P [D,3H] (i, o, f); D is 2 for
// direction "bidirectional", else 1. Each direction is one Lstm node with its own slices of
// W, R, B, P; a "reverse" one runs on X reversed in time and its output is reversed back
// (a StridedSlice of stride -1 on each side), so Y at time t is the state after reading
// steps T-1 down to t, as ONNX defines it. Each invocation is a new sequence from zero
// states, so only zero initial_h / initial_c and a sequence_lens of the full length import.
// Outputs Y [T,D,B,H] / [B,T,D,H] and Y_h [D,B,H] / [B,D,H], each direction's last step.
void convert_LSTM(Context& ctx) {
  using namespace ops::lstm_input;
  const Directions dirs = rnn_directions(ctx);
  if (ctx.attr_int("input_forget", 0) != 0)
    ctx.unsupported("input_forget (the input and forget gates coupled)");
  if (ctx.attr("clip") != nullptr)
    ctx.unsupported("clip (ONNX bounds the gates' inputs, the LSTM kernel its cell state)");
  if (const onnx::AttributeProto* acts = ctx.attr("activations")) {
    const std::vector<std::string> names(acts->strings().begin(), acts->strings().end());
    std::vector<std::string> defaults;
    for (int d = 0; d < dirs.count; ++d)
      defaults.insert(defaults.end(), {"Sigmoid", "Tanh", "Tanh"});
    if (names != defaults) ctx.unsupported("activations other than Sigmoid, Tanh, Tanh");
  }
  if (ctx.output_used(2)) ctx.unsupported("the Y_c output (the last cell state)");
  const RecurrentInputs in = read_recurrent_inputs(ctx, dirs, 4);
  const int64_t layout = in.layout, steps = in.steps, batch = in.batch, features = in.features;
  const int64_t dirs_n = in.dirs, hidden = in.hidden;
  const Constant &w = in.w, &r = in.r;
  const std::vector<float>& bias = in.bias;
  Value& x = *in.x;
  std::vector<float> peephole;
  for (size_t k : {size_t{5}, size_t{6}})
    if (ctx.has_input(k)) {
      const Constant& s = ctx.constant_input(k, k == 5 ? "initial_h" : "initial_c");
      expect_float(ctx, s, k == 5 ? "initial_h" : "initial_c", in.state_shape());
      for (float v : s.f)
        if (v != 0.0f) ctx.unsupported("a non-zero initial_h or initial_c");
    }
  if (ctx.has_input(7)) {
    const Constant& p = ctx.constant_input(7, "P");
    expect_float(ctx, p, "P", {dirs_n, 3 * hidden});
    peephole = p.f;
  }
  const std::string name = clean_name(ctx.node->name().empty() ? "lstm" : ctx.node->name());
  const auto h = static_cast<size_t>(hidden);
  const auto dims = [&](int64_t rows, int64_t cols) { return ctx.ir_shape({rows, cols}); };
  const int time_axis = layout ? 1 : 0;
  const int input = ctx.as_onnx(x, ctx.node->input(0));
  const Shape sequence = layout ? Shape{batch, steps, hidden} : Shape{steps, batch, hidden};
  std::vector<int> ys, last;
  for (int d = 0; d < dirs.count; ++d) {
    const auto dd = static_cast<size_t>(d);
    const bool reverse = dirs.reverse(d);
    const std::string base = dirs.count == 2 ? name + (d ? "/backward" : "/forward")
                                             : name + (reverse ? "/reverse" : "");
    std::vector<int> in(kCount, -1);
    in[kInput] = reverse ? reverse_axis(ctx, input, time_axis, base + "/x_reversed") : input;
    // TFLite's gate g (input, forget, cell, output) is ONNX's block kOnnxGate[g] of W, R, B.
    constexpr size_t kOnnxGate[] = {0, 2, 3, 1};
    const char* gate_names[] = {"input", "forget", "cell", "output"};
    for (size_t g = 0; g < 4; ++g) {
      const size_t o = kOnnxGate[g];
      const std::string gate = base + "/" + gate_names[g];
      in[kInputToInput + g] = ctx.ir_constant(gate + "/w", dims(hidden, features),
                                              block(w.f, dd * 4 + o, h * features));
      in[kRecurrentToInput + g] =
          ctx.ir_constant(gate + "/r", dims(hidden, hidden), block(r.f, dd * 4 + o, h * h));
      std::vector<float> b = block(bias, dd * 8 + o, h);
      const std::vector<float> rb = block(bias, dd * 8 + 4 + o, h);
      for (size_t j = 0; j < h; ++j) b[j] += rb[j];
      in[kInputGateBias + g] = ctx.ir_constant(gate + "/bias", ctx.ir_shape({hidden}), b);
    }
    // P's blocks: input, output, forget.
    if (!peephole.empty())
      for (const auto& [position, o] :
           {std::pair<size_t, size_t>{kCellToInput, 0}, {kCellToForget, 2}, {kCellToOutput, 1}})
        in[position] = ctx.ir_constant(base + "/peephole" + std::to_string(o),
                                       ctx.ir_shape({hidden}), block(peephole, dd * 3 + o, h));
    for (size_t k : {kOutputState, kCellState}) {
      ir::Tensor state;
      state.name = base + (k == kOutputState ? "/output_state" : "/cell_state");
      state.shape = dims(batch, hidden);
      state.variable = true;
      in[k] = ctx.graph.add_tensor(std::move(state));
    }
    ops::LstmAttrs a;
    a.time_major = layout == 0;
    a.zero_state = true;
    const int run = ctx.emit(OpCode::Lstm, in, ctx.ir_shape(sequence), a, base);
    if (ctx.output_used(0)) {
      const int y = reverse ? reverse_axis(ctx, run, time_axis, base + "/y") : run;
      const Shape one = layout ? Shape{batch, steps, 1, hidden} : Shape{steps, 1, batch, hidden};
      ys.push_back(ctx.reshape(y, ctx.ir_shape(one),
                               dirs.count == 2 ? base + "/y_steps" : ctx.node->output(0)));
    }
    if (ctx.output_used(1)) {  // Y_h: the run's last step, [1,B,H] (layout 0) or [B,1,H]
      const Shape one = layout ? Shape{batch, 1, hidden} : Shape{1, batch, hidden};
      const std::vector<int64_t> first =
          layout ? std::vector<int64_t>{0, steps - 1, 0} : std::vector<int64_t>{steps - 1, 0, 0};
      last.push_back(ctx.emit(OpCode::StridedSlice, {run}, ctx.ir_shape(one),
                              ops::strided_slice_of(first, {1, 1, 1}, one),
                              dirs.count == 2 ? base + "/y_h" : ctx.node->output(1)));
    }
  }
  if (ctx.output_used(0)) {
    Value out;
    out.shape = layout ? Shape{batch, steps, dirs_n, hidden} : Shape{steps, dirs_n, batch, hidden};
    out.onnx = concatenate(ctx, ys, layout ? 2 : 1, ctx.node->output(0));
    ctx.set_output(0, std::move(out));
  }
  if (ctx.output_used(1)) {
    Value out;
    out.shape = layout ? Shape{batch, dirs_n, hidden} : Shape{dirs_n, batch, hidden};
    out.onnx = concatenate(ctx, last, layout ? 1 : 0, ctx.node->output(1));
    ctx.set_output(1, std::move(out));
  }
}

}  // namespace
}  // namespace onnx_import

namespace plan {

using lowering::refuse;

namespace {

int add_constant(ir::Graph& g, const std::string& name, DType type, std::vector<int32_t> shape,
                 std::vector<uint8_t> data) {
  ir::Tensor t;
  t.name = name;
  t.type = type;
  t.shape = std::move(shape);
  t.constant = true;
  t.data = std::move(data);
  return g.add_tensor(std::move(t));
}

std::vector<uint8_t> bytes_of_int32(const std::vector<int32_t>& v) {
  std::vector<uint8_t> out(v.size() * sizeof(int32_t));
  std::memcpy(out.data(), v.data(), out.size());  // host is little-endian
  return out;
}

// The integer LSTM (lstm_error checked it): the gates' int8 weights and int32 biases packed
// like the float ones, and the requantization table TFLM's prepare computes.
LoweredOp lower_integer(ir::Graph& g, size_t node, const std::array<const ir::Tensor*, kCount>& in,
                        const ops::LstmAttrs& a) {
  namespace q = lstm_quant;
  const ir::Node& n = g.nodes[node];
  const int32_t cells = in[kInputToForget]->shape[0];
  const int32_t features = in[kInputToForget]->shape[1];
  const DType act = in[kInput]->type;
  std::vector<uint8_t> input_weights, recurrent_weights;
  std::vector<int32_t> biases, table(q::kCount, 0);
  const float input_scale = in[kInput]->quant.scale[0];
  const float hidden_scale = in[kOutputState]->quant.scale[0];
  const float cell_scale = in[kCellState]->quant.scale[0];
  const double gate_scale = 1.0 / 4096, gate_output_scale = 1.0 / 32768;  // Q3.12, Q0.15
  // GetQuantizedConvolutionMultipler: the scales' float product, in double over the output's.
  const auto fc = [&](float activation_scale, const ir::Tensor& w) {
    return quantize_multiplier(static_cast<double>(activation_scale * w.quant.scale[0]) /
                               gate_scale);
  };
  const auto set = [&](int32_t multiplier_at, int32_t shift_at, QuantizedMultiplier m) {
    table[static_cast<size_t>(multiplier_at)] = m.multiplier;
    table[static_cast<size_t>(shift_at)] = m.shift;
  };
  for (int32_t gate = 0; gate < 4; ++gate) {
    const ir::Tensor& w = *in[kInputToInput + static_cast<size_t>(gate)];
    const ir::Tensor& r = *in[kRecurrentToInput + static_cast<size_t>(gate)];
    input_weights.insert(input_weights.end(), w.data.begin(), w.data.end());
    recurrent_weights.insert(recurrent_weights.end(), r.data.begin(), r.data.end());
    const ir::Tensor& b = *in[kInputGateBias + static_cast<size_t>(gate)];
    for (int32_t j = 0; j < cells; ++j) biases.push_back(b.at<int32_t>(j));
    set(q::kInputMultiplier + gate, q::kInputShift + gate, fc(input_scale, w));
    set(q::kRecurrentMultiplier + gate, q::kRecurrentShift + gate, fc(hidden_scale, r));
  }
  // CreateInterGateMulParams: double(scale1) * double(scale2) / double(output scale).
  set(q::kForgetCellMultiplier, q::kForgetCellShift,
      quantize_multiplier(gate_output_scale * cell_scale / cell_scale));
  set(q::kInputCellMultiplier, q::kInputCellShift,
      quantize_multiplier(gate_output_scale * gate_output_scale / cell_scale));
  set(q::kHiddenMultiplier, q::kHiddenShift,
      quantize_multiplier(gate_output_scale * gate_output_scale / hidden_scale));
  table[q::kInputZeroPoint] = in[kInput]->quant.zero_point[0];
  table[q::kHiddenZeroPoint] = in[kOutputState]->quant.zero_point[0];
  table[q::kCellScalePower] = *ops::scale_power(cell_scale);
  // CreateLstmCellStateInfo: the clip over the scale in double, clamped, truncated to int16.
  table[q::kCellClip] =
      a.cell_clip > 0.0f
          ? static_cast<int16_t>(std::min(
                std::max(static_cast<double>(a.cell_clip) / cell_scale, -32768.0), 32767.0))
          : -1;
  const int input = n.inputs[kInput], output_state = n.inputs[kOutputState],
            cell_state = n.inputs[kCellState];
  const std::string base = g.tensors[static_cast<size_t>(n.outputs[0])].name + "/lstm_";
  const int wx = add_constant(g, base + "input_weights", DType::i8, {4 * cells, features},
                              std::move(input_weights));
  const int wh = add_constant(g, base + "recurrent_weights", DType::i8, {4 * cells, cells},
                              std::move(recurrent_weights));
  const int b = add_constant(g, base + "biases", DType::i32, {4 * cells}, bytes_of_int32(biases));
  const int table_tensor =
      add_constant(g, base + "requantization", DType::i32, {q::kCount}, bytes_of_int32(table));
  LstmParams p{};
  p.time_major = a.time_major ? 1 : 0;
  p.activation = static_cast<int32_t>(a.activation);
  p.cell_clip = a.cell_clip;
  p.proj_clip = a.proj_clip;
  LoweredOp op =
      lowering::lowered(p, {input, wx, wh, b, table_tensor, -1, output_state, cell_state});
  op.scratch_size = static_cast<uint32_t>(cells) * dtype_size(act);
  return op;
}

}  // namespace

LoweredOp lower_Lstm(ir::Graph& g, size_t node) {
  const ir::Node& n = g.nodes.at(node);
  if (n.inputs.size() != kCount || n.outputs.size() != 1)
    refuse(g, node,
           fmt::format("has {} inputs and {} outputs; expected {} and 1", n.inputs.size(),
                       n.outputs.size(), kCount));
  const int count = static_cast<int>(g.tensors.size());
  if (n.outputs[0] < 0 || n.outputs[0] >= count) refuse(g, node, "output out of range");
  std::array<const ir::Tensor*, kCount> in{};
  for (size_t k = 0; k < kCount; ++k) {
    if (n.inputs[k] >= count) refuse(g, node, fmt::format("input {} is out of range", k));
    in[k] = n.inputs[k] >= 0 ? &g.tensors[static_cast<size_t>(n.inputs[k])] : nullptr;
  }
  const auto& a = n.params.get<ops::LstmAttrs>();
  const std::string error = ops::lstm_error(in, g.tensors[static_cast<size_t>(n.outputs[0])], a);
  if (!error.empty()) refuse(g, node, error);
  if (ops::is_integer_lstm(*in[kInput])) return lower_integer(g, node, in, a);
  const bool cifg = in[kInputToInput] == nullptr;
  const int32_t cells = in[kInputToForget]->shape[0];
  const int32_t features = in[kInputToForget]->shape[1];
  const int32_t outputs = in[kRecurrentToForget]->shape[1];
  const size_t first_gate = cifg ? 1 : 0;  // gate order: input, forget, cell, output
  const auto gates = static_cast<int32_t>(4 - first_gate);
  std::vector<float> input_weights, recurrent_weights, biases, peepholes, projection;
  for (size_t gate = first_gate; gate < 4; ++gate) {
    append_values(g, n.inputs[kInputToInput + gate], int64_t{cells} * features, input_weights);
    append_values(g, n.inputs[kRecurrentToInput + gate], int64_t{cells} * outputs,
                  recurrent_weights);
    append_values(g, n.inputs[kInputGateBias + gate], cells, biases);
  }
  const bool has_peepholes = in[kCellToForget] != nullptr;
  if (has_peepholes)
    for (size_t k = cifg ? kCellToForget : kCellToInput; k <= kCellToOutput; ++k)
      append_values(g, n.inputs[k], cells, peepholes);
  const bool has_projection = in[kProjectionWeights] != nullptr;
  if (has_projection) {
    append_values(g, n.inputs[kProjectionWeights], int64_t{outputs} * cells, projection);
    append_values(g, n.inputs[kProjectionBias], outputs, biases);  // zeros when absent
  }
  // add_tensor invalidates `in`; the indices below stay valid.
  const int input = n.inputs[kInput], output_state = n.inputs[kOutputState],
            cell_state = n.inputs[kCellState];
  const std::string base = g.tensors[static_cast<size_t>(n.outputs[0])].name + "/lstm_";
  const int wx =
      add_f32_constant(g, base + "input_weights", {gates * cells, features}, input_weights);
  const int wh =
      add_f32_constant(g, base + "recurrent_weights", {gates * cells, outputs}, recurrent_weights);
  const int b = add_f32_constant(g, base + "biases", {static_cast<int32_t>(biases.size())}, biases);
  const int peep = has_peepholes
                       ? add_f32_constant(g, base + "peepholes",
                                          {static_cast<int32_t>(peepholes.size())}, peepholes)
                       : -1;
  const int proj =
      has_projection ? add_f32_constant(g, base + "projection", {outputs, cells}, projection) : -1;
  LstmParams p{};
  p.time_major = a.time_major ? 1 : 0;
  p.activation = static_cast<int32_t>(a.activation);
  p.cell_clip = a.cell_clip;
  p.proj_clip = a.proj_clip;
  p.zero_state = a.zero_state ? 1 : 0;
  LoweredOp op = lowering::lowered(p, {input, wx, wh, b, peep, proj, output_state, cell_state});
  op.scratch_size = static_cast<uint32_t>(cells) * sizeof(float);
  return op;
}

}  // namespace plan

namespace ops {

const HostOp& host_op_Lstm() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::calibrated, 0.0f, 0, -1, false, ir::ChannelRule::blocks},
      {{static_cast<int32_t>(tfl::BuiltinOperator::UNIDIRECTIONAL_SEQUENCE_LSTM),
        "UNIDIRECTIONAL_SEQUENCE_LSTM", read_lstm}},
      {{"LSTM", onnx_import::convert_LSTM, 7}},
      write_lstm,
      /*fused_activation=*/nullptr,
      /*copies_input=*/nullptr,
      /*blocks_channels=*/nullptr,
      describe,
      /*weight_geometry=*/nullptr};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
