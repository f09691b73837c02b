// One table of kernel cases against an independent implementation, in the spirit of ggml's
// test-backend-ops: rows of op x dtype (int8, float32) x shape x params, each a one-op
// .tflite model run by our reference kernels (import, plan, host runner) and by Arm NN's
// CpuRef backend (Debian's python3-pyarmnn, all rows in one tests/armnn_run.py --batch call),
// on random and extreme inputs. Where Arm NN cannot run an op, the row is checked against a
// float definition computed here (dequantize, float math, requantize) -- never against our
// own kernels. docs/testing.md describes the table, its tolerances and how to add a row.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "emit/plan_writer.h"
#include "host/host_runner.h"
#include "import/tflite/import_tflite.h"
#include "import/tflite/tflite_reader.h"
#include "io/files.h"
#include "ir/error.h"
#include "log_softmax_reference.h"
#include "lstm_reference.h"
#include "ops/host_op.h"
#include "plan/build_plan.h"
#include "plan/dsp_twin_cases.h"
#include "plan/select_kernels.h"
#include "shared_data.h"
#include "tflite_model_builder.h"

namespace tinyforge {
namespace {

namespace fs = std::filesystem;
using testing::ModelSpec;
using testing::OpSpec;
using testing::TensorSpec;
using B = tfl::BuiltinOperator;
using Act = tfl::ActivationFunctionType;

enum class DT { i8, f32 };
const char* dt_name(DT d) { return d == DT::i8 ? "int8" : "f32"; }

// Quantization of an int8 tensor (ignored for float32).
struct Q {
  float scale = 0.05f;
  int64_t zp = 0;
};

// Per case, the real values of each model input, in order: the output's real values (of
// each output, one after the other).
using Definition = std::function<std::vector<float>(const std::vector<std::vector<float>>& inputs)>;

struct Row {
  std::string name;
  OpCode op;  // the one op the model must import as
  ModelSpec model;
  Definition definition;  // set: Arm NN cannot run this row (see why_not_armnn)
  std::string why_not_armnn;
};

// --- tolerances -----------------------------------------------------------------------

// float32: |ours - theirs| <= kFloatRelative * max |theirs| over the case. Both sides
// compute in float32 but in different orders (accumulation, exp/tanh from different
// libraries), so results differ by a few ulps of the largest value of the sum.
constexpr double kFloatRelative = 1e-5;

// int8: the allowed |ours - theirs| in output steps (LSB), per op, and why.
int int8_lsb(OpCode op) {
  switch (op) {
    // Integer accumulators are exact on both sides; we requantize with TFLite's
    // fixed-point multiplier and rounding shift, Arm NN multiplies by the float scale ratio
    // and rounds: a value near a rounding boundary can land one step apart.
    case OpCode::Conv2D:
    case OpCode::DepthwiseConv2D:
    case OpCode::TransposeConv:
    case OpCode::FullyConnected:
    // Svdf also rounds each feature value into its int16 state, far below an output step.
    case OpCode::Svdf:
    case OpCode::Mean:
    case OpCode::Sum:
      return 1;
    // x / scale rounded: how each side divides (or multiplies by the reciprocal) and breaks
    // ties moves a value on a half step by one.
    case OpCode::Quantize:
      return 1;
    // Clamp requantizes when its input and output quantization differ.
    case OpCode::Clamp:
      return 1;
    // Average: integer division with rounding (TFLite) against a float mean rounded once.
    case OpCode::AveragePool2D:
      return 1;
    // Add/Sub/SquaredDifference rescale both inputs to a shared 2^-20 fixed point and
    // requantize (two roundings); Mul one fixed-point multiplier; LeakyRelu and Prelu two
    // multipliers: Arm NN (the definition for Prelu) rounds once in float.
    // Div: a Newton-Raphson reciprocal, the quotient's and the output's roundings.
    case OpCode::Div:
    case OpCode::Add:
    case OpCode::Sub:
    case OpCode::SquaredDifference:
    case OpCode::Mul:
    case OpCode::LeakyRelu:
    case OpCode::Prelu:
      return 1;
    // Fixed-point exp / sigmoid / tanh (TFLite's gemmlowp-style approximations) against
    // libm in float: the approximation error plus the rounding difference.
    case OpCode::Softmax:
    case OpCode::Logistic:
    case OpCode::Tanh:
      return 2;
    // TFLite's int8 HardSwish: fixed-point relu6 ramp and product with several rounding
    // shifts, against one float rounding.
    case OpCode::HardSwish:
      return 1;
    // UnaryMath reads a table built with TFLite's arithmetic: from float and rounded as the
    // definition (EXP, LOG, ELU, NEG; Arm NN computes in float too), integer (ABS), but
    // SQRT truncates (TFLite's SqrtEvalQuantized) and RSQRT runs TFLite's fixed-point
    // Newton-Raphson: a step apart from the rounded real value.
    case OpCode::UnaryMath:
      return 1;
    // int8 bilinear interpolates in fixed point (TFLite: 10 fractional bits of the source
    // coordinate, one rounding), Arm NN in float.
    case OpCode::ResizeBilinear:
      return 1;
    // int8 LogSoftmax rows are checked against TFLite's integer arithmetic itself
    // (log_softmax_reference.h), not a float definition: exact.
    case OpCode::LogSoftmax:
      return 0;
    // Every other op moves or selects values without arithmetic (pools of max, reshape,
    // transpose, pad, slice, concatenation, split, unpack, pack with one quantization,
    // nearest-neighbour resize): exact.
    default:
      return 0;
  }
}

// The allowed difference in output steps for an int8 or int16 output `out`. int16 conv-family
// and transpose conv rows (16x8): TFLite requantizes a 64-bit accumulator with the
// multiplier rounded to 16 bits (MultiplyByQuantizedMultiplier's int64 form), a relative
// error up to 2^-15, so up to one step near the ends of int16, on top of the two roundings
// the int8 rows allow for. int16 SquaredDifference (TFLite Micro's, no left shift): each
// rescaled input keeps half a step of 2 max(s1, s2), so the squared difference D^2 (D up to
// 2^15 such steps) is off by up to 2|D| + 1 of them squared, times the output multiplier;
// the rows keep that multiplier at 2^-15: 2 output steps, plus the rounding.
// int16 Logistic and Tanh (TFLite's table kernels): the table interpolation (up to 1 and 2
// steps of 2^-15) and the input multiplier truncated to 15 bits (its relative error up to
// 2^-15 moves steep parts of the curve by about a step).
// int16 Softmax (TFLite's table kernel): two interpolated tables, the exp one over [-10, 0]
// in steps of 2^-15 and the reciprocal from a 14-bit sum, against one float rounding. The
// rows keep beta times the input range within 10: beyond a difference of 10 TFLite counts
// exp(-10) for every such element (about 1.5 steps each; 14 measured on a 10/32768 row).
// int16 UnaryMath EXP (TFLite's 513-entry table): the rounded, midpoint-biased samples
// interpolated with one more rounding, against one float rounding; 3 steps measured where
// exp is steepest (the table's last intervals).
constexpr int kSoftmaxInt16Lsb = 4;
int integer_lsb(OpCode op, const testing::TensorSpec& out) {
  const bool int16 = out.type == tfl::TensorType::INT16;
  const bool conv_family = op == OpCode::Conv2D || op == OpCode::DepthwiseConv2D ||
                           op == OpCode::FullyConnected || op == OpCode::TransposeConv;
  const bool sigmoid_family = op == OpCode::Logistic || op == OpCode::Tanh;
  if (int16 && conv_family) return 2;
  if (int16 && (op == OpCode::SquaredDifference || sigmoid_family)) return 3;
  if (int16 && op == OpCode::Softmax) return kSoftmaxInt16Lsb;
  if (int16 && op == OpCode::UnaryMath) return 3;
  return int8_lsb(op);
}

// --- model building -------------------------------------------------------------------

TensorSpec act(DT d, const std::string& name, std::vector<int32_t> shape, Q q = {}) {
  if (d == DT::f32) return {name, std::move(shape)};
  return {name, std::move(shape), tfl::TensorType::INT8, {}, {q.scale}, {q.zp}};
}

TensorSpec ints(const std::string& name, const std::vector<int32_t>& v,
                std::vector<int32_t> shape = {}) {
  if (shape.empty()) shape = {static_cast<int32_t>(v.size())};
  return {name, std::move(shape), tfl::TensorType::INT32, testing::bytes_of(v)};
}

int32_t count(const std::vector<int32_t>& shape) {
  int32_t n = 1;
  for (int32_t d : shape) n *= d;
  return n;
}

// Constant weights of `shape`, int8 per channel along `axis` (scales differ by channel) or,
// with `axis` -1, per tensor.
TensorSpec weights(DT d, std::vector<int32_t> shape, int32_t axis, uint32_t seed) {
  const auto n = static_cast<size_t>(count(shape));
  if (d == DT::f32) {
    std::vector<float> v = testing::float_pattern(n, seed);
    return {"w", std::move(shape), tfl::TensorType::FLOAT32, testing::bytes_of(v)};
  }
  const auto channels = axis < 0 ? 1 : static_cast<size_t>(shape[static_cast<size_t>(axis)]);
  std::vector<float> scales(channels);
  for (size_t c = 0; c < channels; ++c) scales[c] = 0.01f * static_cast<float>(1 + c % 3);
  return {"w",
          std::move(shape),
          tfl::TensorType::INT8,
          testing::bytes_of(testing::pattern<int8_t>(n, -127, 127, seed)),
          scales,
          std::vector<int64_t>(channels, 0),
          std::max(axis, 0)};
}

// Bias for weights `w` and input quantization `in`: int32 at scale in * w[c] for int8.
TensorSpec bias(DT d, const TensorSpec& w, Q in, int32_t n, uint32_t seed) {
  if (d == DT::f32) {
    return {"b",
            {n},
            tfl::TensorType::FLOAT32,
            testing::bytes_of(testing::float_pattern(static_cast<size_t>(n), seed))};
  }
  std::vector<float> scales;
  for (int32_t c = 0; c < n; ++c)
    if (w.scale.size() > 1 || c == 0)
      scales.push_back(in.scale * w.scale[static_cast<size_t>(c) % w.scale.size()]);
  return {"b",
          {n},
          tfl::TensorType::INT32,
          testing::bytes_of(testing::pattern<int32_t>(static_cast<size_t>(n), -2000, 2000, seed)),
          scales,
          std::vector<int64_t>(scales.size(), 0)};
}

// A model of `tensors` (inputs: the non-constant ones but the last; output: the last) and
// `op` reading `inputs` and writing the last tensor.
ModelSpec one_op(std::vector<TensorSpec> tensors, OpSpec op) {
  ModelSpec m;
  m.tensors = std::move(tensors);
  const int32_t out = static_cast<int32_t>(m.tensors.size()) - 1;
  for (int32_t t = 0; t < out; ++t)
    if (m.tensors[static_cast<size_t>(t)].data.empty() &&
        !m.tensors[static_cast<size_t>(t)].is_variable)
      m.inputs.push_back(t);
  m.outputs = {out};
  op.outputs = {out};
  m.ops = {op};
  return m;
}

// A model of `tensors` whose last `num_outputs` are the op's outputs, in order (inputs: the
// non-constant ones before them); `op` lists its inputs.
ModelSpec multi_output_op(std::vector<TensorSpec> tensors, OpSpec op, int32_t num_outputs) {
  ModelSpec m;
  m.tensors = std::move(tensors);
  const int32_t first_out = static_cast<int32_t>(m.tensors.size()) - num_outputs;
  for (int32_t t = 0; t < first_out; ++t)
    if (m.tensors[static_cast<size_t>(t)].data.empty()) m.inputs.push_back(t);
  for (int32_t t = first_out; t < first_out + num_outputs; ++t) m.outputs.push_back(t);
  op.outputs = m.outputs;
  m.ops = {op};
  return m;
}

const char* act_name(Act a) {
  switch (a) {
    case Act::RELU:
      return " relu";
    case Act::RELU6:
      return " relu6";
    case Act::RELU_N1_TO_1:
      return " relu_n1_1";
    default:
      return "";
  }
}

std::string shape_text(const std::vector<int32_t>& s) {
  std::string t;
  for (int32_t d : s) t += (t.empty() ? "" : "x") + std::to_string(d);
  return t;
}

std::string q_text(DT d, Q q) {
  if (d == DT::f32) return "";
  char buf[48];
  std::snprintf(buf, sizeof buf, " q(%g,%lld)", static_cast<double>(q.scale),
                static_cast<long long>(q.zp));
  return buf;
}

Row row(std::string name, OpCode op, ModelSpec m) {
  return {std::move(name), op, std::move(m), {}, {}};
}

// Output size of a windowed op along one axis (TFLite's SAME / VALID).
int32_t window_out(int32_t in, int32_t k, int32_t stride, int32_t dilation, tfl::Padding p) {
  if (p == tfl::Padding::SAME) return (in + stride - 1) / stride;
  return (in - ((k - 1) * dilation + 1)) / stride + 1;
}

struct Window {
  int32_t kh = 3, kw = 3, stride = 1, dilation = 1;
  tfl::Padding padding = tfl::Padding::VALID;
};

std::string window_text(const Window& w) {
  return " k" + std::to_string(w.kh) + "x" + std::to_string(w.kw) + " s" +
         std::to_string(w.stride) + (w.dilation > 1 ? " d" + std::to_string(w.dilation) : "") +
         (w.padding == tfl::Padding::SAME ? " same" : " valid");
}

// An output scale that keeps a sum of `terms` products of int8 values mostly in range.
float accumulator_scale(Q in, float weight_scale, int32_t terms) {
  return in.scale * weight_scale * 127.0f * std::sqrt(static_cast<float>(terms)) / 4;
}

OpSpec windowed(B b, std::vector<int32_t> inputs, const Window& w, Act a) {
  OpSpec op{b, std::move(inputs), {}};
  op.padding = w.padding;
  op.stride_h = op.stride_w = w.stride;
  op.dilation_h = op.dilation_w = w.dilation;
  op.filter_h = w.kh;
  op.filter_w = w.kw;
  op.activation = a;
  return op;
}

// The real values of a constant: float32, or int8 / int32 / int64 dequantized with the scale
// of their channel along quantized_dimension.
std::vector<double> real_values(const TensorSpec& t) {
  std::vector<double> v;
  if (t.type == tfl::TensorType::FLOAT32) {
    for (size_t i = 0; i < t.data.size(); i += 4) {
      float f;
      std::memcpy(&f, &t.data[i], 4);
      v.push_back(f);
    }
    return v;
  }
  const size_t width = t.type == tfl::TensorType::INT8    ? 1
                       : t.type == tfl::TensorType::INT64 ? 8
                                                          : 4;
  size_t inner = 1;
  for (size_t dim = static_cast<size_t>(t.quantized_dimension) + 1; dim < t.shape.size(); ++dim)
    inner *= static_cast<size_t>(t.shape[dim]);
  for (size_t i = 0; i < t.data.size() / width; ++i) {
    int64_t q = static_cast<int8_t>(t.data[i]);
    if (width == 4) {
      int32_t v;
      std::memcpy(&v, &t.data[4 * i], 4);
      q = v;
    }
    if (width == 8) std::memcpy(&q, &t.data[8 * i], 8);
    const size_t channel = (i / inner) % t.scale.size();
    v.push_back(static_cast<double>(t.scale[channel]) * (q - t.zero_point[channel]));
  }
  return v;
}

// The float definition of a one-op conv, depthwise conv or fully-connected model (inputs
// x, weights, bias; output y): the real sum over each window (TFLite's SAME padding: the
// excess of the covered extent over the input, half before; taps outside skipped), plus the
// bias, through the fused activation.
Definition layer_definition(const ModelSpec& m) {
  const OpSpec& op = m.ops.at(0);
  const std::vector<int32_t> in = m.tensors[0].shape, out = m.tensors.back().shape;
  const std::vector<int32_t> w_shape = m.tensors[1].shape;
  const std::vector<double> filter = real_values(m.tensors[1]), offsets = real_values(m.tensors[2]);
  return [=](const std::vector<std::vector<float>>& x) {
    const bool fc = op.op == B::FULLY_CONNECTED, depthwise = op.op == B::DEPTHWISE_CONV_2D;
    // A fully-connected layer as a 1x1 conv of its rows.
    const int32_t batches = fc ? out[0] : in[0], h = fc ? 1 : in[1], wd = fc ? 1 : in[2];
    const int32_t ic = fc ? w_shape[1] : in[3], oc = out.back();
    const int32_t oh = fc ? 1 : out[1], ow = fc ? 1 : out[2];
    const int32_t kh = fc ? 1 : w_shape[1], kw = fc ? 1 : w_shape[2];
    auto pad_before = [&](int32_t size, int32_t o, int32_t k, int32_t stride, int32_t dilation) {
      const int32_t covered = (o - 1) * stride + (k - 1) * dilation + 1;
      return op.padding == tfl::Padding::SAME ? std::max(0, covered - size) / 2 : 0;
    };
    const int32_t top = fc ? 0 : pad_before(h, oh, kh, op.stride_h, op.dilation_h);
    const int32_t left = fc ? 0 : pad_before(wd, ow, kw, op.stride_w, op.dilation_w);
    std::vector<float> y;
    for (int32_t n = 0; n < batches; ++n)
      for (int32_t oy = 0; oy < oh; ++oy)
        for (int32_t ox = 0; ox < ow; ++ox)
          for (int32_t c = 0; c < oc; ++c) {
            double acc = offsets[static_cast<size_t>(c)];
            for (int32_t ky = 0; ky < kh; ++ky)
              for (int32_t kx = 0; kx < kw; ++kx) {
                const int32_t iy = oy * op.stride_h + ky * op.dilation_h - top;
                const int32_t ix = ox * op.stride_w + kx * op.dilation_w - left;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                const auto at = static_cast<size_t>(((n * h + iy) * wd + ix) * ic);
                if (depthwise) {
                  acc += x[0][at + static_cast<size_t>(c / op.depth_multiplier)] *
                         filter[static_cast<size_t>((ky * kw + kx) * oc + c)];
                  continue;
                }
                for (int32_t i = 0; i < ic; ++i)
                  acc += x[0][at + static_cast<size_t>(i)] *
                         filter[static_cast<size_t>(((c * kh + ky) * kw + kx) * ic + i)];
              }
            if (op.activation == Act::RELU) acc = std::max(acc, 0.0);
            if (op.activation == Act::RELU6) acc = std::clamp(acc, 0.0, 6.0);
            if (op.activation == Act::RELU_N1_TO_1) acc = std::clamp(acc, -1.0, 1.0);
            y.push_back(static_cast<float>(acc));
          }
    return y;
  };
}

Row conv(DT d, std::vector<int32_t> in, int32_t oc, Window w, Act a = Act::NONE, Q qin = {}) {
  const int32_t oh = window_out(in[1], w.kh, w.stride, w.dilation, w.padding);
  const int32_t ow = window_out(in[2], w.kw, w.stride, w.dilation, w.padding);
  const TensorSpec wt = weights(d, {oc, w.kh, w.kw, in[3]}, 0, 11);
  const TensorSpec b = bias(d, wt, qin, oc, 5);
  const Q qout{accumulator_scale(qin, 0.02f, w.kh * w.kw * in[3]), -3};
  Row r = row("Conv2D " + std::string(dt_name(d)) + " " + shape_text(in) + " oc" +
                  std::to_string(oc) + window_text(w) + act_name(a) + q_text(d, qin),
              OpCode::Conv2D,
              one_op({act(d, "x", in, qin), wt, b, act(d, "y", {in[0], oh, ow, oc}, qout)},
                     windowed(B::CONV_2D, {0, 1, 2}, w, a)));
  if (a != Act::RELU_N1_TO_1) return r;
  r.why_not_armnn = "Arm NN 20.08's TfLite parser has no fused RELU_N1_TO_1";
  r.definition = layer_definition(r.model);
  return r;
}

Row depthwise(DT d, std::vector<int32_t> in, int32_t multiplier, Window w, Act a = Act::NONE,
              Q qin = {}) {
  const int32_t oh = window_out(in[1], w.kh, w.stride, w.dilation, w.padding);
  const int32_t ow = window_out(in[2], w.kw, w.stride, w.dilation, w.padding);
  const int32_t oc = in[3] * multiplier;
  const TensorSpec wt = weights(d, {1, w.kh, w.kw, oc}, 3, 13);
  const Q qout{accumulator_scale(qin, 0.02f, w.kh * w.kw), 4};
  OpSpec op = windowed(B::DEPTHWISE_CONV_2D, {0, 1, 2}, w, a);
  op.depth_multiplier = multiplier;
  return row("DepthwiseConv2D " + std::string(dt_name(d)) + " " + shape_text(in) + " m" +
                 std::to_string(multiplier) + window_text(w) + act_name(a) + q_text(d, qin),
             OpCode::DepthwiseConv2D,
             one_op({act(d, "x", in, qin), wt, bias(d, wt, qin, oc, 7),
                     act(d, "y", {in[0], oh, ow, oc}, qout)},
                    op));
}

Row fully_connected(DT d, std::vector<int32_t> in, int32_t units, Act a = Act::NONE, Q qin = {}) {
  // Per-tensor weights: TFLite's int8 FULLY_CONNECTED has no per-channel form (Arm NN
  // aborts on one).
  const TensorSpec wt = weights(d, {units, in[1]}, -1, 17);
  const Q qout{accumulator_scale(qin, 0.02f, in[1]), 10};
  OpSpec op{B::FULLY_CONNECTED, {0, 1, 2}, {}};
  op.activation = a;
  return row("FullyConnected " + std::string(dt_name(d)) + " " + shape_text(in) + " u" +
                 std::to_string(units) + act_name(a) + q_text(d, qin),
             OpCode::FullyConnected,
             one_op({act(d, "x", in, qin), wt, bias(d, wt, qin, units, 19),
                     act(d, "y", {in[0], units}, qout)},
                    op));
}

// Pools keep the input's quantization (TFLite requires it for int8).
Row pool(B b, DT d, std::vector<int32_t> in, Window w, Act a = Act::NONE, Q q = {}) {
  const int32_t oh = window_out(in[1], w.kh, w.stride, 1, w.padding);
  const int32_t ow = window_out(in[2], w.kw, w.stride, 1, w.padding);
  const bool average = b == B::AVERAGE_POOL_2D;
  return row(
      std::string(average ? "AveragePool2D " : "MaxPool2D ") + dt_name(d) + " " + shape_text(in) +
          window_text(w) + act_name(a) + q_text(d, q),
      average ? OpCode::AveragePool2D : OpCode::MaxPool2D,
      one_op({act(d, "x", in, q), act(d, "y", {in[0], oh, ow, in[3]}, q)}, windowed(b, {0}, w, a)));
}

std::vector<int32_t> broadcast_shape(std::vector<int32_t> a, std::vector<int32_t> b) {
  while (a.size() < b.size()) a.insert(a.begin(), 1);
  while (b.size() < a.size()) b.insert(b.begin(), 1);
  for (size_t i = 0; i < a.size(); ++i) a[i] = std::max(a[i], b[i]);
  return a;
}

// For each element of the broadcast output `out`, the element of an input of `shape` it reads
// (numpy broadcasting, shapes aligned at the end).
std::vector<size_t> broadcast_index(std::vector<int32_t> shape, const std::vector<int32_t>& out) {
  while (shape.size() < out.size()) shape.insert(shape.begin(), 1);
  std::vector<size_t> index(static_cast<size_t>(count(out)));
  for (size_t i = 0; i < index.size(); ++i) {
    size_t rest = i, at = 0, stride = 1;
    for (size_t d = out.size(); d-- > 0;) {
      const auto coordinate = rest % static_cast<size_t>(out[d]);
      rest /= static_cast<size_t>(out[d]);
      if (shape[d] != 1) at += coordinate * stride;
      stride *= static_cast<size_t>(shape[d]);
    }
    index[i] = at;
  }
  return index;
}

struct BinaryOp {
  OpCode op;
  B builtin;
};
const BinaryOp kAdd{OpCode::Add, B::ADD}, kSub{OpCode::Sub, B::SUB}, kMul{OpCode::Mul, B::MUL},
    kMaximum{OpCode::Maximum, B::MAXIMUM}, kMinimum{OpCode::Minimum, B::MINIMUM},
    kSquaredDifference{OpCode::SquaredDifference, B::SQUARED_DIFFERENCE}, kDiv{OpCode::Div, B::DIV};

Row binary(BinaryOp b, DT d, std::vector<int32_t> a_shape, std::vector<int32_t> b_shape,
           Act a = Act::NONE, Q qa = {0.05f, 0}, Q qb = {0.05f, 0}, Q qout = {0.1f, 0}) {
  OpSpec op{b.builtin, {0, 1}, {}};
  op.activation = a;
  const std::vector<int32_t> out = broadcast_shape(a_shape, b_shape);
  Row r = row(
      std::string(op_info(b.op).name) + " " + dt_name(d) + " " + shape_text(a_shape) + " with " +
          shape_text(b_shape) + act_name(a) + q_text(d, qa) + q_text(d, qb) + q_text(d, qout),
      b.op,
      one_op({act(d, "a", a_shape, qa), act(d, "b", b_shape, qb), act(d, "y", out, qout)}, op));
  if (b.op == OpCode::SquaredDifference) {
    r.why_not_armnn = "Arm NN 20.08's TfLite parser has no SQUARED_DIFFERENCE";
    const std::vector<size_t> ia = broadcast_index(a_shape, out),
                              ib = broadcast_index(b_shape, out);
    r.definition = [ia, ib](const std::vector<std::vector<float>>& in) {
      std::vector<float> y;
      for (size_t i = 0; i < ia.size(); ++i) {
        const double diff = static_cast<double>(in[0][ia[i]]) - in[1][ib[i]];
        y.push_back(static_cast<float>(diff * diff));
      }
      return y;
    };
  }
  if (b.op == OpCode::Div && d == DT::i8) {
    // Every int8 zero point is a reachable input, so some cases divide by a real 0, whose
    // int8 result TFLite leaves undefined (a DCHECK); ours clamps +-infinity and gives 0 for
    // 0 / 0, which the definition states.
    r.why_not_armnn = "int8 DIV by a real 0 (reached by every zero point) is undefined in TFLite";
    const std::vector<size_t> ia = broadcast_index(a_shape, out),
                              ib = broadcast_index(b_shape, out);
    r.definition = [ia, ib, a](const std::vector<std::vector<float>>& in) {
      std::vector<float> y;
      for (size_t i = 0; i < ia.size(); ++i) {
        const double num = in[0][ia[i]], den = in[1][ib[i]];
        double q = den != 0 ? num / den : num > 0 ? 1e30 : num < 0 ? -1e30 : 0.0;
        if (a == Act::RELU || a == Act::RELU6) q = std::max(q, 0.0);
        if (a == Act::RELU6) q = std::min(q, 6.0);
        y.push_back(static_cast<float>(q));
      }
      return y;
    };
  }
  return r;
}

struct UnaryOp {
  OpCode op;
  B builtin;
};
const UnaryOp kRelu{OpCode::Clamp, B::RELU}, kRelu6{OpCode::Clamp, B::RELU6},
    kReluN1To1{OpCode::Clamp, B::RELU_N1_TO_1}, kLogistic{OpCode::Logistic, B::LOGISTIC},
    kTanh{OpCode::Tanh, B::TANH}, kSoftmax{OpCode::Softmax, B::SOFTMAX},
    kLeakyRelu{OpCode::LeakyRelu, B::LEAKY_RELU}, kLogSoftmax{OpCode::LogSoftmax, B::LOG_SOFTMAX};
const UnaryOp kHardSwish{OpCode::HardSwish, B::HARD_SWISH};

Row unary(UnaryOp u, DT d, std::vector<int32_t> shape, Q qin = {}, Q qout = {},
          float param = 0.2f) {
  OpSpec op{u.builtin, {0}, {}};
  op.alpha = param;
  op.beta = param;
  const bool has_param = u.builtin == B::LEAKY_RELU || u.builtin == B::SOFTMAX;
  Row r = row(std::string(op_info(u.op).name) + " " +
                  tflite_import::builtin_name(static_cast<int32_t>(u.builtin)) + " " + dt_name(d) +
                  " " + shape_text(shape) + (has_param ? " p" + std::to_string(param) : "") +
                  q_text(d, qin) + q_text(d, qout),
              u.op, one_op({act(d, "x", shape, qin), act(d, "y", shape, qout)}, op));
  if (u.builtin == B::RELU_N1_TO_1) {
    r.why_not_armnn = "Arm NN 20.08's TfLite parser has no RELU_N1_TO_1";
    r.definition = [](const std::vector<std::vector<float>>& in) {
      std::vector<float> y;
      for (float x : in[0]) y.push_back(std::clamp(x, -1.0f, 1.0f));
      return y;
    };
  }
  if (u.builtin == B::LOG_SOFTMAX) {
    r.why_not_armnn = "Arm NN's TfLite parser has no LOG_SOFTMAX";
    const auto depth = static_cast<size_t>(shape.back());
    if (d == DT::i8) {
      // TFLite's integer arithmetic on the stored values (log_softmax_reference.h): exact.
      const tflite_log_softmax::OpData data = tflite_log_softmax::op_data(qin.scale);
      r.definition = [qin, qout, depth, data](const std::vector<std::vector<float>>& in) {
        std::vector<int8_t> x;
        for (float v : in[0]) x.push_back(static_cast<int8_t>(std::lround(v / qin.scale) + qin.zp));
        std::vector<float> y;
        for (int8_t q : tflite_log_softmax::log_softmax_int8(x, static_cast<int>(depth), data))
          y.push_back(qout.scale * static_cast<float>(q - qout.zp));
        return y;
      };
    } else {
      r.definition = [depth](const std::vector<std::vector<float>>& in) {
        std::vector<float> y;
        for (size_t row = 0; row < in[0].size(); row += depth) {
          const auto first = in[0].begin() + static_cast<std::ptrdiff_t>(row);
          const double max = *std::max_element(first, first + static_cast<std::ptrdiff_t>(depth));
          double sum = 0;
          for (size_t c = 0; c < depth; ++c) sum += std::exp(in[0][row + c] - max);
          for (size_t c = 0; c < depth; ++c)
            y.push_back(static_cast<float>(in[0][row + c] - max - std::log(sum)));
        }
        return y;
      };
    }
  }
  return r;
}

// UnaryMath through one of its builtins. Arm NN 20.08 parses EXP and NEG; the others are
// checked against their definition, int8 with TFLite's edge rules (LOG of x <= 0 is the
// lowest output; SQRT and RSQRT of x < 0 read x as 0, where TFLite stops with an error).
Row unary_math(B b, DT d, std::vector<int32_t> shape, Q qin, Q qout) {
  const std::string builtin = tflite_import::builtin_name(static_cast<int32_t>(b));
  Row r = row("UnaryMath " + builtin + " " + dt_name(d) + " " + shape_text(shape) + q_text(d, qin) +
                  q_text(d, qout),
              OpCode::UnaryMath,
              one_op({act(d, "x", shape, qin), act(d, "y", shape, qout)}, {b, {0}, {}}));
  if (b == B::EXP || b == B::NEG) return r;
  r.why_not_armnn = "Arm NN 20.08's TfLite parser has no " + builtin;
  const bool int8 = d == DT::i8;
  r.definition = [b, int8](const std::vector<std::vector<float>>& in) {
    std::vector<float> y;
    for (const float value : in[0]) {
      const double x = value;
      double v;
      if (b == B::LOG)
        v = int8 && x <= 0 ? -HUGE_VAL : std::log(x);
      else if (b == B::SQRT)
        v = std::sqrt(int8 ? std::max(x, 0.0) : x);
      else if (b == B::RSQRT)
        v = int8 && x <= 0 ? HUGE_VAL : 1 / std::sqrt(x);
      else if (b == B::ABS)
        v = std::fabs(x);
      else  // ELU
        v = x < 0 ? std::expm1(x) : x;
      y.push_back(static_cast<float>(v));
    }
    return y;
  };
  return r;
}

Row concatenation(DT d, std::vector<std::vector<int32_t>> shapes, int32_t axis, Q q = {}) {
  std::vector<TensorSpec> tensors;
  OpSpec op{B::CONCATENATION, {}, {}};
  op.axis = axis;
  std::vector<int32_t> out = shapes[0];
  const size_t a = static_cast<size_t>(axis < 0 ? axis + static_cast<int32_t>(out.size()) : axis);
  out[a] = 0;
  std::string name = "Concatenation " + std::string(dt_name(d));
  for (size_t i = 0; i < shapes.size(); ++i) {
    tensors.push_back(act(d, "x" + std::to_string(i), shapes[i], q));
    op.inputs.push_back(static_cast<int32_t>(i));
    out[a] += shapes[i][a];
    name += " " + shape_text(shapes[i]);
  }
  tensors.push_back(act(d, "y", out, q));
  return row(name + " axis " + std::to_string(axis) + q_text(d, q), OpCode::Concatenation,
             one_op(tensors, op));
}

Row transpose(DT d, std::vector<int32_t> in, std::vector<int32_t> perm, Q q = {}) {
  std::vector<int32_t> out;
  for (int32_t p : perm) out.push_back(in[static_cast<size_t>(p)]);
  return row("Transpose " + std::string(dt_name(d)) + " " + shape_text(in) + " perm " +
                 shape_text(perm) + q_text(d, q),
             OpCode::Transpose,
             one_op({act(d, "x", in, q), ints("perm", perm), act(d, "y", out, q)},
                    {B::TRANSPOSE, {0, 1}, {}}));
}

// `pads`: before, after per dimension.
Row pad(DT d, std::vector<int32_t> in, std::vector<int32_t> pads, Q q = {}) {
  std::vector<int32_t> out = in;
  for (size_t i = 0; i < in.size(); ++i) out[i] += pads[2 * i] + pads[2 * i + 1];
  Row r =
      row("Pad " + std::string(dt_name(d)) + " " + shape_text(in) + " pads " + shape_text(pads) +
              q_text(d, q),
          OpCode::Pad,
          one_op({act(d, "x", in, q), ints("paddings", pads, {static_cast<int32_t>(in.size()), 2}),
                  act(d, "y", out, q)},
                 {B::PAD, {0, 1}, {}}));
  if (d == DT::i8 && q.zp != 0) {
    r.why_not_armnn =
        "Arm NN 20.08 pads int8 with raw 0, not the zero point (TFLite pads with real 0)";
    r.definition = [in, out, pads](const std::vector<std::vector<float>>& x) {
      std::vector<float> y(static_cast<size_t>(count(out)), 0.0f);
      for (size_t i = 0; i < x[0].size(); ++i) {
        size_t rest = i, at = 0, stride = 1;
        for (size_t dim = in.size(); dim-- > 0;) {
          const auto coordinate = static_cast<int32_t>(rest % static_cast<size_t>(in[dim]));
          rest /= static_cast<size_t>(in[dim]);
          at += static_cast<size_t>(coordinate + pads[2 * dim]) * stride;
          stride *= static_cast<size_t>(out[dim]);
        }
        y[at] = x[0][i];
      }
      return y;
    };
  }
  return r;
}

Row reshape(DT d, std::vector<int32_t> in, std::vector<int32_t> out, Q q = {}) {
  return row("Reshape " + std::string(dt_name(d)) + " " + shape_text(in) + " to " +
                 shape_text(out) + q_text(d, q),
             OpCode::Reshape,
             one_op({act(d, "x", in, q), ints("shape", out), act(d, "y", out, q)},
                    {B::RESHAPE, {0, 1}, {}}));
}

// The 16x8 twin of an int8 row: its int8 activations become int16 (TFLite's 16x8 scheme),
// the rest unchanged. The row's zero points must be 0.
Row int16_twin(Row r) {
  for (TensorSpec& t : r.model.tensors)
    if (t.type == tfl::TensorType::INT8 && t.data.empty()) t.type = tfl::TensorType::INT16;
  r.name.replace(r.name.find("int8"), 4, "int16");
  return r;
}

// The 16x8 form of an int8 Prelu row (tflite-micro's int16 PRELU): x and output int16 with
// zero point 0, alpha stays int8.
Row int16_prelu(Row r) {
  for (TensorSpec& t : r.model.tensors)
    if (t.type == tfl::TensorType::INT8 && t.name != "alpha") t.type = tfl::TensorType::INT16;
  r.name.replace(r.name.find("int8"), 4, "int16");
  return r;
}

// The 16x8 form of an int8 conv, depthwise conv, fully-connected or transpose conv row
// (TFLite's 16x8
// scheme): int16 activations, zero point 0, at 1/256 of the int8 row's scales (the same real
// range in 256 times finer steps), the bias as INT64 at its new scale (input x weight scale,
// the same integers). Checked against the float definition of the layer.
Definition transpose_definition(const ModelSpec& m);

Row int16x8_layer(Row r) {
  for (TensorSpec& t : r.model.tensors) {
    if (t.type == tfl::TensorType::INT8 && t.data.empty()) {
      t.type = tfl::TensorType::INT16;
      t.zero_point = {0};
      t.scale[0] /= 256;
    } else if (t.type == tfl::TensorType::INT32 && t.name == "b") {
      std::vector<int64_t> wide;
      for (size_t i = 0; i < t.data.size(); i += 4) {
        int32_t v;
        std::memcpy(&v, &t.data[i], 4);
        wide.push_back(v);
      }
      t.type = tfl::TensorType::INT64;
      t.data = testing::bytes_of(wide);
      for (float& s : t.scale) s /= 256;
    }
  }
  r.name.replace(r.name.find("int8"), 4, "int16x8");
  r.definition = r.model.ops.at(0).op == B::TRANSPOSE_CONV ? transpose_definition(r.model)
                                                           : layer_definition(r.model);
  r.why_not_armnn = "Arm NN's TfLite parser refuses the INT64 bias (Unsupported data type)";
  return r;
}

Row reduce(B b, DT d, std::vector<int32_t> in, std::vector<int32_t> axes, bool keep_dims,
           Q qin = {}, Q qout = {}) {
  const auto rank = static_cast<int32_t>(in.size());
  std::vector<bool> reduced;
  std::vector<int32_t> out;
  for (int32_t i = 0; i < rank; ++i) {
    reduced.push_back(std::count(axes.begin(), axes.end(), i) ||
                      std::count(axes.begin(), axes.end(), i - rank));
    if (!reduced.back()) out.push_back(in[static_cast<size_t>(i)]);
    if (reduced.back() && keep_dims) out.push_back(1);
  }
  OpSpec op{b, {0, 1}, {}};
  op.keep_num_dims = keep_dims;
  const bool mean = b == B::MEAN, max = b == B::REDUCE_MAX;
  const OpCode code = mean ? OpCode::Mean : max ? OpCode::ReduceMax : OpCode::Sum;
  Row r = row(std::string(op_info(code).name) + " " + dt_name(d) + " " + shape_text(in) + " axes " +
                  shape_text(axes) + (keep_dims ? " keep" : "") + q_text(d, qin) + q_text(d, qout),
              code, one_op({act(d, "x", in, qin), ints("axes", axes), act(d, "y", out, qout)}, op));
  const bool negative_axis = std::any_of(axes.begin(), axes.end(), [](int32_t a) { return a < 0; });
  if (!mean || negative_axis) {
    r.why_not_armnn = mean  ? "Arm NN 20.08 fails on negative MEAN axes (int8: dimension "
                              "4294967295; float32: crashes)"
                      : max ? "Arm NN 20.08's TfLite parser has no REDUCE_MAX"
                            : "Arm NN 20.08's TfLite parser has no SUM";
    r.definition = [in, reduced, mean, max](const std::vector<std::vector<float>>& x) {
      size_t kept = 1, terms = 1;
      for (size_t dim = 0; dim < in.size(); ++dim)
        (reduced[dim] ? terms : kept) *= static_cast<size_t>(in[dim]);
      // Each input element adds to (or, for max, competes for) the output element at its
      // kept coordinates.
      std::vector<double> acc(kept, max ? -HUGE_VAL : 0.0);
      for (size_t i = 0; i < x[0].size(); ++i) {
        size_t rest = i, at = 0, stride = 1;
        for (size_t dim = in.size(); dim-- > 0;) {
          const size_t coordinate = rest % static_cast<size_t>(in[dim]);
          rest /= static_cast<size_t>(in[dim]);
          if (reduced[dim]) continue;
          at += coordinate * stride;
          stride *= static_cast<size_t>(in[dim]);
        }
        acc[at] = max ? std::max<double>(acc[at], x[0][i]) : acc[at] + x[0][i];
      }
      std::vector<float> y;
      for (double v : acc)
        y.push_back(static_cast<float>(mean ? v / static_cast<double>(terms) : v));
      return y;
    };
  }
  return r;
}

Row strided_slice(DT d, std::vector<int32_t> in, std::vector<int32_t> begin,
                  std::vector<int32_t> end, std::vector<int32_t> strides, Q q = {}) {
  std::vector<int32_t> out;
  for (size_t i = 0; i < in.size(); ++i)
    out.push_back((end[i] - begin[i] + strides[i] - 1) / strides[i]);
  return row("StridedSlice " + std::string(dt_name(d)) + " " + shape_text(in) + " [" +
                 shape_text(begin) + ":" + shape_text(end) + ":" + shape_text(strides) + "]" +
                 q_text(d, q),
             OpCode::StridedSlice,
             one_op({act(d, "x", in, q), ints("begin", begin), ints("end", end),
                     ints("strides", strides), act(d, "y", out, q)},
                    {B::STRIDED_SLICE, {0, 1, 2, 3}, {}}));
}

// `axis` of a rank-`rank` shape made non-negative.
size_t positive_axis(int32_t axis, size_t rank) {
  return static_cast<size_t>(axis < 0 ? axis + static_cast<int32_t>(rank) : axis);
}

// Elements before and after axis `a` of `shape`.
size_t outer_count(const std::vector<int32_t>& shape, size_t a) {
  return static_cast<size_t>(
      count({shape.begin(), shape.begin() + static_cast<std::ptrdiff_t>(a)}));
}
size_t inner_count(const std::vector<int32_t>& shape, size_t a) {
  return static_cast<size_t>(
      count({shape.begin() + static_cast<std::ptrdiff_t>(a) + 1, shape.end()}));
}

// Cutting `in` along axis `a` into pieces of `sizes` (Unpack: pieces of 1, the axis dropped,
// which keeps the element order): each piece's elements, one piece after the other.
Definition split_definition(std::vector<int32_t> in, size_t a, std::vector<int32_t> sizes) {
  return [in, a, sizes](const std::vector<std::vector<float>>& x) {
    const size_t outer = outer_count(in, a), inner = inner_count(in, a);
    const auto extent = static_cast<size_t>(in[a]);
    std::vector<float> y;
    size_t start = 0;
    for (int32_t size : sizes) {
      for (size_t o = 0; o < outer; ++o)
        for (size_t k = start * inner; k < (start + static_cast<size_t>(size)) * inner; ++k)
          y.push_back(x[0][o * extent * inner + k]);
      start += static_cast<size_t>(size);
    }
    return y;
  };
}

// Split (SPLIT: equal pieces, operands axis then input) or, with `sizes`, SPLIT_V (operands
// input, size_splits, axis). Every output keeps the input's quantization (TFLite requires it).
Row split(DT d, std::vector<int32_t> in, int32_t axis, int32_t pieces, Q q = {},
          std::vector<int32_t> sizes = {}) {
  const size_t a = positive_axis(axis, in.size());
  const bool equal = sizes.empty();
  if (equal) sizes.assign(static_cast<size_t>(pieces), in[a] / pieces);
  std::vector<TensorSpec> tensors;
  OpSpec op{equal ? B::SPLIT : B::SPLIT_V, {}, {}};
  if (equal) {
    tensors = {ints("axis", {axis}, {}), act(d, "x", in, q)};
    op.inputs = {0, 1};
  } else {
    tensors = {act(d, "x", in, q), ints("size_splits", sizes), ints("axis", {axis}, {})};
    op.inputs = {0, 1, 2};
  }
  for (size_t i = 0; i < sizes.size(); ++i) {
    std::vector<int32_t> out = in;
    out[a] = sizes[i];
    tensors.push_back(act(d, "y" + std::to_string(i), out, q));
  }
  Row r = row(std::string(equal ? "Split " : "Split SPLIT_V ") + dt_name(d) + " " + shape_text(in) +
                  " axis " + std::to_string(axis) + " into " + shape_text(sizes) + q_text(d, q),
              OpCode::Split,
              multi_output_op(std::move(tensors), op, static_cast<int32_t>(sizes.size())));
  if (axis < 0) {
    r.why_not_armnn = "Arm NN 20.08 crashes (SIGSEGV) on a negative SPLIT axis";
    r.definition = split_definition(in, a, sizes);
  }
  return r;
}

Row unpack(DT d, std::vector<int32_t> in, int32_t axis, Q q = {}) {
  const size_t a = positive_axis(axis, in.size());
  std::vector<int32_t> out = in;
  out.erase(out.begin() + static_cast<std::ptrdiff_t>(a));
  std::vector<TensorSpec> tensors{act(d, "x", in, q)};
  for (int32_t i = 0; i < in[a]; ++i) tensors.push_back(act(d, "y" + std::to_string(i), out, q));
  OpSpec op{B::UNPACK, {0}, {}};
  op.axis = axis;
  Row r = row("Unpack " + std::string(dt_name(d)) + " " + shape_text(in) + " axis " +
                  std::to_string(axis) + q_text(d, q),
              OpCode::Unpack, multi_output_op(std::move(tensors), op, in[a]));
  if (axis < 0) {
    r.why_not_armnn = "Arm NN 20.08's TfLite parser refuses a negative UNPACK axis";
    r.definition = split_definition(in, a, std::vector<int32_t>(static_cast<size_t>(in[a]), 1));
  }
  return r;
}

// Pack of `inputs` tensors of one shape, all quantized as the output.
Row pack(DT d, std::vector<int32_t> in, int32_t inputs, int32_t axis, Q q = {}) {
  const size_t a = positive_axis(axis, in.size() + 1);
  std::vector<int32_t> out = in;
  out.insert(out.begin() + static_cast<std::ptrdiff_t>(a), inputs);
  std::vector<TensorSpec> tensors;
  OpSpec op{B::PACK, {}, {}};
  op.axis = axis;
  for (int32_t i = 0; i < inputs; ++i) {
    tensors.push_back(act(d, "x" + std::to_string(i), in, q));
    op.inputs.push_back(i);
  }
  tensors.push_back(act(d, "y", out, q));
  Row r = row("Pack " + std::string(dt_name(d)) + " " + std::to_string(inputs) + " x " +
                  shape_text(in) + " axis " + std::to_string(axis) + q_text(d, q),
              OpCode::Pack, one_op(std::move(tensors), op));
  if (axis < 0 || (d == DT::i8 && axis == 0)) {
    r.why_not_armnn = axis < 0 ? "Arm NN 20.08 aborts on a negative PACK axis"
                               : "Arm NN 20.08 crashes (SIGSEGV) on int8 PACK along axis 0";
    // Along the new axis the inputs take turns, each contributing its block of the
    // dimensions after the axis.
    const size_t outer = outer_count(out, a), inner = inner_count(out, a);
    r.definition = [outer, inner](const std::vector<std::vector<float>>& x) {
      std::vector<float> y;
      for (size_t o = 0; o < outer; ++o)
        for (const std::vector<float>& input : x)
          y.insert(y.end(), input.begin() + static_cast<std::ptrdiff_t>(o * inner),
                   input.begin() + static_cast<std::ptrdiff_t>((o + 1) * inner));
      return y;
    };
  }
  return r;
}

struct ResizeMode {
  bool align_corners = false, half_pixel_centers = false;
};

std::string resize_mode_text(ResizeMode m) {
  return m.align_corners ? " align_corners" : m.half_pixel_centers ? " half_pixel" : "";
}

// RESIZE_NEAREST_NEIGHBOR or RESIZE_BILINEAR of an NHWC input to `size` (height, width), a
// constant int32 [2]; the output keeps the input's quantization.
Row resize(B b, DT d, std::vector<int32_t> in, std::vector<int32_t> size, ResizeMode mode = {},
           Q q = {}) {
  OpSpec op{b, {0, 1}, {}};
  op.align_corners = mode.align_corners;
  op.half_pixel_centers = mode.half_pixel_centers;
  const bool nearest = b == B::RESIZE_NEAREST_NEIGHBOR;
  Row r =
      row(std::string(nearest ? "ResizeNearestNeighbor " : "ResizeBilinear ") + dt_name(d) + " " +
              shape_text(in) + " to " + shape_text(size) + resize_mode_text(mode) + q_text(d, q),
          nearest ? OpCode::ResizeNearestNeighbor : OpCode::ResizeBilinear,
          one_op({act(d, "x", in, q), ints("size", size),
                  act(d, "y", {in[0], size[0], size[1], in[3]}, q)},
                 op));
  if (!mode.half_pixel_centers && !(nearest && mode.align_corners)) return r;
  r.why_not_armnn = mode.half_pixel_centers
                        ? "Arm NN 20.08 gives other values than TFLite with half_pixel_centers"
                        : "Arm NN 20.08's nearest neighbour with align_corners picks other "
                          "pixels than TFLite (which rounds the source coordinate)";
  r.definition = [in, size, mode, nearest](const std::vector<std::vector<float>>& x) {
    // TFLite's reference resize (tensorflow/lite/kernels/internal/reference/
    // resize_nearest_neighbor.h, resize_bilinear.h): the source coordinate of output
    // coordinate i along an axis of `from` -> `to` elements.
    auto source = [&](int32_t i, int32_t from, int32_t to) {
      const double scale =
          mode.align_corners && to > 1 ? (from - 1.0) / (to - 1.0) : static_cast<double>(from) / to;
      const double centre = mode.half_pixel_centers ? 0.5 : 0.0;
      if (nearest) return (i + centre) * scale;
      return (i + centre) * scale - centre;
    };
    auto nearest_index = [&](double at, int32_t from) {
      const double picked = mode.align_corners ? std::round(at) : std::floor(at);
      return static_cast<int32_t>(std::clamp(picked, 0.0, from - 1.0));
    };
    auto pixel = [&](int32_t n, int32_t yy, int32_t xx, int32_t c) {
      return static_cast<double>(
          x[0][static_cast<size_t>(((n * in[1] + yy) * in[2] + xx) * in[3] + c)]);
    };
    std::vector<float> y;
    for (int32_t n = 0; n < in[0]; ++n)
      for (int32_t oy = 0; oy < size[0]; ++oy)
        for (int32_t ox = 0; ox < size[1]; ++ox)
          for (int32_t c = 0; c < in[3]; ++c) {
            const double sy = source(oy, in[1], size[0]), sx = source(ox, in[2], size[1]);
            if (nearest) {
              y.push_back(static_cast<float>(
                  pixel(n, nearest_index(sy, in[1]), nearest_index(sx, in[2]), c)));
              continue;
            }
            // Bilinear: the neighbours below and above, clamped to the input; the weights
            // use the unclamped coordinate (both neighbours coincide where it is outside).
            const auto y0 = static_cast<int32_t>(std::max(std::floor(sy), 0.0));
            const auto y1 = static_cast<int32_t>(std::min(std::ceil(sy), in[1] - 1.0));
            const auto x0 = static_cast<int32_t>(std::max(std::floor(sx), 0.0));
            const auto x1 = static_cast<int32_t>(std::min(std::ceil(sx), in[2] - 1.0));
            const double fy = sy - y0, fx = sx - x0;
            y.push_back(static_cast<float>(
                pixel(n, y0, x0, c) * (1 - fy) * (1 - fx) + pixel(n, y1, x0, c) * fy * (1 - fx) +
                pixel(n, y0, x1, c) * (1 - fy) * fx + pixel(n, y1, x1, c) * fy * fx));
          }
    return y;
  };
  return r;
}

// PRELU with a run-time alpha broadcast against x; Arm NN 20.08's parser has no PRELU.
Row prelu(DT d, std::vector<int32_t> x_shape, std::vector<int32_t> alpha_shape, Q qx, Q qa,
          Q qout) {
  const std::vector<int32_t> out = broadcast_shape(x_shape, alpha_shape);
  Row r = row(
      "Prelu " + std::string(dt_name(d)) + " " + shape_text(x_shape) + " alpha " +
          shape_text(alpha_shape) + q_text(d, qx) + q_text(d, qa) + q_text(d, qout),
      OpCode::Prelu,
      one_op({act(d, "x", x_shape, qx), act(d, "alpha", alpha_shape, qa), act(d, "y", out, qout)},
             {B::PRELU, {0, 1}, {}}));
  r.why_not_armnn = "Arm NN 20.08's TfLite parser has no PRELU";
  const std::vector<size_t> ix = broadcast_index(x_shape, out),
                            ia = broadcast_index(alpha_shape, out);
  r.definition = [ix, ia](const std::vector<std::vector<float>>& in) {
    std::vector<float> y;
    for (size_t i = 0; i < ix.size(); ++i) {
      const double x = in[0][ix[i]];
      y.push_back(static_cast<float>(x >= 0 ? x : x * in[1][ia[i]]));
    }
    return y;
  };
  return r;
}

// For each output element of a tensor of `out` dims, the input element of `in` dims at the
// per-dim coordinates `source(dim, output coordinate)`.
std::vector<size_t> gathered_index(const std::vector<int32_t>& in, const std::vector<int32_t>& out,
                                   const std::function<int32_t(size_t, int32_t)>& source) {
  std::vector<size_t> index;
  for (int32_t o = 0; o < count(out); ++o) {
    int32_t rest = o;
    size_t at = 0, stride = 1;
    for (size_t dim = out.size(); dim-- > 0;) {
      at += static_cast<size_t>(source(dim, rest % out[dim])) * stride;
      rest /= out[dim];
      stride *= static_cast<size_t>(in[dim]);
    }
    index.push_back(at);
  }
  return index;
}

Definition pick(std::vector<size_t> index) {
  return [index](const std::vector<std::vector<float>>& x) {
    std::vector<float> y;
    for (size_t i : index) y.push_back(x[0][i]);
    return y;
  };
}

// MIRROR_PAD (`pads`: before, after per dim); Arm NN 20.08's parser has none.
Row mirror_pad(DT d, std::vector<int32_t> in, std::vector<int32_t> pads, bool symmetric, Q q = {}) {
  std::vector<int32_t> out = in;
  for (size_t i = 0; i < in.size(); ++i) out[i] += pads[2 * i] + pads[2 * i + 1];
  OpSpec op{B::MIRROR_PAD, {0, 1}, {}};
  op.mirror_pad_mode = symmetric ? tfl::MirrorPadMode::SYMMETRIC : tfl::MirrorPadMode::REFLECT;
  Row r =
      row("MirrorPad " + std::string(symmetric ? "SYMMETRIC " : "REFLECT ") + dt_name(d) + " " +
              shape_text(in) + " pads " + shape_text(pads) + q_text(d, q),
          OpCode::MirrorPad,
          one_op({act(d, "x", in, q), ints("paddings", pads, {static_cast<int32_t>(in.size()), 2}),
                  act(d, "y", out, q)},
                 op));
  r.why_not_armnn = "Arm NN 20.08's TfLite parser has no MIRROR_PAD";
  // TFLite's mirror_pad.cc: REFLECT mirrors about the edge element, SYMMETRIC with it.
  r.definition = pick(gathered_index(in, out, [=](size_t dim, int32_t o) {
    const int32_t v = o - pads[2 * dim], n = in[dim];
    if (v < 0) return symmetric ? -v - 1 : -v;
    if (v >= n) return symmetric ? 2 * n - 1 - v : 2 * (n - 1) - v;
    return v;
  }));
  return r;
}

// GATHER of constant int32 indices along `axis`; Arm NN 20.08's parser has none.
Row gather(DT d, std::vector<int32_t> in, std::vector<int32_t> indices, int32_t axis, Q q = {}) {
  const size_t a = positive_axis(axis, in.size());
  std::vector<int32_t> out(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(a));
  out.push_back(static_cast<int32_t>(indices.size()));
  out.insert(out.end(), in.begin() + static_cast<std::ptrdiff_t>(a) + 1, in.end());
  OpSpec op{B::GATHER, {0, 1}, {}};
  op.axis = axis;
  Row r = row("Gather " + std::string(dt_name(d)) + " " + shape_text(in) + " indices " +
                  shape_text(indices) + " axis " + std::to_string(axis) + q_text(d, q),
              OpCode::Gather,
              one_op({act(d, "x", in, q), ints("indices", indices), act(d, "y", out, q)}, op));
  r.why_not_armnn = "Arm NN 20.08's TfLite parser has no GATHER";
  r.definition = pick(gathered_index(in, out, [=](size_t dim, int32_t o) {
    return dim == a ? indices[static_cast<size_t>(o)] : o;
  }));
  return r;
}

// ARG_MAX / ARG_MIN along `axis` (negative counts from the end), INT32 or INT64 indices out;
// Arm NN 20.08's parser has neither. The definition: the first index of the largest
// (smallest) real value, as TFLite's strict compare.
Row arg_min_max(B b, DT d, std::vector<int32_t> in, int32_t axis, tfl::TensorType index_type,
                Q q = {}) {
  const size_t a = positive_axis(axis, in.size());
  std::vector<int32_t> out = in;
  out.erase(out.begin() + static_cast<std::ptrdiff_t>(a));
  OpSpec op{b, {0, 1}, {}};
  op.output_type = index_type;
  const bool max = b == B::ARG_MAX;
  Row r = row(std::string(max ? "ArgMax " : "ArgMin ") + dt_name(d) + " " + shape_text(in) +
                  " axis " + std::to_string(axis) +
                  (index_type == tfl::TensorType::INT64 ? " int64" : "") + q_text(d, q),
              max ? OpCode::ArgMax : OpCode::ArgMin,
              one_op({act(d, "x", in, q), ints("axis", {axis}), {"y", out, index_type}}, op));
  r.why_not_armnn = "Arm NN 20.08's TfLite parser has no ARG_MAX / ARG_MIN";
  const int32_t n = in[a];
  int32_t inner = 1;
  for (size_t k = a + 1; k < in.size(); ++k) inner *= in[k];
  r.definition = [=](const std::vector<std::vector<float>>& x) {
    std::vector<float> y;
    for (size_t o = 0; o < x[0].size() / static_cast<size_t>(n * inner); ++o)
      for (int32_t i = 0; i < inner; ++i) {
        auto at = [&](int32_t k) { return x[0][(o * n + k) * inner + i]; };
        int32_t best = 0;
        for (int32_t k = 1; k < n; ++k)
          if (max ? at(k) > at(best) : at(k) < at(best)) best = k;
        y.push_back(static_cast<float>(best));
      }
    return y;
  };
  return r;
}

// CAST between float32, int8 and int16 (the integer sides at scale 1, zero point 0, so real
// values are the stored ones; CAST ignores quantization) and to INT32; Arm NN 20.08's parser
// has no CAST. The definition: float to integer truncates toward zero and saturates (TFLite's
// static_cast where it is defined), an integer to a narrower one keeps the low bits.
Row cast(tfl::TensorType from, tfl::TensorType to, std::vector<int32_t> shape) {
  auto spec = [&](const std::string& name, tfl::TensorType t) {
    if (t == tfl::TensorType::INT8 || t == tfl::TensorType::INT16)
      return TensorSpec{name, shape, t, {}, {1.0f}, {0}};
    return TensorSpec{name, shape, t};
  };
  OpSpec op{B::CAST, {0}, {}};
  op.cast_from = from;
  op.cast_to = to;
  Row r = row(std::string("Cast ") + tfl::EnumNameTensorType(from) + " to " +
                  tfl::EnumNameTensorType(to) + " " + shape_text(shape),
              OpCode::Cast, one_op({spec("x", from), spec("y", to)}, op));
  r.why_not_armnn = "Arm NN 20.08's TfLite parser has no CAST";
  const bool from_float = from == tfl::TensorType::FLOAT32;
  const int bits = to == tfl::TensorType::INT8 ? 8 : to == tfl::TensorType::INT16 ? 16 : 32;
  r.definition = [=](const std::vector<std::vector<float>>& x) {
    std::vector<float> y;
    const double lo = -std::ldexp(1.0, bits - 1), hi = -lo - 1;
    for (float v : x[0]) {
      if (to == tfl::TensorType::FLOAT32) {
        y.push_back(v);
      } else if (from_float) {
        y.push_back(std::isnan(v) ? 0.0f
                                  : static_cast<float>(std::clamp<double>(std::trunc(v), lo, hi)));
      } else {
        const double span = hi - lo + 1;
        y.push_back(static_cast<float>(std::fmod(std::fmod(v - lo, span) + span, span) + lo));
      }
    }
    return y;
  };
  return r;
}

// TRANSPOSE_CONV (operands output_shape, weights, input, optional bias): the output size
// TFLite's converter gives (VALID: (in - 1) * stride + k, SAME: in * stride). Arm NN 20.08's
// parser takes no bias operand and pads SAME from the input's size instead of the output's
// (right only for stride 1): such rows are checked against the definition.
// The float definition of a TRANSPOSE_CONV row's model (tensors output_shape, filter
// [OC,KH,KW,IC], x, optional bias, y; equal strides), from the real values of its filter
// and bias.
Definition transpose_definition(const ModelSpec& m) {
  const OpSpec& op = m.ops.at(0);
  const std::vector<int32_t> in = m.tensors[2].shape, out = m.tensors.back().shape;
  const int32_t kh = m.tensors[1].shape[1], kw = m.tensors[1].shape[2], oc = out[3];
  const int32_t oh = out[1], ow = out[2], stride = op.stride_h;
  const bool same = op.padding == tfl::Padding::SAME;
  const Act a = op.activation;
  const std::vector<double> filter = real_values(m.tensors[1]);
  const std::vector<double> offsets =
      op.inputs.size() > 3 ? real_values(m.tensors[3]) : std::vector<double>(oc, 0.0);
  return [=](const std::vector<std::vector<float>>& x) {
    // TFLite's padding: that of a conv from the output back to the input (SAME: half the
    // excess of the covered extent over the output, rounded down; VALID: none).
    auto pad_before = [&](int32_t o, int32_t k) {
      if (!same) return 0;
      const int32_t covered = ((o + stride - 1) / stride - 1) * stride + k;
      return std::max(0, covered - o) / 2;
    };
    const int32_t top = pad_before(oh, kh), left = pad_before(ow, kw);
    std::vector<double> acc(static_cast<size_t>(in[0] * oh * ow * oc));
    for (int32_t n = 0; n < in[0]; ++n)
      for (int32_t iy = 0; iy < in[1]; ++iy)
        for (int32_t ix = 0; ix < in[2]; ++ix)
          for (int32_t ky = 0; ky < kh; ++ky)
            for (int32_t kx = 0; kx < kw; ++kx) {
              const int32_t oy = iy * stride - top + ky, ox = ix * stride - left + kx;
              if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
              for (int32_t c = 0; c < oc; ++c)
                for (int32_t ic = 0; ic < in[3]; ++ic)
                  acc[static_cast<size_t>(((n * oh + oy) * ow + ox) * oc + c)] +=
                      x[0][static_cast<size_t>(((n * in[1] + iy) * in[2] + ix) * in[3] + ic)] *
                      filter[static_cast<size_t>(((c * kh + ky) * kw + kx) * in[3] + ic)];
            }
    std::vector<float> y;
    for (size_t i = 0; i < acc.size(); ++i) {
      double v = acc[i] + offsets[i % static_cast<size_t>(oc)];
      if (a == Act::RELU || a == Act::RELU6) v = std::max(v, 0.0);
      if (a == Act::RELU6) v = std::min(v, 6.0);
      if (a == Act::RELU_N1_TO_1) v = std::clamp(v, -1.0, 1.0);
      y.push_back(static_cast<float>(v));
    }
    return y;
  };
}

Row transpose_conv(DT d, std::vector<int32_t> in, int32_t oc, Window w, bool with_bias,
                   Act a = Act::NONE, Q qin = {}) {
  const bool same = w.padding == tfl::Padding::SAME;
  auto out_extent = [&](int32_t size, int32_t k) {
    return same ? size * w.stride : (size - 1) * w.stride + k;
  };
  const int32_t oh = out_extent(in[1], w.kh), ow = out_extent(in[2], w.kw);
  const TensorSpec wt = weights(d, {oc, w.kh, w.kw, in[3]}, 0, 29);
  const TensorSpec b = bias(d, wt, qin, oc, 31);
  const Q qout{accumulator_scale(qin, 0.02f, w.kh * w.kw * in[3]), 6};
  std::vector<TensorSpec> tensors{ints("output_shape", {in[0], oh, ow, oc}), wt,
                                  act(d, "x", in, qin)};
  if (with_bias) tensors.push_back(b);
  tensors.push_back(act(d, "y", {in[0], oh, ow, oc}, qout));
  OpSpec op = windowed(B::TRANSPOSE_CONV, {0, 1, 2}, w, a);
  if (with_bias) op.inputs.push_back(3);
  Row r = row("TransposeConv " + std::string(dt_name(d)) + " " + shape_text(in) + " oc" +
                  std::to_string(oc) + window_text(w) + (with_bias ? " bias" : "") + act_name(a) +
                  q_text(d, qin),
              OpCode::TransposeConv, one_op(std::move(tensors), op));
  if (!with_bias && (!same || w.stride == 1) && a != Act::RELU_N1_TO_1) return r;
  r.why_not_armnn = with_bias ? "Arm NN 20.08's TfLite parser takes no TRANSPOSE_CONV bias"
                              : "Arm NN 20.08 pads a strided SAME TRANSPOSE_CONV from the input";
  r.definition = transpose_definition(r.model);
  return r;
}

// LSTM (float32) over the table's cases run as one sequence: the output and cell states
// carry from case to case, and so do the definition's (tests/lstm_reference.h).
Row lstm(const testing::LstmConfig& c) {
  const testing::LstmWeights w = testing::lstm_weights(c);
  Row r = row("Lstm f32 " + c.name(), OpCode::Lstm, testing::lstm_model(c, w));
  r.why_not_armnn = "Arm NN 20.08's TfLite parser has no UNIDIRECTIONAL_SEQUENCE_LSTM";
  testing::LstmReference reference(c, w);
  r.definition = [reference](const std::vector<std::vector<float>>& x) mutable {
    const std::vector<double> y = reference.run(x.at(0));
    return std::vector<float>(y.begin(), y.end());
  };
  return r;
}

// SVDF over the table's cases run as one sequence: the state carries from case to case, so
// the definition keeps its own memory of the last M feature values per filter (real
// numbers; int8: the state's range saturates them as the int16 state does).
Row svdf(DT d, int32_t batch, int32_t input_size, int32_t units, int32_t rank, int32_t memory,
         Act a = Act::NONE, Q qin = {}) {
  const int32_t filters = units * rank;
  TensorSpec wf = weights(d, {filters, input_size}, -1, 41);
  wf.name = "weights_feature";
  TensorSpec wt = {"weights_time", {filters, memory}};
  const float state_scale =
      accumulator_scale(qin, wf.scale.empty() ? 0 : wf.scale[0], input_size) / 256;
  // Time weights within +-2^12 keep the int32 time sums of a saturated int16 state exact
  // (TFLM's sums would overflow otherwise, where a real-valued definition does not).
  const float time_scale = 1.0f / 4096;
  const std::vector<int16_t> time_q =
      testing::pattern<int16_t>(static_cast<size_t>(filters * memory), -4096, 4096, 43);
  std::vector<double> time;  // real values (real_values() reads int8 and int32 only)
  if (d == DT::f32) {
    wt.data = testing::bytes_of(testing::float_pattern(static_cast<size_t>(filters * memory), 43));
    time = real_values(wt);
  } else {
    wt = {"weights_time",         {filters, memory},
          tfl::TensorType::INT16, testing::bytes_of(time_q),
          {time_scale},           {0}};
    for (int16_t q : time_q) time.push_back(static_cast<double>(time_scale) * q);
  }
  TensorSpec b =
      d == DT::f32
          ? TensorSpec{"bias",
                       {units},
                       tfl::TensorType::FLOAT32,
                       testing::bytes_of(testing::float_pattern(static_cast<size_t>(units), 47))}
          : TensorSpec{"bias",
                       {units},
                       tfl::TensorType::INT32,
                       testing::bytes_of(
                           testing::pattern<int32_t>(static_cast<size_t>(units), -9000, 9000, 47)),
                       {state_scale * time_scale},
                       {0}};
  TensorSpec state =
      d == DT::f32
          ? TensorSpec{"state", {batch, filters * memory}}
          : TensorSpec{
                "state", {batch, filters * memory}, tfl::TensorType::INT16, {}, {state_scale}, {0}};
  state.is_variable = true;
  const float state_max = 32767 * state_scale;
  const Q qout{state_max * std::sqrt(static_cast<float>(rank * memory)) / 127 / 2, -5};
  OpSpec op{B::SVDF, {0, 1, 2, 3, 4}, {}};
  op.rank = rank;
  op.activation = a;
  Row r = row("Svdf " + std::string(dt_name(d)) + " " + std::to_string(batch) + "x" +
                  std::to_string(input_size) + " units" + std::to_string(units) + " rank" +
                  std::to_string(rank) + " memory" + std::to_string(memory) + act_name(a) +
                  q_text(d, qin),
              OpCode::Svdf,
              one_op({act(d, "x", {batch, input_size}, qin), wf, wt, b, state,
                      act(d, "y", {batch, units}, qout)},
                     op));
  r.why_not_armnn = "Arm NN 20.08's TfLite parser has no SVDF";
  const std::vector<double> feature = real_values(wf), offsets = real_values(b);
  const bool saturates = d == DT::i8;
  std::vector<double> frames(static_cast<size_t>(batch * filters * memory), 0.0);
  r.definition = [=](const std::vector<std::vector<float>>& x) mutable {
    std::vector<float> y;
    for (int32_t n = 0; n < batch; ++n) {
      double* mem = &frames[static_cast<size_t>(n * filters * memory)];
      for (int32_t f = 0; f < filters; ++f) {
        double v = 0;
        for (int32_t k = 0; k < input_size; ++k)
          v += feature[static_cast<size_t>(f * input_size + k)] *
               x[0][static_cast<size_t>(n * input_size + k)];
        if (saturates) v = std::clamp<double>(v, -32768.0 * state_scale, state_max);
        std::rotate(mem + f * memory, mem + f * memory + 1, mem + (f + 1) * memory);
        mem[f * memory + memory - 1] = v;
      }
      for (int32_t u = 0; u < units; ++u) {
        double v = offsets[static_cast<size_t>(u)];
        for (int32_t f = u * rank; f < (u + 1) * rank; ++f)
          for (int32_t m = 0; m < memory; ++m)
            v += time[static_cast<size_t>(f * memory + m)] * mem[f * memory + m];
        if (a == Act::RELU) v = std::max(v, 0.0);
        y.push_back(static_cast<float>(v));
      }
    }
    return y;
  };
  return r;
}

// Types QUANTIZE and DEQUANTIZE convert between: int16 is TFLite's 16x8 activation type.
enum class Conv { f32, i8, i16 };
const char* conv_name(Conv t) { return t == Conv::f32 ? "f32" : t == Conv::i8 ? "int8" : "int16"; }
TensorSpec conv_tensor(Conv t, const std::string& name, std::vector<int32_t> shape, Q q) {
  if (t == Conv::f32) return {name, std::move(shape)};
  return {name, std::move(shape), t == Conv::i8 ? tfl::TensorType::INT8 : tfl::TensorType::INT16,
          {},   {q.scale},        {q.zp}};
}

// QUANTIZE (from float32, or requantizing an int8 / int16 input) and DEQUANTIZE (to float32).
Row convert(Conv from, Conv to, std::vector<int32_t> shape, Q q_out, Q q_in = {}) {
  const bool quantize = to != Conv::f32;
  std::string name = std::string(quantize ? "Quantize " : "Dequantize ") + conv_name(from) +
                     " to " + conv_name(to) + " " + shape_text(shape);
  if (from != Conv::f32) name += q_text(DT::i8, q_in);
  if (to != Conv::f32) name += q_text(DT::i8, q_out);
  return row(name, quantize ? OpCode::Quantize : OpCode::Dequantize,
             one_op({conv_tensor(from, "x", shape, q_in), conv_tensor(to, "y", shape, q_out)},
                    {quantize ? B::QUANTIZE : B::DEQUANTIZE, {0}, {}}));
}
Row quantize(std::vector<int32_t> shape, Q q) { return convert(Conv::f32, Conv::i8, shape, q); }
Row dequantize(std::vector<int32_t> shape, Q q) {
  return convert(Conv::i8, Conv::f32, shape, {}, q);
}

// --- the table ------------------------------------------------------------------------

// Adding a row is one line: a builder above (or a new one beside them) with the case's
// shapes and parameters, once per dtype it supports.
std::vector<Row> table() {
  const Window k3{3, 3, 1, 1, tfl::Padding::VALID}, k3_same_s2{3, 3, 2, 1, tfl::Padding::SAME},
      k3_dilated{3, 3, 1, 2, tfl::Padding::VALID}, k1{1, 1, 1, 1, tfl::Padding::VALID},
      k5x2_s3_same{5, 2, 3, 1, tfl::Padding::SAME}, k2_s2{2, 2, 2, 1, tfl::Padding::VALID},
      k3_s2_same{3, 3, 2, 1, tfl::Padding::SAME};
  const Q q_low{0.05f, -128}, q_high{0.05f, 127}, q_tiny{1e-4f, 3}, q_huge{20.0f, -7};
  std::vector<Row> t;
  for (DT d : {DT::i8, DT::f32}) {
    t.push_back(conv(d, {1, 5, 5, 3}, 4, k3));
    t.push_back(conv(d, {1, 7, 6, 2}, 3, k3_same_s2, Act::RELU));
    t.push_back(conv(d, {1, 9, 9, 2}, 2, k3_dilated, Act::RELU6));
    t.push_back(conv(d, {2, 4, 4, 5}, 7, k1, Act::NONE, q_low));
    t.push_back(conv(d, {1, 8, 7, 3}, 2, k5x2_s3_same, Act::RELU6, q_high));
    t.push_back(conv(d, {1, 6, 5, 3}, 3, k3_s2_same, Act::RELU_N1_TO_1, {0.02f, 0}));
    t.push_back(conv(d, {1, 3, 3, 8}, 5, k3, Act::NONE, q_huge));
    t.push_back(depthwise(d, {1, 6, 6, 4}, 1, k3));
    t.push_back(depthwise(d, {1, 7, 5, 3}, 2, k3_same_s2, Act::RELU6, q_low));
    t.push_back(depthwise(d, {1, 9, 9, 2}, 1, k3_dilated, Act::RELU, q_tiny));
    t.push_back(depthwise(d, {1, 4, 5, 2}, 3, k1, Act::NONE, q_high));
    t.push_back(fully_connected(d, {1, 13}, 5));
    t.push_back(fully_connected(d, {3, 8}, 7, Act::RELU, q_high));
    t.push_back(fully_connected(d, {1, 33}, 1, Act::NONE, q_huge));
    t.push_back(pool(B::AVERAGE_POOL_2D, d, {1, 6, 6, 3}, k2_s2));
    t.push_back(pool(B::AVERAGE_POOL_2D, d, {1, 7, 5, 2}, k3_s2_same, Act::RELU, q_low));
    t.push_back(pool(B::AVERAGE_POOL_2D, d, {1, 5, 5, 1}, k5x2_s3_same, Act::NONE, q_high));
    t.push_back(pool(B::MAX_POOL_2D, d, {1, 6, 6, 3}, k2_s2));
    t.push_back(pool(B::MAX_POOL_2D, d, {1, 7, 5, 2}, k3_s2_same, Act::RELU6, q_high));
    t.push_back(pool(B::MAX_POOL_2D, d, {2, 5, 5, 3}, k5x2_s3_same, Act::NONE, q_low));
    t.push_back(binary(kAdd, d, {1, 4, 4, 3}, {1, 4, 4, 3}));
    t.push_back(binary(kAdd, d, {1, 3, 5, 2}, {1, 1, 1, 2}, Act::RELU, q_low, {0.02f, 5}));
    t.push_back(binary(kAdd, d, {2, 3}, {3}, Act::NONE, q_tiny, q_huge, {20.0f, 0}));
    t.push_back(binary(kSub, d, {1, 4, 3}, {1, 4, 3}, Act::NONE, q_high, q_low));
    t.push_back(binary(kSub, d, {2, 1, 3}, {1, 4, 1}, Act::RELU6));
    t.push_back(binary(kMul, d, {1, 4, 4, 3}, {1, 4, 4, 3}, Act::NONE, {}, {}, {0.01f, -5}));
    t.push_back(binary(kMul, d, {1, 3, 5, 2}, {2}, Act::RELU, q_low, q_high, {0.2f, -128}));
    t.push_back(binary(kMul, d, {5}, {1}, Act::NONE, q_tiny, q_huge, {0.05f, 2}));
    t.push_back(binary(kMaximum, d, {1, 3, 4}, {1, 3, 4}, Act::NONE, {}, {}, {}));
    t.push_back(binary(kMaximum, d, {2, 3}, {1, 3}, Act::NONE, q_low, q_low, q_low));
    t.push_back(binary(kMinimum, d, {1, 3, 4}, {1, 3, 4}, Act::NONE, {}, {}, {}));
    t.push_back(binary(kMinimum, d, {4, 1}, {1, 5}, Act::NONE, q_high, q_high, q_high));
    t.push_back(
        binary(kSquaredDifference, d, {1, 3, 4}, {1, 3, 4}, Act::NONE, {}, {}, {0.2f, -128}));
    t.push_back(
        binary(kSquaredDifference, d, {2, 3}, {3}, Act::NONE, q_low, q_high, {10.0f, -100}));
    t.push_back(unary(kRelu, d, {1, 3, 5}, {0.05f, 10}, {0.05f, -128}));
    t.push_back(unary(kRelu6, d, {2, 7}, {0.1f, -20}, {6.0f / 255, -128}));
    t.push_back(unary(kReluN1To1, d, {11}, {0.02f, 0}, {2.0f / 255, 0}));
    t.push_back(unary(kLogistic, d, {1, 16}, {0.1f, 0}, {1.0f / 256, -128}));
    // Our int8 Logistic refuses input scales of 16 and more (Q4.27 range). From 8 on, its
    // saturation radius rounds to 0 and x = 0 saturates to 0 instead of 0.5, as in TFLite
    // (reference_integer_ops::Logistic tests input <= -radius): scale 2 is the coarsest
    // scale it gets right.
    t.push_back(unary(kLogistic, d, {3, 5}, {2.0f, -7}, {1.0f / 256, -128}));
    t.push_back(unary(kTanh, d, {1, 16}, {0.05f, -3}, {1.0f / 128, 0}));
    t.push_back(unary(kTanh, d, {2, 9}, q_tiny, {1.0f / 128, 0}));
    t.push_back(unary(kSoftmax, d, {1, 10}, {0.1f, 0}, {1.0f / 256, -128}, 1.0f));
    t.push_back(unary(kSoftmax, d, {3, 7}, q_high, {1.0f / 256, -128}, 0.5f));
    t.push_back(unary(kLeakyRelu, d, {1, 12}, {0.05f, 0}, {0.05f, 0}, 0.2f));
    t.push_back(unary(kLeakyRelu, d, {2, 5}, q_low, {0.03f, 100}, 0.01f));
    const Q q_log_softmax{16.0f / 256, 127};  // TFLite's int8 output
    t.push_back(unary(kLogSoftmax, d, {1, 10}, {0.1f, 0}, q_log_softmax));
    t.push_back(unary(kLogSoftmax, d, {3, 7}, q_high, q_log_softmax));
    t.push_back(unary(kLogSoftmax, d, {2, 1, 33}, q_huge, q_log_softmax));
    t.push_back(unary(kLogSoftmax, d, {4, 5}, q_tiny, q_log_softmax));
    t.push_back(concatenation(d, {{1, 2, 3}, {1, 4, 3}}, 1));
    t.push_back(concatenation(d, {{2, 3}, {2, 1}, {2, 5}}, -1, q_low));
    t.push_back(concatenation(d, {{1, 2, 2, 1}, {1, 2, 2, 3}}, 3, q_high));
    t.push_back(transpose(d, {1, 2, 3}, {0, 2, 1}));
    t.push_back(transpose(d, {2, 3, 4, 5}, {3, 1, 0, 2}, q_low));
    t.push_back(pad(d, {1, 3, 3, 2}, {0, 0, 1, 2, 2, 1, 0, 0}));
    t.push_back(pad(d, {2, 5}, {1, 0, 0, 3}, q_high));
    t.push_back(reshape(d, {1, 2, 3, 4}, {6, 4}));
    t.push_back(reshape(d, {5, 1}, {1, 5}, q_low));
    t.push_back(reduce(B::MEAN, d, {1, 4, 4, 3}, {1, 2}, true));
    t.push_back(reduce(B::MEAN, d, {1, 5, 3, 4}, {1, 2}, true, q_low, {0.03f, 20}));
    t.push_back(reduce(B::MEAN, d, {2, 3, 5}, {2}, false, q_low, {0.02f, 9}));
    t.push_back(reduce(B::MEAN, d, {1, 3, 2, 4}, {-1}, false, q_high, {0.05f, 127}));
    // The sums stay inside the output range: TFLite's int8 SUM (which reduce.cc follows)
    // casts to int8 without clamping, so an overflowing sum wraps modulo 256.
    t.push_back(reduce(B::SUM, d, {1, 4, 4, 3}, {1, 2}, true, {}, {1.0f, 0}));
    t.push_back(reduce(B::SUM, d, {2, 3, 5}, {0, 2}, false, q_low, {1.0f, -128}));
    // ReduceMax keeps the input's quantization (TFLite requires it).
    t.push_back(reduce(B::REDUCE_MAX, d, {1, 4, 4, 3}, {1, 2}, true));
    t.push_back(reduce(B::REDUCE_MAX, d, {2, 3, 5}, {-1}, false, q_low, q_low));
    t.push_back(reduce(B::REDUCE_MAX, d, {2, 3, 5}, {0, 2}, true, q_high, q_high));
    t.push_back(unary_math(B::EXP, d, {1, 16}, {0.02f, 0}, {0.05f, -128}));
    t.push_back(unary_math(B::EXP, d, {2, 7}, q_low, {1.0f, -128}));
    t.push_back(unary_math(B::LOG, d, {1, 16}, {0.05f, -128}, {0.05f, 60}));
    t.push_back(unary_math(B::LOG, d, {3, 5}, {0.1f, -20}, {0.02f, 0}));
    t.push_back(unary_math(B::SQRT, d, {3, 5}, {0.1f, -100}, {0.02f, -128}));
    t.push_back(unary_math(B::RSQRT, d, {1, 16}, {0.02f, -128}, {0.03f, -128}));
    t.push_back(unary_math(B::RSQRT, d, {2, 5}, {1.0f, -128}, {0.004f, -128}));
    t.push_back(unary_math(B::ABS, d, {1, 16}, {0.05f, 10}, {0.05f, -128}));
    t.push_back(unary_math(B::ABS, d, {2, 7}, q_huge, {10.0f, -128}));
    t.push_back(unary_math(B::NEG, d, {1, 12}, {0.05f, 3}, {0.05f, -3}));
    t.push_back(unary_math(B::ELU, d, {1, 16}, {0.05f, 0}, {0.05f, 0}));
    t.push_back(unary_math(B::ELU, d, {2, 9}, q_low, {0.03f, -100}));
    t.push_back(prelu(d, {1, 3, 4, 2}, {2}, {0.05f, 0}, {0.01f, 0}, {0.04f, 10}));
    t.push_back(prelu(d, {2, 5}, {2, 5}, q_low, {0.02f, 60}, {0.03f, -100}));
    t.push_back(prelu(d, {4, 1}, {1, 3}, q_high, {0.1f, -128}, {0.2f, 0}));
    t.push_back(mirror_pad(d, {1, 3, 4, 2}, {0, 0, 1, 2, 3, 1, 0, 0}, false));
    t.push_back(mirror_pad(d, {2, 5}, {2, 1, 0, 5}, true, q_low));
    t.push_back(mirror_pad(d, {3, 2, 2}, {1, 2, 2, 0, 1, 1}, true, q_high));
    t.push_back(gather(d, {5, 3}, {4, 0, 0, 2}, 0));
    t.push_back(gather(d, {2, 3, 4}, {3, 1}, -1, q_low));
    t.push_back(gather(d, {1, 4, 2, 3}, {2, 2, 0, 1, 3}, 1, q_high));
    const auto i32 = tfl::TensorType::INT32, i64 = tfl::TensorType::INT64;
    t.push_back(arg_min_max(B::ARG_MAX, d, {3, 7}, 1, i32));
    t.push_back(arg_min_max(B::ARG_MAX, d, {2, 5, 3}, 0, i64, q_tiny));
    t.push_back(arg_min_max(B::ARG_MAX, d, {1, 3, 4, 5}, -2, i32, q_huge));
    t.push_back(arg_min_max(B::ARG_MIN, d, {9}, 0, i64, q_low));
    t.push_back(arg_min_max(B::ARG_MIN, d, {2, 3, 1, 6}, 3, i32, q_high));
    t.push_back(arg_min_max(B::ARG_MIN, d, {4, 1, 3}, 1, i32));
    t.push_back(strided_slice(d, {1, 8}, {0, 1}, {1, 7}, {1, 2}));
    t.push_back(strided_slice(d, {2, 5, 6}, {1, 0, 2}, {2, 5, 6}, {1, 3, 1}, q_high));
    t.push_back(unary(kHardSwish, d, {1, 16}, {0.05f, 0}, {0.03f, -20}));
    t.push_back(unary(kHardSwish, d, {2, 9}, {0.1f, 0}, {0.06f, -100}));
    t.push_back(unary(kHardSwish, d, {3, 5}, q_low, {0.05f, -100}));
    t.push_back(split(d, {2, 6, 3}, 1, 3));
    t.push_back(split(d, {4, 5}, -2, 2, q_low));
    t.push_back(split(d, {1, 2, 3, 8}, 3, 4, q_high));
    t.push_back(split(d, {3, 7}, 1, 3, q_low, {2, 4, 1}));
    t.push_back(unpack(d, {3, 2, 4}, 0));
    t.push_back(unpack(d, {2, 3, 4}, -1, q_low));
    t.push_back(pack(d, {2, 3}, 3, 0));
    t.push_back(pack(d, {1, 4}, 2, -1, q_high));
    t.push_back(pack(d, {2, 2, 3}, 4, 1, q_low));
    for (B b : {B::RESIZE_NEAREST_NEIGHBOR, B::RESIZE_BILINEAR}) {
      t.push_back(resize(b, d, {1, 3, 4, 2}, {6, 8}));
      t.push_back(resize(b, d, {1, 5, 5, 1}, {3, 2}, {true, false}, q_high));
      t.push_back(resize(b, d, {1, 2, 3, 2}, {5, 7}, {true, false}, q_low));
      t.push_back(resize(b, d, {2, 4, 3, 3}, {7, 5}, {false, true}, q_low));
      t.push_back(resize(b, d, {1, 6, 7, 2}, {4, 3}, {false, true}, {0.02f, 5}));
    }
    t.push_back(transpose_conv(d, {1, 3, 3, 2}, 3, {3, 3, 2, 1, tfl::Padding::VALID}, false));
    t.push_back(transpose_conv(d, {1, 4, 3, 3}, 2, {3, 3, 1, 1, tfl::Padding::SAME}, false,
                               Act::NONE, q_low));
    t.push_back(transpose_conv(d, {2, 2, 3, 1}, 4, k2_s2, false, Act::NONE, q_high));
    t.push_back(transpose_conv(d, {1, 3, 4, 2}, 3, k3_s2_same, true, Act::RELU));
    t.push_back(transpose_conv(d, {1, 2, 2, 3}, 2, k5x2_s3_same, true, Act::RELU6, q_high));
    t.push_back(transpose_conv(d, {1, 3, 2, 4}, 5, k3, true, Act::NONE, q_huge));
    t.push_back(svdf(d, 1, 7, 3, 2, 5, Act::NONE, q_high));
    t.push_back(svdf(d, 2, 12, 4, 1, 3, Act::RELU, q_huge));
  }
  // LSTM: float32 rows; the int8 and int16 LSTM is checked bit for bit against TFLM's integer
  // arithmetic in compiler/ops/lstm_integer_test.cc (Arm NN cannot parse the op).
  testing::LstmConfig lstm_a;
  lstm_a.batch = 2;
  lstm_a.projected = 3;
  lstm_a.peephole = true;
  lstm_a.time_major = true;
  t.push_back(lstm(lstm_a));
  testing::LstmConfig lstm_b;
  lstm_b.steps = 5;
  lstm_b.features = 7;
  lstm_b.cifg = true;
  lstm_b.cell_clip = 0.5f;
  lstm_b.seed = 9;
  t.push_back(lstm(lstm_b));
  t.push_back(binary(kDiv, DT::f32, {1, 4, 3}, {1, 4, 3}));
  t.push_back(binary(kDiv, DT::f32, {2, 1, 3}, {1, 4, 1}, Act::RELU6));
  t.push_back(binary(kDiv, DT::f32, {5}, {1}, Act::RELU));
  // int8 DIV (TFLite's per-element reciprocal): extreme zero points, broadcasting, a divisor
  // scale far above the dividend's, saturating quotients.
  t.push_back(binary(kDiv, DT::i8, {1, 4, 3}, {1, 4, 3}, Act::NONE, {0.05f, 3}, {0.02f, -128},
                     {0.25f, -10}));
  t.push_back(binary(kDiv, DT::i8, {2, 1, 3}, {1, 4, 1}, Act::RELU6, {0.02f, -5}, {0.1f, 127},
                     {0.05f, -128}));
  t.push_back(binary(kDiv, DT::i8, {5}, {1}, Act::RELU, {1e-3f, 0}, {20.0f, 10}, {1e-5f, -100}));
  t.push_back(binary(kDiv, DT::i8, {3, 1}, {1, 7}, Act::NONE, {4.0f, 127}, {1e-4f, 0}, {20.0f, 0}));
  t.push_back(quantize({1, 9}, {0.05f, 0}));
  t.push_back(quantize({2, 7}, q_low));
  t.push_back(quantize({3, 4}, q_tiny));
  t.push_back(quantize({1, 5}, q_huge));
  t.push_back(dequantize({1, 9}, {0.05f, 0}));
  t.push_back(dequantize({2, 7}, q_high));
  t.push_back(dequantize({3, 4}, q_tiny));
  {
    using T = tfl::TensorType;
    t.push_back(cast(T::FLOAT32, T::INT32, {3, 7}));
    t.push_back(cast(T::FLOAT32, T::INT8, {2, 9}));
    t.push_back(cast(T::FLOAT32, T::INT16, {11}));
    t.push_back(cast(T::INT8, T::FLOAT32, {1, 2, 5}));
    t.push_back(cast(T::INT8, T::INT32, {6}));
    t.push_back(cast(T::INT16, T::INT8, {4, 3}));
    t.push_back(cast(T::INT16, T::FLOAT32, {2, 2, 2, 3}));
    t.push_back(cast(T::INT8, T::INT16, {5, 1}));
  }
  // 16x8: int16 activations, symmetric (zero point 0) as TFLite's converter makes them.
  t.push_back(int16_twin(reshape(DT::i8, {1, 2, 3, 4}, {6, 4}, {3.0f / 32768, 0})));
  t.push_back(int16_twin(reshape(DT::i8, {2, 5}, {10}, {1e-4f, 0})));
  t.push_back(int16_twin(concatenation(DT::i8, {{1, 2, 3}, {1, 4, 3}}, 1, {3.0f / 32768, 0})));
  t.push_back(int16_twin(concatenation(DT::i8, {{2, 3}, {2, 1}, {2, 5}}, -1, {1e-4f, 0})));
  t.push_back(convert(Conv::f32, Conv::i16, {2, 9}, {4.0f / 32768, 0}));
  t.push_back(convert(Conv::f32, Conv::i16, {1, 7}, {1e-5f, 0}));
  t.push_back(convert(Conv::i8, Conv::i16, {3, 5}, {3.0f / 32768, 0}, {0.05f, -20}));
  t.push_back(convert(Conv::i16, Conv::i8, {2, 6}, {0.04f, 7}, {5.0f / 32768, 0}));
  t.push_back(convert(Conv::i16, Conv::i16, {1, 8}, {2.0f / 32768, 0}, {7.0f / 32768, 0}));
  t.push_back(convert(Conv::i16, Conv::f32, {2, 5}, {}, {3.0f / 32768, 0}));
  t.push_back(int16x8_layer(conv(DT::i8, {1, 5, 5, 3}, 4, k3)));
  t.push_back(int16x8_layer(conv(DT::i8, {1, 7, 6, 2}, 3, k3_same_s2, Act::RELU, q_tiny)));
  t.push_back(int16x8_layer(conv(DT::i8, {2, 8, 7, 3}, 2, k5x2_s3_same, Act::RELU6, q_huge)));
  t.push_back(int16x8_layer(conv(DT::i8, {1, 9, 9, 2}, 5, k3_dilated, Act::RELU_N1_TO_1)));
  t.push_back(int16x8_layer(depthwise(DT::i8, {1, 6, 6, 4}, 1, k3)));
  t.push_back(int16x8_layer(depthwise(DT::i8, {1, 7, 5, 3}, 2, k3_same_s2, Act::RELU6, q_huge)));
  t.push_back(int16x8_layer(depthwise(DT::i8, {2, 9, 9, 2}, 3, k3_dilated, Act::RELU, q_tiny)));
  t.push_back(int16x8_layer(fully_connected(DT::i8, {1, 13}, 5)));
  t.push_back(int16x8_layer(fully_connected(DT::i8, {3, 8}, 7, Act::RELU, q_huge)));
  t.push_back(int16x8_layer(fully_connected(DT::i8, {2, 33}, 3, Act::NONE, q_tiny)));
  t.push_back(int16x8_layer(transpose_conv(DT::i8, {1, 3, 3, 2}, 3, k3_s2_same, true)));
  t.push_back(
      int16x8_layer(transpose_conv(DT::i8, {2, 2, 3, 1}, 4, k2_s2, true, Act::RELU, q_huge)));
  // The 16x8 layout, max and RELU ops: int8 rows' forms on int16 values, at the converter's
  // 1/32768 * k scales and at extremes (tiny, huge).
  const Q h{3.0f / 32768, 0}, h_tiny{1e-5f, 0}, h_huge{20.0f, 0};
  t.push_back(int16_twin(transpose(DT::i8, {2, 3, 4, 5}, {3, 1, 0, 2}, h)));
  t.push_back(int16_twin(transpose(DT::i8, {1, 2, 3}, {0, 2, 1}, h_huge)));
  t.push_back(int16_twin(pad(DT::i8, {1, 3, 3, 2}, {0, 0, 1, 2, 2, 1, 0, 0}, h)));
  t.push_back(int16_twin(pad(DT::i8, {2, 5}, {1, 0, 0, 3}, h_tiny)));
  t.push_back(int16_twin(mirror_pad(DT::i8, {1, 3, 4, 2}, {0, 0, 1, 2, 3, 1, 0, 0}, false, h)));
  t.push_back(int16_twin(mirror_pad(DT::i8, {3, 2, 2}, {1, 2, 2, 0, 1, 1}, true, h_huge)));
  t.push_back(int16_twin(strided_slice(DT::i8, {1, 8}, {0, 1}, {1, 7}, {1, 2}, h_tiny)));
  t.push_back(int16_twin(strided_slice(DT::i8, {2, 5, 6}, {1, 0, 2}, {2, 5, 6}, {1, 3, 1}, h)));
  t.push_back(int16_twin(split(DT::i8, {1, 2, 3, 8}, 3, 4, h)));
  t.push_back(int16_twin(split(DT::i8, {3, 7}, 1, 3, h_huge, {2, 4, 1})));
  t.push_back(int16_twin(unpack(DT::i8, {2, 3, 4}, -1, h)));
  t.push_back(int16_twin(pack(DT::i8, {2, 2, 3}, 4, 1, h_tiny)));
  t.push_back(int16_twin(gather(DT::i8, {5, 3}, {4, 0, 0, 2}, 0, h)));
  t.push_back(int16_twin(gather(DT::i8, {1, 4, 2, 3}, {2, 2, 0, 1, 3}, 1, h_huge)));
  t.push_back(int16_twin(
      resize(B::RESIZE_NEAREST_NEIGHBOR, DT::i8, {1, 2, 3, 2}, {5, 7}, {true, false}, h)));
  t.push_back(int16_twin(
      resize(B::RESIZE_NEAREST_NEIGHBOR, DT::i8, {2, 4, 3, 3}, {7, 5}, {false, true}, h_tiny)));
  // 16x8 RESIZE_BILINEAR: TFLite's 10-bit fixed-point interpolation on int16 values, at
  // scales the 10 bits hold exactly. (Elsewhere, as with half_pixel_centers, its source
  // coordinate is off by up to a few 1/1024 of a pixel: ~100 int16 steps from the float
  // definition; compiler/ops/resize_test.cc checks those bit for bit against TFLite's
  // arithmetic.)
  t.push_back(int16_twin(resize(B::RESIZE_BILINEAR, DT::i8, {1, 3, 4, 2}, {6, 8}, {}, h)));
  t.push_back(
      int16_twin(resize(B::RESIZE_BILINEAR, DT::i8, {1, 5, 5, 1}, {3, 2}, {true, false}, h_huge)));
  t.push_back(int16_twin(resize(B::RESIZE_BILINEAR, DT::i8, {2, 4, 3, 3}, {8, 6}, {}, h_tiny)));
  t.push_back(int16_twin(binary(kMaximum, DT::i8, {2, 3}, {1, 3}, Act::NONE, h, h, h)));
  t.push_back(int16_twin(
      binary(kMaximum, DT::i8, {1, 3, 4}, {1, 3, 4}, Act::NONE, h_tiny, h_tiny, h_tiny)));
  t.push_back(
      int16_twin(binary(kMinimum, DT::i8, {4, 1}, {1, 5}, Act::NONE, h_huge, h_huge, h_huge)));
  t.push_back(int16_twin(pool(B::MAX_POOL_2D, DT::i8, {1, 6, 6, 3}, k2_s2, Act::NONE, h)));
  // A scale whose int16 range (+-32) reaches past RELU6's bound.
  t.push_back(int16_twin(
      pool(B::MAX_POOL_2D, DT::i8, {1, 7, 5, 2}, k3_s2_same, Act::RELU6, {1.0f / 1024, 0})));
  t.push_back(
      int16_twin(pool(B::MAX_POOL_2D, DT::i8, {2, 5, 5, 3}, k5x2_s3_same, Act::RELU, h_huge)));
  // 16x8 AVERAGE_POOL_2D: TFLite's rounding division of the int32 window sums.
  t.push_back(int16_twin(pool(B::AVERAGE_POOL_2D, DT::i8, {1, 6, 6, 3}, k2_s2, Act::NONE, h)));
  t.push_back(int16_twin(
      pool(B::AVERAGE_POOL_2D, DT::i8, {1, 7, 5, 2}, k3_s2_same, Act::RELU6, {1.0f / 1024, 0})));
  t.push_back(
      int16_twin(pool(B::AVERAGE_POOL_2D, DT::i8, {2, 5, 5, 3}, k5x2_s3_same, Act::RELU, h_huge)));
  t.push_back(int16_twin(reduce(B::REDUCE_MAX, DT::i8, {1, 4, 4, 3}, {1, 2}, true, h, h)));
  t.push_back(int16_twin(reduce(B::REDUCE_MAX, DT::i8, {2, 3, 5}, {-1}, false, h_tiny, h_tiny)));
  // 16x8 MEAN (TFLM's three int16 paths: over axes {1, 2} with keep_dims, quantized alike,
  // requantized) and SUM.
  t.push_back(
      int16_twin(reduce(B::MEAN, DT::i8, {1, 4, 4, 3}, {1, 2}, true, h, {1.0f / 32768, 0})));
  t.push_back(int16_twin(reduce(B::MEAN, DT::i8, {2, 3, 5}, {2}, false, h_tiny, h_tiny)));
  t.push_back(int16_twin(reduce(B::MEAN, DT::i8, {3, 4, 2}, {0, 2}, true, h_huge, {5.0f, 0})));
  t.push_back(int16_twin(reduce(B::SUM, DT::i8, {2, 3, 4}, {1}, false, h, {24.0f / 32768, 0})));
  t.push_back(int16_twin(unary(kRelu, DT::i8, {1, 3, 5}, {4.0f / 32768, 0}, {3.0f / 32768, 0})));
  t.push_back(int16_twin(unary(kRelu, DT::i8, {2, 9}, h_tiny, h_huge)));
  t.push_back(int16_twin(unary(kRelu6, DT::i8, {2, 7}, {8.0f / 32768, 0}, {6.0f / 32768, 0})));
  t.push_back(int16_twin(unary(kRelu6, DT::i8, {3, 5}, {1.0f / 1024, 0}, {1.0f / 2048, 0})));
  t.push_back(int16_twin(unary(kReluN1To1, DT::i8, {11}, {2.0f / 32768, 0}, {1.0f / 32768, 0})));
  // 16x8 MUL: int16 products rescaled as int8's, broadcasting.
  t.push_back(int16_twin(
      binary(kMul, DT::i8, {1, 4, 4, 3}, {1, 4, 4, 3}, Act::NONE, h, h, {9.0f / 32768, 0})));
  t.push_back(int16_twin(binary(kMul, DT::i8, {1, 3, 5, 2}, {2}, Act::RELU, {1.0f / 1024, 0},
                                {1.0f / 4096, 0}, {1.0f / 2048, 0})));
  // 16x8 ADD and SUB: both inputs rescaled to a shared 2^-15 fixed point, broadcasting,
  // fused activations, tiny against huge scales.
  t.push_back(int16_twin(
      binary(kAdd, DT::i8, {1, 4, 4, 3}, {1, 4, 4, 3}, Act::NONE, h, h, {5.0f / 32768, 0})));
  t.push_back(int16_twin(binary(kAdd, DT::i8, {1, 3, 5, 2}, {1, 1, 1, 2}, Act::RELU,
                                {1.0f / 1024, 0}, {1.0f / 4096, 0}, {1.0f / 2048, 0})));
  t.push_back(int16_twin(binary(kAdd, DT::i8, {2, 3}, {3}, Act::NONE, h_tiny, h_huge, h_huge)));
  t.push_back(
      int16_twin(binary(kSub, DT::i8, {1, 4, 3}, {1, 4, 3}, Act::NONE, h, {1.0f / 4096, 0}, h)));
  t.push_back(int16_twin(binary(kSub, DT::i8, {2, 1, 3}, {1, 4, 1}, Act::RELU6, {1.0f / 1024, 0},
                                {1.0f / 1024, 0}, {1.0f / 2048, 0})));
  // 16x8 SQUARED_DIFFERENCE (TFLite Micro's: no left shift, the squares rescaled to the
  // output; output multipliers 2^-15, see integer_lsb).
  t.push_back(int16_twin(binary(kSquaredDifference, DT::i8, {1, 4, 3}, {1, 4, 3}, Act::NONE, h, h,
                                {36.0f / 32768, 0})));
  t.push_back(int16_twin(binary(kSquaredDifference, DT::i8, {2, 1, 3}, {1, 4, 1}, Act::NONE,
                                {1.0f / 1024, 0}, {1.0f / 4096, 0}, {0.125f, 0})));
  // 16x8 LOGISTIC and TANH: TFLite's int16 table kernels, output scale 2^-15; the input
  // scales its power-of-two case takes (2^-12, Tanh 2^-11), general and extreme ones.
  const Q q15{1.0f / 32768, 0};
  t.push_back(int16_twin(unary(kLogistic, DT::i8, {1, 16}, {1.0f / 4096, 0}, q15)));
  t.push_back(int16_twin(unary(kLogistic, DT::i8, {3, 5}, h, q15)));
  t.push_back(int16_twin(unary(kLogistic, DT::i8, {2, 7}, {4.0f, 0}, q15)));
  t.push_back(int16_twin(unary(kTanh, DT::i8, {2, 9}, {1.0f / 2048, 0}, q15)));
  t.push_back(int16_twin(unary(kTanh, DT::i8, {11}, h_tiny, q15)));
  t.push_back(int16_twin(unary(kTanh, DT::i8, {1, 3, 5}, {1e-3f, 0}, q15)));
  // 16x8 SOFTMAX: TFLite's int16 kernel (its exp and 1 / (1 + x) tables made by the
  // compiler), output scale 2^-15; logit-like, fine and coarse input scales, betas. TFLite's
  // exp table ends at -10: row differences beyond it count as exp(-10) (1.5 steps each), so
  // rows of wider ranges differ from a float softmax by up to that per element (the 1e-3,
  // beta 0.5 row measured 12 steps); bit-exactness at such scales is
  // softmax_int16_exact_test.cc's.
  t.push_back(int16_twin(unary(kSoftmax, DT::i8, {2, 10}, {5.0f / 32768, 0}, q15, 1.0f)));
  t.push_back(int16_twin(unary(kSoftmax, DT::i8, {3, 7}, {1e-4f, 0}, q15, 0.5f)));
  t.push_back(int16_twin(unary(kSoftmax, DT::i8, {1, 2, 33}, h, q15, 2.0f)));
  // 16x8 LEAKY_RELU: QuantizeLeakyRelu<int16_t>, alphas below and above one.
  t.push_back(int16_twin(unary(kLeakyRelu, DT::i8, {2, 9}, h, {2.0f / 32768, 0}, 0.2f)));
  t.push_back(int16_twin(unary(kLeakyRelu, DT::i8, {1, 3, 5}, h_tiny, {1e-4f, 0}, 1.5f)));
  // 16x8 PRELU: int16 x and output, int8 alpha broadcast against x.
  t.push_back(int16_prelu(prelu(DT::i8, {1, 3, 4, 2}, {2}, h, {0.01f, 5}, {2.0f / 32768, 0})));
  t.push_back(int16_prelu(prelu(DT::i8, {2, 5}, {2, 5}, h_tiny, {0.02f, -128}, h_tiny)));
  // 16x8 EXP (TFLite's interpolated 513-entry table, over inputs where exp bends little per
  // table step), SQRT (TFLite's float quotient, truncated), ABS (|x| rescaled). LOG and
  // RSQRT have no row: their tables interpolate straight across the pole at 0, thousands of
  // steps from the function next to it, as TFLite's do; unary_math_int16_exact_test.cc
  // checks them bit for bit.
  t.push_back(
      int16_twin(unary_math(B::EXP, DT::i8, {1, 16}, {2.0f / 32768, 0}, {8.0f / 32768, 0})));
  t.push_back(int16_twin(unary_math(B::EXP, DT::i8, {3, 5}, {1e-4f, 0}, {1.0f / 1024, 0})));
  t.push_back(int16_twin(unary_math(B::SQRT, DT::i8, {3, 5}, {0.01f, 0}, {1.0f / 1024, 0})));
  t.push_back(int16_twin(unary_math(B::SQRT, DT::i8, {2, 7}, h_huge, {1.0f / 64, 0})));
  t.push_back(int16_twin(unary_math(B::ABS, DT::i8, {2, 7}, h, h)));
  t.push_back(int16_twin(unary_math(B::ABS, DT::i8, {1, 16}, {1e-3f, 0}, {7e-4f, 0})));
  // 16x8 DIV (TFLite's DivElementwise<int16_t>): broadcasting, fused activations, quotient
  // multipliers from below one to thousands. The int8 rows' definition (a real 0 divisor
  // clamps +-infinity) holds for int16 alike.
  for (Row r : {binary(kDiv, DT::i8, {1, 4, 3}, {1, 4, 3}, Act::NONE, h, h, {1.0f / 1024, 0}),
                binary(kDiv, DT::i8, {2, 1, 3}, {1, 4, 1}, Act::RELU6, {1.0f / 1024, 0},
                       {1.0f / 4096, 0}, {1.0f / 2048, 0}),
                binary(kDiv, DT::i8, {5}, {1}, Act::RELU, h_huge, {1e-3f, 0}, {5.0f, 0})}) {
    r = int16_twin(r);
    r.why_not_armnn = "int16 DIV by a real 0 is undefined in TFLite (it stops)";
    t.push_back(r);
  }
  return t;
}

// --- inputs ---------------------------------------------------------------------------

// The cases every row runs: random values, then extremes.
const char* const kCases[] = {"random",    "random'", "all min", "all max",
                              "alternate", "zeros",   "small"};
constexpr uint32_t kNumCases = sizeof kCases / sizeof kCases[0];

// Case `c` of an integer model input (int8 or int16 raw values T).
template <typename T>
std::vector<uint8_t> integer_case(const TensorSpec& t, uint32_t c, size_t input,
                                  std::mt19937& rng) {
  const auto n = static_cast<size_t>(count(t.shape));
  constexpr int lo = std::numeric_limits<T>::min(), hi = std::numeric_limits<T>::max();
  std::vector<T> v(n);
  for (size_t i = 0; i < n; ++i) {
    // Second inputs run the alternating pattern out of phase, so min meets max.
    const bool odd = (i + input) % 2 == 1;
    switch (c) {
      case 0:
      case 1:
        v[i] = static_cast<T>(std::uniform_int_distribution<int>(lo, hi)(rng));
        break;
      case 2:
        v[i] = lo;
        break;
      case 3:
        v[i] = hi;
        break;
      case 4:
        v[i] = odd ? hi : lo;
        break;
      case 5:
        v[i] = 0;
        break;
      default:  // near the zero point
        v[i] = static_cast<T>(std::clamp<int64_t>(
            t.zero_point[0] + std::uniform_int_distribution<int>(-2, 2)(rng), lo, hi));
    }
  }
  return testing::bytes_of(v);
}

// Case `c` of model input `input` (its element count `n`): int8 / int16 raw values or float32.
std::vector<uint8_t> case_values(const TensorSpec& t, uint32_t c, size_t input, uint32_t seed) {
  const auto n = static_cast<size_t>(count(t.shape));
  std::mt19937 rng(seed * 7919u + c * 31u + static_cast<uint32_t>(input));
  if (t.type == tfl::TensorType::INT8) return integer_case<int8_t>(t, c, input, rng);
  if (t.type == tfl::TensorType::INT16) return integer_case<int16_t>(t, c, input, rng);
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) {
    const bool odd = (i + input) % 2 == 1;
    switch (c) {
      case 0:
      case 1:
        v[i] = std::uniform_real_distribution<float>(-4.0f, 4.0f)(rng);
        break;
      case 2:
        v[i] = -1000.0f;
        break;
      case 3:
        v[i] = 1000.0f;
        break;
      case 4:
        v[i] = odd ? 1000.0f : -1000.0f;
        break;
      case 5:
        v[i] = 0.0f;
        break;
      default:
        v[i] = std::uniform_real_distribution<float>(-1e-5f, 1e-5f)(rng);
    }
  }
  return testing::bytes_of(v);
}

// --- running --------------------------------------------------------------------------

constexpr int kSkip = 77;

struct Prepared {
  std::vector<std::vector<uint8_t>> inputs;  // per model input: all cases
  std::string model_path, output_path;
};

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// Runs tests/armnn_run.py --batch on `manifest`; its exit status, and its stderr.
int run_armnn_batch(const std::string& manifest, const std::string& status, std::string& message) {
  const std::string log = ::testing::TempDir() + "kernel_table_armnn.log";
  const std::string cmd =
      "/usr/bin/python3 " +
      quoted((fs::path(TINYFORGE_SOURCE_DIR) / "tests" / "armnn_run.py").string()) + " --batch " +
      quoted(manifest) + " " + quoted(status) + " 2> " + quoted(log);
  const int code = std::system(cmd.c_str());
  if (fs::exists(log)) {
    const std::vector<uint8_t> text = io::read_file(log);
    message.assign(text.begin(), text.end());
  }
  if (code == -1 || !WIFEXITED(code)) return -1;
  return WEXITSTATUS(code);
}

// Indices (ARG_MAX's INT32 or INT64 output, which runs as int32): compared exactly.
bool is_index(const TensorSpec& t) {
  return t.type == tfl::TensorType::INT32 || t.type == tfl::TensorType::INT64;
}

bool is_integer(const TensorSpec& t) {
  return t.type == tfl::TensorType::INT8 || t.type == tfl::TensorType::INT16 || is_index(t);
}

// The stored value of an int8, int16 or index element.
int32_t stored(const TensorSpec& t, const uint8_t* p) {
  if (t.type == tfl::TensorType::INT8) return static_cast<int8_t>(*p);
  if (is_index(t)) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  int16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

float dequantized(const TensorSpec& t, const uint8_t* p) {
  if (is_index(t)) return static_cast<float>(stored(t, p));
  if (is_integer(t)) return t.scale[0] * static_cast<float>(stored(t, p) - t.zero_point[0]);
  float v;
  std::memcpy(&v, p, 4);
  return v;
}

size_t element_bytes(const TensorSpec& t) {
  return t.type == tfl::TensorType::INT8 ? 1 : t.type == tfl::TensorType::INT16 ? 2 : 4;
}

// Compares our outputs with the reference's: raw bytes, each output for every case, one
// output after the other (armnn_run.py's layout). Returns the worst |diff| (LSB for int8,
// relative for float32) and fails beyond the row's tolerance.
double compare(const Row& r, const std::vector<uint8_t>& ours, const std::vector<uint8_t>& theirs,
               const std::string& reference) {
  size_t expected_size = 0;
  for (int32_t o : r.model.outputs) {
    const TensorSpec& out = r.model.tensors[static_cast<size_t>(o)];
    expected_size += static_cast<size_t>(count(out.shape)) * element_bytes(out) * kNumCases;
  }
  EXPECT_EQ(ours.size(), expected_size) << r.name;
  EXPECT_EQ(theirs.size(), expected_size) << r.name << ": " << reference << " output size";
  if (theirs.size() != expected_size || ours.size() != expected_size) return 1e9;
  double worst = 0;
  size_t base = 0;  // where this output's cases start
  for (size_t o = 0; o < r.model.outputs.size(); ++o) {
    const TensorSpec& out = r.model.tensors[static_cast<size_t>(r.model.outputs[o])];
    const bool int8 = is_integer(out);  // int8 or int16: differences in stored steps (LSB)
    const size_t bytes = element_bytes(out);
    const auto per_case = static_cast<size_t>(count(out.shape));
    for (uint32_t c = 0; c < kNumCases; ++c) {
      double magnitude = 0, worst_case = 0;
      size_t at = 0;
      for (size_t i = 0; i < per_case; ++i) {
        const size_t k = base + (c * per_case + i) * bytes;
        const double theirs_value = dequantized(out, &theirs[k]);
        const double diff = int8 ? std::abs(stored(out, &ours[k]) - stored(out, &theirs[k]))
                                 : std::abs(dequantized(out, &ours[k]) - theirs_value);
        magnitude = std::max(magnitude, std::abs(theirs_value));
        if (diff > worst_case) worst_case = diff, at = i;
      }
      if (!int8 && magnitude > 0) worst_case /= magnitude;
      const double allowed = int8 ? integer_lsb(r.op, out) : kFloatRelative;
      const size_t k = base + (c * per_case + at) * bytes;
      EXPECT_LE(worst_case, allowed)
          << r.name << ", output " << o << ", case " << kCases[c] << ", element " << at << ": ours "
          << dequantized(out, &ours[k]) << ", " << reference << " " << dequantized(out, &theirs[k]);
      worst = std::max(worst, worst_case);
    }
    base += per_case * bytes * kNumCases;
  }
  return worst;
}

// The row's definition on every case: the expected output bytes in compare()'s layout
// (int8 requantized: round half away from zero, as TFLite's float quantize does, clamp).
std::vector<uint8_t> by_definition(const Row& r, const std::vector<std::vector<uint8_t>>& inputs) {
  std::vector<std::vector<uint8_t>> outputs(r.model.outputs.size());
  for (uint32_t c = 0; c < kNumCases; ++c) {
    std::vector<std::vector<float>> real;
    for (size_t i = 0; i < r.model.inputs.size(); ++i) {
      const TensorSpec& t = r.model.tensors[static_cast<size_t>(r.model.inputs[i])];
      const size_t size = static_cast<size_t>(count(t.shape)) * element_bytes(t);
      std::vector<float> v;
      for (size_t k = 0; k < size; k += element_bytes(t))
        v.push_back(dequantized(t, &inputs[i][c * size + k]));
      real.push_back(std::move(v));
    }
    const std::vector<float> values = r.definition(real);
    size_t next = 0;
    for (size_t o = 0; o < outputs.size(); ++o) {
      const TensorSpec& out = r.model.tensors[static_cast<size_t>(r.model.outputs[o])];
      for (int32_t i = 0; i < count(out.shape) && next < values.size(); ++i) {
        const float v = values[next++];
        if (out.type == tfl::TensorType::INT8) {
          const float q = std::round(v / out.scale[0]) + static_cast<float>(out.zero_point[0]);
          outputs[o].push_back(
              static_cast<uint8_t>(static_cast<int8_t>(std::clamp(q, -128.0f, 127.0f))));
        } else if (out.type == tfl::TensorType::INT16) {
          const float q = std::round(v / out.scale[0]) + static_cast<float>(out.zero_point[0]);
          const auto i16 = static_cast<int16_t>(std::clamp(q, -32768.0f, 32767.0f));
          const std::vector<uint8_t> b = testing::bytes_of(std::vector<int16_t>{i16});
          outputs[o].insert(outputs[o].end(), b.begin(), b.end());
        } else if (is_index(out)) {
          const std::vector<uint8_t> b =
              testing::bytes_of(std::vector<int32_t>{static_cast<int32_t>(std::lround(v))});
          outputs[o].insert(outputs[o].end(), b.begin(), b.end());
        } else {
          const std::vector<uint8_t> b = testing::bytes_of(std::vector<float>{v});
          outputs[o].insert(outputs[o].end(), b.begin(), b.end());
        }
      }
    }
    EXPECT_EQ(next, values.size()) << r.name << ": the definition's output size";
  }
  std::vector<uint8_t> bytes;
  for (const std::vector<uint8_t>& o : outputs) bytes.insert(bytes.end(), o.begin(), o.end());
  return bytes;
}

// Our reference kernels on every case: each output for every case, one after the other.
std::vector<uint8_t> run_ours(const ir::Graph& g, const std::vector<std::vector<uint8_t>>& inputs) {
  host::HostRunner runner(emit::write_plan_blob(plan::build_plan(g)), g.source);
  std::vector<uint8_t> bytes;
  for (const std::vector<uint8_t>& o : runner.run(inputs, kNumCases))
    bytes.insert(bytes.end(), o.begin(), o.end());
  return bytes;
}

TEST(KernelTable, EveryOpHasARow) {
  // The DSP twins are checked bit for bit against these reference kernels by
  // plan/dsp_twins_test.cc: the ops its families select are exempt here.
  std::set<OpCode> exempt;
  for (const plan::twin_cases::Family& family : plan::twin_cases::kFamilies) {
    plan::twin_cases::Rng rng(1);
    exempt.insert(family.make(rng).expected);
  }
  // The planner forms ConvChainDsp from Conv2DDsp and AddDsp ops; plan/conv_chain_test.cc
  // checks it bit for bit against them.
  exempt.insert(OpCode::ConvChainDsp);
  // The signal-library ops (custom ops on int16 / uint32 / uint64 tensors, which Arm NN
  // does not run and which have no real-valued definition) are checked bit for bit against
  // the library's arithmetic by compiler/ops/signal_test.cc.
  for (uint16_t i = 0; i < kNumOps; ++i) {
    const auto& reads = ops::host_op(static_cast<OpCode>(i)).tflite_reads;
    if (!reads.empty() && std::all_of(reads.begin(), reads.end(), [](const ops::TfliteRead& r) {
          return r.builtin == ops::kTfliteCustom;
        }))
      exempt.insert(static_cast<OpCode>(i));
  }
  // A row covers its op, and the 16x8 twin kernel selection picks for it.
  std::set<OpCode> covered;
  for (const Row& r : table()) {
    covered.insert(r.op);
    const std::vector<uint8_t> file = testing::build_tflite(r.model);
    if (const auto twin = plan::int16_twin(import_tflite(file.data(), file.size(), r.name), 0))
      covered.insert(*twin);
  }
  for (uint16_t i = 0; i < kNumOps; ++i) {
    const auto op = static_cast<OpCode>(i);
    EXPECT_TRUE(covered.count(op) || exempt.count(op))
        << op_info(op).name << ": no row in tests/kernel_table_test.cc's table()";
  }
}

TEST(KernelTable, ReferenceKernelsAgainstArmnnCpuRef) {
  const std::vector<Row> rows = table();
  const std::string dir = ::testing::TempDir() + "kernel_table/";
  fs::create_directories(dir);
  std::vector<Prepared> prepared(rows.size());
  std::ofstream manifest(dir + "manifest.txt");
  size_t to_armnn = 0;
  for (size_t r = 0; r < rows.size(); ++r) {
    const Row& row = rows[r];
    Prepared& p = prepared[r];
    const std::string stem = dir + "row" + std::to_string(r);
    p.model_path = stem + ".tflite";
    p.output_path = stem + ".armnn.bin";
    io::write_file(p.model_path, testing::build_tflite(row.model));
    std::string line = p.model_path + "\t" + p.output_path;
    for (size_t i = 0; i < row.model.inputs.size(); ++i) {
      const TensorSpec& t = row.model.tensors[static_cast<size_t>(row.model.inputs[i])];
      std::vector<uint8_t> all;
      for (uint32_t c = 0; c < kNumCases; ++c) {
        const std::vector<uint8_t> v = case_values(t, c, i, static_cast<uint32_t>(r));
        all.insert(all.end(), v.begin(), v.end());
      }
      const std::string path = stem + ".in" + std::to_string(i) + ".bin";
      io::write_file(path, all);
      line += "\t" + t.name + "=" + path;
      p.inputs.push_back(std::move(all));
    }
    if (!row.definition) {
      manifest << line << "\n";
      ++to_armnn;
    }
  }
  manifest.close();

  std::vector<std::string> status;
  std::string message;
  const int code = run_armnn_batch(dir + "manifest.txt", dir + "status.txt", message);
  const bool armnn = code == 0;
  if (armnn) {
    std::ifstream in(dir + "status.txt");
    for (std::string line; std::getline(in, line);) status.push_back(line);
    ASSERT_EQ(status.size(), to_armnn) << "armnn_run.py --batch: " << message;
  } else {
    ASSERT_EQ(code, kSkip) << "armnn_run.py --batch failed: " << message;
  }

  size_t next_status = 0;
  for (size_t r = 0; r < rows.size(); ++r) {
    const Row& row = rows[r];
    SCOPED_TRACE(row.name);
    const std::vector<uint8_t> file = io::read_file(prepared[r].model_path);
    std::vector<uint8_t> ours;
    try {
      const ir::Graph g = import_tflite(file.data(), file.size(), row.name);
      ASSERT_EQ(g.nodes.size(), 1u);
      ASSERT_EQ(g.nodes[0].op, row.op) << "the row's model is not one " << op_info(row.op).name;
      ours = run_ours(g, prepared[r].inputs);
    } catch (const tinyforge::Error& e) {
      ADD_FAILURE() << "tinyforge refuses the row: " << e.what();
      continue;
    }
    std::string reference = "definition";
    std::vector<uint8_t> theirs;
    if (row.definition) {
      std::printf("[ ktable   ] %s: against the definition: %s\n", row.name.c_str(),
                  row.why_not_armnn.c_str());
      theirs = by_definition(row, prepared[r].inputs);
    } else {
      if (!armnn) continue;
      const std::string& s = status[next_status++];
      if (s != "ok") {
        ADD_FAILURE() << "Arm NN cannot run this row (" << s << "); give it a definition";
        continue;
      }
      reference = "Arm NN";
      theirs = io::read_file(prepared[r].output_path);
    }
    const double worst = compare(row, ours, theirs, reference);
    const bool integer = is_integer(row.model.tensors[static_cast<size_t>(row.model.outputs[0])]);
    std::printf("[ ktable   ] %-70s %-10s max |diff| %s %.3g\n", row.name.c_str(),
                reference.c_str(), integer ? "LSB" : "rel", worst);
  }
  if (!armnn) TINYFORGE_SKIP_MISSING("Arm NN unusable, its rows not checked: " << message);
}

}  // namespace
}  // namespace tinyforge
