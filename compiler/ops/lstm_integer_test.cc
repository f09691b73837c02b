// The int8 (8x8_16) and int16 (16x8) LSTM: .tflite models built with the test model builder
// go through the TFLite reader, the plan and the device runtime, and every invocation's
// output must equal, bit for bit, tests/lstm_integer_reference.h (TFLM's integer LSTM from
// its definition), and stay near the float LSTM of the same weights. Shapes: batch 1 and 2,
// time- and batch-major, cell clip, cell-state scales that shift the tanh input left and
// right, extreme zero points and scales. Five invocations with a reset_state() in between:
// the state carries over and restarts at the hidden state's zero point. Also what the
// reader refuses by name (the variants TFLM's integer LSTM does not have).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "emit/plan_writer.h"
#include "emit/validated_plan.h"
#include "import/tflite/import_tflite.h"
#include "ir/error.h"
#include "lstm_integer_reference.h"
#include "plan/build_plan.h"
#include "tinyforge/lstm_quant.h"
#include "tinyforge/runtime.h"

namespace tinyforge {
namespace {

using testing::IntLstmQuant;
using testing::IntLstmReference;
using testing::LstmConfig;

plan::Plan planned(const testing::ModelSpec& m) {
  const std::vector<uint8_t> model = testing::build_tflite(m);
  return plan::build_plan(import_tflite(model.data(), model.size(), "lstm"));
}

std::string import_error(const testing::ModelSpec& m) {
  try {
    planned(m);
  } catch (const tinyforge::Error& e) {
    return e.what();
  }
  return "";
}

class Device {
 public:
  explicit Device(const testing::ModelSpec& m) : plan_(emit::write_plan_blob(planned(m)), "lstm") {
    arena_.resize(Runtime::region_size(plan_.data(), 0) / 4 + 1);
    EXPECT_EQ(rt_.init(plan_.data(), plan_.size(), reinterpret_cast<uint8_t*>(arena_.data()),
                       arena_.size() * 4),
              Status::ok);
  }
  // Values of int8 or int16 elements in, the same out.
  std::vector<int64_t> run(const std::vector<int64_t>& x, bool int16) {
    const TensorView in = rt_.input(0), out = rt_.output(0);
    const size_t width = int16 ? 2 : 1;
    EXPECT_EQ(in.bytes, x.size() * width);
    for (size_t k = 0; k < x.size(); ++k) {
      const auto v16 = static_cast<int16_t>(x[k]);
      const auto v8 = static_cast<int8_t>(x[k]);
      std::memcpy(static_cast<uint8_t*>(in.data) + k * width,
                  int16 ? static_cast<const void*>(&v16) : &v8, width);
    }
    EXPECT_EQ(rt_.invoke(), Status::ok);
    std::vector<int64_t> y(out.bytes / width);
    for (size_t k = 0; k < y.size(); ++k) {
      int16_t v16 = 0;
      int8_t v8 = 0;
      std::memcpy(int16 ? static_cast<void*>(&v16) : &v8,
                  static_cast<const uint8_t*>(out.data) + k * width, width);
      y[k] = int16 ? v16 : v8;
    }
    return y;
  }
  Runtime& runtime() { return rt_; }

 private:
  emit::ValidatedPlan plan_;
  std::vector<uint32_t> arena_;
  Runtime rt_;
};

// Returns the largest |dequantized output - float LSTM| over the run.
double expect_bit_exact(const LstmConfig& c, const IntLstmQuant& q) {
  SCOPED_TRACE(c.name() + (q.int16 ? " int16" : " int8") + " power " +
               std::to_string(q.cell_power) + " zp " + std::to_string(q.input_zero_point) + "/" +
               std::to_string(q.hidden_zero_point));
  const testing::LstmWeights fw = testing::lstm_weights(c);
  const testing::IntLstmWeights w = testing::quantize_lstm_weights(fw, q);
  Device device(testing::int_lstm_model(c, w, q));
  IntLstmReference reference(c, w, q);
  testing::LstmReference floats(c, fw);
  const size_t inputs = static_cast<size_t>(c.batch * c.steps * c.features);
  const int64_t lo = q.int16 ? -32768 : -128, hi = q.int16 ? 32767 : 127;
  double worst = 0;
  int64_t carried = 0;  // outputs the carried state changes
  for (int call = 0; call < 5; ++call) {
    if (call == 3) {
      device.runtime().reset_state();
      reference.reset();
      floats.reset();
    }
    const std::vector<float> xf =
        testing::float_pattern(inputs, c.seed + 7 + static_cast<uint32_t>(call % 3));
    std::vector<int64_t> x;
    std::vector<float> dequantized;
    for (float v : xf) {
      const int64_t k =
          std::clamp<int64_t>(std::llround(2.0 * v / q.input_scale) + q.input_zero_point, lo, hi);
      x.push_back(k);
      dequantized.push_back(static_cast<float>((k - q.input_zero_point) * double{q.input_scale}));
    }
    const std::vector<int64_t> got = device.run(x, q.int16);
    const std::vector<int64_t> want = reference.run(x);
    if (got.size() != want.size()) {
      ADD_FAILURE() << "output has " << got.size() << " elements; expected " << want.size();
      return worst;
    }
    for (size_t k = 0; k < got.size(); ++k)
      if (got[k] != want[k]) {
        ADD_FAILURE() << "call " << call << " element " << k << ": " << got[k] << " != " << want[k];
        return worst;
      }
    const std::vector<double> f = floats.run(dequantized);
    for (size_t k = 0; k < got.size(); ++k)
      worst = std::max(worst, std::fabs((got[k] - q.hidden_zero_point) * q.hidden_scale - f[k]));
    if (call == 1) {
      IntLstmReference fresh(c, w, q);
      const std::vector<int64_t> from_zero = fresh.run(x);
      for (size_t k = 0; k < got.size(); ++k) carried += from_zero[k] != want[k];
    }
  }
  EXPECT_GT(carried, 0) << "the state carried over changes nothing: a weak test";
  return worst;
}

TEST(LstmInteger, Int8SequencesAreBitExactWithTflmsIntegerLstm) {
  LstmConfig plain;
  IntLstmQuant q;
  EXPECT_LT(expect_bit_exact(plain, q), 0.03);

  LstmConfig batch2 = plain;
  batch2.batch = 2;
  batch2.steps = 4;
  batch2.seed = 2;
  EXPECT_LT(expect_bit_exact(batch2, q), 0.03);
  batch2.time_major = true;
  EXPECT_LT(expect_bit_exact(batch2, q), 0.03);

  // Many gate values: every rounding branch of the int16 sigmoid and tanh is reached.
  LstmConfig large = plain;
  large.batch = 2;
  large.steps = 8;
  large.features = 16;
  large.cells = 32;
  large.seed = 11;
  EXPECT_LT(expect_bit_exact(large, q), 0.03);

  LstmConfig clipped = plain;
  clipped.cell_clip = 0.4f;
  clipped.steps = 6;
  clipped.seed = 6;
  EXPECT_LT(expect_bit_exact(clipped, q), 0.03);

  // Cell-state scales 2^-8 (tanh input shifted left) and 2^-15 (shifted right), extreme
  // zero points, a coarse and a fine input scale: bit-exact; the float comparison only
  // where the quantization can represent the values.
  LstmConfig wide = plain;
  wide.features = 7;
  wide.cells = 9;
  wide.seed = 9;
  for (int32_t power : {-8, -15}) {
    IntLstmQuant extreme = q;
    extreme.cell_power = power;
    extreme.input_zero_point = -128;
    extreme.hidden_zero_point = 127;
    expect_bit_exact(wide, extreme);
    extreme.input_zero_point = 127;
    extreme.hidden_zero_point = -128;
    extreme.input_scale = 0.5f;
    extreme.hidden_scale = 1.0f / 4096;
    expect_bit_exact(wide, extreme);
  }
}

TEST(LstmInteger, Int16SequencesAreBitExactWithTflmsIntegerLstm) {
  IntLstmQuant q;
  q.int16 = true;
  q.input_scale = 4.0f / 32768;
  q.hidden_scale = 1.0f / 32768;
  q.input_zero_point = 0;
  q.hidden_zero_point = 0;
  LstmConfig plain;
  EXPECT_LT(expect_bit_exact(plain, q), 0.02);
  LstmConfig batch2 = plain;
  batch2.batch = 2;
  batch2.time_major = true;
  batch2.cell_clip = 0.5f;
  batch2.seed = 4;
  EXPECT_LT(expect_bit_exact(batch2, q), 0.02);
  LstmConfig large = batch2;
  large.steps = 8;
  large.features = 16;
  large.cells = 32;
  large.cell_clip = 0;
  large.seed = 12;
  EXPECT_LT(expect_bit_exact(large, q), 0.02);
  IntLstmQuant shifted = q;
  shifted.cell_power = -14;
  shifted.hidden_zero_point = -300;
  expect_bit_exact(batch2, shifted);
}

Status validated(const std::vector<uint8_t>& blob) {
  std::vector<uint32_t> aligned((blob.size() + 3) / 4);
  std::memcpy(aligned.data(), blob.data(), blob.size());
  return validate_plan(reinterpret_cast<const uint8_t*>(aligned.data()),
                       static_cast<uint32_t>(blob.size()));
}

// The requantization table (input 4) is checked before the kernel trusts it: a shift beyond
// 31, a negative multiplier, a zero point outside int8 or a cell-scale power the tanh input
// would overflow with make the plan invalid.
TEST(LstmInteger, ValidatorRefusesABrokenRequantizationTable) {
  LstmConfig c;
  IntLstmQuant q;
  const testing::ModelSpec m =
      testing::int_lstm_model(c, testing::quantize_lstm_weights(testing::lstm_weights(c), q), q);
  const plan::Plan p = planned(m);
  ASSERT_EQ(p.ops.size(), 1u);
  const uint16_t table = p.ops[0].inputs.at(4);
  ASSERT_EQ(p.tensors[table].type, DType::i32);
  EXPECT_EQ(p.ops[0].inputs.at(5), kNoTensor);
  EXPECT_EQ(p.tensors[p.ops[0].inputs.at(6)].storage, Storage::state);
  EXPECT_EQ(p.tensors[p.ops[0].inputs.at(7)].storage, Storage::state);
  ASSERT_EQ(validated(emit::write_plan_blob(p)), Status::ok);
  using namespace lstm_quant;
  for (const auto& [index, value] : {std::pair<int32_t, int32_t>{kInputShift + 2, 32},
                                     {kRecurrentShift, -32},
                                     {kHiddenMultiplier, -1},
                                     {kInputZeroPoint, 128},
                                     {kHiddenZeroPoint, -129},
                                     {kCellScalePower, 3},
                                     {kCellClip, -2}}) {
    plan::Plan broken = p;
    std::memcpy(broken.tensors[table].data.data() + index * 4, &value, 4);
    EXPECT_EQ(validated(emit::write_plan_blob(broken)), Status::bad_params)
        << "entry " << index << " = " << value;
  }
  // The extremes the validator accepts run without overflow (UBSan in CI): every shift at
  // 31 or -31, multipliers at INT32_MAX or 0, the cell-scale power at 2 or -42.
  for (const bool high : {true, false}) {
    plan::Plan extreme = p;
    std::vector<int32_t> t(kCount);
    for (int32_t k = 0; k < kCount; ++k) {
      const bool shift = (k >= kInputShift && k < kRecurrentMultiplier) ||
                         (k >= kRecurrentShift && k < kForgetCellMultiplier) ||
                         k == kForgetCellShift || k == kInputCellShift || k == kHiddenShift;
      t[static_cast<size_t>(k)] = shift ? (high ? 31 : -31) : (high ? INT32_MAX : 0);
    }
    t[kInputZeroPoint] = t[kHiddenZeroPoint] = high ? 127 : -128;
    t[kCellScalePower] = high ? 2 : -42;
    t[kCellClip] = high ? 32767 : 0;
    std::memcpy(extreme.tensors[table].data.data(), t.data(), t.size() * 4);
    const emit::ValidatedPlan blob(emit::write_plan_blob(extreme), "lstm");
    std::vector<uint32_t> arena(Runtime::region_size(blob.data(), 0) / 4 + 1);
    Runtime rt;
    ASSERT_EQ(rt.init(blob.data(), blob.size(), reinterpret_cast<uint8_t*>(arena.data()),
                      arena.size() * 4),
              Status::ok);
    for (int call = 0; call < 3; ++call) {
      const TensorView in = rt.input(0);
      for (uint32_t k = 0; k < in.bytes; ++k)
        static_cast<uint8_t*>(in.data)[k] = static_cast<uint8_t>(k * 37 + call * 101);
      EXPECT_EQ(rt.invoke(), Status::ok);
    }
  }
}

TEST(LstmInteger, ReaderRefusesTheVariantsTflmsIntegerLstmDoesNotHave) {
  LstmConfig c;
  IntLstmQuant q;
  const testing::LstmWeights fw = testing::lstm_weights(c);
  const testing::ModelSpec m = testing::int_lstm_model(c, testing::quantize_lstm_weights(fw, q), q);
  ASSERT_EQ(import_error(m), "");
  const auto has = [&](const testing::ModelSpec& model, const std::string& what) {
    const std::string e = import_error(model);
    EXPECT_NE(e.find(what), std::string::npos) << "got: " << e;
  };
  testing::ModelSpec cifg = m;
  for (size_t k : {1, 5, 12}) cifg.ops[0].inputs[k] = -1;
  has(cifg, "without the input gate (CIFG) is not supported");
  testing::ModelSpec peephole = m;
  peephole.ops[0].inputs[10] = m.ops[0].inputs[12];
  has(peephole, "peephole weights (inputs 9-11) in an integer LSTM are not supported");
  testing::ModelSpec projection = m;
  projection.ops[0].inputs[16] = m.ops[0].inputs[5];
  has(projection, "a projection (inputs 16-17) in an integer LSTM is not supported");
  testing::ModelSpec relu = m;
  relu.ops[0].activation = tfl::ActivationFunctionType::RELU;
  has(relu, "fused activation 1 in an integer LSTM is not supported; expected TANH");
  testing::ModelSpec cell_scale = m;
  cell_scale.tensors[static_cast<size_t>(m.ops[0].inputs[19])].scale = {0.0003f};
  has(cell_scale, "expected a power of two");
  testing::ModelSpec uint8_state = m;
  uint8_state.tensors[static_cast<size_t>(m.ops[0].inputs[19])].type = tfl::TensorType::INT8;
  has(uint8_state, "(cell state 'cell_state') is int8; expected int16");

  IntLstmQuant q16 = q;
  q16.int16 = true;
  q16.input_zero_point = q16.hidden_zero_point = 0;
  testing::ModelSpec int32_bias =
      testing::int_lstm_model(c, testing::quantize_lstm_weights(fw, q16), q16);
  ASSERT_EQ(import_error(int32_bias), "");
  auto& bias = int32_bias.tensors[static_cast<size_t>(int32_bias.ops[0].inputs[13])];
  bias.type = tfl::TensorType::INT32;
  bias.data.resize(bias.data.size() / 2);
  has(int32_bias, "is not INT64; expected the INT64 biases of a 16x8 LSTM");
}

}  // namespace
}  // namespace tinyforge
