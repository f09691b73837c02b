// Split, Unpack and Pack against their definitions, written here independently of the kernels
// and lowering: an output element at index i reads the input element at i with the piece's
// offset added along the axis (Split), with the output's number inserted at the axis
// (Unpack); Pack is the reverse of Unpack. Random shapes, axes and pieces, float and int8
// (extreme int8 bytes included); TFLite SPLIT / SPLIT_V / UNPACK / PACK files built in the
// test; refusals for bad pieces, counts and quantization; the kernels' own checks.
#include "ops/split_pack.h"

#include <gtest/gtest.h>

#include <numeric>
#include <random>

#include "expect_error.h"
#include "import/onnx/onnx_test_builder.h"
#include "import/tflite/import_tflite.h"
#include "ir_test_graphs.h"
#include "plan/lower.h"
#include "quantize/quantize_graph.h"
#include "tflite_model_builder.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

using testing::GraphBuilder;
using Shape = std::vector<int32_t>;

size_t count(const Shape& s) {
  return static_cast<size_t>(std::accumulate(s.begin(), s.end(), int64_t{1}, std::multiplies<>()));
}

// Row-major multi-index of flat index `i` in `s`, and back.
Shape unflatten(size_t i, const Shape& s) {
  Shape idx(s.size());
  for (size_t d = s.size(); d-- > 0;) {
    idx[d] = static_cast<int32_t>(i % static_cast<size_t>(s[d]));
    i /= static_cast<size_t>(s[d]);
  }
  return idx;
}
size_t flatten(const Shape& idx, const Shape& s) {
  size_t i = 0;
  for (size_t d = 0; d < s.size(); ++d) i = i * static_cast<size_t>(s[d]) + idx[d];
  return i;
}

// Per-element byte vectors of `n` elements of `size` bytes: float values or int8 bytes with
// the extremes -128 and 127 first.
std::vector<uint8_t> random_elements(size_t n, bool int8, uint32_t seed) {
  if (!int8) return testing::random_floats(n, seed, -100, 100);
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(rng());
  if (n > 0) v[0] = 0x80;
  if (n > 1) v[1] = 0x7F;
  return v;
}

// Element `i` of `bytes` (elements of `size` bytes) appended to `out`.
void copy_element(const std::vector<uint8_t>& bytes, size_t i, size_t size,
                  std::vector<uint8_t>& out) {
  out.insert(out.end(), bytes.begin() + static_cast<ptrdiff_t>(i * size),
             bytes.begin() + static_cast<ptrdiff_t>((i + 1) * size));
}

void quantize_all(ir::Graph& g, float scale, int32_t zero_point) {
  for (ir::Tensor& t : g.tensors) {
    t.type = DType::i8;
    t.quant.scale = {scale};
    t.quant.zero_point = {zero_point};
  }
}

// One multi-output node reading `ins` and writing `outs`; all are model inputs / outputs.
ir::Graph graph_of(GraphBuilder& b, OpCode op, std::vector<int> ins, std::vector<int> outs,
                   ir::Params params, bool int8) {
  b.g.nodes.push_back(ir::Node{op, ins, outs, std::move(params), ""});
  b.g.inputs = std::move(ins);
  b.g.outputs = std::move(outs);
  b.g.source = op_info(op).name;
  if (int8) quantize_all(b.g, 0.25f, -3);
  b.g.check();
  return b.g;
}

Shape random_shape(std::mt19937& rng) {
  Shape s(1 + rng() % 4);
  for (int32_t& d : s) d = 1 + static_cast<int32_t>(rng() % 5);
  return s;
}

TEST(SplitPack, SplitMatchesTheDefinitionOnRandomPieces) {
  std::mt19937 rng(7);
  for (int round = 0; round < 120; ++round) {
    const bool int8 = round % 2 == 1;
    Shape shape = random_shape(rng);
    const size_t axis = rng() % shape.size();
    shape[axis] += static_cast<int32_t>(rng() % 8);  // room for up to 8 pieces
    std::vector<int32_t> sizes;
    for (int32_t left = shape[axis]; left > 0;) {
      const int32_t s =
          sizes.size() == 7 ? left : 1 + static_cast<int32_t>(rng() % static_cast<uint32_t>(left));
      sizes.push_back(s);
      left -= s;
    }
    SCOPED_TRACE(::testing::Message() << "shape " << ::testing::PrintToString(shape) << " axis "
                                      << axis << " sizes " << ::testing::PrintToString(sizes));
    GraphBuilder b;
    const int x = b.activation("x", shape);
    std::vector<int> outs;
    for (int32_t s : sizes) {
      Shape o = shape;
      o[axis] = s;
      outs.push_back(b.activation("y" + std::to_string(outs.size()), o));
    }
    const ir::Graph g =
        graph_of(b, OpCode::Split, {x}, outs, ops::SplitAttrs{static_cast<int>(axis)}, int8);
    const size_t size = int8 ? 1 : 4;
    const std::vector<uint8_t> in = random_elements(count(shape), int8, round);
    std::vector<std::vector<uint8_t>> want(sizes.size());
    int32_t offset = 0;
    for (size_t k = 0; k < sizes.size(); ++k) {
      Shape o = shape;
      o[axis] = sizes[k];
      for (size_t i = 0; i < count(o); ++i) {
        Shape idx = unflatten(i, o);
        idx[axis] += offset;
        copy_element(in, flatten(idx, shape), size, want[k]);
      }
      offset += sizes[k];
    }
    EXPECT_EQ(testing::run_graph_outputs(g, {in}, 1), want);
  }
}

TEST(SplitPack, UnpackAndPackMatchTheDefinitionAndInvertEachOther) {
  std::mt19937 rng(8);
  for (int round = 0; round < 80; ++round) {
    const bool int8 = round % 2 == 0;
    Shape shape = random_shape(rng);
    const size_t axis = rng() % shape.size();
    shape[axis] = 1 + static_cast<int32_t>(rng() % 8);
    Shape piece = shape;
    piece.erase(piece.begin() + static_cast<ptrdiff_t>(axis));
    SCOPED_TRACE(::testing::Message()
                 << "shape " << ::testing::PrintToString(shape) << " axis " << axis);
    const size_t size = int8 ? 1 : 4;
    const std::vector<uint8_t> in = random_elements(count(shape), int8, 100 + round);
    std::vector<std::vector<uint8_t>> slices(static_cast<size_t>(shape[axis]));
    for (size_t k = 0; k < slices.size(); ++k)
      for (size_t i = 0; i < count(piece); ++i) {
        Shape idx = unflatten(i, piece);
        idx.insert(idx.begin() + static_cast<ptrdiff_t>(axis), static_cast<int32_t>(k));
        copy_element(in, flatten(idx, shape), size, slices[k]);
      }

    GraphBuilder u;
    const int x = u.activation("x", shape);
    std::vector<int> outs;
    for (size_t k = 0; k < slices.size(); ++k)
      outs.push_back(u.activation("y" + std::to_string(k), piece));
    const ir::Graph unpack =
        graph_of(u, OpCode::Unpack, {x}, outs, ops::SplitAttrs{static_cast<int>(axis)}, int8);
    EXPECT_EQ(testing::run_graph_outputs(unpack, {in}, 1), slices);

    GraphBuilder p;
    std::vector<int> ins;
    for (size_t k = 0; k < slices.size(); ++k)
      ins.push_back(p.activation("x" + std::to_string(k), piece));
    const int y = p.activation("y", shape);
    const ir::Graph pack =
        graph_of(p, OpCode::Pack, ins, {y}, ops::PackAttrs{static_cast<int>(axis)}, int8);
    EXPECT_EQ(testing::run_graph(pack, slices, 1), in);
  }
}

// A TFLite model of `tensors` with one op; inputs: the non-constant tensors not written.
std::vector<uint8_t> model(std::vector<testing::TensorSpec> tensors, testing::OpSpec op) {
  testing::ModelSpec m;
  m.tensors = std::move(tensors);
  for (int32_t t = 0; t < static_cast<int32_t>(m.tensors.size()); ++t)
    if (m.tensors[static_cast<size_t>(t)].data.empty() &&
        std::find(op.outputs.begin(), op.outputs.end(), t) == op.outputs.end())
      m.inputs.push_back(t);
  m.outputs = op.outputs;
  m.ops = {op};
  return testing::build_tflite(m);
}

testing::TensorSpec i8(const std::string& name, Shape shape, float scale = 0.5f, int64_t zp = 3) {
  return {name, std::move(shape), tfl::TensorType::INT8, {}, {scale}, {zp}};
}
testing::TensorSpec ints(const std::string& name, Shape shape, const std::vector<int32_t>& v) {
  return {name, std::move(shape), tfl::TensorType::INT32, testing::bytes_of(v)};
}

ir::Graph import(const std::vector<uint8_t>& file) {
  return import_tflite(file.data(), file.size(), "m.tflite");
}

// int8 SPLIT_V with a -1 size and a negative axis, checked on a hand-written case.
TEST(SplitPack, Int8SplitVModelCutsAsWritten) {
  using B = tfl::BuiltinOperator;
  const auto file = model({i8("x", {2, 5}), ints("sizes", {3}, {1, -1, 2}), ints("axis", {}, {-1}),
                           i8("a", {2, 1}), i8("b", {2, 2}), i8("c", {2, 2})},
                          testing::OpSpec(B::SPLIT_V, {0, 1, 2}, {3, 4, 5}));
  const ir::Graph g = import(file);
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].op, OpCode::Split);
  const std::vector<int8_t> x = {-128, 1, 2, 3, 127, 10, 11, 12, 13, 14};
  const auto outs = testing::run_graph_outputs(g, {testing::bytes_of(x)}, 1);
  EXPECT_EQ(outs.at(0), testing::bytes_of(std::vector<int8_t>{-128, 10}));
  EXPECT_EQ(outs.at(1), testing::bytes_of(std::vector<int8_t>{1, 2, 11, 12}));
  EXPECT_EQ(outs.at(2), testing::bytes_of(std::vector<int8_t>{3, 127, 13, 14}));
}

// int8 PACK of two [3] tensors along axis 1, and UNPACK of a [3, 2] along axis 0: values
// written out by hand.
TEST(SplitPack, Int8PackAndUnpackModelsMoveValuesAsWritten) {
  using B = tfl::BuiltinOperator;
  testing::OpSpec pack(B::PACK, {0, 1}, {2});
  pack.axis = 1;
  const ir::Graph p = import(model({i8("a", {3}), i8("b", {3}), i8("y", {3, 2})}, pack));
  const std::vector<int8_t> a = {-128, 0, 5}, b = {127, -1, 6};
  EXPECT_EQ(testing::run_graph(p, {testing::bytes_of(a), testing::bytes_of(b)}, 1),
            testing::bytes_of(std::vector<int8_t>{-128, 127, 0, -1, 5, 6}));

  testing::OpSpec unpack(B::UNPACK, {0}, {1, 2, 3});
  unpack.axis = 0;
  const ir::Graph u =
      import(model({i8("x", {3, 2}), i8("p", {2}), i8("q", {2}), i8("r", {2})}, unpack));
  const auto outs = testing::run_graph_outputs(
      u, {testing::bytes_of(std::vector<int8_t>{-128, 127, 0, -1, 5, 6})}, 1);
  EXPECT_EQ(outs.at(0), testing::bytes_of(std::vector<int8_t>{-128, 127}));
  EXPECT_EQ(outs.at(1), testing::bytes_of(std::vector<int8_t>{0, -1}));
  EXPECT_EQ(outs.at(2), testing::bytes_of(std::vector<int8_t>{5, 6}));
}

TEST(SplitPack, BadModelsAreRefusedWithTheReason) {
  using B = tfl::BuiltinOperator;
  // SPLIT of 5 into 2.
  EXPECT_ERROR(import(model({ints("axis", {}, {1}), {"x", {2, 5}}, {"a", {2, 2}}, {"b", {2, 3}}},
                            testing::OpSpec(B::SPLIT, {0, 1}, {2, 3}))),
               tinyforge::Error, "not a multiple of the 2 outputs");
  // SPLIT_V sizes that do not add up.
  EXPECT_ERROR(
      import(model(
          {{"x", {6}}, ints("sizes", {2}, {2, 3}), ints("axis", {}, {0}), {"a", {2}}, {"b", {3}}},
          testing::OpSpec(B::SPLIT_V, {0, 1, 2}, {3, 4}))),
      tinyforge::Error, "size_splits sum to 5; axis 0 has 6 elements");
  // An axis out of range.
  EXPECT_ERROR(import(model({ints("axis", {}, {2}), {"x", {2, 4}}, {"a", {2, 2}}, {"b", {2, 2}}},
                            testing::OpSpec(B::SPLIT, {0, 1}, {2, 3}))),
               tinyforge::Error, "axis 2 is out of range");
  // int8 outputs quantized unlike the input.
  EXPECT_ERROR(
      import(model({ints("axis", {}, {0}), i8("x", {4}), i8("a", {2}), i8("b", {2}, 0.25f)},
                   testing::OpSpec(B::SPLIT, {0, 1}, {2, 3}))),
      tinyforge::Error, "expected the same quantization");
  // Nine outputs: more than the runtime's eight.
  std::vector<testing::TensorSpec> nine = {ints("axis", {}, {0}), {"x", {9}}};
  std::vector<int32_t> outs;
  for (int k = 0; k < 9; ++k) {
    outs.push_back(static_cast<int32_t>(nine.size()));
    nine.push_back({"y" + std::to_string(k), {1}});
  }
  EXPECT_ERROR(import(model(nine, testing::OpSpec(B::SPLIT, {0, 1}, outs))), tinyforge::Error,
               "has 9 outputs; expected 1 to 8");
  // UNPACK with a wrong output count.
  EXPECT_ERROR(import(model({{"x", {3, 2}}, {"a", {2}}, {"b", {2}}},
                            testing::OpSpec(B::UNPACK, {0}, {1, 2}))),
               tinyforge::Error, "axis 0 has 3 elements");
  // PACK of inputs of different shapes, and of differently quantized int8 inputs.
  EXPECT_ERROR(
      import(model({{"a", {2}}, {"b", {3}}, {"y", {2, 2}}}, testing::OpSpec(B::PACK, {0, 1}, {2}))),
      tinyforge::Error, "has shape [3]; expected [2]");
  EXPECT_ERROR(import(model({i8("a", {2}), i8("b", {2}, 0.5f, 4), i8("y", {2, 2})},
                            testing::OpSpec(B::PACK, {0, 1}, {2}))),
               tinyforge::Error, "expected the same quantization");
  // A single-output op given two outputs.
  EXPECT_ERROR(import(model({{"x", {2}}, {"y", {2}}, {"z", {2}}},
                            testing::OpSpec(B::LOGISTIC, {0}, {1, 2}))),
               tinyforge::Error, "has 2 outputs; expected 1");
}

TEST(SplitPack, LoweringRefusesWhatTheKernelCannotRun) {
  GraphBuilder b;
  const int x = b.activation("x", {4, 2});
  const int y0 = b.activation("y0", {2, 2}), y1 = b.activation("y1", {1, 2});
  ir::Graph g = graph_of(b, OpCode::Split, {x}, {y0, y1}, ops::SplitAttrs{0}, false);
  EXPECT_ERROR(plan::lower_node(g, 0), tinyforge::Error, "outputs hold 3 along axis 0");
  g.tensors[static_cast<size_t>(y1)].shape = {2, 2};
  quantize_all(g, 0.5f, 0);
  g.tensors[static_cast<size_t>(y1)].quant.zero_point = {1};
  EXPECT_ERROR(plan::lower_node(g, 0), tinyforge::Error, "quantized differently");
  g.nodes[0].params = ops::SplitAttrs{2};
  EXPECT_ERROR(plan::lower_node(g, 0), tinyforge::Error, "axis 2 out of range");
}

// The quantizer gives every output of a multi-output node its parameters (Split: the input's)
// and the int8 graph computes the float one to within half an input step.
TEST(SplitPack, QuantizerHandlesEveryOutput) {
  GraphBuilder b;
  const int x = b.activation("x", {2, 6});
  const int y0 = b.activation("y0", {2, 2}), y1 = b.activation("y1", {2, 4});
  const ir::Graph g = graph_of(b, OpCode::Split, {x}, {y0, y1}, ops::SplitAttrs{1}, false);
  const std::vector<uint8_t> data = testing::random_floats(12 * 16, 9, -3, 3);
  quantize::CalibrationSet set{{data}, 16};
  const ir::Graph q = quantize::quantize_model(g, set, {});
  const ir::Node* split = nullptr;
  for (const ir::Node& n : q.nodes)
    if (n.op == OpCode::Split) split = &n;
  ASSERT_NE(split, nullptr);
  ASSERT_EQ(split->outputs.size(), 2u);
  const ir::Tensor& in = q.tensors[static_cast<size_t>(split->inputs[0])];
  ASSERT_EQ(in.type, DType::i8);
  for (int t : split->outputs) {
    EXPECT_EQ(q.tensors[static_cast<size_t>(t)].type, DType::i8);
    EXPECT_EQ(q.tensors[static_cast<size_t>(t)].quant.scale, in.quant.scale);
    EXPECT_EQ(q.tensors[static_cast<size_t>(t)].quant.zero_point, in.quant.zero_point);
  }
  const auto want = testing::run_graph_outputs(g, {data}, 16);
  const auto got = testing::run_graph_outputs(q, {data}, 16);
  ASSERT_EQ(got.size(), 2u);
  for (size_t k = 0; k < 2; ++k) {
    const std::vector<float> a = testing::as_floats(want[k]), c = testing::as_floats(got[k]);
    ASSERT_EQ(a.size(), c.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], c[i], in.quant.scale[0] / 2 + 1e-6f);
  }
}

// ONNX Split of a Conv's output (held channels last): the pieces are the Conv output's
// channels 0..1 and 2..5, sliced here in NCHW.
TEST(SplitPack, OnnxSplitOfAChannelsLastValue) {
  auto model = [](bool split) {
    onnx_test::ModelBuilder mb(13);
    mb.input("x", {1, 3, 4, 5});
    mb.initializer("w", {6, 3, 1, 1}, testing::as_floats(testing::random_floats(18, 1)));
    mb.initializer("b", {6}, testing::as_floats(testing::random_floats(6, 2)));
    mb.node("Conv", {"x", "w", "b"}, {"c"});
    if (split) {
      mb.initializer_i64("sizes", {2}, {2, 4});
      onnx_test::attr(mb.node("Split", {"c", "sizes"}, {"p", "q"}), "axis", int64_t{1});
      mb.output("p");
      mb.output("q");
    } else {
      mb.output("c");
    }
    return mb.import();
  };
  const std::vector<uint8_t> x = testing::random_floats(60, 3);
  const std::vector<float> conv = testing::as_floats(testing::run_graph(model(false), {x}, 1));
  const auto pieces = testing::run_graph_outputs(model(true), {x}, 1);
  ASSERT_EQ(pieces.size(), 2u);
  const std::vector<float> p = testing::as_floats(pieces[0]), q = testing::as_floats(pieces[1]);
  EXPECT_EQ(p, std::vector<float>(conv.begin(), conv.begin() + 40));
  EXPECT_EQ(q, std::vector<float>(conv.begin() + 40, conv.end()));
}

// The kernels' own checks (run by the validator on every blob) refuse inconsistent views.
TEST(SplitPack, KernelChecksRefuseInconsistentViews) {
  auto view = [](Shape s, DType t = DType::f32) {
    TensorView v{};
    v.type = t;
    v.rank = static_cast<uint8_t>(s.size());
    for (int d = 0; d < kMaxRank; ++d) v.dims[d] = d < static_cast<int>(s.size()) ? s[d] : 1;
    v.bytes = static_cast<uint32_t>(count(s) * dtype_size(t));
    v.scale = 0.5f;
    return v;
  };
  const TensorView in[] = {view({4, 3})};
  TensorView out[] = {view({1, 3}), view({3, 3})};
  const KernelIO io{in, 1, out, 2, nullptr, 0};
  EXPECT_EQ(check_Split(SplitParams{0}, io), Status::ok);
  EXPECT_EQ(check_Split(SplitParams{1}, io), Status::bad_shape);
  EXPECT_EQ(check_Split(SplitParams{2}, io), Status::bad_params);
  out[1] = view({2, 3});  // pieces sum to 3, not 4
  EXPECT_EQ(check_Split(SplitParams{0}, io), Status::bad_shape);
  out[1] = view({3, 3}, DType::i8);
  EXPECT_EQ(check_Split(SplitParams{0}, io), Status::bad_enum);

  TensorView slices[] = {view({3}), view({3}), view({3}), view({3})};
  EXPECT_EQ(check_Unpack(SplitParams{0}, KernelIO{in, 1, slices, 4, nullptr, 0}), Status::ok);
  EXPECT_EQ(check_Unpack(SplitParams{0}, KernelIO{in, 1, slices, 3, nullptr, 0}),
            Status::bad_shape);
  EXPECT_EQ(check_Pack(ConcatenationParams{0}, KernelIO{slices, 4, in, 1, nullptr, 0}), Status::ok);
  EXPECT_EQ(check_Pack(ConcatenationParams{1}, KernelIO{slices, 4, in, 1, nullptr, 0}),
            Status::bad_shape);
  TensorView q[] = {view({3}, DType::i8), view({3}, DType::i8)};
  const TensorView packed[] = {view({2, 3}, DType::i8)};
  EXPECT_EQ(check_Pack(ConcatenationParams{0}, KernelIO{q, 2, packed, 1, nullptr, 0}), Status::ok);
  q[1].zero_point = 1;
  EXPECT_EQ(check_Pack(ConcatenationParams{0}, KernelIO{q, 2, packed, 1, nullptr, 0}),
            Status::bad_shape);
}

}  // namespace
}  // namespace tinyforge
