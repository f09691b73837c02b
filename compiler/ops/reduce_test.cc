// Mean and Sum against their definitions, written here independently of the kernel: every
// input element is added to its output slot in row-major input order (as TFLite's
// ReduceSumImpl walks), then TFLite Micro's arithmetic for the path it takes: float sum (and
// / count); int8 Mean over {1, 2} of a 4-D input with keep_dims (integer_ops::Mean:
// MultiplyByQuantizedMultiplier, then divided rounding half away from zero); int8 Mean with
// one quantization (truncating division); any other int8 Mean or Sum in float
// (QuantizedMeanOrSum, Sum wrapping to int8). Random and extreme inputs and zero points,
// axes negative, repeated and in either order; the invariants refused at import.
#include "ops/reduce.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "export/tflite_writer.h"
#include "import/tflite/import_tflite.h"
#include "ir_test_graphs.h"
#include "plan/lower.h"

namespace tinyforge {
namespace {

using testing::GraphBuilder;

struct Quant {
  float scale;
  int32_t zero_point;
};

int32_t multiply(int32_t x, double real) {  // TFLite MultiplyByQuantizedMultiplier
  int exponent;
  const double fraction = std::frexp(real, &exponent);
  int64_t q = static_cast<int64_t>(std::round(fraction * 2147483648.0));
  if (q == (int64_t{1} << 31)) q /= 2, ++exponent;
  const int left = exponent > 0 ? exponent : 0, right = exponent > 0 ? 0 : -exponent;
  const int64_t ab = int64_t{x} * (int64_t{1} << left) * q;
  const int64_t mag = ab < 0 ? -ab : ab;
  const int64_t high =
      ab < 0 ? -((mag + (int64_t{1} << 30) - 1) >> 31) : (mag + (int64_t{1} << 30)) >> 31;
  if (right == 0) return static_cast<int32_t>(high);
  const int64_t hmag = high < 0 ? -high : high;
  const int64_t r = (hmag + (int64_t{1} << (right - 1))) >> right;
  return static_cast<int32_t>(high < 0 ? -r : r);
}

struct Case {
  OpCode op;
  std::vector<int32_t> shape;
  std::vector<int32_t> axes;
  bool keep;
  bool int8;
  Quant in, out;
};

std::vector<int32_t> output_shape(const Case& c, std::vector<bool>* reduced) {
  const size_t rank = c.shape.size();
  reduced->assign(rank, false);
  for (int32_t a : c.axes)
    (*reduced)[static_cast<size_t>(a < 0 ? a + static_cast<int32_t>(rank) : a)] = true;
  std::vector<int32_t> out;
  for (size_t d = 0; d < rank; ++d) {
    if (!(*reduced)[d])
      out.push_back(c.shape[d]);
    else if (c.keep)
      out.push_back(1);
  }
  return out;
}

ir::Graph graph(const Case& c) {
  std::vector<bool> reduced;
  GraphBuilder b;
  const int x = b.activation("x", c.shape);
  const int y = b.activation("y", output_shape(c, &reduced));
  if (c.int8) {
    for (auto [t, q] : {std::pair{x, c.in}, std::pair{y, c.out}}) {
      b.g.tensors[t].type = DType::i8;
      b.g.tensors[t].quant.scale = {q.scale};
      b.g.tensors[t].quant.zero_point = {q.zero_point};
    }
  }
  b.node(c.op, {x}, y);
  b.g.nodes.back().params = ops::ReduceOptions{c.axes, c.keep};
  b.g.inputs = {x};
  b.g.outputs = {y};
  b.g.source = "reduce";
  b.g.check();
  return b.g;
}

// Output slot of every input element (row-major), and the count per slot.
std::vector<size_t> slots(const Case& c, size_t* count) {
  std::vector<bool> reduced;
  output_shape(c, &reduced);
  size_t n = 1;
  for (int32_t d : c.shape) n *= static_cast<size_t>(d);
  std::vector<size_t> slot(n);
  *count = 1;
  for (size_t d = 0; d < c.shape.size(); ++d)
    if (reduced[d]) *count *= static_cast<size_t>(c.shape[d]);
  for (size_t i = 0; i < n; ++i) {
    size_t rest = i, o = 0, stride = 1;
    for (size_t k = c.shape.size(); k-- > 0;) {
      const size_t coordinate = rest % static_cast<size_t>(c.shape[k]);
      rest /= static_cast<size_t>(c.shape[k]);
      if (!reduced[k]) {
        o += coordinate * stride;
        stride *= static_cast<size_t>(c.shape[k]);
      }
    }
    slot[i] = o;
  }
  return slot;
}

std::vector<float> expected_float(const Case& c, const std::vector<float>& x) {
  size_t count;
  const std::vector<size_t> slot = slots(c, &count);
  std::vector<float> sum(x.size() / count, 0.0f);
  for (size_t i = 0; i < x.size(); ++i) sum[slot[i]] += x[i];
  if (c.op == OpCode::Mean)
    for (float& v : sum) v /= static_cast<float>(count);
  return sum;
}

std::vector<int8_t> expected_int8(const Case& c, const std::vector<int8_t>& x) {
  size_t count;
  const std::vector<size_t> slot = slots(c, &count);
  const int32_t n = static_cast<int32_t>(count);
  std::vector<int32_t> sum(x.size() / count, 0);
  for (size_t i = 0; i < x.size(); ++i) sum[slot[i]] += x[i];
  const bool spatial = c.op == OpCode::Mean && c.keep && c.shape.size() == 4 &&
                       c.axes.size() == 2 &&
                       ((c.axes[0] == 1 && c.axes[1] == 2) || (c.axes[0] == 2 && c.axes[1] == 1));
  const bool same = c.in.scale == c.out.scale && c.in.zero_point == c.out.zero_point;
  std::vector<int8_t> out;
  for (int32_t s : sum) {
    int32_t v;
    if (spatial) {
      int32_t acc =
          multiply(s - n * c.in.zero_point, static_cast<double>(c.in.scale) / c.out.scale);
      acc = acc > 0 ? (acc + n / 2) / n : (acc - n / 2) / n;
      v = std::clamp(acc + c.out.zero_point, -128, 127);
    } else if (c.op == OpCode::Mean && same) {
      v = s / n;
    } else if (c.op == OpCode::Mean) {
      const float scale = c.in.scale / c.out.scale;
      const float bias = -c.in.zero_point * scale + 0.5f;
      const float mean = static_cast<float>(s) / static_cast<float>(n);
      const float r = std::round(mean * scale + bias) + static_cast<float>(c.out.zero_point);
      v = static_cast<int32_t>(std::max(-128.0f, std::min(127.0f, r)));
    } else {
      const float scale = c.in.scale / c.out.scale;
      const float bias = -c.in.zero_point * scale * static_cast<float>(n) + 0.5f;
      v = static_cast<int32_t>(std::round(static_cast<float>(s) * scale + bias)) + c.out.zero_point;
    }
    out.push_back(static_cast<int8_t>(v));  // Sum wraps, as TFLite's cast
  }
  return out;
}

template <typename T>
std::vector<uint8_t> bytes(const std::vector<T>& v) {
  std::vector<uint8_t> out(v.size() * sizeof(T));
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

std::vector<Case> cases() {
  const Quant q{0.05f, -3}, wide{0.2f, 127}, narrow{0.01f, -128}, odd{0.0371f, 55};
  std::vector<Case> out;
  for (bool int8 : {false, true}) {
    for (auto [in, o] :
         {std::pair{q, q}, std::pair{narrow, wide}, std::pair{wide, odd}, std::pair{odd, narrow}}) {
      out.push_back({OpCode::Mean, {2, 5, 3, 4}, {1, 2}, true, int8, in, o});    // spatial
      out.push_back({OpCode::Mean, {1, 4, 6, 3}, {2, 1}, true, int8, in, o});    // spatial
      out.push_back({OpCode::Mean, {2, 5, 3, 4}, {-3, -2}, true, int8, in, o});  // generic
      out.push_back({OpCode::Mean, {2, 5, 3, 4}, {1, 2}, false, int8, in, o});
      out.push_back({OpCode::Mean, {3, 7, 2}, {0, 2, 0}, false, int8, in, o});
      out.push_back({OpCode::Mean, {6, 5}, {-1}, true, int8, in, o});
      out.push_back({OpCode::Mean, {2, 3, 2, 2}, {0, 1, 2, 3}, true, int8, in, o});
      out.push_back({OpCode::Sum, {2, 5, 3, 4}, {1, 2}, true, int8, in, o});
      out.push_back({OpCode::Sum, {3, 7, 2}, {1}, false, int8, in, o});
      if (!int8) break;
    }
  }
  return out;
}

TEST(Reduce, MatchesTheDefinitionOnRandomAndExtremeInputs) {
  std::mt19937 rng(31);
  for (const Case& c : cases()) {
    SCOPED_TRACE(::testing::Message()
                 << op_info(c.op).name << " shape " << ::testing::PrintToString(c.shape) << " axes "
                 << ::testing::PrintToString(c.axes) << " keep " << c.keep << " int8 " << c.int8
                 << " zp " << c.in.zero_point << "->" << c.out.zero_point);
    const ir::Graph g = graph(c);
    size_t n = 1;
    for (int32_t d : c.shape) n *= static_cast<size_t>(d);
    for (int round = 0; round < 4; ++round) {
      if (c.int8) {
        std::vector<int8_t> x(n);
        for (int8_t& v : x) v = static_cast<int8_t>(rng());
        if (round == 1) std::fill(x.begin(), x.end(), int8_t{127});
        if (round == 2) std::fill(x.begin(), x.end(), int8_t{-128});
        EXPECT_EQ(testing::run_graph(g, {bytes(x)}, 1), bytes(expected_int8(c, x)));
      } else {
        std::uniform_real_distribution<float> u(-1000, 1000);
        std::vector<float> x(n);
        for (float& v : x) v = u(rng);
        if (round == 1) x[0] = 3.4e38f, x[1] = 3.4e38f;  // overflow to inf in the sum
        if (round == 2) x[0] = -0.0f;
        EXPECT_EQ(testing::run_graph(g, {bytes(x)}, 1), bytes(expected_float(c, x)));
      }
    }
  }
}

TEST(Reduce, BadAxesAndShapesAreRefusedAtImport) {
  Case c{OpCode::Mean, {2, 5, 3, 4}, {1, 2}, true, false, {}, {}};
  ir::Graph g = graph(c);
  g.nodes[0].params = ops::ReduceOptions{{4}, true};  // axis out of range
  const std::vector<uint8_t> file = tflite_export::write_tflite(g);
  try {
    import_tflite(file.data(), file.size(), "mean.tflite");
    FAIL() << "expected a refusal";
  } catch (const tinyforge::Error& e) {
    EXPECT_NE(std::string(e.what()).find("axis 4 is outside"), std::string::npos) << e.what();
  }
  g.nodes[0].params = ops::ReduceOptions{{1}, true};  // output shape is not the reduced one
  try {
    plan::lower_node(g, 0);
    FAIL() << "expected a refusal";
  } catch (const tinyforge::Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected [2,1,3,4]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tinyforge
