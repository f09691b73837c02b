// Cast against its definition (TFLite's static_cast of the stored value; where static_cast is
// undefined, saturation and NaN to 0) for every pair of float32, int8, int16, int32 and uint32 on
// extreme and random values, and the refusals of shapes and dtypes it cannot run; the TFLite
// reader's plain (unquantized) INT8 tensors, taken only where CAST alone touches them.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "expect_error.h"
#include "import/tflite/import_tflite.h"
#include "ir/error.h"
#include "ir_test_graphs.h"
#include "plan/lower.h"
#include "tflite_model_builder.h"

namespace tinyforge {
namespace {

using testing::GraphBuilder;

ir::Graph cast_graph(DType from, DType to, int32_t n) {
  GraphBuilder b;
  const int x = b.activation("x", {n});
  const int y = b.activation("y", {n});
  for (auto [t, type] : {std::pair{x, from}, std::pair{y, to}}) {
    b.g.tensors[t].type = type;
    if (type == DType::i8 || type == DType::i16) {  // ignored by Cast
      b.g.tensors[t].quant.scale = {0.37f};
      b.g.tensors[t].quant.zero_point = {5};
    }
  }
  b.node(OpCode::Cast, {x}, y);
  b.g.inputs = {x};
  b.g.outputs = {y};
  b.g.source = "cast";
  b.g.check();
  return b.g;
}

// Values as doubles, from the bytes of a tensor of `type`, and back.
std::vector<double> values_of(DType type, const std::vector<uint8_t>& bytes) {
  std::vector<double> v;
  for (size_t i = 0; i < bytes.size(); i += dtype_size(type)) {
    if (type == DType::f32) {
      float f;
      std::memcpy(&f, &bytes[i], 4);
      v.push_back(f);
    } else if (type == DType::i8) {
      v.push_back(static_cast<int8_t>(bytes[i]));
    } else if (type == DType::i16) {
      int16_t s;
      std::memcpy(&s, &bytes[i], 2);
      v.push_back(s);
    } else if (type == DType::u32) {
      uint32_t w;
      std::memcpy(&w, &bytes[i], 4);
      v.push_back(w);
    } else {
      int32_t w;
      std::memcpy(&w, &bytes[i], 4);
      v.push_back(w);
    }
  }
  return v;
}

std::vector<uint8_t> bytes_of(DType type, const std::vector<double>& v) {
  std::vector<uint8_t> out(v.size() * dtype_size(type));
  for (size_t i = 0; i < v.size(); ++i) {
    uint8_t* p = &out[i * dtype_size(type)];
    if (type == DType::f32) {
      const auto f = static_cast<float>(v[i]);
      std::memcpy(p, &f, 4);
    } else if (type == DType::i8) {
      *p = static_cast<uint8_t>(static_cast<int8_t>(v[i]));
    } else if (type == DType::i16) {
      const auto s = static_cast<int16_t>(v[i]);
      std::memcpy(p, &s, 2);
    } else if (type == DType::u32) {
      const auto w = static_cast<uint32_t>(v[i]);
      std::memcpy(p, &w, 4);
    } else {
      const auto w = static_cast<int32_t>(v[i]);
      std::memcpy(p, &w, 4);
    }
  }
  return out;
}

double type_min(DType t) {
  return t == DType::i8    ? -128.0
         : t == DType::i16 ? -32768.0
         : t == DType::u32 ? 0.0
                           : -2147483648.0;
}
double type_max(DType t) { return t == DType::u32 ? 4294967295.0 : -type_min(t) - 1; }

// The definition: float -> integer truncates toward zero, saturating (NaN: 0); integer ->
// narrower integer keeps the low bits, read signed; anything -> float32 rounds to float.
double cast_value(double v, DType from, DType to) {
  if (to == DType::f32) return static_cast<float>(v);
  const double lo = type_min(to), hi = type_max(to);
  if (from == DType::f32) {
    if (std::isnan(v)) return 0;
    return std::clamp(std::trunc(v), lo, hi);
  }
  const double span = hi - lo + 1;
  const double low_bits = std::fmod(std::fmod(v - lo, span) + span, span);
  return low_bits + lo;
}

std::vector<double> inputs_for(DType type, std::mt19937& rng) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> v;
  if (type == DType::f32) {
    v = {0.0,           -0.0,     0.5,    -0.5,         2.99,         -2.99,   127.5,
         -128.9,        128.0,    -129.0, 300.7,        -300.7,       32767.9, -32768.9,
         70000.0,       -70000.0, 2.0e9,  -2.0e9,       3.0e9,        -3.0e9,  2147483520.0,
         -2147483648.0, inf,      -inf,   std::nan(""), 4294967040.0, 5.0e9,   -0.99};
    std::uniform_real_distribution<double> u(-1e5, 1e5);
    for (int i = 0; i < 40; ++i) v.push_back(static_cast<float>(u(rng)));
    return v;
  }
  const double lo = type_min(type), hi = type_max(type);
  v = {lo,  hi,  0,     -1,     1,     127,          -128,         128,         -129,
       255, 256, 32767, -32768, 65535, 2147483647.0, 2147483648.0, 4294967040.0};
  for (double& x : v) x = std::clamp(x, lo, hi);
  std::uniform_real_distribution<double> u(lo, hi);
  for (int i = 0; i < 40; ++i) v.push_back(std::floor(u(rng)));
  return v;
}

TEST(Cast, EveryDtypePairMatchesTheDefinition) {
  std::mt19937 rng(7);
  const DType types[] = {DType::f32, DType::i8, DType::i16, DType::i32, DType::u32};
  for (DType from : types)
    for (DType to : types) {
      SCOPED_TRACE(std::string(dtype_name(from)) + " -> " + dtype_name(to));
      const std::vector<double> x = inputs_for(from, rng);
      const std::vector<double> got =
          values_of(to, testing::run_graph(cast_graph(from, to, static_cast<int32_t>(x.size())),
                                           {bytes_of(from, x)}, 1));
      ASSERT_EQ(got.size(), x.size());
      for (size_t i = 0; i < x.size(); ++i) {
        const double want = cast_value(x[i], from, to);
        if (std::isnan(want))
          EXPECT_TRUE(std::isnan(got[i])) << "element " << i;
        else
          EXPECT_EQ(got[i], want) << "element " << i << ": " << x[i];
      }
    }
}

// TFLite model: x (`from`) -> CAST -> y (`to`), INT8 sides without quantization parameters;
// with `add_after`, y also feeds an ADD (which needs y's scale).
std::vector<uint8_t> plain_int8_cast_model(tfl::TensorType from, tfl::TensorType to,
                                           bool add_after) {
  using testing::TensorSpec;
  testing::ModelSpec spec;
  spec.tensors = {TensorSpec("x", {6}, from), TensorSpec("y", {6}, to)};
  testing::OpSpec cast{tfl::BuiltinOperator::CAST, {0}, {1}};
  cast.cast_from = from;
  cast.cast_to = to;
  spec.ops = {cast};
  spec.inputs = {0};
  spec.outputs = {1};
  if (add_after) {
    spec.tensors.push_back(TensorSpec("z", {6}, to, {}, {0.5f}, {0}));
    spec.ops.push_back(testing::OpSpec{tfl::BuiltinOperator::ADD, {1, 1}, {2}});
    spec.outputs = {2};
  }
  return testing::build_tflite(spec);
}

TEST(Cast, TfliteTakesPlainInt8TensorsOnlyAroundCast) {
  using T = tfl::TensorType;
  // float32 -> plain int8: truncation toward zero, saturation.
  std::vector<uint8_t> file = plain_int8_cast_model(T::FLOAT32, T::INT8, false);
  ir::Graph g = import_tflite(file.data(), file.size(), "cast.tflite");
  const ir::Tensor& y = g.tensors[static_cast<size_t>(g.outputs[0])];
  EXPECT_EQ(y.type, DType::i8);
  EXPECT_FALSE(y.quant.present());
  const std::vector<double> x = {-300.5, -128.9, -2.7, 0.4, 99.99, 1e6};
  std::vector<double> got =
      values_of(DType::i8, testing::run_graph(g, {bytes_of(DType::f32, x)}, 1));
  EXPECT_EQ(got, (std::vector<double>{-128, -128, -2, 0, 99, 127}));
  // plain int8 -> int32 (a model input without quantization).
  file = plain_int8_cast_model(T::INT8, T::INT32, false);
  g = import_tflite(file.data(), file.size(), "cast.tflite");
  const std::vector<double> q = {-128, -1, 0, 1, 77, 127};
  got = values_of(DType::i32, testing::run_graph(g, {bytes_of(DType::i8, q)}, 1));
  EXPECT_EQ(got, q);
  // An op that needs the scale still refuses it.
  file = plain_int8_cast_model(T::FLOAT32, T::INT8, true);
  EXPECT_ERROR(import_tflite(file.data(), file.size(), "cast.tflite"), tinyforge::Error,
               "'y': INT8 tensor without quantization parameters");
}

TEST(Cast, LoweringRefusesWhatTheKernelCannotRun) {
  ir::Graph g = cast_graph(DType::f32, DType::i32, 6);
  g.tensors[static_cast<size_t>(g.outputs[0])].shape = {5};
  EXPECT_THROW(plan::lower_node(g, 0), tinyforge::Error);
  g = cast_graph(DType::f32, DType::i32, 6);
  g.tensors[static_cast<size_t>(g.outputs[0])].type = DType::u8;
  EXPECT_THROW(plan::lower_node(g, 0), tinyforge::Error);
}

}  // namespace
}  // namespace tinyforge
