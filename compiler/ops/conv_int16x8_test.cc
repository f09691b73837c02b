// The 16x8 conv family (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED with int16 activations,
// int8 weights and an INT64 bias) end to end: a TFLite model from the test builder is
// imported, planned (as the *Int16 twins) and run on the host, and every output element is
// compared bit for bit with a reference written here from TFLite's published arithmetic:
// - reference_integer_ops::ConvPerChannel / DepthwiseConvPerChannel / FullyConnected for
//   int16 input (tensorflow/lite/kernels/internal/reference/integer_ops/{conv,
//   depthwise_conv,fully_connected}.h): int64 sum of input * filter over the window (taps
//   outside the input skipped), plus the bias, requantized, clamped;
// - MultiplyByQuantizedMultiplier's int64 overload, QuantizeMultiplier and
//   CalculateActivationRangeQuantized as tests/int16x8_reference.h writes them; multipliers
//   per channel from double(input) * double(filter) / double(output), except a per-tensor
//   FULLY_CONNECTED, whose two scales are multiplied in float first
//   (micro/kernels/fully_connected_common.cc).
// Shapes, strides, dilations, padding, activations and scales are random (seeded), scales
// from tiny to an effective scale above 1, inputs spanning int16 with its extremes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "emit/plan_writer.h"
#include "host/host_runner.h"
#include "import/tflite/import_tflite.h"
#include "int16x8_reference.h"
#include "ir/error.h"
#include "plan/build_plan.h"
#include "plan/select_kernels.h"
#include "runtime/kernels/reference/fixed_point.h"
#include "tflite_model_builder.h"

namespace tinyforge {
namespace {

using testing::ModelSpec;
using testing::OpSpec;
using testing::TensorSpec;
using B = tfl::BuiltinOperator;
using Act = tfl::ActivationFunctionType;
using namespace testing::int16x8;

enum class Kind { conv, depthwise, fully_connected };

// One random 16x8 layer: the model and everything the reference needs.
struct Layer {
  Kind kind;
  std::vector<int32_t> in_shape, out_shape, w_shape;
  int32_t stride = 1, dilation = 1, pad_top = 0, pad_left = 0, multiplier = 1;
  float in_scale = 0, out_scale = 0;
  std::vector<float> w_scales;  // one, or one per output channel
  std::vector<int8_t> w;
  std::vector<int64_t> bias;
  Act act = Act::NONE;
  ModelSpec model;
};

// TFLite's SAME / VALID window: output size and padding before.
void window(int32_t in, int32_t k, int32_t stride, int32_t dilation, bool same, int32_t& out,
            int32_t& pad) {
  const int32_t effective = (k - 1) * dilation + 1;
  out = same ? (in + stride - 1) / stride : (in - effective) / stride + 1;
  pad = same ? std::max(0, (out - 1) * stride + effective - in) / 2 : 0;
}

Layer random_layer(Kind kind, uint32_t seed) {
  std::mt19937 rng(seed);
  Layer l;
  l.kind = kind;
  const float in_scales[] = {1e-5f, 3.0f / 32768, 1.0f / 256, 0.5f};
  l.in_scale = in_scales[pick(rng, 0, 3)];
  const Act acts[] = {Act::NONE, Act::RELU, Act::RELU6, Act::RELU_N1_TO_1};
  l.act = acts[pick(rng, 0, 3)];
  int32_t channels = 0, terms = 1;
  OpSpec op;
  if (kind == Kind::fully_connected) {
    const int32_t rows = pick(rng, 1, 3), depth = pick(rng, 1, 40);
    channels = pick(rng, 1, 9);
    terms = depth;
    l.in_shape = {rows, depth};
    l.out_shape = {rows, channels};
    l.w_shape = {channels, depth};
    op = OpSpec{B::FULLY_CONNECTED, {0, 1, 2}, {3}};
  } else {
    const int32_t k = pick(rng, 1, 3), ic = pick(rng, 1, 5);
    l.stride = pick(rng, 1, 2);
    l.dilation = pick(rng, 1, 2);
    const bool same = pick(rng, 0, 1) == 1;
    const int32_t effective = (k - 1) * l.dilation + 1;
    const int32_t h = pick(rng, effective, effective + 5), w = pick(rng, effective, effective + 5);
    int32_t oh, ow;
    window(h, k, l.stride, l.dilation, same, oh, l.pad_top);
    window(w, k, l.stride, l.dilation, same, ow, l.pad_left);
    if (kind == Kind::conv) {
      channels = pick(rng, 1, 6);
      l.w_shape = {channels, k, k, ic};
      terms = k * k * ic;
      op = OpSpec{B::CONV_2D, {0, 1, 2}, {3}};
    } else {
      l.multiplier = pick(rng, 1, 3);
      channels = ic * l.multiplier;
      l.w_shape = {1, k, k, channels};
      terms = k * k;
      op = OpSpec{B::DEPTHWISE_CONV_2D, {0, 1, 2}, {3}};
      op.depth_multiplier = l.multiplier;
    }
    l.in_shape = {pick(rng, 1, 2), h, w, ic};
    l.out_shape = {l.in_shape[0], oh, ow, channels};
    op.padding = same ? tfl::Padding::SAME : tfl::Padding::VALID;
    op.stride_h = op.stride_w = l.stride;
    op.dilation_h = op.dilation_w = l.dilation;
    op.filter_h = op.filter_w = k;
  }
  op.activation = l.act;
  const bool per_channel = kind != Kind::fully_connected || pick(rng, 0, 1) == 1;
  for (int32_t c = 0; c < (per_channel ? channels : 1); ++c)
    l.w_scales.push_back(0.002f * static_cast<float>(pick(rng, 1, 40)));
  int32_t n = 1;
  for (int32_t d : l.w_shape) n *= d;
  for (int32_t i = 0; i < n; ++i) l.w.push_back(static_cast<int8_t>(pick(rng, -127, 127)));
  // Output scale: a sum of `terms` products spread over int16, times 2^-3..2^6 so some
  // layers saturate and some have an effective scale above 1 (a left shift).
  const float spread = l.in_scale * l.w_scales[0] * 32767.0f * 127.0f *
                       std::sqrt(static_cast<float>(terms)) / 32767.0f;
  l.out_scale = spread * std::ldexp(1.0f, pick(rng, -3, 6)) / 8;
  if (l.in_scale * l.w_scales[0] / l.out_scale > 60) l.out_scale = l.in_scale * l.w_scales[0];
  for (int32_t c = 0; c < channels; ++c) l.bias.push_back(pick(rng, -(1 << 20), 1 << 20));
  std::vector<float> bias_scales;
  for (float s : l.w_scales) bias_scales.push_back(l.in_scale * s);
  const int32_t axis = kind == Kind::depthwise ? 3 : 0;
  l.model.tensors = {
      {"x", l.in_shape, tfl::TensorType::INT16, {}, {l.in_scale}, {0}},
      {"w", l.w_shape, tfl::TensorType::INT8, testing::bytes_of(l.w), l.w_scales,
       std::vector<int64_t>(l.w_scales.size(), 0), axis},
      {"b",
       {channels},
       tfl::TensorType::INT64,
       testing::bytes_of(l.bias),
       bias_scales,
       std::vector<int64_t>(bias_scales.size(), 0)},
      {"y", l.out_shape, tfl::TensorType::INT16, {}, {l.out_scale}, {0}},
  };
  l.model.ops = {op};
  l.model.inputs = {0};
  l.model.outputs = {3};
  return l;
}

std::vector<Multiplier> multipliers(const Layer& l) {
  const int32_t channels = l.out_shape.back();
  std::vector<Multiplier> m;
  for (int32_t c = 0; c < channels; ++c) {
    const float ws = l.w_scales[l.w_scales.size() == 1 ? 0 : static_cast<size_t>(c)];
    const double real =
        l.kind == Kind::fully_connected && l.w_scales.size() == 1
            ? static_cast<double>(l.in_scale * ws) / static_cast<double>(l.out_scale)
            : static_cast<double>(l.in_scale) * ws / static_cast<double>(l.out_scale);
    m.push_back(quantize_multiplier(real));
  }
  return m;
}

// The int64 accumulator of output element (n, y, x, c) or (row, c).
int64_t accumulate(const Layer& l, const std::vector<int16_t>& in, int32_t n, int32_t oy,
                   int32_t ox, int32_t c) {
  int64_t acc = 0;
  if (l.kind == Kind::fully_connected) {
    const int32_t depth = l.w_shape[1];
    for (int32_t i = 0; i < depth; ++i)
      acc +=
          int64_t{in[static_cast<size_t>(n * depth + i)]} * l.w[static_cast<size_t>(c * depth + i)];
    return acc;
  }
  const int32_t h = l.in_shape[1], w = l.in_shape[2], ic = l.in_shape[3];
  const int32_t kh = l.w_shape[1], kw = l.w_shape[2];
  for (int32_t ky = 0; ky < kh; ++ky)
    for (int32_t kx = 0; kx < kw; ++kx) {
      const int32_t iy = oy * l.stride - l.pad_top + ky * l.dilation;
      const int32_t ix = ox * l.stride - l.pad_left + kx * l.dilation;
      if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
      const int32_t base = ((n * h + iy) * w + ix) * ic;
      if (l.kind == Kind::conv) {
        for (int32_t i = 0; i < ic; ++i)
          acc += int64_t{in[static_cast<size_t>(base + i)]} *
                 l.w[static_cast<size_t>(((c * kh + ky) * kw + kx) * ic + i)];
      } else {
        const int32_t oc = l.out_shape[3];
        acc += int64_t{in[static_cast<size_t>(base + c / l.multiplier)]} *
               l.w[static_cast<size_t>((ky * kw + kx) * oc + c)];
      }
    }
  return acc;
}

std::vector<int16_t> reference(const Layer& l, const std::vector<int16_t>& in) {
  const std::vector<Multiplier> m = multipliers(l);
  const Range r = activation_range(l.act, l.out_scale);
  std::vector<int16_t> out;
  const int32_t channels = l.out_shape.back();
  const int32_t positions = count(l.out_shape) / channels;
  for (int32_t p = 0; p < positions; ++p)
    for (int32_t c = 0; c < channels; ++c) {
      int32_t n = p, oy = 0, ox = 0;
      if (l.kind != Kind::fully_connected) {
        ox = p % l.out_shape[2];
        oy = p / l.out_shape[2] % l.out_shape[1];
        n = p / (l.out_shape[2] * l.out_shape[1]);
      }
      const int64_t acc = accumulate(l, in, n, oy, ox, c) + l.bias[static_cast<size_t>(c)];
      const int32_t v = requantize(acc, m[static_cast<size_t>(c)]);
      out.push_back(static_cast<int16_t>(std::min(std::max(v, r.lo), r.hi)));
    }
  return out;
}

// Random int16 inputs, with the extremes of int16 in every third case.
std::vector<int16_t> inputs(const Layer& l, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int16_t> v(static_cast<size_t>(count(l.in_shape)));
  for (size_t i = 0; i < v.size(); ++i) {
    const int32_t x = seed % 3 == 0 ? (pick(rng, 0, 1) ? 32767 : -32768) : pick(rng, -32768, 32767);
    v[i] = static_cast<int16_t>(x);
  }
  return v;
}

OpCode twin_of(Kind k) {
  return k == Kind::conv        ? OpCode::Conv2DInt16
         : k == Kind::depthwise ? OpCode::DepthwiseConv2DInt16
                                : OpCode::FullyConnectedInt16;
}

void check_layers(Kind kind, uint32_t first_seed) {
  for (uint32_t seed = first_seed; seed < first_seed + 40; ++seed) {
    const Layer l = random_layer(kind, seed);
    SCOPED_TRACE("seed " + std::to_string(seed));
    const std::vector<uint8_t> file = testing::build_tflite(l.model);
    const ir::Graph g = import_tflite(file.data(), file.size(), "int16x8.tflite");
    const plan::Plan built = plan::build_plan(g);
    ASSERT_EQ(built.ops.size(), 1u);
    EXPECT_EQ(built.ops[0].op, twin_of(kind));
    host::HostRunner runner(emit::write_plan_blob(built), "int16x8.tflite");
    for (uint32_t c = 0; c < 3; ++c) {
      const std::vector<int16_t> x = inputs(l, seed * 3 + c);
      const std::vector<std::vector<uint8_t>> out = runner.run({testing::bytes_of(x)}, 1);
      const std::vector<int16_t> want = reference(l, x);
      ASSERT_EQ(out.at(0).size(), want.size() * 2);
      std::vector<int16_t> got(want.size());
      std::memcpy(got.data(), out[0].data(), out[0].size());
      for (size_t i = 0; i < want.size(); ++i)
        ASSERT_EQ(got[i], want[i]) << "element " << i << " of case " << c;
    }
  }
}

TEST(Int16x8Conv, Conv2DMatchesTfliteBitForBit) { check_layers(Kind::conv, 100); }
TEST(Int16x8Conv, DepthwiseConv2DMatchesTfliteBitForBit) { check_layers(Kind::depthwise, 200); }
TEST(Int16x8Conv, FullyConnectedMatchesTfliteBitForBit) {
  check_layers(Kind::fully_connected, 300);
}

// The 64-bit requantization: the runtime's against the reference above, at its edges (the
// largest multiplier saturating to 0x7FFF, ties, negative values, the shifts TFLite allows)
// and on random accumulators; and the reference itself on hand-worked values.
TEST(Int16x8Conv, RequantizationMatchesTheDefinition) {
  EXPECT_EQ(requantize(3, {1 << 30, -1}), 1);    // 3 * 2^14 / 2^16 = 0.75 -> 1
  EXPECT_EQ(requantize(-3, {1 << 30, -1}), -1);  // -0.75 -> -1
  EXPECT_EQ(requantize(2, {1 << 30, -1}), 1);    // 0.5 rounds up
  EXPECT_EQ(requantize(-2, {1 << 30, -1}), 0);   // -0.5 rounds up too (floor of x + 1/2)
  EXPECT_EQ(requantize(100, {1 << 30, 7}), 6400);
  EXPECT_EQ(requantize(int64_t{1} << 20, {0x7FFFFFFF, 0}), 32 * 0x7FFF);
  std::mt19937_64 rng(5);
  const int64_t edges[] = {0,
                           1,
                           -1,
                           2,
                           -2,
                           int64_t{1} << 40,
                           -(int64_t{1} << 40),
                           (int64_t{1} << 47) - 1,
                           -(int64_t{1} << 47)};
  const int32_t multipliers[] = {1 << 30, 0x7FFEFFFF, 0x7FFF0000, 0x7FFFFFFF, 1518500250};
  for (int shift = -31; shift <= 7; ++shift)
    for (int32_t q : multipliers) {
      for (int64_t x : edges)
        EXPECT_EQ(fixed::multiply_by_quantized_multiplier_64(x, q, shift),
                  requantize(x, {q, shift}))
            << x << " " << q << " " << shift;
      for (int i = 0; i < 50; ++i) {
        const auto x = static_cast<int64_t>(rng() % (uint64_t{1} << 40)) - (int64_t{1} << 39);
        ASSERT_EQ(fixed::multiply_by_quantized_multiplier_64(x, q, shift),
                  requantize(x, {q, shift}))
            << x << " " << q << " " << shift;
      }
    }
}

// A 16x8 layer TFLite runs with a 32-bit accumulator (no bias, or an INT32 one) is refused
// by name, not run with other arithmetic.
TEST(Int16x8Conv, WithoutAnInt64BiasIsRefused) {
  for (bool drop_bias : {true, false}) {
    Layer l = random_layer(Kind::fully_connected, 7);
    if (drop_bias) {
      l.model.ops[0].inputs = {0, 1, -1};
    } else {
      TensorSpec& b = l.model.tensors[2];
      std::vector<int32_t> narrow(l.bias.begin(), l.bias.end());
      b.type = tfl::TensorType::INT32;
      b.data = testing::bytes_of(narrow);
    }
    const std::vector<uint8_t> file = testing::build_tflite(l.model);
    try {
      import_tflite(file.data(), file.size(), "int16x8.tflite");
      ADD_FAILURE() << "imported a 16x8 FULLY_CONNECTED without an INT64 bias";
    } catch (const tinyforge::Error& e) {
      EXPECT_NE(std::string(e.what()).find("without an INT64 bias"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace tinyforge
