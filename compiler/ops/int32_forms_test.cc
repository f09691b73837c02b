// The int32 forms of the builtins TFLM's generated audio preprocessor wraps around its signal
// ops (micro_speech's audio_preprocessor.py: ADD, MUL, DIV, MINIMUM, MAXIMUM on plain int32,
// STRIDED_SLICE and CONCATENATION of int32, RESHAPE of plain int16), each imported from a
// .tflite built here and run by the device runtime against its definition written here:
// TFLite's reference kernels on int32 (sum, product, C++'s truncating quotient, larger,
// smaller; CalculateActivationRange<int32_t> for the fused activation), computed in 64 bits
// and wrapped to 32 where TFLite's int32 arithmetic would overflow. Also what stays refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "expect_error.h"
#include "import/tflite/import_tflite.h"
#include "ir/error.h"
#include "ir_test_graphs.h"
#include "tflite_model_builder.h"

namespace tinyforge {
namespace {

using testing::bytes_of;
using testing::ModelSpec;
using testing::OpSpec;
using testing::TensorSpec;
using B = tfl::BuiltinOperator;
using Act = tfl::ActivationFunctionType;
using TT = tfl::TensorType;

constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();

std::vector<int32_t> as_ints(const std::vector<uint8_t>& bytes) {
  std::vector<int32_t> v(bytes.size() / 4);
  if (!v.empty()) std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

// The low 32 bits of v, read signed (two's complement).
int32_t wrap(int64_t v) {
  const auto low = static_cast<uint32_t>(static_cast<uint64_t>(v));
  return low > static_cast<uint32_t>(kMax) ? static_cast<int32_t>(int64_t{low} - (int64_t{1} << 32))
                                           : static_cast<int32_t>(low);
}

// TFLite's reference int32 binary op, then the clamp of CalculateActivationRange<int32_t>.
int32_t reference(B op, Act act, int32_t x, int32_t y) {
  int64_t v = 0;
  switch (op) {
    case B::ADD:
      v = wrap(int64_t{x} + y);
      break;
    case B::MUL:
      v = wrap(int64_t{x} * y);
      break;
    case B::DIV:  // the runtime's definitions where C++ has none: 0 for y == 0, and a wrap
      v = y == 0 ? 0 : wrap(int64_t{x} / y);
      break;
    case B::MAXIMUM:
      v = std::max(x, y);
      break;
    default:
      v = std::min(x, y);
  }
  int64_t lo = kMin, hi = kMax;
  if (act == Act::RELU) lo = 0;
  if (act == Act::RELU6) lo = 0, hi = 6;
  if (act == Act::RELU_N1_TO_1) lo = -1, hi = 1;
  return static_cast<int32_t>(std::clamp(v, lo, hi));
}

std::vector<int32_t> values(size_t n, std::mt19937& rng, bool small) {
  const std::vector<int32_t> extremes = {kMin, kMax, 0, -1, 1, kMin + 1, 65536, -65536, 7, -7};
  std::uniform_int_distribution<int32_t> wide(kMin, kMax), narrow(-1000, 1000);
  std::vector<int32_t> v;
  for (size_t i = 0; i < n; ++i)
    v.push_back(i < extremes.size() ? extremes[i] : small ? narrow(rng) : wide(rng));
  return v;
}

// a [2, 3, 4] (op) b of `b_shape`, both model inputs, or b a constant.
std::vector<int32_t> run_binary(B op, Act act, const std::vector<int32_t>& a,
                                const std::vector<int32_t>& b, std::vector<int32_t> b_shape,
                                bool b_constant) {
  ModelSpec spec;
  spec.tensors = {
      TensorSpec("a", {2, 3, 4}, TT::INT32),
      TensorSpec("b", b_shape, TT::INT32, b_constant ? bytes_of(b) : std::vector<uint8_t>{}),
      TensorSpec("y", {2, 3, 4}, TT::INT32)};
  OpSpec o(op, {0, 1}, {2});
  o.activation = act;
  spec.ops = {o};
  spec.inputs = b_constant ? std::vector<int32_t>{0} : std::vector<int32_t>{0, 1};
  spec.outputs = {2};
  const std::vector<uint8_t> file = testing::build_tflite(spec);
  const ir::Graph g = import_tflite(file.data(), file.size(), "int32.tflite");
  std::vector<std::vector<uint8_t>> inputs = {bytes_of(a)};
  if (!b_constant) inputs.push_back(bytes_of(b));
  return as_ints(testing::run_graph(g, inputs, 1));
}

TEST(Int32Forms, BinaryOpsMatchTflitesInt32ReferenceWithBroadcastAndActivations) {
  std::mt19937 rng(21);
  struct Case {
    std::vector<int32_t> shape;  // b's; a is [2, 3, 4]
    bool constant;
  };
  const Case cases[] = {{{2, 3, 4}, false}, {{3, 1}, false}, {{}, true}, {{4}, true}};
  for (B op : {B::ADD, B::MUL, B::DIV, B::MAXIMUM, B::MINIMUM})
    for (Act act : {Act::NONE, Act::RELU, Act::RELU6, Act::RELU_N1_TO_1}) {
      // MAXIMUM and MINIMUM have no fused activation in TFLite.
      if ((op == B::MAXIMUM || op == B::MINIMUM) && act != Act::NONE) continue;
      for (const Case& c : cases)
        for (bool small : {false, true}) {
          SCOPED_TRACE(std::string(tfl::EnumNameBuiltinOperator(op)) + " act " +
                       tfl::EnumNameActivationFunctionType(act) + " b rank " +
                       std::to_string(c.shape.size()) + (small ? " small" : " wide"));
          size_t nb = 1;
          for (int32_t d : c.shape) nb *= static_cast<size_t>(d);
          const std::vector<int32_t> a = values(24, rng, small);
          std::vector<int32_t> b = values(nb, rng, small);
          if (c.constant && op == B::DIV)  // a constant zero divisor is refused (below)
            for (int32_t& v : b)
              if (v == 0) v = 3;
          if (c.shape.size() == 2) b[1] = -1;  // INT32_MIN / -1 and friends
          const std::vector<int32_t> got = run_binary(op, act, a, b, c.shape, c.constant);
          ASSERT_EQ(got.size(), 24u);
          // The broadcast index of b for output element (i, j, k).
          for (int i = 0; i < 2; ++i)
            for (int j = 0; j < 3; ++j)
              for (int k = 0; k < 4; ++k) {
                const size_t o = static_cast<size_t>((i * 3 + j) * 4 + k);
                size_t bi = 0;
                if (c.shape.size() == 3) bi = o;
                if (c.shape.size() == 2) bi = static_cast<size_t>(j);
                if (c.shape.size() == 1) bi = static_cast<size_t>(k);
                EXPECT_EQ(got[o], reference(op, act, a[o], b[bi]))
                    << "element " << o << ": " << a[o] << ", " << b[bi];
              }
        }
    }
}

TEST(Int32Forms, SliceConcatenateAndPlainInt16ReshapeMoveValues) {
  std::mt19937 rng(22);
  const std::vector<int32_t> x = values(50, rng, false);
  // energies[4:41] between zeros, as micro_speech's preprocessor zeroes its unused bins.
  ModelSpec spec;
  spec.tensors = {TensorSpec("x", {50}, TT::INT32),
                  TensorSpec("begin", {1}, TT::INT32, bytes_of(std::vector<int32_t>{4})),
                  TensorSpec("end", {1}, TT::INT32, bytes_of(std::vector<int32_t>{41})),
                  TensorSpec("strides", {1}, TT::INT32, bytes_of(std::vector<int32_t>{1})),
                  TensorSpec("kept", {37}, TT::INT32),
                  TensorSpec("head", {4}, TT::INT32, bytes_of(std::vector<int32_t>{9, 8, 7, 6})),
                  TensorSpec("tail", {9}, TT::INT32, bytes_of(std::vector<int32_t>(9, -5))),
                  TensorSpec("y", {50}, TT::INT32)};
  OpSpec concat(B::CONCATENATION, {5, 4, 6}, {7});
  concat.axis = 0;
  spec.ops = {OpSpec(B::STRIDED_SLICE, {0, 1, 2, 3}, {4}), concat};
  spec.inputs = {0};
  spec.outputs = {7};
  std::vector<uint8_t> file = testing::build_tflite(spec);
  std::vector<int32_t> want = {9, 8, 7, 6};
  want.insert(want.end(), x.begin() + 4, x.begin() + 41);
  want.insert(want.end(), 9, -5);
  EXPECT_EQ(as_ints(testing::run_graph(import_tflite(file.data(), file.size(), "s.tflite"),
                                       {bytes_of(x)}, 1)),
            want);

  // Plain int16 [1, 6] -> RESHAPE [-1] -> [6]: the samples of TFLM's signal ops.
  ModelSpec r;
  r.tensors = {TensorSpec("w", {1, 6}, TT::INT16),
               TensorSpec("shape", {1}, TT::INT32, bytes_of(std::vector<int32_t>{-1})),
               TensorSpec("flat", {6}, TT::INT16)};
  r.ops = {OpSpec(B::RESHAPE, {0, 1}, {2})};
  r.inputs = {0};
  r.outputs = {2};
  file = testing::build_tflite(r);
  const std::vector<int16_t> samples = {-32768, 32767, 0, -1, 12345, -2};
  EXPECT_EQ(testing::run_graph(import_tflite(file.data(), file.size(), "r.tflite"),
                               {bytes_of(samples)}, 1),
            bytes_of(samples));
}

std::string import_error(const ModelSpec& spec) {
  const std::vector<uint8_t> file = testing::build_tflite(spec);
  try {
    import_tflite(file.data(), file.size(), "m.tflite");
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

ModelSpec binary_model(B op, TensorSpec b) {
  ModelSpec spec;
  spec.tensors = {TensorSpec("a", {4}, TT::INT32), std::move(b), TensorSpec("y", {4}, TT::INT32)};
  spec.ops = {OpSpec(op, {0, 1}, {2})};
  spec.inputs = {0};
  spec.outputs = {2};
  return spec;
}

TEST(Int32Forms, RefusalsNameTheOpAndTheReason) {
  // A constant divisor with a zero (TFLite's interpreter refuses the division).
  const std::string zero = import_error(binary_model(
      B::DIV, TensorSpec("d", {4}, TT::INT32, bytes_of(std::vector<int32_t>{3, 0, 1, 2}))));
  EXPECT_NE(zero.find("(DIV)"), std::string::npos) << zero;
  EXPECT_NE(zero.find("holds a zero at element 1"), std::string::npos) << zero;
  // Quantized int32 operands: TFLM's int32 kernels read plain integers.
  EXPECT_NE(import_error(binary_model(B::ADD, TensorSpec("q", {4}, TT::INT32, {}, {0.5f}, {0})))
                .find("is a quantized int32 tensor; expected plain int32"),
            std::string::npos);
  // Ops without an int32 form stay refused as unsupported, named.
  const std::string sub = import_error(binary_model(B::SUB, TensorSpec("b", {4}, TT::INT32)));
  EXPECT_NE(sub.find("SUB"), std::string::npos) << sub;
  EXPECT_NE(sub.find("int32"), std::string::npos) << sub;
  // A quantized int16 RESHAPE still needs its scale on both sides.
  ModelSpec r;
  r.tensors = {TensorSpec("w", {1, 6}, TT::INT16, {}, {0.5f}, {0}),
               TensorSpec("flat", {6}, TT::INT16)};
  r.ops = {OpSpec(B::RESHAPE, {0}, {1})};
  r.inputs = {0};
  r.outputs = {1};
  EXPECT_NE(import_error(r).find("differ; expected the same quantization"), std::string::npos)
      << import_error(r);
}

}  // namespace
}  // namespace tinyforge
