// Post-training quantization of the stateful ops: float LSTMs (the forms TFLM's integer
// LSTM has) and SVDFs of several sizes, calibrated on random sequences, become TFLite's
// int8x8_16 LSTM and int8 SVDF. Checked: the parameters the TFLite rules give (the cell
// state's power-of-two scale covers the largest |cell state| an independent float LSTM
// (tests/lstm_reference.h) reaches on the calibration sequences; the SVDF state's scale is
// the largest |feature activation| over 32767; the biases' scales); the int8 model's
// outputs against the float model's (SQNR bound); the exported .tflite runs bit-identically
// to the in-memory quantized graph; the forms without an integer kernel are refused by name.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "export/tflite_writer.h"
#include "host/compile.h"
#include "host/host_runner.h"
#include "import/tflite/import_tflite.h"
#include "io/files.h"
#include "ir/error.h"
#include "ir_test_graphs.h"
#include "lstm_reference.h"
#include "ops/lstm.h"
#include "ops/svdf.h"
#include "quantize/quantize_graph.h"

namespace tinyforge {
namespace {

using namespace ops::lstm_input;

std::vector<uint8_t> blob_of(const ir::Graph& g) {
  return emit::write_plan_blob(plan::build_plan(g));
}

// Runs `cases` float cases of `x` one by one; `sequences`: the state starts from zero in each
// case (an LSTM's independent sequences), else it carries over (an SVDF's stream of frames).
std::vector<float> run(const std::vector<uint8_t>& blob, const std::vector<uint8_t>& x,
                       uint32_t cases, bool sequences) {
  host::HostRunner runner(blob, "stateful quantize test");
  const size_t bytes = x.size() / cases;
  std::vector<float> out;
  for (uint32_t c = 0; c < cases; ++c) {
    if (sequences) runner.reset_state();
    const std::vector<uint8_t> one(x.begin() + static_cast<std::ptrdiff_t>(c * bytes),
                                   x.begin() + static_cast<std::ptrdiff_t>((c + 1) * bytes));
    const std::vector<float> y = testing::as_floats(runner.run({one}, 1).at(0));
    out.insert(out.end(), y.begin(), y.end());
  }
  return out;
}

double sqnr_db(const std::vector<float>& reference, const std::vector<float>& got) {
  EXPECT_EQ(reference.size(), got.size());
  double signal = 0, noise = 0;
  for (size_t k = 0; k < reference.size() && k < got.size(); ++k) {
    signal += double{reference[k]} * reference[k];
    noise += (double{got[k]} - reference[k]) * (double{got[k]} - reference[k]);
  }
  return 10 * std::log10(signal / std::max(noise, 1e-30));
}

// The quantized graph written as .tflite, read back and compiled as `tinyforge compile` does.
std::vector<uint8_t> exported_blob(const ir::Graph& q, const std::string& name) {
  const std::string path = ::testing::TempDir() + name + "_int8.tflite";
  io::write_file(path, tflite_export::write_tflite(q));
  return host::compile_model_file(path).blob;
}

const ir::Node& only(const ir::Graph& g, OpCode op) {
  for (const ir::Node& n : g.nodes)
    if (n.op == op) return n;
  throw tinyforge::Error("no such node");
}

const ir::Tensor& at(const ir::Graph& g, int t) { return g.tensors.at(static_cast<size_t>(t)); }

ir::Graph float_lstm(const testing::LstmConfig& c, const testing::LstmWeights& w) {
  const std::vector<uint8_t> model = testing::build_tflite(testing::lstm_model(c, w));
  return import_tflite(model.data(), model.size(), c.name());
}

// TFLite's GetPowerOfTwoScale: the smallest 2^k >= range, k in [0, 10].
double power_of_two_cover(double range) {
  int k = 0;
  while (k < 10 && std::ldexp(1.0, k) < range) ++k;
  return std::ldexp(1.0, k);
}

struct LstmCase {
  testing::LstmConfig c;
  bool bias = true;
  float forget_bias = 0;  // added to the forget gate's bias: a longer memory, a larger cell
};

TEST(StatefulQuantize, LstmInt8x8_16FromCalibrationStaysNearTheFloatLstm) {
  std::vector<LstmCase> cases(4);
  cases[1].c.batch = 2;
  cases[1].c.steps = 8;
  cases[1].c.features = 6;
  cases[1].c.cells = 10;
  cases[1].c.time_major = true;
  cases[1].c.seed = 2;
  cases[2].c.steps = 12;
  cases[2].c.features = 8;
  cases[2].c.cells = 16;
  cases[2].c.cell_clip = 1.5f;
  cases[2].c.seed = 3;
  cases[2].bias = false;
  cases[3].c.batch = 2;
  cases[3].c.steps = 10;
  cases[3].c.features = 3;
  cases[3].c.cells = 7;
  cases[3].c.seed = 4;
  cases[3].forget_bias = 2.0f;
  int widened = 0;  // cases whose cell state needed a scale above 2^-15
  for (const LstmCase& lc : cases) {
    const testing::LstmConfig& c = lc.c;
    SCOPED_TRACE(c.name());
    testing::LstmWeights w = testing::lstm_weights(c);
    for (std::vector<float>& b : w.bias)
      for (float& v : b) v = lc.bias ? v : 0.0f;
    for (float& v : w.bias[1]) v += lc.forget_bias;
    const ir::Graph g = float_lstm(c, w);
    const uint32_t calibration_cases = 48, test_cases = 16;
    const size_t per_case = static_cast<size_t>(c.batch * c.steps * c.features);
    quantize::CalibrationSet data;
    data.inputs = {testing::random_floats(per_case * calibration_cases, c.seed + 100)};
    data.cases = calibration_cases;
    const ir::Graph q = quantize::quantize_model(g, data, {});

    // The cell state: int16, a power-of-two scale covering what the float LSTM reaches.
    testing::LstmReference reference(c, w);
    const std::vector<float> calibration = testing::as_floats(data.inputs[0]);
    for (uint32_t k = 0; k < calibration_cases; ++k) {
      reference.reset();
      reference.run(std::vector<float>(calibration.begin() + k * per_case,
                                       calibration.begin() + (k + 1) * per_case));
    }
    const ir::Node& lstm = only(q, OpCode::Lstm);
    const ir::Tensor& cell = at(q, lstm.inputs[kCellState]);
    ASSERT_EQ(cell.type, DType::i16);
    EXPECT_EQ(cell.quant.zero_point, std::vector<int32_t>{0});
    EXPECT_FLOAT_EQ(cell.quant.scale.at(0), power_of_two_cover(reference.cell_peak()) / 32768)
        << "largest |cell state| " << reference.cell_peak();
    widened += cell.quant.scale[0] > 1.0f / 32768;
    // The output state shares the output's parameters; biases at input x weight scale.
    const ir::Tensor& hidden = at(q, lstm.inputs[kOutputState]);
    const ir::Tensor& output = at(q, lstm.outputs[0]);
    EXPECT_EQ(hidden.type, DType::i8);
    EXPECT_EQ(hidden.quant.scale, output.quant.scale);
    EXPECT_EQ(hidden.quant.zero_point, output.quant.zero_point);
    for (size_t gate = 0; gate < 4; ++gate) {
      const ir::Tensor& wq = at(q, lstm.inputs[kInputToInput + gate]);
      const ir::Tensor& bq = at(q, lstm.inputs[kInputGateBias + gate]);
      EXPECT_EQ(wq.type, DType::i8);
      EXPECT_EQ(wq.quant.zero_point, std::vector<int32_t>{0});
      EXPECT_EQ(bq.type, DType::i32);
      EXPECT_FLOAT_EQ(bq.quant.scale.at(0),
                      at(q, lstm.inputs[kInput]).quant.scale.at(0) * wq.quant.scale.at(0));
    }

    // Held-out sequences: int8 against float, and the exported file against the graph.
    const std::vector<uint8_t> x = testing::random_floats(per_case * test_cases, c.seed + 200);
    const std::vector<float> want = run(blob_of(g), x, test_cases, true);
    const std::vector<float> got = run(blob_of(q), x, test_cases, true);
    const double sqnr = sqnr_db(want, got);
    std::printf("[ measured ] LSTM %s: int8x8_16 vs float SQNR %.1f dB, cell scale 2^%d\n",
                c.name().c_str(), sqnr, static_cast<int>(std::log2(cell.quant.scale[0])));
    EXPECT_GT(sqnr, 33.0);
    EXPECT_EQ(run(exported_blob(q, c.name()), x, test_cases, true), got);
  }
  EXPECT_GT(widened, 0) << "no case had a cell state above 1: the power of two is untested";
}

struct SvdfCase {
  int32_t batch, input_size, units, rank, memory;
  bool bias;
  ir::Activation act;
  uint32_t seed;
};

ir::Graph float_svdf(const SvdfCase& s) {
  testing::GraphBuilder b(s.seed);
  const int32_t filters = s.units * s.rank;
  const int x = b.activation("x", {s.batch, s.input_size});
  const int wf = b.weights("weights_feature", {filters, s.input_size}, 0.5f);
  const int wt = b.weights("weights_time", {filters, s.memory}, 0.5f);
  const int bias = s.bias ? b.weights("bias", {s.units}, 0.3f) : -1;
  const int state = b.activation("state", {s.batch, filters * s.memory});
  b.g.tensors[static_cast<size_t>(state)].variable = true;
  const int y = b.activation("y", {s.batch, s.units});
  ops::SvdfAttrs a;
  a.rank = s.rank;
  a.activation = s.act;
  b.node(OpCode::Svdf, {x, wf, wt, bias, state}, y, a);
  b.g.inputs = {x};
  b.g.outputs = {y};
  b.g.source = "svdf";
  b.g.check();
  return b.g;
}

TEST(StatefulQuantize, SvdfInt8FromCalibrationStaysNearTheFloatSvdf) {
  const SvdfCase cases[] = {{1, 8, 4, 1, 6, true, ir::Activation::none, 1},
                            {2, 12, 6, 2, 4, false, ir::Activation::relu, 2},
                            {1, 16, 8, 1, 10, true, ir::Activation::none, 3}};
  for (const SvdfCase& s : cases) {
    SCOPED_TRACE("svdf seed " + std::to_string(s.seed));
    const ir::Graph g = float_svdf(s);
    // Min/max ranges: enough frames that the held-out stream rarely leaves them (a sum over
    // the memory has long tails; 96 frames left the outputs and states clipping).
    const uint32_t calibration_cases = 2000, test_cases = 64;
    const size_t per_case = static_cast<size_t>(s.batch * s.input_size);
    quantize::CalibrationSet data;
    data.inputs = {testing::random_floats(per_case * calibration_cases, s.seed + 100)};
    data.cases = calibration_cases;
    const ir::Graph q = quantize::quantize_model(g, data, {});

    // The state holds the feature activations weights_feature x input (TFLM svdf_common).
    const ir::Tensor& wf = at(g, g.nodes[0].inputs[1]);
    const ir::Tensor& wt = at(g, g.nodes[0].inputs[2]);
    const std::vector<float> calibration = testing::as_floats(data.inputs[0]);
    double peak = 0, wt_peak = 0;
    for (size_t row = 0; row < calibration.size() / static_cast<size_t>(s.input_size); ++row)
      for (int32_t f = 0; f < wf.shape[0]; ++f) {
        double dot = 0;
        for (int32_t k = 0; k < s.input_size; ++k)
          dot += double{wf.at<float>(f * s.input_size + k)} * calibration[row * s.input_size + k];
        peak = std::max(peak, std::fabs(dot));
      }
    for (int64_t k = 0; k < wt.elements(); ++k)
      wt_peak = std::max(wt_peak, std::fabs(double{wt.at<float>(k)}));
    const ir::Node& svdf = only(q, OpCode::Svdf);
    const ir::Tensor& state = at(q, svdf.inputs[4]);
    const ir::Tensor& time = at(q, svdf.inputs[2]);
    ASSERT_EQ(state.type, DType::i16);
    ASSERT_EQ(time.type, DType::i16);
    EXPECT_NEAR(state.quant.scale.at(0), peak / 32767, peak / 32767 * 1e-5);
    EXPECT_NEAR(time.quant.scale.at(0), wt_peak / 512, wt_peak / 512 * 1e-6);
    EXPECT_EQ(at(q, svdf.inputs[1]).type, DType::i8);
    if (s.bias) {
      const ir::Tensor& bias = at(q, svdf.inputs[3]);
      EXPECT_EQ(bias.type, DType::i32);
      EXPECT_FLOAT_EQ(bias.quant.scale.at(0), state.quant.scale[0] * time.quant.scale[0]);
    }

    const std::vector<uint8_t> x = testing::random_floats(per_case * test_cases, s.seed + 200);
    const std::vector<float> want = run(blob_of(g), x, test_cases, false);
    const std::vector<float> got = run(blob_of(q), x, test_cases, false);
    const double sqnr = sqnr_db(want, got);
    // The first frames of the calibration stream: inside the calibrated ranges, so only
    // rounding is left (the held-out stream also clips where it leaves them).
    const std::vector<uint8_t> seen(data.inputs[0].begin(),
                                    data.inputs[0].begin() + static_cast<std::ptrdiff_t>(x.size()));
    const double sqnr_seen =
        sqnr_db(run(blob_of(g), seen, test_cases, false), run(blob_of(q), seen, test_cases, false));
    std::printf(
        "[ measured ] SVDF seed %u: int8 vs float SQNR %.1f dB held out, %.1f dB on "
        "calibration frames\n",
        s.seed, sqnr, sqnr_seen);
    EXPECT_GT(sqnr, 25.0);
    EXPECT_GT(sqnr_seen, 33.0);
    EXPECT_EQ(run(exported_blob(q, "svdf" + std::to_string(s.seed)), x, test_cases, false), got);
  }
}

std::string quantize_error(const ir::Graph& g) {
  quantize::CalibrationSet data;
  const ir::Tensor& x = at(g, g.inputs[0]);
  data.inputs = {testing::random_floats(static_cast<size_t>(x.elements()) * 2, 5)};
  data.cases = 2;
  try {
    quantize::quantize_model(g, data, {});
  } catch (const tinyforge::Error& e) {
    return e.what();
  }
  return "";
}

TEST(StatefulQuantize, RefusesLstmFormsWithoutAnIntegerKernelByName) {
  const auto refused = [](testing::LstmConfig c, const std::string& why) {
    SCOPED_TRACE(why);
    const std::string e = quantize_error(float_lstm(c, testing::lstm_weights(c)));
    EXPECT_NE(e.find("cannot quantize this LSTM"), std::string::npos) << e;
    EXPECT_NE(e.find(why), std::string::npos) << e;
  };
  testing::LstmConfig c;
  c.cifg = true;
  refused(c, "CIFG");
  c = {};
  c.peephole = true;
  refused(c, "peephole");
  c = {};
  c.projected = 3;
  refused(c, "projection");
  c = {};
  c.activation = tfl::ActivationFunctionType::RELU;
  refused(c, "expected TANH");

  // Layer norm (the reader refuses it already; a graph built otherwise) and ONNX's LSTM,
  // which restarts from zero state every invocation.
  c = {};
  const ir::Graph plain = float_lstm(c, testing::lstm_weights(c));
  ir::Graph norm = plain;
  ir::Tensor coefficients = at(norm, norm.nodes[0].inputs[kForgetGateBias]);
  coefficients.name = "forget_norm";
  norm.nodes[0].inputs[kFirstLayerNorm + 1] = norm.add_tensor(std::move(coefficients));
  std::string e = quantize_error(norm);
  EXPECT_NE(e.find("layer normalization"), std::string::npos) << e;
  ir::Graph onnx = plain;
  auto a = onnx.nodes[0].params.get<ops::LstmAttrs>();
  a.zero_state = true;
  onnx.nodes[0].params = a;
  e = quantize_error(onnx);
  EXPECT_NE(e.find("zero state"), std::string::npos) << e;
  EXPECT_EQ(quantize_error(plain), "");
}

}  // namespace
}  // namespace tinyforge
