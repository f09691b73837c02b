// StridedSlice against its definition, written here independently of the kernel and of the
// lowering: each dim's indices follow Python's slice(start, stop, step).indices(n) (a masked
// begin or end is None; negative values count from the end; the same clamping TFLite's
// strided_slice_logic.h applies), a shrunk dim reads index begin (begin + n when negative).
// Random shapes, begins, ends, strides and masks, float and int8; TFLite SLICE (size -1 to
// the end) imported as a strided slice; refusals for empty results and wrong output shapes.
#include "ops/strided_slice.h"

#include <gtest/gtest.h>

#include <random>

#include "export/tflite_writer.h"
#include "import/tflite/import_tflite.h"
#include "ir_test_graphs.h"
#include "plan/lower.h"
#include "tflite_model_builder.h"

namespace tinyforge {
namespace {

using testing::GraphBuilder;

// The indices dim `d` reads, Python's way; empty when the slice is empty.
std::vector<int32_t> indices(const ops::StridedSliceOptions& o, size_t d, int32_t n) {
  const int32_t step = o.strides[d];
  if (o.shrink_axis_mask & (1 << d)) return {o.begin[d] < 0 ? o.begin[d] + n : o.begin[d]};
  const int32_t lower = step > 0 ? 0 : -1, upper = step > 0 ? n : n - 1;
  auto fix = [&](int32_t v) {
    if (v < 0) v += n;
    return v < lower ? lower : (v > upper ? upper : v);
  };
  const int32_t start = o.begin_mask & (1 << d) ? (step < 0 ? upper : lower) : fix(o.begin[d]);
  const int32_t stop = o.end_mask & (1 << d) ? (step < 0 ? lower : upper) : fix(o.end[d]);
  std::vector<int32_t> out;
  for (int32_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(i);
  return out;
}

struct Expected {
  std::vector<int32_t> shape;
  std::vector<size_t> source;  // input element of each output element
};

Expected expected(const ops::StridedSliceOptions& o, const std::vector<int32_t>& shape) {
  Expected e;
  std::vector<std::vector<int32_t>> idx(4, std::vector<int32_t>{0});
  for (size_t d = 0; d < shape.size(); ++d) {
    idx[d] = indices(o, d, shape[d]);
    if (!(o.shrink_axis_mask & (1 << d))) e.shape.push_back(static_cast<int32_t>(idx[d].size()));
  }
  std::vector<int32_t> dims(shape);
  dims.resize(4, 1);
  for (int32_t a : idx[0])
    for (int32_t b : idx[1])
      for (int32_t c : idx[2])
        for (int32_t d : idx[3])
          e.source.push_back(((static_cast<size_t>(a) * dims[1] + b) * dims[2] + c) * dims[3] + d);
  return e;
}

ir::Graph graph(const ops::StridedSliceOptions& o, const std::vector<int32_t>& shape,
                const std::vector<int32_t>& out_shape, bool int8) {
  GraphBuilder b;
  const int x = b.activation("x", shape);
  const int y = b.activation("y", out_shape);
  if (int8)
    for (int t : {x, y}) {
      b.g.tensors[t].type = DType::i8;
      b.g.tensors[t].quant.scale = {0.1f};
      b.g.tensors[t].quant.zero_point = {-128};
    }
  b.node(OpCode::StridedSlice, {x}, y);
  b.g.nodes.back().params = o;
  b.g.inputs = {x};
  b.g.outputs = {y};
  b.g.source = "strided_slice";
  b.g.check();
  return b.g;
}

TEST(StridedSlice, MatchesTheDefinitionOnRandomSlices) {
  std::mt19937 rng(41);
  int ran = 0;
  for (int round = 0; round < 1500 && ran < 150; ++round) {
    const size_t rank = 1 + rng() % 4;
    std::vector<int32_t> shape;
    for (size_t d = 0; d < rank; ++d) shape.push_back(1 + static_cast<int32_t>(rng() % 6));
    ops::StridedSliceOptions o;
    for (size_t d = 0; d < rank; ++d) {
      const int32_t n = shape[d];
      o.begin.push_back(static_cast<int32_t>(rng() % (2 * n + 5)) - n - 2);
      o.end.push_back(static_cast<int32_t>(rng() % (2 * n + 5)) - n - 2);
      int32_t s = static_cast<int32_t>(rng() % 7) - 3;
      o.strides.push_back(s == 0 ? 1 : s);
      if (rng() % 4 == 0) o.begin_mask |= 1 << d;
      if (rng() % 4 == 0) o.end_mask |= 1 << d;
      if (rng() % 6 == 0 && o.strides[d] > 0 && o.begin[d] >= -n && o.begin[d] < n &&
          !((o.begin_mask | o.end_mask) & (1 << d)))
        o.shrink_axis_mask |= 1 << d;
    }
    const Expected e = expected(o, shape);
    if (e.source.empty()) continue;  // empty results are refused (below)
    ++ran;
    SCOPED_TRACE(::testing::Message()
                 << "shape " << ::testing::PrintToString(shape) << " begin "
                 << ::testing::PrintToString(o.begin) << " end " << ::testing::PrintToString(o.end)
                 << " strides " << ::testing::PrintToString(o.strides) << " masks " << o.begin_mask
                 << " " << o.end_mask << " " << o.shrink_axis_mask);
    size_t n = 1;
    for (int32_t d : shape) n *= static_cast<size_t>(d);
    const std::vector<float> xf = testing::as_floats(testing::random_floats(n, round));
    std::vector<float> want_f;
    std::vector<int8_t> xi(n), want_i;
    for (size_t i = 0; i < n; ++i) xi[i] = static_cast<int8_t>(rng());
    for (size_t s : e.source) want_f.push_back(xf[s]), want_i.push_back(xi[s]);
    std::vector<uint8_t> bf(n * 4), wf(want_f.size() * 4);
    std::memcpy(bf.data(), xf.data(), bf.size());
    std::memcpy(wf.data(), want_f.data(), wf.size());
    EXPECT_EQ(testing::run_graph(graph(o, shape, e.shape, false), {bf}, 1), wf);
    const std::vector<uint8_t> bi(xi.begin(), xi.end()), wi(want_i.begin(), want_i.end());
    EXPECT_EQ(testing::run_graph(graph(o, shape, e.shape, true), {bi}, 1), wi);
  }
  EXPECT_GE(ran, 100);
}

TEST(StridedSlice, TfliteSliceImportsAsAStridedSlice) {
  using namespace testing;
  ModelSpec spec;
  spec.tensors = {TensorSpec("x", {3, 4, 5}),
                  TensorSpec("begin", {3}, tfl::TensorType::INT32, bytes_of<int32_t>({1, 0, 2})),
                  TensorSpec("size", {3}, tfl::TensorType::INT32, bytes_of<int32_t>({2, -1, 3})),
                  TensorSpec("y", {2, 4, 3})};
  OpSpec op(tfl::BuiltinOperator::SLICE, {0, 1, 2}, {3});
  op.with_options = false;
  spec.ops = {op};
  spec.inputs = {0};
  spec.outputs = {3};
  const std::vector<uint8_t> file = build_tflite(spec);
  const ir::Graph g = import_tflite(file.data(), file.size(), "slice.tflite");
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].op, OpCode::StridedSlice);
  const std::vector<float> x = float_pattern(60);
  std::vector<float> want;
  for (int a = 1; a < 3; ++a)
    for (int b = 0; b < 4; ++b)
      for (int c = 2; c < 5; ++c) want.push_back(x[static_cast<size_t>((a * 4 + b) * 5 + c)]);
  EXPECT_EQ(run_graph(g, {bytes_of(x)}, 1), bytes_of(want));
}

TEST(StridedSlice, EmptyResultsAndWrongShapesAreRefused) {
  ops::StridedSliceOptions o{{2}, {2}, {1}, 0, 0, 0};
  ir::Graph g = graph(o, {5}, {1}, false);
  try {
    plan::lower_node(g, 0);
    FAIL() << "expected a refusal";
  } catch (const tinyforge::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no elements"), std::string::npos) << e.what();
  }
  g.nodes[0].params = ops::StridedSliceOptions{{1}, {4}, {1}, 0, 0, 0};  // output must be [3]
  try {
    plan::lower_node(g, 0);
    FAIL() << "expected a refusal";
  } catch (const tinyforge::Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected [3]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tinyforge
