// Independent check of the TFLite writer: the int8 .tflite files tinyforge writes load in
// Arm NN (Debian's python3-pyarmnn: TfLite parser, CpuRef backend, run by
// tests/armnn_run.py) and give outputs close to ours. Arm NN requantizes in float, so a
// few LSB differ: we ask for SQNR >= 30 dB and equal top-1 on nearly every case.
// Skips with Arm NN's message when /usr/bin/python3 has no usable pyarmnn.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "export/tflite_writer.h"
#include "host/compile.h"
#include "import/load_model.h"
#include "io/files.h"
#include "ir_test_graphs.h"
#include "quantize/layer_error.h"
#include "quantize/quantize_graph.h"
#include "shared_data.h"

namespace tinyforge {
namespace {

namespace fs = std::filesystem;

constexpr int kSkip = 77;

// Runs tests/armnn_run.py; returns its exit status (kSkip when Arm NN is unusable).
int run_armnn(const std::string& model, const std::string& input, const std::string& output,
              std::string& message) {
  const std::string log = ::testing::TempDir() + "armnn_run.log";
  const std::string cmd = "/usr/bin/python3 " +
                          (fs::path(TINYFORGE_SOURCE_DIR) / "tests" / "armnn_run.py").string() +
                          " '" + model + "' '" + input + "' '" + output + "' 2> '" + log + "'";
  const int status = std::system(cmd.c_str());
  if (fs::exists(log)) {
    const std::vector<uint8_t> text = io::read_file(log);
    message.assign(text.begin(), text.end());
  }
  if (status == -1 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

double top1_agreement(const std::vector<float>& a, const std::vector<float>& b, size_t per_case) {
  size_t same = 0, cases = a.size() / per_case;
  for (size_t c = 0; c < cases; ++c) {
    const float* pa = a.data() + c * per_case;
    const float* pb = b.data() + c * per_case;
    same += std::max_element(pa, pa + per_case) - pa == std::max_element(pb, pb + per_case) - pb;
  }
  return static_cast<double>(same) / static_cast<double>(cases);
}

// Writes `graph` as .tflite, runs it with Arm NN and with our runtime on `input`, compares.
void compare_with_armnn(const ir::Graph& graph, const std::vector<uint8_t>& input, uint32_t cases,
                        size_t per_case, const std::string& name) {
  const std::string model = ::testing::TempDir() + name + ".tflite";
  const std::string in = ::testing::TempDir() + name + ".in.bin";
  const std::string out = ::testing::TempDir() + name + ".armnn.bin";
  tflite_export::write_tflite_file(graph, model);
  io::write_file(in, input);
  std::string message;
  const int status = run_armnn(model, in, out, message);
  if (status == kSkip) TINYFORGE_SKIP_MISSING("Arm NN unusable: " << message);
  ASSERT_EQ(status, 0) << "Arm NN failed on " << model << ": " << message;
  const std::vector<uint8_t> theirs_bytes = io::read_file(out);
  const std::vector<uint8_t> ours_bytes = testing::run_graph(graph, {input}, cases);
  ASSERT_EQ(theirs_bytes.size(), ours_bytes.size());
  const ir::Tensor& output = graph.tensors[static_cast<size_t>(graph.outputs[0])];
  const bool int8 = output.type == DType::i8;
  std::vector<float> ours, theirs;
  for (size_t i = 0; i < ours_bytes.size(); i += int8 ? 1 : 4) {
    if (int8) {  // compare real values
      const float scale = output.quant.scale.at(0);
      const int32_t zp = output.quant.zero_point.at(0);
      ours.push_back(scale * static_cast<float>(static_cast<int8_t>(ours_bytes[i]) - zp));
      theirs.push_back(scale * static_cast<float>(static_cast<int8_t>(theirs_bytes[i]) - zp));
    } else {
      float a, b;
      std::memcpy(&a, ours_bytes.data() + i, 4);
      std::memcpy(&b, theirs_bytes.data() + i, 4);
      ours.push_back(a);
      theirs.push_back(b);
    }
  }
  const double sqnr = quantize::sqnr_db(ours, theirs);
  const double top1 = top1_agreement(ours, theirs, per_case);
  std::printf("[ armnn    ] %-24s SQNR %6.2f dB vs ours, top-1 agreement %5.1f%%\n", name.c_str(),
              sqnr, 100 * top1);
  EXPECT_GE(sqnr, 30.0);
  EXPECT_GE(top1, 0.95);
}

TEST(ArmnnCheck, QuantizedDigitsModel) {
  const fs::path data = fs::path(TINYFORGE_SOURCE_DIR) / "examples" / "digits" / "data";
  if (!fs::exists(data / "calibration.bin") || !fs::exists(data / "test.bin"))
    TINYFORGE_SKIP_MISSING(
        "examples/digits/data missing: run /usr/bin/python3 examples/digits/prepare_data.py");
  const ir::Graph g =
      load_model((fs::path(TINYFORGE_SOURCE_DIR) / "examples" / "digits" / "digits.onnx").string());
  const quantize::CalibrationSet cal = quantize::make_calibration_set(
      g, {io::read_file((data / "calibration.bin").string())}, {"calibration.bin"});
  const std::vector<uint8_t> test = io::read_file((data / "test.bin").string());
  const auto cases = static_cast<uint32_t>(test.size() / 256);
  for (bool int8_io : {false, true}) {
    SCOPED_TRACE(int8_io ? "int8 I/O" : "float I/O");
    quantize::QuantizeOptions o;
    o.int8_io = int8_io;
    const ir::Graph q = quantize::quantize_model(g, cal, o);
    std::vector<uint8_t> input = test;
    if (int8_io) {  // the model's int8 input: quantize the test images with its parameters
      const ir::Tensor& t = q.tensors[static_cast<size_t>(q.inputs[0])];
      input.clear();
      for (size_t i = 0; i < test.size(); i += 4) {
        float v;
        std::memcpy(&v, test.data() + i, 4);
        const float r =
            std::round(v / t.quant.scale[0]) + static_cast<float>(t.quant.zero_point[0]);
        input.push_back(static_cast<uint8_t>(static_cast<int8_t>(std::clamp(r, -128.0f, 127.0f))));
      }
    }
    compare_with_armnn(q, input, cases, 10, int8_io ? "digits_int8_io" : "digits_float_io");
  }
}

TEST(ArmnnCheck, QuantizedSmallCnnWithDepthwise) {
  const ir::Graph g = testing::small_float_cnn(17);
  const quantize::CalibrationSet cal =
      quantize::make_calibration_set(g, {testing::random_floats(32 * 128, 1)}, {"cal"});
  const ir::Graph q = quantize::quantize_model(g, cal, {});
  compare_with_armnn(q, testing::random_floats(32 * 128, 2), 32, 10, "small_cnn");
}

TEST(ArmnnCheck, ExportedGoldenInt8Model) {
  TINYFORGE_REQUIRE_SHARED("golden/kws_ref_model/in0.bin");
  const host::Compiled c = host::compile_model_file(
      (tinyforge::testing::shared_dir() / "models" / "kws_ref_model.tflite").string());
  const std::vector<uint8_t> input = io::read_file(
      (tinyforge::testing::shared_dir() / "golden" / "kws_ref_model" / "in0.bin").string());
  compare_with_armnn(c.graph, input, 16, 12, "kws_ref_model_export");
}

}  // namespace
}  // namespace tinyforge
