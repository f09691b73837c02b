// Lstm: .tflite models built with the test model builder go through the TFLite reader, the
// plan and the device runtime, and every invocation's output sequence is compared with the
// double-precision reference of tests/lstm_reference.h (the textbook equations TFLite
// implements). Shapes: batch 1 and 2, with and without the input gate (CIFG), peepholes,
// projection (with and without its bias), clipping, time-major and batch-major. The state
// must carry over from one invocation to the next and restart from zero after
// reset_state(). Also what the reader and the validator refuse.
#include "ops/lstm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>

#include "emit/plan_writer.h"
#include "emit/validated_plan.h"
#include "import/tflite/import_tflite.h"
#include "ir/error.h"
#include "lstm_reference.h"
#include "ops/host_op.h"
#include "plan/build_plan.h"
#include "tinyforge/runtime.h"

namespace tinyforge {
namespace {

using testing::LstmConfig;
using testing::LstmReference;
using testing::LstmWeights;
using Act = tfl::ActivationFunctionType;

plan::Plan planned(const testing::ModelSpec& m) {
  const std::vector<uint8_t> model = testing::build_tflite(m);
  return plan::build_plan(import_tflite(model.data(), model.size(), "lstm"));
}

// The device runtime on the model's plan.
class Device {
 public:
  explicit Device(const testing::ModelSpec& m) : plan_(emit::write_plan_blob(planned(m)), "lstm") {
    arena_.resize(Runtime::region_size(plan_.data(), 0) / 4 + 1);
    const Status st = rt_.init(plan_.data(), plan_.size(),
                               reinterpret_cast<uint8_t*>(arena_.data()), arena_.size() * 4);
    EXPECT_EQ(st, Status::ok);
  }
  std::vector<float> run(const std::vector<float>& x) {
    const TensorView in = rt_.input(0), out = rt_.output(0);
    EXPECT_EQ(in.bytes, x.size() * sizeof(float));
    std::memcpy(in.data, x.data(), in.bytes);
    EXPECT_EQ(rt_.invoke(), Status::ok);
    std::vector<float> y(out.bytes / sizeof(float));
    std::memcpy(y.data(), out.data, out.bytes);
    return y;
  }
  Runtime& runtime() { return rt_; }

 private:
  emit::ValidatedPlan plan_;
  std::vector<uint32_t> arena_;
  Runtime rt_;
};

// Three invocations, a reset, two more: each output within float rounding of the reference.
void expect_matches_reference(const LstmConfig& c) {
  SCOPED_TRACE(c.name());
  const LstmWeights w = testing::lstm_weights(c);
  Device device(testing::lstm_model(c, w));
  LstmReference reference(c, w);
  const size_t inputs = static_cast<size_t>(c.batch * c.steps * c.features);
  uint32_t seed = 100 + c.seed;
  double largest_change = 0;  // how much the carried state changes the output
  for (int call = 0; call < 5; ++call) {
    if (call == 3) {
      device.runtime().reset_state();
      reference.reset();
    }
    std::vector<float> x = testing::float_pattern(inputs, seed + static_cast<uint32_t>(call % 3));
    for (float& v : x) v *= 2.0f;
    const std::vector<float> got = device.run(x);
    const std::vector<double> want = reference.run(x);
    ASSERT_EQ(got.size(), want.size());
    for (size_t k = 0; k < got.size(); ++k)
      ASSERT_NEAR(got[k], want[k], 2e-5 * (1 + std::fabs(want[k])))
          << "call " << call << " element " << k;
    if (call == 1) {  // the second call repeats no input: its state is the first call's
      LstmReference fresh(c, w);
      const std::vector<double> from_zero = fresh.run(x);
      for (size_t k = 0; k < got.size(); ++k)
        largest_change = std::max(largest_change, std::fabs(from_zero[k] - want[k]));
    }
  }
  EXPECT_GT(largest_change, 1e-3) << "the state carried over changes nothing: a weak test";
}

TEST(Lstm, Float32SequencesMatchTheLstmEquationsAcrossInvocations) {
  LstmConfig plain;
  expect_matches_reference(plain);

  LstmConfig batch2 = plain;
  batch2.batch = 2;
  batch2.steps = 4;
  batch2.seed = 2;
  expect_matches_reference(batch2);
  batch2.time_major = true;
  expect_matches_reference(batch2);

  LstmConfig cifg = batch2;
  cifg.cifg = true;
  cifg.time_major = false;
  cifg.seed = 3;
  expect_matches_reference(cifg);

  LstmConfig peephole = plain;
  peephole.peephole = true;
  peephole.batch = 2;
  peephole.seed = 4;
  expect_matches_reference(peephole);
  peephole.cifg = true;
  peephole.time_major = true;
  expect_matches_reference(peephole);

  LstmConfig projection = plain;
  projection.projected = 3;
  projection.peephole = true;
  projection.batch = 2;
  projection.features = 6;
  projection.seed = 5;
  expect_matches_reference(projection);
  projection.projection_bias = false;
  projection.proj_clip = 0.3f;
  projection.time_major = true;
  expect_matches_reference(projection);

  LstmConfig clipped = plain;
  clipped.cell_clip = 0.4f;
  clipped.steps = 6;
  clipped.seed = 6;
  expect_matches_reference(clipped);

  LstmConfig relu = plain;
  relu.activation = Act::RELU;
  relu.seed = 7;
  expect_matches_reference(relu);
}

std::string import_error(const testing::ModelSpec& m) {
  try {
    planned(m);
  } catch (const tinyforge::Error& e) {
    return e.what();
  }
  return "";
}

// The model with operand `position` of its LSTM set to tensor `t` (-1: absent).
testing::ModelSpec with_operand(testing::ModelSpec m, size_t position, int32_t t) {
  m.ops[0].inputs[position] = t;
  return m;
}

TEST(Lstm, ReaderRefusesWhatTheKernelDoesNotRun) {
  LstmConfig c;
  c.peephole = true;
  const testing::ModelSpec m = testing::lstm_model(c, testing::lstm_weights(c));
  const auto& ops = m.ops[0].inputs;
  const auto has = [&](const testing::ModelSpec& model, const std::string& what) {
    const std::string e = import_error(model);
    EXPECT_NE(e.find(what), std::string::npos) << "got: " << e;
  };
  ASSERT_EQ(import_error(m), "");
  has(with_operand(m, 2, -1), "input 2 (input-to-forget weights) is missing");
  has(with_operand(m, 12, -1), "must be all present or all absent (CIFG)");
  has(with_operand(m, 10, -1), "peephole weights (inputs 9-11)");
  has(with_operand(m, 17, ops[13]), "projection bias without projection weights");
  has(with_operand(m, 20, ops[13]), "layer normalization");
  has(with_operand(m, 5, ops[1]), "'w_input') has shape [5,4]; expected [5,5]");
  has(with_operand(m, 9, ops[2]), "has shape [5,4]; expected [5]");

  testing::ModelSpec not_variable = m;
  not_variable.tensors[static_cast<size_t>(ops[19])].is_variable = false;
  has(not_variable, "is not a variable tensor");

  testing::ModelSpec not_constant = m;
  not_constant.tensors[static_cast<size_t>(ops[13])].data.clear();
  not_constant.inputs.push_back(ops[13]);
  has(not_constant, "is not constant");

  testing::ModelSpec bad_output = m;
  bad_output.tensors.back().shape[2] += 1;
  has(bad_output, "output has shape [1,3,6]; expected [1,3,5]");

  testing::ModelSpec int8 = m;
  int8.tensors[0].type = tfl::TensorType::INT8;
  int8.tensors[0].scale = {0.1f};
  int8.tensors[0].zero_point = {0};
  int8.tensors.back().type = tfl::TensorType::INT8;
  int8.tensors.back().scale = {0.1f};
  int8.tensors.back().zero_point = {0};
  has(int8, "peephole weights (inputs 9-11) in an integer LSTM are not supported");

  testing::ModelSpec few = m;
  few.ops[0].inputs.resize(19);
  has(few, "has 19 inputs; expected 20 to 24");

  testing::ModelSpec sign_bit = m;
  sign_bit.ops[0].activation = Act::SIGN_BIT;
  has(sign_bit, "fused activation 5 is not supported");
}

TEST(Lstm, InspectDescribesTheGatesAndTheActivationByName) {
  LstmConfig c;
  c.cifg = true;
  c.projected = 2;
  const std::vector<uint8_t> model =
      testing::build_tflite(testing::lstm_model(c, testing::lstm_weights(c)));
  const ir::Graph g = import_tflite(model.data(), model.size(), "lstm");
  nlohmann::json j;
  ops::host_op(OpCode::Lstm).describe(g.nodes.at(0), j);
  EXPECT_EQ(j["activation"], "tanh");  // inspect prints it as " +tanh"
  EXPECT_EQ(j["cifg"], true);
  EXPECT_EQ(j["projection"], true);
  EXPECT_EQ(j["peephole"], false);
}

Status validated(const std::vector<uint8_t>& blob) {
  std::vector<uint32_t> aligned((blob.size() + 3) / 4);
  std::memcpy(aligned.data(), blob.data(), blob.size());
  return validate_plan(reinterpret_cast<const uint8_t*>(aligned.data()),
                       static_cast<uint32_t>(blob.size()));
}

TEST(Lstm, BothStatesAreStateTensorsTheValidatorKeepsToTheirInputs) {
  LstmConfig c;
  c.projected = 2;
  const plan::Plan p = planned(testing::lstm_model(c, testing::lstm_weights(c)));
  ASSERT_EQ(p.ops.size(), 1u);
  ASSERT_EQ(p.ops[0].inputs.size(), 8u);
  for (size_t k = 0; k < 8; ++k) {
    const uint16_t t = p.ops[0].inputs[k];
    if (t == kNoTensor) continue;
    EXPECT_EQ(p.tensors[t].storage == Storage::state, k == 6 || k == 7) << "input " << k;
  }
  EXPECT_EQ(p.ops[0].scratch_size, 5 * sizeof(float));  // the 5 cells' hidden values
  std::vector<uint8_t> blob = emit::write_plan_blob(p);
  ASSERT_EQ(validated(blob), Status::ok);
  // The cell state as a plain activation: the kernel would keep nothing between invocations.
  PlanHeader h;
  std::memcpy(&h, blob.data(), sizeof h);
  blob[h.tensors_offset + p.ops[0].inputs[7] * sizeof(TensorRecord) +
       offsetof(TensorRecord, storage)] = static_cast<uint8_t>(Storage::arena);
  h.checksum = plan_checksum(blob.data(), h.total_size);
  std::memcpy(blob.data(), &h, sizeof h);
  EXPECT_EQ(validated(blob), Status::bad_params);
}

}  // namespace
}  // namespace tinyforge
