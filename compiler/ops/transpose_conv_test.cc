// TransposeConv against TFLite's reference arithmetic written out here in its own scatter
// form (reference_ops / reference_integer_ops::TransposeConv: an output-sized accumulator,
// input elements scattered in order, then bias, requantization, clamp): the kernel gathers
// instead, and must give the same bytes, float32 included (same summation order). Also the
// invariants the TFLite reader refuses and TFLite's padding rule.
#include "ops/transpose_conv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "emit/plan_writer.h"
#include "host/host_runner.h"
#include "import/tflite/import_tflite.h"
#include "int16x8_reference.h"
#include "ir/error.h"
#include "ir_test_graphs.h"
#include "plan/build_plan.h"
#include "plan/quant_math.h"
#include "tflite_model_builder.h"

namespace tinyforge {
namespace {

using testing::GraphBuilder;

struct Geometry {
  std::vector<int32_t> in;  // [N,H,W,IC]
  int32_t oc, kh, kw, stride_h, stride_w, pad_top, pad_left, oh, ow;
};

// TFLite's MultiplyByQuantizedMultiplier (kernels/internal/common.h): a rounding doubling
// high multiply, then a rounding right shift (ties away from zero).
int32_t tflite_requantize(int32_t x, int32_t multiplier, int32_t shift) {
  const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  const int64_t shifted = static_cast<int64_t>(x) * (int64_t{1} << left);
  const auto a = static_cast<int32_t>(
      std::clamp<int64_t>(shifted, INT32_MIN, INT32_MAX));  // inputs here never saturate
  int32_t high;
  if (a == INT32_MIN && multiplier == INT32_MIN) {
    high = INT32_MAX;
  } else {
    const int64_t ab = static_cast<int64_t>(a) * multiplier;
    const int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    high = static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
  }
  const int32_t mask = static_cast<int32_t>((int64_t{1} << right) - 1);
  const int32_t remainder = high & mask;
  const int32_t threshold = (mask >> 1) + (high < 0 ? 1 : 0);
  return (high >> right) + (remainder > threshold ? 1 : 0);
}

// Scatter of every input element into an accumulator per output element, as TFLite does.
template <typename Acc, typename T, typename W>
std::vector<Acc> scatter(const Geometry& s, const std::vector<T>& x, const std::vector<W>& w,
                         int32_t input_offset) {
  const int32_t n = s.in[0], h = s.in[1], wd = s.in[2], ic = s.in[3];
  std::vector<Acc> acc(static_cast<size_t>(n * s.oh * s.ow * s.oc), Acc{0});
  for (int32_t b = 0; b < n; ++b)
    for (int32_t iy = 0; iy < h; ++iy)
      for (int32_t ix = 0; ix < wd; ++ix)
        for (int32_t c = 0; c < ic; ++c)
          for (int32_t ky = 0; ky < s.kh; ++ky)
            for (int32_t kx = 0; kx < s.kw; ++kx)
              for (int32_t o = 0; o < s.oc; ++o) {
                const int32_t oy = iy * s.stride_h - s.pad_top + ky;
                const int32_t ox = ix * s.stride_w - s.pad_left + kx;
                if (oy < 0 || oy >= s.oh || ox < 0 || ox >= s.ow) continue;
                const Acc xv = static_cast<Acc>(x[((b * h + iy) * wd + ix) * ic + c]) +
                               static_cast<Acc>(input_offset);
                acc[((b * s.oh + oy) * s.ow + ox) * s.oc + o] +=
                    xv * static_cast<Acc>(w[((o * s.kh + ky) * s.kw + kx) * ic + c]);
              }
  return acc;
}

template <typename T>
std::vector<T> from_bytes(const std::vector<uint8_t>& b) {
  std::vector<T> v(b.size() / sizeof(T));
  std::memcpy(v.data(), b.data(), b.size());
  return v;
}
template <typename T>
std::vector<uint8_t> to_bytes(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// float32, int8 or (`int16`) 16x8: int16 activations with zero point 0, int8 weights, the
// int64 bias as imported (int32 values).
ir::Graph graph(const Geometry& s, bool int8, bool with_bias, ir::Activation act,
                bool int16 = false) {
  GraphBuilder b(41);
  const int x = b.activation("x", s.in);
  const int y = b.activation("y", {s.in[0], s.oh, s.ow, s.oc});
  const int w = b.weights("w", {s.oc, s.kh, s.kw, s.in[3]}, 1.0f);
  int bias = with_bias ? b.weights("b", {s.oc}, 0.5f) : -1;
  if (int8 || int16) {
    ir::Tensor& wt = b.g.tensors[static_cast<size_t>(w)];
    std::vector<uint8_t> q(static_cast<size_t>(wt.elements()));
    std::mt19937 rng(7);
    for (uint8_t& v : q)
      v = static_cast<uint8_t>(std::uniform_int_distribution<int>(-127, 127)(rng));
    wt.type = DType::i8;
    wt.data = q;
    for (int32_t c = 0; c < s.oc; ++c) wt.quant.scale.push_back(0.01f * static_cast<float>(1 + c));
    wt.quant.zero_point.assign(static_cast<size_t>(s.oc), 0);
    wt.quant.axis = 0;
    const DType act_type = int16 ? DType::i16 : DType::i8;
    b.g.tensors[static_cast<size_t>(x)].type = act_type;
    b.g.tensors[static_cast<size_t>(x)].quant =
        int16 ? ir::Quant{{1.0f / 4096}, {0}, 0} : ir::Quant{{0.03f}, {-9}, 0};
    b.g.tensors[static_cast<size_t>(y)].type = act_type;
    b.g.tensors[static_cast<size_t>(y)].quant =
        int16 ? ir::Quant{{1.0f / 512}, {0}, 0} : ir::Quant{{0.2f}, {5}, 0};
    if (with_bias) {
      ir::Tensor& bt = b.g.tensors[static_cast<size_t>(bias)];
      std::vector<int32_t> v(static_cast<size_t>(s.oc));
      for (int32_t c = 0; c < s.oc; ++c)
        v[static_cast<size_t>(c)] = (int16 ? 99991 : 997) * (c % 3 - 1);
      bt.type = DType::i32;
      bt.data = to_bytes(v);
    }
  }
  ops::TransposeConvAttrs a;
  a.stride_h = s.stride_h;
  a.stride_w = s.stride_w;
  a.pad_top = s.pad_top;
  a.pad_left = s.pad_left;
  a.activation = act;
  b.node(OpCode::TransposeConv, {x, w, bias}, y, a);
  b.g.inputs = {x};
  b.g.outputs = {y};
  b.g.source = "transpose_conv";
  b.g.check();
  return b.g;
}

std::vector<uint8_t> run(const ir::Graph& g, const std::vector<uint8_t>& input) {
  host::HostRunner runner(emit::write_plan_blob(plan::build_plan(g)), g.source);
  return runner.run({input}, 1).at(0);
}

const Geometry kGeometries[] = {
    {{1, 3, 3, 2}, 3, 3, 3, 2, 2, 0, 0, 7, 7},   // VALID, stride 2
    {{2, 4, 3, 3}, 2, 3, 2, 1, 2, 1, 0, 4, 6},   // SAME-like, mixed strides
    {{1, 2, 2, 4}, 5, 5, 2, 3, 3, 2, 1, 6, 6},   // padding cutting both ends
    {{1, 3, 2, 1}, 2, 2, 2, 3, 1, 0, 0, 10, 5},  // output past the reach (bias only)
};

TEST(TransposeConv, Float32MatchesTfliteScatterBitForBit) {
  for (const Geometry& s : kGeometries) {
    const ir::Graph g = graph(s, false, true, ir::Activation::relu6);
    std::mt19937 rng(3);
    std::vector<float> x(static_cast<size_t>(s.in[0] * s.in[1] * s.in[2] * s.in[3]));
    for (float& v : x) v = std::uniform_real_distribution<float>(-4.0f, 4.0f)(rng);
    const ir::Tensor& wt = g.tensors[static_cast<size_t>(g.nodes[0].inputs[1])];
    const ir::Tensor& bt = g.tensors[static_cast<size_t>(g.nodes[0].inputs[2])];
    const std::vector<float> w = from_bytes<float>(wt.data), bias = from_bytes<float>(bt.data);
    std::vector<float> want = scatter<float>(s, x, w, 0);
    for (size_t i = 0; i < want.size(); ++i)
      want[i] = std::min(std::max(want[i] + bias[i % static_cast<size_t>(s.oc)], 0.0f), 6.0f);
    EXPECT_EQ(run(g, to_bytes(x)), to_bytes(want)) << "output " << s.oh << "x" << s.ow;
  }
}

TEST(TransposeConv, Int8MatchesTfliteReferenceOnRandomAndExtremeInputs) {
  for (const Geometry& s : kGeometries) {
    for (bool with_bias : {false, true}) {
      const ir::Graph g = graph(s, true, with_bias, ir::Activation::none);
      const ir::Tensor& wt = g.tensors[static_cast<size_t>(g.nodes[0].inputs[1])];
      const std::vector<int8_t> w = from_bytes<int8_t>(wt.data);
      std::vector<int32_t> bias(static_cast<size_t>(s.oc), 0);
      if (with_bias)
        bias = from_bytes<int32_t>(g.tensors[static_cast<size_t>(g.nodes[0].inputs[2])].data);
      const size_t n = static_cast<size_t>(s.in[0] * s.in[1] * s.in[2] * s.in[3]);
      std::mt19937 rng(5);
      for (int pattern = 0; pattern < 4; ++pattern) {
        std::vector<int8_t> x(n);
        for (size_t i = 0; i < n; ++i)
          x[i] = pattern == 0
                     ? static_cast<int8_t>(std::uniform_int_distribution<int>(-128, 127)(rng))
                 : pattern == 1 ? int8_t{-128}
                 : pattern == 2 ? int8_t{127}
                                : static_cast<int8_t>(i % 2 ? 127 : -128);
        const std::vector<int32_t> acc = scatter<int32_t>(s, x, w, 9);
        std::vector<int8_t> want;
        for (size_t i = 0; i < acc.size(); ++i) {
          const auto c = static_cast<size_t>(i % static_cast<size_t>(s.oc));
          const plan::QuantizedMultiplier m =
              plan::quantize_multiplier(0.03 * wt.quant.scale[c] / 0.2);
          const int32_t v = tflite_requantize(acc[i] + bias[c], m.multiplier, m.shift) + 5;
          want.push_back(static_cast<int8_t>(std::clamp(v, -128, 127)));
        }
        EXPECT_EQ(run(g, to_bytes(x)), to_bytes(want))
            << "output " << s.oh << "x" << s.ow << ", pattern " << pattern << ", bias "
            << with_bias;
      }
    }
  }
}

// 16x8 (TFLite's int16 TransposeConv overload, integer_ops/transpose_conv.h): the int64
// scatter sums plus the bias, MultiplyByQuantizedMultiplier's int64 form
// (tests/int16x8_reference.h), clamped to the fused activation's int16 range.
TEST(TransposeConv, Int16x8MatchesTfliteReferenceOnRandomAndExtremeInputs) {
  namespace ref = testing::int16x8;
  for (const Geometry& s : kGeometries) {
    for (ir::Activation act : {ir::Activation::none, ir::Activation::relu}) {
      const ir::Graph g = graph(s, false, true, act, /*int16=*/true);
      const ir::Tensor& wt = g.tensors[static_cast<size_t>(g.nodes[0].inputs[1])];
      const std::vector<int8_t> w = from_bytes<int8_t>(wt.data);
      const std::vector<int32_t> bias =
          from_bytes<int32_t>(g.tensors[static_cast<size_t>(g.nodes[0].inputs[2])].data);
      const size_t n = static_cast<size_t>(s.in[0] * s.in[1] * s.in[2] * s.in[3]);
      for (int pattern = 0; pattern < 4; ++pattern) {
        std::vector<int16_t> x = ref::values(n, static_cast<uint32_t>(pattern + 1));
        if (pattern == 1) x.assign(n, -32768);
        if (pattern == 2) x.assign(n, 32767);
        const std::vector<int64_t> acc = scatter<int64_t>(s, x, w, 0);
        std::vector<int16_t> want;
        for (size_t i = 0; i < acc.size(); ++i) {
          const auto c = static_cast<size_t>(i % static_cast<size_t>(s.oc));
          const ref::Multiplier m =
              ref::quantize_multiplier(static_cast<double>(1.0f / 4096) * wt.quant.scale[c] /
                                       static_cast<double>(1.0f / 512));
          const int32_t v = ref::requantize(acc[i] + bias[c], m);
          want.push_back(
              static_cast<int16_t>(std::clamp(v, act == ir::Activation::relu ? 0 : -32768, 32767)));
        }
        EXPECT_EQ(run(g, to_bytes(x)), to_bytes(want))
            << "output " << s.oh << "x" << s.ow << ", pattern " << pattern;
      }
    }
  }
}

TEST(TransposeConv, TflitePaddingRule) {
  // SAME: a conv from the output back to the input covers (ceil(out / s) - 1) * s + k;
  // half the excess over the output, rounded down, comes first. VALID pads nothing.
  EXPECT_EQ(ops::tflite_transpose_pad(6, 3, 2, ir::Padding::same), 0);  // covers 7
  EXPECT_EQ(ops::tflite_transpose_pad(5, 3, 2, ir::Padding::same), 1);  // covers 7
  EXPECT_EQ(ops::tflite_transpose_pad(8, 5, 1, ir::Padding::same), 2);
  EXPECT_EQ(ops::tflite_transpose_pad(7, 3, 2, ir::Padding::valid), 0);
  EXPECT_EQ(ops::tflite_transpose_pad(2, 5, 3, ir::Padding::valid), 0);
}

using testing::ModelSpec;
using testing::OpSpec;
using testing::TensorSpec;

// output_shape, weights, input, output of a float TRANSPOSE_CONV; `edit` breaks one thing.
std::string import_error(const std::function<void(ModelSpec&)>& edit) {
  ModelSpec m;
  m.tensors = {
      {"output_shape",
       {4},
       tfl::TensorType::INT32,
       testing::bytes_of(std::vector<int32_t>{1, 7, 7, 3})},
      {"w", {3, 3, 3, 2}, tfl::TensorType::FLOAT32, testing::bytes_of(testing::float_pattern(54))},
      {"x", {1, 3, 3, 2}},
      {"y", {1, 7, 7, 3}}};
  OpSpec op{tfl::BuiltinOperator::TRANSPOSE_CONV, {0, 1, 2}, {3}};
  op.stride_h = op.stride_w = 2;
  m.ops = {op};
  m.inputs = {2};
  m.outputs = {3};
  edit(m);
  const std::vector<uint8_t> file = testing::build_tflite(m);
  try {
    import_tflite(file.data(), file.size(), "m.tflite");
  } catch (const tinyforge::Error& e) {
    return e.what();
  }
  return "";
}

TEST(TransposeConv, ReaderRefusesBrokenInvariants) {
  EXPECT_EQ(import_error([](ModelSpec&) {}), "");
  EXPECT_NE(import_error([](ModelSpec& m) {
              m.tensors[0].data = testing::bytes_of(std::vector<int32_t>{1, 8, 7, 3});
            }).find("expected [1,8,7,3]"),
            std::string::npos);
  EXPECT_NE(import_error([](ModelSpec& m) { m.tensors[0].data.clear(); }).find("not constant"),
            std::string::npos);
  EXPECT_NE(import_error([](ModelSpec& m) {
              m.tensors[1].shape = {3, 3, 3, 1};
              m.tensors[1].data.resize(27 * 4);
            }).find("input channels"),
            std::string::npos);
  EXPECT_NE(import_error([](ModelSpec& m) { m.ops[0].stride_h = 0; }).find("stride_h is 0"),
            std::string::npos);
}

}  // namespace
}  // namespace tinyforge
