// `tinyforge quantize / export / prune` end to end through the built CLI, on a small float
// CNN written as .tflite: the files they write compile and run with `tinyforge run` on the
// same raw input file; errors are one line with exit 1, bad usage exit 2.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "cli_run.h"
#include "export/tflite_writer.h"
#include "import/load_model.h"
#include "io/files.h"
#include "ir_test_graphs.h"
#include "prune/channel_prune.h"
#include "prune/magnitude_prune.h"
#include "prune/reconstruct.h"
#include "quantize/calibrate.h"
#include "quantize/layer_error.h"

namespace tinyforge::cli {
namespace {

namespace fs = std::filesystem;

using testing::CliRun;

class QuantizeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(TINYFORGE_CLI)) GTEST_SKIP() << "CLI not built: " << TINYFORGE_CLI;
    dir_ = fs::temp_directory_path() / ("tinyforge_quantize_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    tflite_export::write_tflite_file(testing::small_float_cnn(21), path("float.tflite"));
    io::write_file(path("cal.bin"), testing::random_floats(20 * 128, 1));
    io::write_file(path("test.bin"), testing::random_floats(10 * 128, 2));
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  CliRun run(const std::string& args) const { return testing::run_cli(args, dir_); }

  std::vector<float> outputs_of(const std::string& model) const {
    const CliRun r = run("run '" + model + "' --input '" + path("test.bin") + "' --output '" +
                         path("out.bin") + "'");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return testing::as_floats(io::read_file(path("out.bin")));
  }

  // What the library computes for the same model and input, to compare the CLI's file with.
  std::vector<float> outputs_of_graph(const ir::Graph& g) const {
    return testing::as_floats(testing::run_graph(g, {io::read_file(path("test.bin"))}, 10));
  }

  fs::path dir_;
};

TEST_F(QuantizeCli, QuantizedModelRunsOnTheSameFloatInput) {
  const CliRun q = run("quantize '" + path("float.tflite") + "' --calibration '" + path("cal.bin") +
                       "' --method percentile -o '" + path("int8.tflite") + "'");
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_NE(q.out.find("int8 (percentile, 20 calibration case(s))"), std::string::npos) << q.out;
  EXPECT_TRUE(q.err.empty()) << "no progress bar when stderr is not a terminal: " << q.err;
  const std::vector<float> f = outputs_of(path("float.tflite"));
  const std::vector<float> i = outputs_of(path("int8.tflite"));
  ASSERT_EQ(f.size(), 100u);
  EXPECT_GT(quantize::sqnr_db(f, i), 20.0);
  const CliRun c = run("compile '" + path("int8.tflite") + "' -o '" + path("int8.tfp") + "'");
  EXPECT_EQ(c.exit_code, 0) << c.err;
}

TEST_F(QuantizeCli, ProgressAndVerbose) {
  const CliRun q = run("quantize '" + path("float.tflite") + "' -c '" + path("cal.bin") +
                       "' --progress --verbose --io int8 -o '" + path("int8.tflite") + "'");
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_NE(q.err.find("calibrating (ranges) [##############################] 20/20"),
            std::string::npos)
      << q.err;
  EXPECT_NE(q.out.find("tensor 'input': range ["), std::string::npos) << q.out;
  EXPECT_NE(q.out.find("SQNR vs float"), std::string::npos) << q.out;
}

TEST_F(QuantizeCli, ExportAndPruneWriteRunnableModels) {
  ASSERT_EQ(run("export '" + path("float.tflite") + "' --tflite -o '" + path("copy.tflite") + "'")
                .exit_code,
            0);
  EXPECT_EQ(outputs_of(path("copy.tflite")), outputs_of(path("float.tflite")));
  const CliRun p = run("prune '" + path("float.tflite") + "' --sparsity 0.5 --structured -o '" +
                       path("pruned.tflite") + "'");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_NE(p.out.find("removed 7 output channel(s) in 2 layer(s)"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("MACs"), std::string::npos);
  // The pruned file computes exactly what the pruned graph does, and differs from the dense one.
  const ir::Graph dense = load_model(path("float.tflite"));
  ir::Graph structured = dense;
  prune::prune_channels(structured, 0.5);
  const std::vector<float> pruned_out = outputs_of(path("pruned.tflite"));
  ASSERT_EQ(pruned_out.size(), 100u);
  EXPECT_EQ(pruned_out, outputs_of_graph(structured));
  EXPECT_NE(pruned_out, outputs_of(path("float.tflite")));
  const CliRun r = run("prune '" + path("float.tflite") + "' -s 0.5 -c '" + path("cal.bin") +
                       "' -o '" + path("refit.tflite") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("50.0%"), std::string::npos) << r.out;
  ir::Graph refit = dense;
  prune::prune_unstructured(refit, 0.5);
  const quantize::CalibrationSet cal =
      quantize::make_calibration_set(dense, {io::read_file(path("cal.bin"))}, {path("cal.bin")});
  prune::reconstruct_pruned(refit, dense, cal, prune::kDefaultRidge);
  EXPECT_EQ(outputs_of(path("refit.tflite")), outputs_of_graph(refit));
}

TEST_F(QuantizeCli, ErrorsAreOneLine) {
  const CliRun bad = run("quantize '" + path("float.tflite") + "' -c '" + path("stderr.txt") +
                         "' -o '" + path("x.tflite") + "'");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err.rfind("tinyforge: ", 0), 0u) << bad.err;
  EXPECT_EQ(bad.err.find('\n'), bad.err.size() - 1) << bad.err;
  io::write_file(path("float_cal.bin"), testing::random_floats(128, 3));
  const CliRun q = run("quantize '" + path("float.tflite") + "' -c '" + path("float_cal.bin") +
                       "' --io int8 -o '" + path("q.tflite") + "'");
  ASSERT_EQ(q.exit_code, 0) << q.err;
  const CliRun again = run("quantize '" + path("q.tflite") + "' -c '" + path("float_cal.bin") +
                           "' -o '" + path("x.tflite") + "'");
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already quantized"), std::string::npos) << again.err;
  EXPECT_EQ(run("quantize '" + path("float.tflite") + "' -o x").exit_code,
            2);  // --calibration missing
  EXPECT_EQ(
      run("quantize '" + path("float.tflite") + "' -c '" + path("cal.bin") + "' --method kl -o x")
          .exit_code,
      2);
  EXPECT_EQ(run("prune '" + path("float.tflite") + "' --sparsity 1 -o x").exit_code, 2);
  EXPECT_EQ(run("export '" + path("float.tflite") + "' -o x").exit_code, 2);  // --tflite missing
}

}  // namespace
}  // namespace tinyforge::cli
