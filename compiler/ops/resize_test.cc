// ResizeNearestNeighbor and ResizeBilinear against their definitions, written here apart from
// the kernel: TFLite's reference arithmetic spelled out per output element (source index or
// float position and neighbours, or the int8 10-bit fixed point), on random sizes, up- and
// downscaling, every flag combination TFLite allows, float and int8 with extreme values. The
// int8 bilinear result is also checked to lie within one step of the exact interpolation of
// the int8 values (computed in double), and small cases are checked by hand. int16 (TFLite's
// 16x8 scheme: its resize_bilinear.cc runs ResizeBilinearInteger<int16_t>) bilinear alike. TFLite
// files built in the test import; the refused cases name the reason.
#include "ops/resize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "expect_error.h"
#include "import/onnx/onnx_test_builder.h"
#include "import/tflite/import_tflite.h"
#include "ir_test_graphs.h"
#include "plan/lower.h"
#include "tflite_model_builder.h"

namespace tinyforge {
namespace {

using testing::GraphBuilder;
using Shape = std::vector<int32_t>;

// `int8` (or `int16`, TFLite's 16x8 scheme) input and output quantized alike, else float32.
ir::Graph graph(OpCode op, const Shape& in, const Shape& out, ops::ResizeAttrs a, bool int8,
                bool int16 = false) {
  GraphBuilder b;
  const int x = b.activation("x", in);
  const int y = b.activation("y", out);
  if (int8 || int16)
    for (int t : {x, y}) {
      b.g.tensors[t].type = int16 ? DType::i16 : DType::i8;
      b.g.tensors[t].quant.scale = {int16 ? 1.0f / 1024 : 0.1f};
      b.g.tensors[t].quant.zero_point = {int16 ? 0 : -5};
    }
  b.node(op, {x}, y, a);
  b.g.inputs = {x};
  b.g.outputs = {y};
  b.g.source = "resize";
  b.g.check();
  return b.g;
}

float scale_of(int32_t in, int32_t out, bool align) {
  if (align && out > 1) return static_cast<float>(in - 1) / static_cast<float>(out - 1);
  return static_cast<float>(in) / static_cast<float>(out);
}

// TFLite GetNearestNeighbor.
int32_t nearest_source(int32_t i, int32_t in, int32_t out, ops::ResizeAttrs a) {
  const float at = (static_cast<float>(i) + (a.half_pixel_centers ? 0.5f : 0.0f)) *
                   scale_of(in, out, a.align_corners);
  int32_t v = static_cast<int32_t>(a.align_corners ? std::round(at) : std::floor(at));
  v = std::min(v, in - 1);
  return a.half_pixel_centers ? std::max(v, 0) : v;
}

size_t at(const Shape& s, int32_t b, int32_t y, int32_t x, int32_t c) {
  return ((static_cast<size_t>(b) * s[1] + y) * s[2] + x) * s[3] + c;
}

template <typename T>
std::vector<T> nearest(const std::vector<T>& in, const Shape& si, const Shape& so,
                       ops::ResizeAttrs a) {
  std::vector<T> out;
  for (int32_t b = 0; b < so[0]; ++b)
    for (int32_t y = 0; y < so[1]; ++y)
      for (int32_t x = 0; x < so[2]; ++x)
        for (int32_t c = 0; c < so[3]; ++c)
          out.push_back(in[at(si, b, nearest_source(y, si[1], so[1], a),
                              nearest_source(x, si[2], so[2], a), c)]);
  return out;
}

struct Pos {
  float p;
  int32_t lo, hi;
};
Pos float_pos(int32_t i, int32_t in, int32_t out, ops::ResizeAttrs a) {
  const float s = scale_of(in, out, a.align_corners);
  const float p =
      a.half_pixel_centers ? (static_cast<float>(i) + 0.5f) * s - 0.5f : static_cast<float>(i) * s;
  return {p, std::max(static_cast<int32_t>(std::floor(p)), 0),
          std::min(static_cast<int32_t>(std::ceil(p)), in - 1)};
}

std::vector<float> bilinear(const std::vector<float>& in, const Shape& si, const Shape& so,
                            ops::ResizeAttrs a) {
  std::vector<float> out;
  for (int32_t b = 0; b < so[0]; ++b)
    for (int32_t y = 0; y < so[1]; ++y) {
      const Pos py = float_pos(y, si[1], so[1], a);
      for (int32_t x = 0; x < so[2]; ++x) {
        const Pos px = float_pos(x, si[2], so[2], a);
        const float fy = py.p - static_cast<float>(py.lo), fx = px.p - static_cast<float>(px.lo);
        for (int32_t c = 0; c < so[3]; ++c)
          out.push_back(in[at(si, b, py.lo, px.lo, c)] * (1 - fy) * (1 - fx) +
                        in[at(si, b, py.hi, px.lo, c)] * fy * (1 - fx) +
                        in[at(si, b, py.lo, px.hi, c)] * (1 - fy) * fx +
                        in[at(si, b, py.hi, px.hi, c)] * fy * fx);
      }
    }
  return out;
}

struct FixedPos {
  int64_t p;
  int32_t lo, hi;
};
FixedPos fixed_pos(int32_t i, int32_t in, int32_t out, ops::ResizeAttrs a) {
  const int64_t s = a.align_corners && out > 1 ? (1024 * (in - 1) + (out - 1) / 2) / (out - 1)
                                               : (1024 * in + out / 2) / out;
  const int64_t p = a.half_pixel_centers ? i * s + s / 2 - 512 : i * s;
  // C++ division truncates toward zero, as TFLite's int32 arithmetic does.
  return {p, static_cast<int32_t>(std::max<int64_t>(p / 1024, 0)),
          static_cast<int32_t>(std::min<int64_t>((p + 1023) / 1024, in - 1))};
}

// Returns TFLite's int8 (int16: ResizeBilinearInteger<int16_t>, the same steps) results and,
// in `exact`, the double interpolation at the same fixed-point positions.
template <typename T>
std::vector<T> bilinear_integer(const std::vector<T>& in, const Shape& si, const Shape& so,
                                ops::ResizeAttrs a, std::vector<double>& exact) {
  std::vector<T> out;
  for (int32_t b = 0; b < so[0]; ++b)
    for (int32_t y = 0; y < so[1]; ++y) {
      const FixedPos py = fixed_pos(y, si[1], so[1], a);
      for (int32_t x = 0; x < so[2]; ++x) {
        const FixedPos px = fixed_pos(x, si[2], so[2], a);
        const int64_t wy = py.p - 1024 * py.lo, wx = px.p - 1024 * px.lo;
        for (int32_t c = 0; c < so[3]; ++c) {
          const int64_t v00 = in[at(si, b, py.lo, px.lo, c)], v10 = in[at(si, b, py.hi, px.lo, c)];
          const int64_t v01 = in[at(si, b, py.lo, px.hi, c)], v11 = in[at(si, b, py.hi, px.hi, c)];
          const int64_t sum = v00 * (1024 - wy) * (1024 - wx) + v10 * wy * (1024 - wx) +
                              v01 * (1024 - wy) * wx + v11 * wy * wx;
          // Rounded half away from zero by 2^20.
          const int64_t mag = (std::llabs(sum) + (1 << 19)) >> 20;
          out.push_back(static_cast<T>(sum < 0 ? -mag : mag));
          exact.push_back(static_cast<double>(sum) / (1 << 20));
        }
      }
    }
  return out;
}

ops::ResizeAttrs flags(int k) { return {k == 1, k == 2}; }  // none, align, half pixel

TEST(Resize, MatchesTheDefinitionOnRandomSizes) {
  std::mt19937 rng(17);
  for (int round = 0; round < 90; ++round) {
    const Shape si = {1 + static_cast<int32_t>(rng() % 2), 1 + static_cast<int32_t>(rng() % 6),
                      1 + static_cast<int32_t>(rng() % 6), 1 + static_cast<int32_t>(rng() % 3)};
    const Shape so = {si[0], 1 + static_cast<int32_t>(rng() % 11),
                      1 + static_cast<int32_t>(rng() % 11), si[3]};
    const ops::ResizeAttrs a = flags(round % 3);
    SCOPED_TRACE(::testing::Message()
                 << ::testing::PrintToString(si) << " -> " << ::testing::PrintToString(so)
                 << " align " << a.align_corners << " half " << a.half_pixel_centers);
    const size_t n = static_cast<size_t>(si[0] * si[1] * si[2] * si[3]);
    const std::vector<float> xf = testing::as_floats(testing::random_floats(n, round, -50, 50));
    std::vector<int8_t> xi(n);
    for (int8_t& v : xi) v = static_cast<int8_t>(rng());
    xi[0] = -128;
    xi[n - 1] = 127;
    std::vector<int16_t> xs(n);
    for (int16_t& v : xs) v = static_cast<int16_t>(rng());
    xs[0] = -32768;
    xs[n - 1] = 32767;

    const auto run = [&](OpCode op, bool int8, const std::vector<uint8_t>& bytes) {
      return testing::run_graph(graph(op, si, so, a, int8), {bytes}, 1);
    };
    EXPECT_EQ(run(OpCode::ResizeNearestNeighbor, false, testing::bytes_of(xf)),
              testing::bytes_of(nearest(xf, si, so, a)));
    EXPECT_EQ(run(OpCode::ResizeNearestNeighbor, true, testing::bytes_of(xi)),
              testing::bytes_of(nearest(xi, si, so, a)));
    EXPECT_EQ(run(OpCode::ResizeBilinear, false, testing::bytes_of(xf)),
              testing::bytes_of(bilinear(xf, si, so, a)));
    std::vector<double> exact;
    const std::vector<int8_t> want = bilinear_integer(xi, si, so, a, exact);
    EXPECT_EQ(run(OpCode::ResizeBilinear, true, testing::bytes_of(xi)), testing::bytes_of(want));
    for (size_t i = 0; i < want.size(); ++i) ASSERT_LE(std::fabs(want[i] - exact[i]), 0.5 + 1e-9);
    std::vector<double> exact16;
    const std::vector<int16_t> want16 = bilinear_integer(xs, si, so, a, exact16);
    EXPECT_EQ(testing::run_graph(graph(OpCode::ResizeBilinear, si, so, a, false, true),
                                 {testing::bytes_of(xs)}, 1),
              testing::bytes_of(want16));
    for (size_t i = 0; i < want16.size(); ++i)
      ASSERT_LE(std::fabs(want16[i] - exact16[i]), 0.5 + 1e-9);
  }
}

// Small cases worked out by hand.
TEST(Resize, HandWorkedCases) {
  // Nearest 2x2 -> 4x4 without flags repeats each pixel twice along each axis.
  const std::vector<float> x = {1, 2, 3, 4};
  EXPECT_EQ(testing::as_floats(testing::run_graph(
                graph(OpCode::ResizeNearestNeighbor, {1, 2, 2, 1}, {1, 4, 4, 1}, {}, false),
                {testing::bytes_of(x)}, 1)),
            (std::vector<float>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
  // Bilinear 1x2 -> 1x3 with align_corners: the middle is the mean of the ends.
  EXPECT_EQ(testing::as_floats(testing::run_graph(
                graph(OpCode::ResizeBilinear, {1, 1, 2, 1}, {1, 1, 3, 1}, {true, false}, false),
                {testing::bytes_of(std::vector<float>{2, 6})}, 1)),
            (std::vector<float>{2, 4, 6}));
  // int8 bilinear 1x2 -> 1x4 without flags: positions 0, 0.5, 1, 1.5 (clamped to the edge).
  EXPECT_EQ(testing::run_graph(graph(OpCode::ResizeBilinear, {1, 1, 2, 1}, {1, 1, 4, 1}, {}, true),
                               {testing::bytes_of(std::vector<int8_t>{-100, 101})}, 1),
            testing::bytes_of(std::vector<int8_t>{-100, 1, 101, 101}));
}

std::vector<uint8_t> model(tfl::BuiltinOperator op, const Shape& in, const Shape& out,
                           std::vector<int32_t> size, bool align, bool half) {
  using namespace testing;
  ModelSpec m;
  m.tensors = {TensorSpec("x", in), TensorSpec("size", {2}, tfl::TensorType::INT32, bytes_of(size)),
               TensorSpec("y", out)};
  OpSpec o(op, {0, 1}, {2});
  o.align_corners = align;
  o.half_pixel_centers = half;
  m.ops = {o};
  m.inputs = {0};
  m.outputs = {2};
  return build_tflite(m);
}

ir::Graph import(const std::vector<uint8_t>& file) {
  return import_tflite(file.data(), file.size(), "resize.tflite");
}

TEST(Resize, TfliteImportKeepsTheFlagsAndRefusesBadModels) {
  using B = tfl::BuiltinOperator;
  const ir::Graph g = import(model(B::RESIZE_BILINEAR, {1, 2, 3, 4}, {1, 5, 7, 4}, {5, 7}, 0, 1));
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].op, OpCode::ResizeBilinear);
  EXPECT_TRUE(g.nodes[0].params == (ir::Params{ops::ResizeAttrs{false, true}}));
  EXPECT_ERROR(import(model(B::RESIZE_NEAREST_NEIGHBOR, {1, 2, 2, 1}, {1, 4, 4, 1}, {4, 4}, 1, 1)),
               tinyforge::Error, "align_corners and half_pixel_centers are both set");
  EXPECT_ERROR(import(model(B::RESIZE_BILINEAR, {1, 2, 2, 1}, {1, 4, 4, 1}, {4, 5}, 0, 0)),
               tinyforge::Error, "the size operand says 4x5");
  EXPECT_ERROR(import(model(B::RESIZE_BILINEAR, {2, 2, 1}, {4, 4, 1}, {4, 4}, 0, 0)),
               tinyforge::Error, "expected NHWC tensors of rank 4");
  EXPECT_ERROR(import(model(B::RESIZE_BILINEAR, {1, 2, 2, 1}, {1, 4, 4, 2}, {4, 4}, 0, 0)),
               tinyforge::Error, "differ in batch or channels");
}

// ONNX Resize (nearest, asymmetric, floor: each pixel repeated 2x) of a Conv's output, held
// channels last, against the Conv output repeated here in NCHW; a cubic Resize is refused.
TEST(Resize, OnnxNearestResizeOfAChannelsLastValue) {
  auto model = [](const char* mode) {
    onnx_test::ModelBuilder mb(13);
    mb.input("x", {1, 2, 3, 4});
    mb.initializer("w", {3, 2, 1, 1}, testing::as_floats(testing::random_floats(6, 1)));
    mb.node("Conv", {"x", "w"}, {"c"});
    if (mode) {
      mb.initializer("scales", {4}, std::vector<float>{1, 1, 2, 2});
      auto& r = mb.node("Resize", {"c", "", "scales"}, {"y"});
      onnx_test::attr(r, "mode", mode);
      onnx_test::attr(r, "coordinate_transformation_mode", "asymmetric");
      onnx_test::attr(r, "nearest_mode", "floor");
      mb.output("y");
    } else {
      mb.output("c");
    }
    return mb.import();
  };
  const std::vector<uint8_t> x = testing::random_floats(24, 4);
  const std::vector<float> conv = testing::as_floats(testing::run_graph(model(nullptr), {x}, 1));
  std::vector<float> want;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 6; ++y)
      for (int xx = 0; xx < 8; ++xx)
        want.push_back(conv[static_cast<size_t>((c * 3 + y / 2) * 4 + xx / 2)]);
  EXPECT_EQ(testing::as_floats(testing::run_graph(model("nearest"), {x}, 1)), want);
  EXPECT_ERROR(model("cubic"), tinyforge::Error, "mode 'cubic'; expected nearest or linear");
}

TEST(Resize, LoweringRefusesDifferentInt8Quantization) {
  ir::Graph g = graph(OpCode::ResizeBilinear, {1, 2, 2, 1}, {1, 3, 3, 1}, {}, true);
  g.tensors[static_cast<size_t>(g.outputs[0])].quant.scale = {0.2f};
  EXPECT_ERROR(plan::lower_node(g, 0), tinyforge::Error, "quantized differently");
}

}  // namespace
}  // namespace tinyforge
