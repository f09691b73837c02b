// ONNX importer: graphs built with the protobuf classes are imported, compiled and run on
// the host runtime, and compared with a plain NCHW reference written here (loops straight
// from the ONNX operator definitions), plus structure checks of the IR (layout handling,
// folding, fusion) and error cases.
#include "import/onnx/import_onnx.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>

#include "expect_error.h"
#include "import/onnx/onnx_test_builder.h"
#include "onnx_seed_models.h"
#include "ops/concatenation.h"
#include "ops/conv.h"
#include "ops/host_op.h"

namespace tinyforge {
namespace {

using onnx_test::attr;
using onnx_test::count_ops;
using onnx_test::ModelBuilder;
using onnx_test::random_floats;
using onnx_test::run_graph;

// ---- NCHW reference ------------------------------------------------------------------

struct Nchw {
  int64_t n, c, h, w;
  std::vector<float> v;
  float at(int64_t b, int64_t ch, int64_t y, int64_t x) const {
    return v[((b * c + ch) * h + y) * w + x];
  }
};

Nchw conv_ref(const Nchw& x, const std::vector<float>& wt, int64_t m, int64_t kh, int64_t kw,
              const std::vector<float>& bias, int64_t group, int64_t stride,
              std::vector<int64_t> pads, int64_t dilation = 1) {
  const int64_t cg = x.c / group, mg = m / group;
  Nchw out{x.n,
           m,
           (x.h + pads[0] + pads[2] - ((kh - 1) * dilation + 1)) / stride + 1,
           (x.w + pads[1] + pads[3] - ((kw - 1) * dilation + 1)) / stride + 1,
           {}};
  for (int64_t b = 0; b < x.n; ++b)
    for (int64_t o = 0; o < m; ++o)
      for (int64_t oy = 0; oy < out.h; ++oy)
        for (int64_t ox = 0; ox < out.w; ++ox) {
          double acc = bias.empty() ? 0.0 : bias[o];
          const int64_t g = o / mg;
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t ky = 0; ky < kh; ++ky)
              for (int64_t kx = 0; kx < kw; ++kx) {
                const int64_t iy = oy * stride - pads[0] + ky * dilation,
                              ix = ox * stride - pads[1] + kx * dilation;
                if (iy < 0 || iy >= x.h || ix < 0 || ix >= x.w) continue;
                acc += static_cast<double>(x.at(b, g * cg + ci, iy, ix)) *
                       wt[((o * cg + ci) * kh + ky) * kw + kx];
              }
          out.v.push_back(static_cast<float>(acc));
        }
  return out;
}

void bn_relu_ref(Nchw& x, const std::vector<float>& s, const std::vector<float>& b,
                 const std::vector<float>& mean, const std::vector<float>& var, float eps,
                 bool relu) {
  for (int64_t i = 0; i < static_cast<int64_t>(x.v.size()); ++i) {
    const int64_t ch = (i / (x.h * x.w)) % x.c;
    float y = (x.v[i] - mean[ch]) / std::sqrt(var[ch] + eps) * s[ch] + b[ch];
    x.v[i] = relu ? std::max(y, 0.0f) : y;
  }
}

Nchw maxpool_ref(const Nchw& x, int64_t k, int64_t stride) {
  Nchw out{x.n, x.c, (x.h - k) / stride + 1, (x.w - k) / stride + 1, {}};
  for (int64_t b = 0; b < x.n; ++b)
    for (int64_t ch = 0; ch < x.c; ++ch)
      for (int64_t oy = 0; oy < out.h; ++oy)
        for (int64_t ox = 0; ox < out.w; ++ox) {
          float best = -INFINITY;
          for (int64_t ky = 0; ky < k; ++ky)
            for (int64_t kx = 0; kx < k; ++kx)
              best = std::max(best, x.at(b, ch, oy * stride + ky, ox * stride + kx));
          out.v.push_back(best);
        }
  return out;
}

// y[r][o] = sum_i a[r][i] * w[o][i] + bias[o]
std::vector<float> gemm_ref(const std::vector<float>& a, int64_t rows, const std::vector<float>& w,
                            const std::vector<float>& bias, int64_t out) {
  const int64_t in = static_cast<int64_t>(a.size()) / rows;
  std::vector<float> y;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double acc = bias[o];
      for (int64_t i = 0; i < in; ++i) acc += static_cast<double>(a[r * in + i]) * w[o * in + i];
      y.push_back(static_cast<float>(acc));
    }
  return y;
}

void expect_near_all(const std::vector<float>& got, const std::vector<float>& want,
                     float tol = 1e-4f) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tol * (1.0f + std::fabs(want[i]))) << "element " << i;
}

// ---- numeric tests on small graphs ---------------------------------------------------

TEST(OnnxImport, ConvBatchNormReluPoolFlattenGemmMatchesNchwReference) {
  ModelBuilder mb;
  mb.input("x", {1, 3, 9, 9});
  const auto w = random_floats(4 * 3 * 3 * 3, 1), s = random_floats(4, 2, 0.5f, 1.5f),
             b = random_floats(4, 3), mean = random_floats(4, 4),
             var = random_floats(4, 5, 0.1f, 2.0f);
  mb.initializer("w", {4, 3, 3, 3}, w);
  mb.initializer("s", {4}, s);
  mb.initializer("b", {4}, b);
  mb.initializer("mean", {4}, mean);
  mb.initializer("var", {4}, var);
  auto& conv = mb.node("Conv", {"x", "w"}, {"c"});
  attr(conv, "strides", std::vector<int64_t>{2, 2});
  attr(conv, "pads",
       std::vector<int64_t>{1, 0, 0, 1});  // asymmetric: top 1, left 0, bottom 0, right 1
  attr(mb.node("BatchNormalization", {"c", "s", "b", "mean", "var"}, {"bn"}), "epsilon", 1e-3f);
  mb.node("Relu", {"bn"}, {"r"});
  auto& pool = mb.node("MaxPool", {"r"}, {"p"});
  attr(pool, "kernel_shape", std::vector<int64_t>{2, 2});
  mb.node("Flatten", {"p"}, {"f"});
  const auto fw = random_floats(5 * 4 * 3 * 3, 6), fb = random_floats(5, 7);
  mb.initializer("fw", {5, 36}, fw);
  mb.initializer("fb", {5}, fb);
  attr(mb.node("Gemm", {"f", "fw", "fb"}, {"y"}), "transB", int64_t{1});
  mb.output("y", {1, 5});

  const ir::Graph g = mb.import();
  // BN folded, Relu fused, the flatten absorbed into the weights: one Transpose (the NCHW
  // input), no Mul/Add/Clamp.
  EXPECT_EQ(count_ops(g, OpCode::Transpose), 1u);
  EXPECT_EQ(count_ops(g, OpCode::Mul) + count_ops(g, OpCode::Add) + count_ops(g, OpCode::Clamp),
            0u);
  ASSERT_EQ(count_ops(g, OpCode::Conv2D), 1u);
  for (const auto& n : g.nodes)
    if (n.op == OpCode::Conv2D) EXPECT_EQ(ops::fused_activation(n), ir::Activation::relu);

  const auto x = random_floats(3 * 9 * 9, 8);
  Nchw ref = conv_ref({1, 3, 9, 9, x}, w, 4, 3, 3, {}, 1, 2, {1, 0, 0, 1});
  bn_relu_ref(ref, s, b, mean, var, 1e-3f, true);
  const Nchw pooled = maxpool_ref(ref, 2, 1);
  ASSERT_EQ(pooled.h * pooled.w * pooled.c, 36);
  expect_near_all(run_graph(g, {x})[0], gemm_ref(pooled.v, 1, fw, fb, 5));
}

TEST(OnnxImport, DepthwiseGroupedConcatAndGlobalPoolMatchReference) {
  ModelBuilder mb;
  mb.input("x", {1, 4, 6, 6});
  const auto wd = random_floats(8 * 1 * 3 * 3, 11), bd = random_floats(8, 12);
  const auto wg = random_floats(4 * 2 * 1 * 1, 13), bg = random_floats(4, 14);
  mb.initializer("wd", {8, 1, 3, 3}, wd);
  mb.initializer("bd", {8}, bd);
  mb.initializer("wg", {4, 2, 1, 1}, wg);
  mb.initializer("bg", {4}, bg);
  auto& dw = mb.node("Conv", {"x", "wd", "bd"}, {"a"});
  attr(dw, "group", int64_t{4});
  attr(dw, "dilations", std::vector<int64_t>{2, 2});
  attr(dw, "pads", std::vector<int64_t>{2, 2, 2, 2});
  attr(mb.node("Conv", {"x", "wg", "bg"}, {"b"}), "group", int64_t{2});
  attr(mb.node("Concat", {"a", "b"}, {"cat"}), "axis", int64_t{1});
  mb.node("GlobalAveragePool", {"cat"}, {"y"});
  mb.output("y", {1, 12, 1, 1});

  const ir::Graph g = mb.import();
  ASSERT_EQ(count_ops(g, OpCode::DepthwiseConv2D), 1u);
  for (const auto& n : g.nodes) {
    if (n.op == OpCode::DepthwiseConv2D)
      EXPECT_EQ(n.params.get<ops::ConvAttrs>().depth_multiplier, 2);
    if (n.op == OpCode::Concatenation)
      EXPECT_EQ(n.params.get<ops::ConcatenationAttrs>().axis, 3);  // channels, last in NHWC
  }
  EXPECT_EQ(count_ops(g, OpCode::Transpose), 1u);  // input only: [N,1,1,C] -> [N,C,1,1] is free

  const auto x = random_floats(4 * 6 * 6, 15);
  const Nchw in{1, 4, 6, 6, x};
  const Nchw a = conv_ref(in, wd, 8, 3, 3, bd, 4, 1, {2, 2, 2, 2}, 2);
  const Nchw b = conv_ref(in, wg, 4, 1, 1, bg, 2, 1, {0, 0, 0, 0});
  std::vector<float> want;
  for (const Nchw* t : {&a, &b})
    for (int64_t ch = 0; ch < t->c; ++ch) {
      double sum = 0;
      for (int64_t i = 0; i < t->h * t->w; ++i) sum += t->v[ch * t->h * t->w + i];
      want.push_back(static_cast<float>(sum / (t->h * t->w)));
    }
  expect_near_all(run_graph(g, {x})[0], want);
}

TEST(OnnxImport, ChannelSoftmaxTransposeAndPadStayChannelsLast) {
  ModelBuilder mb;
  mb.input("x", {1, 3, 4, 5});
  const auto w = random_floats(6 * 3, 21);
  mb.initializer("w", {6, 3, 1, 1}, w);
  mb.node("Conv", {"x", "w"}, {"c"});
  attr(mb.node("Softmax", {"c"}, {"s"}), "axis", int64_t{1});
  mb.initializer_i64("pads", {8}, {0, 0, 1, 0, 0, 0, 0, 2});  // H before 1, W after 2
  mb.node("Pad", {"s", "pads"}, {"p"});
  attr(mb.node("Transpose", {"p"}, {"y"}), "perm", std::vector<int64_t>{0, 2, 3, 1});  // -> NHWC
  mb.output("y", {1, 5, 7, 6});

  const ir::Graph g = mb.import();
  // The final NCHW->NHWC Transpose cancels against the internal layout: only the input
  // boundary transposes.
  EXPECT_EQ(count_ops(g, OpCode::Transpose), 1u);
  const auto x = random_floats(3 * 4 * 5, 22);
  const Nchw c = conv_ref({1, 3, 4, 5, x}, w, 6, 1, 1, {}, 1, 1, {0, 0, 0, 0});
  std::vector<float> want;  // [1,5,7,6]: (h, w, c) of the padded softmax
  for (int64_t y = 0; y < 5; ++y)
    for (int64_t xx = 0; xx < 7; ++xx) {
      const bool inside = y >= 1 && xx < 5;
      double denom = 0;
      if (inside)
        for (int64_t ch = 0; ch < 6; ++ch)
          denom += std::exp(static_cast<double>(c.at(0, ch, y - 1, xx)));
      for (int64_t ch = 0; ch < 6; ++ch)
        want.push_back(inside ? static_cast<float>(
                                    std::exp(static_cast<double>(c.at(0, ch, y - 1, xx))) / denom)
                              : 0.0f);
    }
  expect_near_all(run_graph(g, {x})[0], want, 1e-5f);
}

// Conv1d / BatchNorm1d / MaxPool1d / depthwise Conv1d / global pool: 2-D ops with H = 1
// between free reshapes; BN still folds and Relu still fuses through the reshape.
TEST(OnnxImport, OneDimensionalConvStackMatchesReference) {
  ModelBuilder mb;
  mb.input("x", {1, 3, 16});
  const auto w1 = random_floats(6 * 3 * 5, 61), s = random_floats(6, 62, 0.5f, 1.5f),
             b = random_floats(6, 63), mean = random_floats(6, 64),
             var = random_floats(6, 65, 0.2f, 2.0f), w2 = random_floats(6 * 3, 66);
  mb.initializer("w1", {6, 3, 5}, w1);
  for (const auto& [n, v] : {std::pair<const char*, const std::vector<float>*>{"s", &s},
                             {"b", &b},
                             {"m", &mean},
                             {"v", &var}})
    mb.initializer(n, {6}, *v);
  mb.initializer("w2", {6, 1, 3}, w2);
  auto& c1 = mb.node("Conv", {"x", "w1"}, {"c1"});
  attr(c1, "pads", std::vector<int64_t>{2, 1});
  attr(c1, "strides", std::vector<int64_t>{1});
  mb.node("BatchNormalization", {"c1", "s", "b", "m", "v"}, {"bn"});
  mb.node("Relu", {"bn"}, {"r"});
  auto& mp = mb.node("MaxPool", {"r"}, {"p"});
  attr(mp, "kernel_shape", std::vector<int64_t>{2});
  attr(mp, "strides", std::vector<int64_t>{2});
  auto& c2 = mb.node("Conv", {"p", "w2"}, {"c2"});
  attr(c2, "group", int64_t{6});
  attr(c2, "dilations", std::vector<int64_t>{2});
  mb.node("GlobalAveragePool", {"c2"}, {"y"});
  mb.output("y", {1, 6, 1});
  const ir::Graph g = mb.import();
  EXPECT_EQ(count_ops(g, OpCode::Transpose), 1u);  // the [N,C,L] input only
  EXPECT_EQ(count_ops(g, OpCode::Mul) + count_ops(g, OpCode::Add) + count_ops(g, OpCode::Clamp),
            0u);
  EXPECT_EQ(count_ops(g, OpCode::DepthwiseConv2D), 1u);

  const auto x = random_floats(3 * 16, 67);
  Nchw a = conv_ref({1, 3, 1, 16, x}, w1, 6, 1, 5, {}, 1, 1, {0, 2, 0, 1});
  ASSERT_EQ(a.w, 15);
  bn_relu_ref(a, s, b, mean, var, 1e-5f, true);
  Nchw pooled{1, 6, 1, 7, {}};
  for (int64_t ch = 0; ch < 6; ++ch)
    for (int64_t i = 0; i < 7; ++i)
      pooled.v.push_back(std::max(a.at(0, ch, 0, 2 * i), a.at(0, ch, 0, 2 * i + 1)));
  const Nchw d = conv_ref(pooled, w2, 6, 1, 3, {}, 6, 1, {0, 0, 0, 0}, 2);
  std::vector<float> want;
  for (int64_t ch = 0; ch < 6; ++ch) {
    double sum = 0;
    for (int64_t i = 0; i < d.w; ++i) sum += d.at(0, ch, 0, i);
    want.push_back(static_cast<float>(sum / d.w));
  }
  expect_near_all(run_graph(g, {x})[0], want);
}

TEST(OnnxImport, ClipFusesIntoConvOnlyForTfliteActivations) {
  ModelBuilder mb(11);
  mb.input("x", {1, 2, 3, 3});
  mb.initializer("w", {2, 2, 1, 1}, random_floats(4, 31));
  mb.initializer("zero", {}, {0.0f});
  mb.initializer("six", {}, {6.0f});
  mb.initializer("lo", {}, {0.25f});
  mb.initializer("hi", {}, {0.5f});
  mb.node("Conv", {"x", "w"}, {"c1"});
  mb.node("Clip", {"c1", "zero", "six"}, {"y1"});
  mb.node("Conv", {"x", "w"}, {"c2"});
  mb.node("Clip", {"c2", "lo", "hi"}, {"y2"});
  mb.output("y1");
  mb.output("y2");
  const ir::Graph g = mb.import();
  ASSERT_EQ(count_ops(g, OpCode::Clamp), 1u);
  std::vector<ir::Activation> acts;
  for (const auto& n : g.nodes)
    if (n.op == OpCode::Conv2D) acts.push_back(ops::fused_activation(n));
  EXPECT_EQ(acts, (std::vector<ir::Activation>{ir::Activation::relu6, ir::Activation::none}));
  const auto outs = run_graph(g, {random_floats(18, 32, -10.0f, 10.0f)});
  for (float v : outs[0]) EXPECT_TRUE(v >= 0.0f && v <= 6.0f);
  for (float v : outs[1]) EXPECT_TRUE(v >= 0.25f && v <= 0.5f);
}

TEST(OnnxImport, StandaloneBatchNormBecomesMulAdd) {
  ModelBuilder mb;
  mb.input("x", {1, 2, 2, 2});
  mb.initializer("s", {2}, {2.0f, -1.0f});
  mb.initializer("b", {2}, {0.5f, 1.0f});
  mb.initializer("m", {2}, {1.0f, 0.0f});
  mb.initializer("v", {2}, {4.0f, 1.0f});
  attr(mb.node("BatchNormalization", {"x", "s", "b", "m", "v"}, {"y"}), "epsilon", 0.0f);
  mb.output("y");
  const ir::Graph g = mb.import();
  EXPECT_EQ(count_ops(g, OpCode::Mul), 1u);
  EXPECT_EQ(count_ops(g, OpCode::Add), 1u);
  // channel 0: (x - 1) / 2 * 2 + 0.5 = x - 0.5; channel 1: -(x) + 1
  const std::vector<float> x{1, 2, 3, 4, 5, 6, 7, 8};
  expect_near_all(run_graph(g, {x})[0], {0.5f, 1.5f, 2.5f, 3.5f, -4, -5, -6, -7});
}

// numpy matmul of A [batch..., M, K] and B [batch..., K, N], batch dims broadcast.
std::vector<float> batched_matmul_ref(const std::vector<float>& a, const std::vector<int64_t>& as,
                                      const std::vector<float>& b, const std::vector<int64_t>& bs,
                                      const std::vector<int64_t>& batch) {
  const int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  // The matrix of an operand of `shape` that output matrix t reads: t's index in `batch`,
  // right-aligned to the operand's batch dims, with size-1 dims reading index 0.
  auto source = [&](const std::vector<int64_t>& shape, int64_t t) {
    const size_t rank = shape.size() - 2;
    int64_t src = 0, stride = 1;
    for (size_t back = 1; back <= batch.size(); ++back) {
      const int64_t coord = t % batch[batch.size() - back];
      t /= batch[batch.size() - back];
      if (back > rank) continue;
      const int64_t dim = shape[rank - back];
      src += (dim == 1 ? 0 : coord) * stride;
      stride *= dim;
    }
    return src;
  };
  int64_t count = 1;
  for (int64_t d : batch) count *= d;
  std::vector<float> y;
  for (int64_t t = 0; t < count; ++t) {
    const float* am = a.data() + source(as, t) * m * k;
    const float* bm = b.data() + source(bs, t) * k * n;
    for (int64_t r = 0; r < m; ++r)
      for (int64_t o = 0; o < n; ++o) {
        double acc = 0;
        for (int64_t i = 0; i < k; ++i) acc += static_cast<double>(am[r * k + i]) * bm[i * n + o];
        y.push_back(static_cast<float>(acc));
      }
  }
  return y;
}

TEST(OnnxImport, MatMulWithBatchedConstantMatchesNumpyBroadcasting) {
  struct Case {
    std::vector<int64_t> a, b, batch;
    size_t fully_connected;  // one per matrix, or one when A has a single matrix
  };
  for (const Case& c : std::vector<Case>{{{2, 3, 4}, {2, 4, 5}, {2}, 2},
                                         {{3, 4}, {3, 4, 2}, {3}, 1},
                                         {{2, 1, 3, 4}, {1, 3, 4, 5}, {2, 3}, 6},
                                         {{10, 2, 3}, {10, 3, 2}, {10}, 10}}) {
    int64_t a_n = 1, b_n = 1;
    for (int64_t d : c.a) a_n *= d;
    for (int64_t d : c.b) b_n *= d;
    const std::vector<float> a = random_floats(static_cast<size_t>(a_n), 3);
    const std::vector<float> b = random_floats(static_cast<size_t>(b_n), 4);
    std::vector<int64_t> out = c.batch;
    out.push_back(c.a[c.a.size() - 2]);
    out.push_back(c.b.back());
    ModelBuilder mb;
    mb.input("x", c.a);
    mb.initializer("w", c.b, b);
    mb.node("MatMul", {"x", "w"}, {"y"});
    mb.output("y", out);
    const ir::Graph g = mb.import();
    EXPECT_EQ(count_ops(g, OpCode::FullyConnected), c.fully_connected);
    expect_near_all(run_graph(g, {a})[0], batched_matmul_ref(a, c.a, b, c.b, c.batch));
  }
}

// PyTorch's PixelShuffle(r) exports as Reshape to [N,C,r,r,H,W], Transpose, Reshape back:
// rank 6 never reaches the runtime, the three steps become transposes of rank <= 4.
TEST(OnnxImport, RankSixPixelShuffleAndDepthToSpaceMatchTheirDefinition) {
  const int64_t c = 2, r = 3, h = 2, w = 4;
  const std::vector<float> x = random_floats(static_cast<size_t>(c * r * r * h * w), 5);
  // y[ch][y*r + i][x*r + j] = x[ch*r*r + i*r + j][y][x]  (the ONNX spec's CRD mode)
  std::vector<float> want;
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t oy = 0; oy < h * r; ++oy)
      for (int64_t ox = 0; ox < w * r; ++ox)
        want.push_back(x[((ch * r * r + (oy % r) * r + ox % r) * h + oy / r) * w + ox / r]);
  for (const bool as_op : {false, true}) {
    ModelBuilder mb;
    mb.input("x", {1, c * r * r, h, w});
    // An identity 1x1 convolution first: its output is held channels last.
    std::vector<float> eye(static_cast<size_t>(c * r * r * c * r * r), 0.0f);
    for (int64_t i = 0; i < c * r * r; ++i) eye[static_cast<size_t>(i * (c * r * r + 1))] = 1.0f;
    mb.initializer("eye", {c * r * r, c * r * r, 1, 1}, eye);
    mb.node("Conv", {"x", "eye"}, {"a"});
    if (as_op) {
      onnx::NodeProto& n = mb.node("DepthToSpace", {"a"}, {"y"});
      attr(n, "blocksize", r);
      attr(n, "mode", "CRD");
    } else {
      mb.initializer_i64("split", {6}, {1, c, r, r, h, w});
      mb.initializer_i64("merged", {4}, {1, c, h * r, w * r});
      mb.node("Reshape", {"a", "split"}, {"s"});
      attr(mb.node("Transpose", {"s"}, {"t"}), "perm", std::vector<int64_t>{0, 1, 4, 2, 5, 3});
      mb.node("Reshape", {"t", "merged"}, {"y"});
    }
    mb.output("y", {1, c, h * r, w * r});
    const ir::Graph g = mb.import();
    for (const ir::Tensor& t : g.tensors) EXPECT_LE(t.shape.size(), 4u) << t.name;
    // NCHW -> NHWC for the conv, back to NCHW for the rearrangement, two block swaps.
    EXPECT_LE(count_ops(g, OpCode::Transpose), 4u);
    EXPECT_EQ(run_graph(g, {x})[0], want) << (as_op ? "DepthToSpace" : "PixelShuffle");
  }
}

// ShuffleNet's channel shuffle: [N,C,H,W] -> [N,g,C/g,H,W] -> swap g and C/g -> [N,C,H,W].
// H and W stay together, so the rank-5 step is one Transpose of rank 3.
TEST(OnnxImport, RankFiveChannelShuffleIsOneTranspose) {
  const int64_t g = 2, cg = 3, h = 2, w = 2;
  const std::vector<float> x = random_floats(static_cast<size_t>(g * cg * h * w), 6);
  std::vector<float> want;  // output channel k = j * g + i reads input channel i * cg + j
  for (int64_t j = 0; j < cg; ++j)
    for (int64_t i = 0; i < g; ++i)
      for (int64_t p = 0; p < h * w; ++p)
        want.push_back(x[static_cast<size_t>((i * cg + j) * h * w + p)]);
  ModelBuilder mb;
  mb.input("x", {1, g * cg, h, w});
  mb.initializer_i64("groups", {5}, {1, g, cg, h, w});
  mb.initializer_i64("merged", {4}, {1, g * cg, h, w});
  mb.node("Reshape", {"x", "groups"}, {"s"});
  attr(mb.node("Transpose", {"s"}, {"t"}), "perm", std::vector<int64_t>{0, 2, 1, 3, 4});
  mb.node("Reshape", {"t", "merged"}, {"y"});
  mb.output("y", {1, g * cg, h, w});
  const ir::Graph graph = mb.import();
  EXPECT_EQ(count_ops(graph, OpCode::Transpose), 1u);
  EXPECT_EQ(run_graph(graph, {x})[0], want);
}

TEST(OnnxImport, ShapeArithmeticAroundReshapeIsEvaluated) {
  // PyTorch's x.view(x.size(0), -1): Shape -> Gather -> Unsqueeze -> Concat -> Reshape.
  ModelBuilder mb;
  mb.input("x", {2, 3, 2, 2});
  mb.node("Shape", {"x"}, {"shape"});
  mb.initializer_i64("zero", {}, {0});
  mb.initializer_i64("axes", {1}, {0});
  mb.initializer_i64("minus_one", {1}, {-1});
  mb.node("Gather", {"shape", "zero"}, {"n"});
  mb.node("Unsqueeze", {"n", "axes"}, {"n1"});
  attr(mb.node("Concat", {"n1", "minus_one"}, {"target"}), "axis", int64_t{0});
  mb.node("Reshape", {"x", "target"}, {"y"});
  mb.output("y", {2, 12});
  const ir::Graph g = mb.import();
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].op, OpCode::Reshape);
  EXPECT_EQ(g.tensors[g.outputs[0]].shape, (std::vector<int32_t>{2, 12}));
}

TEST(OnnxImport, ConstantOfShapeIsEvaluated) {
  // y = x + ConstantOfShape(Shape(x), value 2.5): the fill folds into an Add of a constant.
  ModelBuilder mb;
  mb.input("x", {1, 3});
  mb.node("Shape", {"x"}, {"shape"});
  onnx::NodeProto& fill = mb.node("ConstantOfShape", {"shape"}, {"c"});
  onnx::AttributeProto* a = fill.add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  a->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
  a->mutable_t()->add_dims(1);
  a->mutable_t()->add_float_data(2.5f);
  mb.node("Add", {"x", "c"}, {"y"});
  mb.output("y", {1, 3});
  const ir::Graph g = mb.import();
  EXPECT_EQ(count_ops(g, OpCode::Add), 1u);
  expect_near_all(run_graph(g, {{1, -2, 0.5f}})[0], {3.5f, 0.5f, 3.0f});
}

TEST(OnnxImport, ConstantOfShapeRefusesBadShapes) {
  for (const auto& [shape, why] : std::vector<std::pair<std::vector<int64_t>, std::string>>{
           {{2, -1}, "has a bad dim"}, {{2, 0}, "unsupported: an empty result"}}) {
    ModelBuilder mb;
    mb.input("x", {2});
    mb.initializer_i64("s", {static_cast<int64_t>(shape.size())}, shape);
    mb.node("ConstantOfShape", {"s"}, {"c"});
    mb.node("Add", {"x", "c"}, {"y"});
    mb.output("y");
    EXPECT_ERROR(mb.import(), tinyforge::Error, why);
  }
}

// LRN is composed (its values are checked by the ONNX conformance run): the square, the
// channel-window sum as one Conv2D, log / scale / exp for the power, the product.
TEST(OnnxImport, LrnIsComposedOfExistingOpsAndRefusesBadAttributes) {
  auto lrn = [](std::vector<int64_t> shape, int64_t size) {
    ModelBuilder mb;
    mb.input("x", shape);
    attr(mb.node("LRN", {"x"}, {"y"}), "size", size);
    mb.output("y");
    return mb;
  };
  const ir::Graph g = lrn({1, 6, 3, 3}, 3).import();
  EXPECT_EQ(count_ops(g, OpCode::Conv2D), 1u);
  EXPECT_EQ(count_ops(g, OpCode::UnaryMath), 2u);
  EXPECT_EQ(count_ops(g, OpCode::Mul), 3u);
  EXPECT_ERROR(lrn({1, 6, 3, 3}, 0).import(), tinyforge::Error, "size is 0");
  EXPECT_ERROR(lrn({1, 6, 3}, 3).import(), tinyforge::Error, "expected [N,C,H,W]");
}

// LogSoftmax imports as the op (TFLite's LOG_SOFTMAX), which subtracts the maximum before
// exp: a logit 200 below its row's maximum gives -200 - log(sum), not log(0) = -inf (the
// conformance cases never go that far).
TEST(OnnxImport, LogSoftmaxStaysFiniteFarBelowTheMaximum) {
  ModelBuilder mb;
  mb.input("x", {2, 3});
  mb.node("LogSoftmax", {"x"}, {"y"});
  mb.output("y", {2, 3});
  const std::vector<float> x = {0.0f, -200.0f, 5.0f, 1.0f, 2.0f, 3.0f};
  std::vector<float> want;
  for (size_t row = 0; row < 2; ++row) {
    const float* r = &x[row * 3];
    const double m = std::max({r[0], r[1], r[2]});
    const double sum = std::exp(r[0] - m) + std::exp(r[1] - m) + std::exp(r[2] - m);
    for (size_t k = 0; k < 3; ++k) want.push_back(static_cast<float>(r[k] - m - std::log(sum)));
  }
  const ir::Graph g = mb.import();
  EXPECT_EQ(count_ops(g, OpCode::LogSoftmax), 1u);
  expect_near_all(run_graph(g, {x})[0], want);
}

// A dilated MaxPool with stride and pads, against the ONNX definition computed here: the max
// over the taps (y * stride - pad + ky * dilation, ...) that land inside the input.
TEST(OnnxImport, DilatedMaxPoolIsTheMaxOverItsTaps) {
  const int64_t h = 7, w = 6, c = 2, k = 3, stride = 2, dilation = 2, pad = 1;
  ModelBuilder mb;
  mb.input("x", {1, c, h, w});
  onnx::NodeProto& pool = mb.node("MaxPool", {"x"}, {"y"});
  attr(pool, "kernel_shape", std::vector<int64_t>{k, k});
  attr(pool, "strides", std::vector<int64_t>{stride, stride});
  attr(pool, "dilations", std::vector<int64_t>{dilation, dilation});
  attr(pool, "pads", std::vector<int64_t>{pad, pad, pad, pad});
  const int64_t oh = (h + 2 * pad - (k - 1) * dilation - 1) / stride + 1;
  const int64_t ow = (w + 2 * pad - (k - 1) * dilation - 1) / stride + 1;
  mb.output("y", {1, c, oh, ow});
  const std::vector<float> x = random_floats(static_cast<size_t>(c * h * w), 73);
  std::vector<float> want;
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) {
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t ky = 0; ky < k; ++ky)
          for (int64_t kx = 0; kx < k; ++kx) {
            const int64_t iy = oy * stride - pad + ky * dilation;
            const int64_t ix = ox * stride - pad + kx * dilation;
            if (iy >= 0 && iy < h && ix >= 0 && ix < w)
              m = std::max(m, x[static_cast<size_t>((ch * h + iy) * w + ix)]);
          }
        want.push_back(m);
      }
  const ir::Graph g = mb.import();
  EXPECT_EQ(count_ops(g, OpCode::MaxPool2D), 0u);
  EXPECT_EQ(count_ops(g, OpCode::StridedSlice), static_cast<size_t>(k * k));
  EXPECT_EQ(run_graph(g, {x})[0], want);
}

// ArgMax's int64 indices as PyTorch uses them: cast back to float for the next op. Ties keep
// the first index; keepdims 0 drops the axis.
TEST(OnnxImport, ArgMaxIndicesCastToFloat) {
  ModelBuilder mb;
  mb.input("x", {2, 4});
  onnx::NodeProto& arg = mb.node("ArgMax", {"x"}, {"i"});
  attr(arg, "axis", int64_t{1});
  attr(arg, "keepdims", int64_t{0});
  attr(mb.node("Cast", {"i"}, {"y"}), "to", int64_t{onnx::TensorProto::FLOAT});
  mb.output("y", {2});
  const ir::Graph g = mb.import();
  EXPECT_EQ(count_ops(g, OpCode::ArgMax), 1u);
  EXPECT_EQ(count_ops(g, OpCode::Cast), 1u);
  EXPECT_EQ(run_graph(g, {{1.0f, 3.0f, 3.0f, -2.0f, -5.0f, -7.0f, -9.0f, -5.0f}})[0],
            (std::vector<float>{1.0f, 0.0f}));
}

// Token ids as PyTorch exports them: an int64 graph input (run as int32) indexing an embedding
// table (Gather of an initializer), gathering along axis 1 of a run-time tensor, and cast to
// float. Indices outside [0, dim) -- negative ones too -- give slices of zeros.
TEST(OnnxImport, Int64GraphInputIndexesGatherAndCastAtRunTime) {
  ModelBuilder mb;
  mb.input("x", {2, 5});
  mb.input("ids", {6}, onnx::TensorProto::INT64);
  const std::vector<float> table = random_floats(5 * 4, 91);
  mb.initializer("table", {5, 4}, table);
  mb.node("Gather", {"table", "ids"}, {"emb"});
  attr(mb.node("Gather", {"x", "ids"}, {"cols"}), "axis", int64_t{1});
  attr(mb.node("Cast", {"ids"}, {"idf"}), "to", int64_t{onnx::TensorProto::FLOAT});
  mb.output("emb", {6, 4});
  mb.output("cols", {2, 6});
  mb.output("idf", {6});
  const ir::Graph g = mb.import();
  EXPECT_EQ(g.tensors[static_cast<size_t>(g.inputs[1])].type, DType::i32);
  EXPECT_EQ(count_ops(g, OpCode::Gather), 2u);
  EXPECT_EQ(count_ops(g, OpCode::Cast), 1u);

  const std::vector<float> x = random_floats(10, 92);
  const std::vector<int32_t> ids = {3, 0, 4, 5, -1, 2};  // 5 and -1 are out of range
  std::vector<uint8_t> x_bytes(x.size() * 4), id_bytes(ids.size() * 4);
  std::memcpy(x_bytes.data(), x.data(), x_bytes.size());
  std::memcpy(id_bytes.data(), ids.data(), id_bytes.size());
  host::HostRunner runner(emit::write_plan_blob(plan::build_plan(g)), g.source);
  const auto outs = runner.run({x_bytes, id_bytes}, 1);
  ASSERT_EQ(outs.size(), 3u);
  auto floats = [](const std::vector<uint8_t>& b) {
    std::vector<float> v(b.size() / 4);
    std::memcpy(v.data(), b.data(), b.size());
    return v;
  };
  std::vector<float> emb, cols(12, 0.0f), idf;
  for (int32_t id : ids) {
    for (int k = 0; k < 4; ++k) emb.push_back(id >= 0 && id < 5 ? table[id * 4 + k] : 0.0f);
    idf.push_back(static_cast<float>(id));
  }
  for (int r = 0; r < 2; ++r)
    for (size_t j = 0; j < ids.size(); ++j)
      if (ids[j] >= 0 && ids[j] < 5) cols[r * 6 + j] = x[r * 5 + ids[j]];
  EXPECT_EQ(floats(outs[0]), emb);
  EXPECT_EQ(floats(outs[1]), cols);
  EXPECT_EQ(floats(outs[2]), idf);
}

// An int64 graph input runs as int32 only where int32 indices are taken; elsewhere it is
// refused, naming the input and the op.
TEST(OnnxImport, Int64GraphInputElsewhereIsRefused) {
  ModelBuilder mb;
  mb.input("ids", {4}, onnx::TensorProto::INT64);
  mb.input("x", {4});
  mb.node("Add", {"x", "ids"}, {"y"});
  mb.output("y");
  EXPECT_ERROR(mb.import(), tinyforge::Error, "unsupported: int64 graph input 'ids' read by");
  ModelBuilder gather_data;  // int64 values as Gather's data, not its indices
  gather_data.input("ids", {4}, onnx::TensorProto::INT64);
  gather_data.initializer_i64("at", {2}, {0, 1});
  gather_data.node("Gather", {"ids", "at"}, {"g"});
  attr(gather_data.node("Cast", {"g"}, {"y"}), "to", int64_t{onnx::TensorProto::FLOAT});
  gather_data.output("y");
  EXPECT_ERROR(gather_data.import(), tinyforge::Error, "int64 graph input 'ids' read by");
  ModelBuilder int32_input;
  int32_input.input("ids", {4}, onnx::TensorProto::INT32);
  int32_input.node("Identity", {"ids"}, {"y"});
  int32_input.output("y");
  EXPECT_ERROR(int32_input.import(), tinyforge::Error, "element type int32");
}

// x.flatten(2) as PyTorch exports it (Shape -> Slice -> Concat -> Reshape) between a 2-D
// and a 1-D conv: the shape subgraph is evaluated and [N,C,H,W] -> [N,C,H*W] keeps the
// channels last, so only the model boundaries transpose.
TEST(OnnxImport, SpatialFlattenBetweenConvsNeedsNoTranspose) {
  ModelBuilder mb;
  mb.input("x", {1, 3, 4, 4});
  const auto w1 = random_floats(5 * 3, 71), w2 = random_floats(2 * 5 * 3, 72);
  mb.initializer("w1", {5, 3, 1, 1}, w1);
  mb.initializer("w2", {2, 5, 3}, w2);
  mb.node("Conv", {"x", "w1"}, {"c"});
  mb.node("Shape", {"c"}, {"shape"});
  mb.initializer_i64("starts", {1}, {0});
  mb.initializer_i64("ends", {1}, {2});
  mb.node("Slice", {"shape", "starts", "ends"}, {"nc"});
  mb.initializer_i64("minus_one", {1}, {-1});
  attr(mb.node("Concat", {"nc", "minus_one"}, {"target"}), "axis", int64_t{0});
  mb.node("Reshape", {"c", "target"}, {"seq"});
  attr(mb.node("Conv", {"seq", "w2"}, {"y"}), "pads", std::vector<int64_t>{1, 1});
  mb.output("y", {1, 2, 16});
  const ir::Graph g = mb.import();
  EXPECT_EQ(count_ops(g, OpCode::Transpose), 2u);  // NCHW input, NCL output

  const auto x = random_floats(48, 73);
  const Nchw c = conv_ref({1, 3, 4, 4, x}, w1, 5, 1, 1, {}, 1, 1, {0, 0, 0, 0});
  const Nchw y = conv_ref({1, 5, 1, 16, c.v}, w2, 2, 1, 3, {}, 1, 1, {0, 1, 0, 1});
  expect_near_all(run_graph(g, {x})[0], y.v);
}

TEST(OnnxImport, DigitsExampleMatchesReferenceFromItsInitializers) {
  const std::string path = std::string(TINYFORGE_SOURCE_DIR) + "/examples/digits/digits.onnx";
  std::ifstream f(path, std::ios::binary);
  if (!f) GTEST_SKIP() << "missing " << path;
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromIstream(&f));
  auto init = [&](const std::string& name) {
    for (const auto& t : m.graph().initializer())
      if (t.name() == name) {
        std::vector<float> v(t.raw_data().size() / 4);
        std::memcpy(v.data(), t.raw_data().data(), t.raw_data().size());
        return v;
      }
    ADD_FAILURE() << "no initializer " << name;
    return std::vector<float>{};
  };
  const ir::Graph g = import_onnx_file(path);
  EXPECT_EQ(count_ops(g, OpCode::Conv2D), 2u);
  EXPECT_EQ(count_ops(g, OpCode::Transpose), 0u);  // C = 1 input and the flatten cost nothing
  EXPECT_EQ(count_ops(g, OpCode::Mul) + count_ops(g, OpCode::Add) + count_ops(g, OpCode::Clamp),
            0u);

  const auto x = random_floats(64, 41, 0.0f, 1.0f);
  Nchw a = conv_ref({1, 1, 8, 8, x}, init("features.0.weight"), 8, 3, 3, {}, 1, 1, {1, 1, 1, 1});
  bn_relu_ref(a, init("features.1.weight"), init("features.1.bias"),
              init("features.1.running_mean"), init("features.1.running_var"), 1e-5f, true);
  Nchw b = conv_ref(maxpool_ref(a, 2, 2), init("features.4.weight"), 16, 3, 3,
                    init("features.4.bias"), 1, 1, {1, 1, 1, 1});
  bn_relu_ref(b, init("features.5.weight"), init("features.5.bias"),
              init("features.5.running_mean"), init("features.5.running_var"), 1e-5f, true);
  std::vector<float> logits =
      gemm_ref(maxpool_ref(b, 2, 2).v, 1, init("classifier.weight"), init("classifier.bias"), 10);
  double denom = 0;
  for (float v : logits) denom += std::exp(static_cast<double>(v));
  for (float& v : logits) v = static_cast<float>(std::exp(static_cast<double>(v)) / denom);
  expect_near_all(run_graph(g, {x})[0], logits, 1e-5f);
}

// The fuzz seeds use every converter: each must import, compile and run, with finite outputs.
TEST(OnnxImport, EverySeedModelImportsCompilesAndRuns) {
  for (const auto& [name, bytes] : onnx_test::onnx_seed_models()) {
    SCOPED_TRACE(name);
    const ir::Graph g =
        import_onnx(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), name);
    std::vector<std::vector<float>> inputs;
    for (int t : g.inputs)
      inputs.push_back(random_floats(static_cast<size_t>(g.tensors[t].elements()), 51));
    const auto outs = run_graph(g, inputs);
    ASSERT_EQ(outs.size(), g.outputs.size());
    for (const auto& o : outs)
      for (float v : o) ASSERT_TRUE(std::isfinite(v));
  }
}

// ---- errors ---------------------------------------------------------------------------

std::string import_error(const ModelBuilder& mb) {
  try {
    mb.import();
  } catch (const tinyforge::Error& e) {
    return e.what();
  }
  return "";
}

// Opset 6 files (Caffe2 and early PyTorch exporters): BatchNormalization and Dropout say
// inference with is_test = 1, Gemm has `broadcast`; Reshape takes an attribute before 5.
TEST(OnnxImport, OldOpsetFormsImportAndTrainingModeIsRefused) {
  const std::vector<float> x = random_floats(2 * 4, 7), w = random_floats(4 * 3, 8);
  const std::vector<float> c{0.5f, -1.0f, 2.0f};
  auto gemm_model = [&](int64_t is_test) {
    ModelBuilder mb(6);
    mb.input("x", {2, 4});
    mb.initializer("w", {4, 3}, w);
    mb.initializer("c", {3}, c);
    attr(mb.node("Dropout", {"x"}, {"d"}), "is_test", is_test);
    attr(mb.node("Gemm", {"d", "w", "c"}, {"y"}), "broadcast", int64_t{1});
    mb.output("y", {2, 3});
    return mb;
  };
  std::vector<float> wt(3 * 4);  // [out, in]
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t o = 0; o < 3; ++o) wt[o * 4 + i] = w[i * 3 + o];
  expect_near_all(run_graph(gemm_model(1).import(), {x})[0], gemm_ref(x, 2, wt, c, 3));
  const std::string training = import_error(gemm_model(0));
  EXPECT_NE(training.find("unsupported: training mode (is_test = 0"), std::string::npos)
      << training;

  ModelBuilder bn(6);
  bn.input("x", {1, 2, 2, 2});
  for (const char* p : {"s", "b", "m", "v"}) bn.initializer(p, {2}, {1.0f, 1.0f});
  attr(bn.node("BatchNormalization", {"x", "s", "b", "m", "v"}, {"y"}), "is_test", int64_t{0});
  bn.output("y");
  EXPECT_NE(import_error(bn).find("training mode"), std::string::npos);

  ModelBuilder reshape(1);
  reshape.input("x", {2, 4});
  attr(reshape.node("Reshape", {"x"}, {"y"}), "shape", std::vector<int64_t>{4, 2});
  reshape.output("y", {4, 2});
  const ir::Graph g = reshape.import();
  EXPECT_EQ(g.tensors[g.outputs[0]].shape, (std::vector<int32_t>{4, 2}));
  EXPECT_EQ(run_graph(g, {x})[0], x);
}

TEST(OnnxImport, UnsupportedOpNamesNodeTypeAndOpset) {
  ModelBuilder mb(13);
  mb.input("x", {1, 4});
  mb.node("Erf", {"x"}, {"y"}, "my_erf");
  mb.output("y");
  const std::string msg = import_error(mb);
  EXPECT_NE(msg.find("op 0 (Erf 'my_erf') v13 float32: unsupported: op"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos);
}

TEST(OnnxImport, MalformedModelsGiveOneLineErrors) {
  struct Case {
    const char* name;
    void (*make)(ModelBuilder&);
    const char* expect;  // substring of the message
  };
  const Case cases[] = {
      {"missing initializer",
       [](ModelBuilder& mb) {
         mb.input("x", {1, 1, 4, 4});
         mb.node("Conv", {"x", "nowhere"}, {"y"});
         mb.output("y");
       },
       "'nowhere' is not a graph input"},
      {"unsorted nodes",
       [](ModelBuilder& mb) {
         mb.input("x", {1, 4});
         mb.node("Relu", {"a"}, {"y"});
         mb.node("Relu", {"x"}, {"a"});
         mb.output("y");
       },
       "topologically sorted"},
      {"initializer too short",
       [](ModelBuilder& mb) {
         mb.input("x", {1, 4});
         mb.initializer("w", {3, 4}, std::vector<float>(5, 1.0f));
         mb.node("MatMul", {"x", "w"}, {"y"});
         mb.output("y");
       },
       "raw_data has 20 bytes"},
      {"negative dim",
       [](ModelBuilder& mb) {
         mb.input("x", {1, 4});
         mb.initializer("w", {4, 2}, std::vector<float>(8, 1.0f));
         mb.graph().mutable_initializer(0)->set_dims(0, -4);
         mb.node("MatMul", {"x", "w"}, {"y"});
         mb.output("y");
       },
       "dimension -4 out of range"},
      {"shape mismatch",
       [](ModelBuilder& mb) {
         mb.input("x", {1, 4});
         mb.initializer("w", {5, 2}, std::vector<float>(10, 1.0f));
         mb.node("MatMul", {"x", "w"}, {"y"});
         mb.output("y");
       },
       "do not multiply"},
      {"conv weights of wrong rank",
       [](ModelBuilder& mb) {
         mb.input("x", {1, 2, 4, 4});
         mb.initializer("w", {2, 2}, std::vector<float>(4, 1.0f));
         mb.node("Conv", {"x", "w"}, {"y"});
         mb.output("y");
       },
       "weights W must be"},
      {"huge input dim",
       [](ModelBuilder& mb) {
         mb.input("x", {1, int64_t{1} << 40});
         mb.node("Relu", {"x"}, {"y"});
         mb.output("y");
       },
       "dimension 1 is"},
      {"symbolic inner dim",
       [](ModelBuilder& mb) {
         mb.input("x", {1, 4});
         mb.graph()
             .mutable_input(0)
             ->mutable_type()
             ->mutable_tensor_type()
             ->mutable_shape()
             ->mutable_dim(1)
             ->set_dim_param("n");
         mb.node("Relu", {"x"}, {"y"});
         mb.output("y");
       },
       "is not static"},
      {"declared output shape differs",
       [](ModelBuilder& mb) {
         mb.input("x", {1, 4});
         mb.node("Relu", {"x"}, {"y"});
         mb.output("y", {1, 5});
       },
       "declared [1,5]"},
      {"external data",
       [](ModelBuilder& mb) {
         mb.input("x", {1, 4});
         mb.initializer("w", {4, 2}, std::vector<float>(8, 1.0f));
         mb.graph().mutable_initializer(0)->set_data_location(onnx::TensorProto::EXTERNAL);
         mb.node("MatMul", {"x", "w"}, {"y"});
         mb.output("y");
       },
       "external data"},
      {"pool window outside input",
       [](ModelBuilder& mb) {
         mb.input("x", {1, 1, 4, 4});
         auto& p = mb.node("MaxPool", {"x"}, {"y"});
         attr(p, "kernel_shape", std::vector<int64_t>{2, 2});
         attr(p, "pads", std::vector<int64_t>{3, 0, 0, 0});
         mb.output("y");
       },
       "entirely outside"},
      {"bad conv group",
       [](ModelBuilder& mb) {
         mb.input("x", {1, 3, 4, 4});
         mb.initializer("w", {2, 1, 1, 1}, std::vector<float>(2, 1.0f));
         attr(mb.node("Conv", {"x", "w"}, {"y"}), "group", int64_t{2});
         mb.output("y");
       },
       "group 2 does not fit"},
  };
  for (const Case& c : cases) {
    ModelBuilder mb;
    c.make(mb);
    const std::string msg = import_error(mb);
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.name << ": " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << c.name;
    EXPECT_EQ(msg.rfind("test.onnx", 0), 0u) << c.name << ": message must name the file: " << msg;
  }
}

TEST(OnnxImport, OpsetOutOfRangeAndGarbageAreRefused) {
  ModelBuilder mb(99);
  mb.input("x", {1, 4});
  mb.node("Relu", {"x"}, {"y"});
  mb.output("y");
  EXPECT_NE(import_error(mb).find("opset 99"), std::string::npos);
  const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x12};
  EXPECT_ERROR(import_onnx(garbage, sizeof garbage, "g.onnx"), tinyforge::Error,
               "not a valid ONNX model");
  EXPECT_ERROR(import_onnx(garbage, 0, "g.onnx"), tinyforge::Error, "not a valid ONNX model");
}

// Truncations and byte flips of a real model: the importer (and the planner after it)
// either accepts the result or throws tinyforge::Error; anything else fails the test.
TEST(OnnxImport, DamagedDigitsModelNeverCrashes) {
  const std::string path = std::string(TINYFORGE_SOURCE_DIR) + "/examples/digits/digits.onnx";
  std::ifstream f(path, std::ios::binary);
  if (!f) GTEST_SKIP() << "missing " << path;
  const std::vector<uint8_t> good((std::istreambuf_iterator<char>(f)),
                                  std::istreambuf_iterator<char>());
  ASSERT_GT(good.size(), 1000u);
  auto attempt = [](const std::vector<uint8_t>& bytes) -> int {
    try {
      plan::build_plan(import_onnx(bytes.data(), bytes.size(), "damaged.onnx"));
      return 0;
    } catch (const tinyforge::Error& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
      return 1;
    }
  };
  int refused = 0, tries = 0;
  for (size_t cut = 1; cut < good.size(); cut += good.size() / 40, ++tries)
    refused += attempt(std::vector<uint8_t>(good.begin(), good.begin() + static_cast<long>(cut)));
  std::mt19937 rng(7);
  for (int i = 0; i < 400; ++i, ++tries) {
    std::vector<uint8_t> bad = good;
    for (int k = 0; k < 1 + i % 4; ++k)
      bad[rng() % bad.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
    refused += attempt(bad);
  }
  EXPECT_GT(refused, tries / 4);  // most damage is detected (flips inside float weights are not)
}

}  // namespace
}  // namespace tinyforge
