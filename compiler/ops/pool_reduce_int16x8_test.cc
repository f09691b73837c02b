// The 16x8 AVERAGE_POOL_2D, MEAN and SUM (int16 activations, zero point 0) end to end: a
// TFLite model from the test builder is imported, planned and run on the host, and every
// output element is compared bit for bit with a reference written here from TFLite's
// published arithmetic:
// - AVERAGE_POOL_2D (reference_integer_ops::AveragePool for int16_t, tensorflow/lite/kernels/
//   internal/reference/integer_ops/pooling.h; input and output quantized alike): the window
//   clipped to the input, the int32 sum of its values divided by the number of taps,
//   rounding half away from zero ((acc +- count / 2) / count), clamped to
//   CalculateActivationRangeQuantized's bounds;
// - MEAN and SUM as TFLite Micro's EvalMeanHelper / EvalSumHelper take them for int16
//   (micro/kernels/reduce_common.cc): a 4-D MEAN over axes {1, 2} with keep_dims by
//   reference_integer_ops::Mean (the int32 sum times QuantizeMultiplier(s_in / s_out), divided
//   by the count rounding half away from zero, clamped); another MEAN with input and output
//   quantized alike by reference_ops::Mean (the sum divided by the count, truncating); every
//   other MEAN and every SUM by reference_ops::QuantizedMeanOrSum (kernels/internal/
//   reference/reduce.h, in float: scale = s_in / s_out, round(mean * scale + 0.5f) clamped,
//   or round(sum * scale + 0.5f) cast to int16, keeping its low 16 bits).
// Shapes, windows, axes, activations and scales are random (seeded), inputs span int16 with
// its extremes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "expect_error.h"
#include "export/tflite_writer.h"
#include "int16x8_reference.h"
#include "tflite_model_builder.h"

namespace tinyforge {
namespace {

using testing::ModelSpec;
using testing::OpSpec;
using B = tfl::BuiltinOperator;
using Act = tfl::ActivationFunctionType;
using namespace testing::int16x8;

struct Pool {
  std::vector<int32_t> in, out;
  int32_t fh = 1, fw = 1, sh = 1, sw = 1, pad_top = 0, pad_left = 0;
  bool same = false;
  float scale = 1.0f;
  Act act = Act::NONE;
};

// TFLite's output extent and leading padding for one spatial dim.
void extent(int32_t in, int32_t k, int32_t stride, bool same, int32_t& out, int32_t& pad) {
  out = same ? (in + stride - 1) / stride : (in - k + stride) / stride;
  pad = same ? std::max(0, (out - 1) * stride + k - in) / 2 : 0;
}

Pool random_pool(uint32_t seed) {
  std::mt19937 rng(seed);
  Pool p;
  const int32_t h = pick(rng, 1, 9), w = pick(rng, 1, 9);
  p.fh = pick(rng, 1, std::min(h, 4));
  p.fw = pick(rng, 1, std::min(w, 4));
  p.sh = pick(rng, 1, 3);
  p.sw = pick(rng, 1, 3);
  p.same = pick(rng, 0, 1) == 1;
  p.in = {pick(rng, 1, 2), h, w, pick(rng, 1, 5)};
  int32_t oh = 0, ow = 0;
  extent(h, p.fh, p.sh, p.same, oh, p.pad_top);
  extent(w, p.fw, p.sw, p.same, ow, p.pad_left);
  p.out = {p.in[0], oh, ow, p.in[3]};
  const float scales[] = {3.0f / 32768, 1e-5f, 20.0f, 1.0f / 1024};
  p.scale = scales[pick(rng, 0, 3)];
  const Act acts[] = {Act::NONE, Act::RELU, Act::RELU6, Act::RELU_N1_TO_1};
  p.act = acts[pick(rng, 0, 3)];
  return p;
}

ModelSpec model_of(const Pool& p) {
  OpSpec op{B::AVERAGE_POOL_2D, {0}, {1}};
  op.filter_h = p.fh;
  op.filter_w = p.fw;
  op.stride_h = p.sh;
  op.stride_w = p.sw;
  op.padding = p.same ? tfl::Padding::SAME : tfl::Padding::VALID;
  op.activation = p.act;
  ModelSpec m;
  m.tensors = {int16_tensor("x", p.in, p.scale), int16_tensor("y", p.out, p.scale)};
  m.ops = {op};
  m.inputs = {0};
  m.outputs = {1};
  return m;
}

std::vector<int16_t> reference(const Pool& p, const std::vector<int16_t>& x) {
  const Range r = activation_range(p.act, p.scale);
  const int32_t h = p.in[1], w = p.in[2], c = p.in[3];
  std::vector<int16_t> y;
  for (int32_t n = 0; n < p.out[0]; ++n)
    for (int32_t oy = 0; oy < p.out[1]; ++oy)
      for (int32_t ox = 0; ox < p.out[2]; ++ox)
        for (int32_t ch = 0; ch < c; ++ch) {
          int32_t acc = 0, taps = 0;
          for (int32_t ky = 0; ky < p.fh; ++ky)
            for (int32_t kx = 0; kx < p.fw; ++kx) {
              const int32_t iy = oy * p.sh - p.pad_top + ky, ix = ox * p.sw - p.pad_left + kx;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              acc += x[static_cast<size_t>(((n * h + iy) * w + ix) * c + ch)];
              ++taps;
            }
          const int32_t average = acc > 0 ? (acc + taps / 2) / taps : (acc - taps / 2) / taps;
          y.push_back(static_cast<int16_t>(std::clamp(average, r.lo, r.hi)));
        }
  return y;
}

TEST(Int16x8Pool, AveragePoolMatchesTfliteBitForBit) {
  for (uint32_t seed = 1; seed < 61; ++seed) {
    const Pool p = random_pool(seed);
    SCOPED_TRACE("seed " + std::to_string(seed));
    const std::vector<int16_t> x = values(static_cast<size_t>(count(p.in)), seed);
    const std::vector<int16_t> got = run(model_of(p), {x}, OpCode::AveragePool2D);
    const std::vector<int16_t> want = reference(p, x);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(got[i], want[i]) << "element " << i;
  }
}

// Windows of one extreme: the largest int32 sums, each averaging back to the extreme.
TEST(Int16x8Pool, AveragePoolOfTheInt16ExtremesIsExact) {
  Pool p;
  p.in = {1, 8, 8, 2};
  p.out = {1, 1, 1, 2};
  p.fh = p.fw = p.sh = p.sw = 8;
  p.scale = 1.0f / 32768;
  std::vector<int16_t> x(128);
  for (size_t i = 0; i < x.size(); ++i) x[i] = i % 2 == 0 ? -32768 : 32767;
  EXPECT_EQ(run(model_of(p), {x}, OpCode::AveragePool2D), (std::vector<int16_t>{-32768, 32767}));
}

TEST(Int16x8Pool, AveragePoolRefusesDifferentInputAndOutputScales) {
  Pool p = random_pool(7);
  ModelSpec m = model_of(p);
  m.tensors[1].scale = {p.scale * 2};
  const std::vector<uint8_t> file = testing::build_tflite(m);
  EXPECT_ERROR(plan::build_plan(import_tflite(file.data(), file.size(), "m.tflite")),
               std::exception, "quantiz");
}

// --- MEAN and SUM ---------------------------------------------------------------------

struct Reduce {
  B builtin;
  std::vector<int32_t> in, axes, out;
  bool keep_dims;
  float s_in, s_out;
};

Reduce random_reduce(B builtin, uint32_t seed) {
  std::mt19937 rng(seed);
  Reduce r{builtin, {}, {}, {}, pick(rng, 0, 1) == 1, 0, 0};
  const int32_t rank = seed % 3 == 0 ? 4 : pick(rng, 1, 4);
  for (int32_t d = 0; d < rank; ++d) r.in.push_back(pick(rng, 1, 6));
  if (seed % 3 == 0) {  // the spatial special case (when keep_dims)
    r.axes = pick(rng, 0, 1) == 1 ? std::vector<int32_t>{1, 2} : std::vector<int32_t>{2, 1};
  } else {
    for (int32_t d = 0; d < rank; ++d)
      if (pick(rng, 0, 1) == 1) r.axes.push_back(pick(rng, 0, 1) == 1 ? d : d - rank);
    if (r.axes.empty()) r.axes.push_back(rank - 1);
  }
  const float scales[] = {3.0f / 32768, 1e-5f, 20.0f, 1.0f / 1024};
  r.s_in = scales[pick(rng, 0, 3)];
  // Same quantization in a quarter of the cases; else s_out from s_in / 100 to 100 s_in
  // (MEAN over axes {1, 2}: s_in / s_out below 128 as TFLite's int16 path requires; SUM:
  // s_in / s_out at most e^2, so sum * s_in / s_out stays inside int32 where TFLite's
  // float-to-int32 conversion is defined).
  const double low = builtin == B::SUM ? -2.0 : seed % 3 == 0 ? -4.0 : -4.6;
  r.s_out = pick(rng, 0, 3) == 0
                ? r.s_in
                : static_cast<float>(
                      r.s_in * std::exp(std::uniform_real_distribution<double>(low, 4.6)(rng)));
  int32_t mask = 0;
  for (int32_t a : r.axes) mask |= 1 << (a < 0 ? a + rank : a);
  for (int32_t d = 0; d < rank; ++d)
    if (!(mask & (1 << d)))
      r.out.push_back(r.in[static_cast<size_t>(d)]);
    else if (r.keep_dims)
      r.out.push_back(1);
  return r;
}

ModelSpec model_of(const Reduce& r) {
  OpSpec op{r.builtin, {0, 1}, {2}};
  op.keep_num_dims = r.keep_dims;
  ModelSpec m;
  m.tensors = {int16_tensor("x", r.in, r.s_in),
               {"axes",
                {static_cast<int32_t>(r.axes.size())},
                tfl::TensorType::INT32,
                testing::bytes_of(r.axes)},
               int16_tensor("y", r.out, r.s_out)};
  m.ops = {op};
  m.inputs = {0};
  m.outputs = {2};
  return m;
}

std::vector<int16_t> reference(const Reduce& r, const std::vector<int16_t>& x) {
  const int32_t rank = static_cast<int32_t>(r.in.size());
  int32_t mask = 0;
  for (int32_t a : r.axes) mask |= 1 << (a < 0 ? a + rank : a);
  // The int32 sum of each output's elements, outputs in row-major order of the kept dims.
  std::vector<int32_t> sums;
  int32_t n = 1;
  for (int32_t d = 0; d < rank; ++d)
    if (mask & (1 << d)) n *= r.in[static_cast<size_t>(d)];
  sums.assign(x.size() / static_cast<size_t>(n), 0);
  for (size_t i = 0; i < x.size(); ++i) {
    size_t rest = i, out = 0, stride = 1;
    for (int32_t d = rank - 1; d >= 0; --d) {
      const size_t extent = static_cast<size_t>(r.in[static_cast<size_t>(d)]);
      const size_t coordinate = rest % extent;
      rest /= extent;
      if (!(mask & (1 << d))) {
        out += coordinate * stride;
        stride *= extent;
      }
    }
    sums[out] += x[i];
  }
  const bool mean = r.builtin == B::MEAN;
  const bool spatial = mean && r.keep_dims && rank == 4 && r.axes.size() == 2 &&
                       ((r.axes[0] == 1 && r.axes[1] == 2) || (r.axes[0] == 2 && r.axes[1] == 1));
  const float scale = r.s_in / r.s_out;
  std::vector<int16_t> y;
  for (int32_t sum : sums) {
    int32_t v = 0;
    if (spatial) {
      v = multiply(sum, quantize_multiplier(static_cast<double>(r.s_in) / r.s_out));
      v = v > 0 ? (v + n / 2) / n : (v - n / 2) / n;
      v = std::clamp(v, -32768, 32767);
    } else if (mean && r.s_in == r.s_out) {
      v = sum / n;
    } else if (mean) {
      const float q = std::round(static_cast<float>(sum) / static_cast<float>(n) * scale + 0.5f);
      v = static_cast<int32_t>(std::clamp(q, -32768.0f, 32767.0f));
    } else {
      const auto q = static_cast<int64_t>(std::round(static_cast<float>(sum) * scale + 0.5f));
      v = static_cast<int16_t>(static_cast<uint16_t>(static_cast<uint64_t>(q) & 0xFFFFu));
    }
    y.push_back(static_cast<int16_t>(v));
  }
  return y;
}

void check_reductions(B builtin, OpCode op, uint32_t first_seed) {
  for (uint32_t seed = first_seed; seed < first_seed + 60; ++seed) {
    const Reduce r = random_reduce(builtin, seed);
    SCOPED_TRACE("seed " + std::to_string(seed));
    const std::vector<int16_t> x = values(static_cast<size_t>(count(r.in)), seed);
    const std::vector<int16_t> got = run(model_of(r), {x}, op);
    const std::vector<int16_t> want = reference(r, x);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(got[i], want[i]) << "element " << i;
  }
}

TEST(Int16x8Reduce, MeanMatchesTfliteBitForBit) { check_reductions(B::MEAN, OpCode::Mean, 300); }
TEST(Int16x8Reduce, SumMatchesTfliteBitForBit) { check_reductions(B::SUM, OpCode::Sum, 400); }

// Export to TFLite of a 16x8 node is refused by name (not written as an int8 operator).
TEST(Int16x8Reduce, ExportOfA16x8PoolOrReductionIsRefusedByName) {
  const std::vector<ModelSpec> models = {model_of(random_pool(3)),
                                         model_of(random_reduce(B::MEAN, 3)),
                                         model_of(random_reduce(B::SUM, 4))};
  for (const ModelSpec& m : models) {
    const std::vector<uint8_t> file = testing::build_tflite(m);
    const ir::Graph g = import_tflite(file.data(), file.size(), "m.tflite");
    EXPECT_ERROR(tflite_export::write_tflite(g), std::exception, "16x8");
  }
}

TEST(Int16x8Reduce, MoreThan65536ElementsPerSumAreRefused) {
  Reduce r{B::SUM, {1, 257, 256, 1}, {1, 2}, {1, 1}, false, 1e-3f, 1.0f};
  const std::vector<uint8_t> file = testing::build_tflite(model_of(r));
  EXPECT_ERROR(import_tflite(file.data(), file.size(), "m.tflite"), std::exception, "2^16");
}

}  // namespace
}  // namespace tinyforge
