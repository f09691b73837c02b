// Damaged models never crash the importer or the CLI: each gives one tinyforge::Error naming the
// problem, and `tinyforge inspect` prints exactly one "tinyforge: FILE: ..." line on
// stderr and exits with 1. The corpus is made at test time from valid models built here
// (and ../shared/models/kws_ref_model.tflite when present): truncations at 16 points,
// seeded random byte flips, a wrong file identifier, and targeted damage (unsupported op,
// negative and huge dims, buffer index or external data past the end, short buffer data,
// a cyclic graph).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "cli_run.h"
#include "import/tflite/import_tflite.h"
#include "io/files.h"
#include "shared_data.h"
#include "tflite_model_builder.h"

namespace tinyforge {
namespace {

namespace fs = std::filesystem;
using testing::ModelSpec;
using B = tfl::BuiltinOperator;

struct Damaged {
  std::string name;
  std::vector<uint8_t> bytes;
  std::string problem;  // text the error must contain (the problem, named)
};

// Targeted damage: each must be refused with the named problem.
std::vector<Damaged> targeted_corpus() {
  std::vector<Damaged> out;
  auto add = [&](std::string name, const ModelSpec& spec, std::string problem) {
    out.push_back({std::move(name), testing::build_tflite(spec), std::move(problem)});
  };
  ModelSpec s = testing::tiny_int8_model();
  s.ops[1].op = B::GELU;
  add("unsupported_op", s, "op 1 (GELU) v1 int8: no tinyforge op maps this builtin");
  s = testing::tiny_int8_model();
  s.tensors[3].shape = {1, -8, 8, 4};
  add("negative_dim", s, "dimension 1 of shape [1,-8,8,4] is -8");
  s = testing::tiny_int8_model();
  s.tensors[3].shape = {1, 8, 8, 2147483647};
  add("huge_dim", s, "more than 2147483648 bytes");
  s = testing::tiny_int8_model();
  s.tensors[3].shape = {1 << 20, 1 << 20, 1, 1};
  add("huge_product", s, "2 GiB");
  s = testing::tiny_int8_model();
  s.tensors[1].buffer_override = 4000;
  add("buffer_index_past_end", s, "buffer index 4000 is past the end");
  s = testing::tiny_int8_model();
  s.tensors[1].data.resize(40);
  add("buffer_data_too_short", s, "holds 40 bytes; expected 72");
  s = testing::tiny_int8_model();
  s.tensors[1].data.resize(80);
  add("buffer_data_too_long", s, "holds 80 bytes; expected 72");
  s = testing::tiny_int8_model();
  std::swap(s.ops[0], s.ops[1]);
  add("cyclic_graph", s, "before any op writes it");
  s = testing::tiny_int8_model();
  s.ops[5].inputs = {12};  // softmax reads the tensor it writes
  add("op_reads_its_own_output", s, "before any op writes it");
  s = testing::tiny_int8_model();
  s.ops[0].inputs[1] = 999;
  add("tensor_index_past_end", s, "input 1 is tensor 999");
  // The same one index past the last, where an off-by-one check would let them through.
  s = testing::tiny_int8_model();
  const auto num_tensors = static_cast<int32_t>(s.tensors.size());
  const auto num_buffers = 1 + std::count_if(s.tensors.begin(), s.tensors.end(),
                                             [](const auto& t) { return !t.data.empty(); });
  s.tensors[1].buffer_override = num_buffers;
  add("buffer_index_one_past_end", s, fmt::format("buffer index {} is past the end", num_buffers));
  s = testing::tiny_int8_model();
  s.ops[0].inputs[1] = num_tensors;
  add("tensor_index_one_past_end", s, fmt::format("input 1 is tensor {}", num_tensors));
  s = testing::tiny_int8_model();
  s.ops[0].inputs[1] = -2;  // -1 marks an absent optional input; nothing else is negative
  add("negative_tensor_index", s, "input 1 is tensor -2");
  s = testing::tiny_int8_model();
  s.ops[0].outputs[0] = num_tensors;
  add("output_index_one_past_end", s, fmt::format("output 0 is tensor {}", num_tensors));
  s = testing::tiny_int8_model();
  s.inputs[0] = num_tensors;
  add("model_input_one_past_end", s, fmt::format("model input lists tensor {}", num_tensors));
  s = testing::tiny_int8_model();
  s.ops[2].opcode_index_override = static_cast<int64_t>(s.ops.size());  // one code per op
  add("opcode_index_one_past_end", s, "opcode_index");

  // External data (Buffer.offset/size) cut off: the offset runs past the end of the file.
  s = testing::tiny_int8_model();
  s.tensors[1].external_data = true;
  std::vector<uint8_t> cut = testing::build_tflite(s);
  cut.resize(cut.size() - 10);
  out.push_back({"external_offset_past_end", cut, "runs past the end of the"});

  std::vector<uint8_t> wrong_id = testing::build_tflite(testing::tiny_int8_model());
  std::memcpy(wrong_id.data() + 4, "TFL2", 4);
  out.push_back({"wrong_identifier", wrong_id, "TFL3"});
  return out;
}

// Valid models the random damage starts from.
std::vector<std::pair<std::string, std::vector<uint8_t>>> base_models() {
  std::vector<std::pair<std::string, std::vector<uint8_t>>> bases = {
      {"tiny_int8", testing::build_tflite(testing::tiny_int8_model())},
      {"tiny_mixed", testing::build_tflite(testing::tiny_mixed_model())}};
  const fs::path kws = testing::shared_dir() / "models/kws_ref_model.tflite";
  if (fs::exists(kws)) bases.emplace_back("kws_ref_model", io::read_file(kws.string()));
  return bases;
}

std::vector<Damaged> truncations(const std::string& name, const std::vector<uint8_t>& bytes) {
  std::vector<Damaged> out;
  for (size_t k = 0; k < 16; ++k) {
    const size_t size = bytes.size() * k / 16;  // 0, 1/16, ..., 15/16 of the file
    out.push_back({fmt::format("{}_truncated_{}", name, size),
                   std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<long>(size)),
                   ""});
  }
  return out;
}

std::vector<Damaged> byte_flips(const std::string& name, const std::vector<uint8_t>& bytes,
                                int count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Damaged> out;
  for (int v = 0; v < count; ++v) {
    std::vector<uint8_t> b = bytes;
    const int flips = 1 + static_cast<int>(rng() % 4);
    // Half the variants hit the first 512 bytes, where the tables and vtables sit.
    const size_t span = (v % 2 == 0) ? std::min<size_t>(b.size(), 512) : b.size();
    for (int f = 0; f < flips; ++f) {
      const size_t at = rng() % span;
      b[at] ^= static_cast<uint8_t>(1 + rng() % 255);
    }
    out.push_back({fmt::format("{}_flip_{}", name, v), std::move(b), ""});
  }
  return out;
}

// "" when the model imports, else the error; anything but tinyforge::Error fails the test.
std::string import_outcome(const Damaged& d) {
  try {
    import_tflite(d.bytes.data(), d.bytes.size(), d.name + ".tflite");
  } catch (const tinyforge::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << d.name << ": threw a non-tinyforge::Error exception: " << e.what();
    return "?";
  }
  return "";
}

void expect_one_line_naming(const std::string& message, const Damaged& d) {
  EXPECT_EQ(message.find('\n'), std::string::npos) << d.name << ": " << message;
  EXPECT_NE(message.find(d.name + ".tflite"), std::string::npos) << d.name << ": " << message;
  if (!d.problem.empty()) {
    EXPECT_NE(message.find(d.problem), std::string::npos)
        << d.name << ": expected '" << d.problem << "' in: " << message;
  }
}

TEST(BadModels, TargetedDamageIsRefusedWithTheProblemNamed) {
  for (const Damaged& d : targeted_corpus()) {
    const std::string message = import_outcome(d);
    ASSERT_FALSE(message.empty()) << d.name << " imported without error";
    expect_one_line_naming(message, d);
  }
}

TEST(BadModels, TruncationsAreRefused) {
  int refused = 0;
  for (const auto& [name, bytes] : base_models()) {
    ASSERT_NO_THROW(import_tflite(bytes.data(), bytes.size(), name)) << name << " must be valid";
    for (const Damaged& d : truncations(name, bytes)) {
      const std::string message = import_outcome(d);
      EXPECT_FALSE(message.empty()) << d.name << " imported without error";
      expect_one_line_naming(message, d);
      refused += !message.empty();
    }
  }
  std::printf("bad models: %d truncated files refused\n", refused);
}

TEST(BadModels, RandomByteFlipsNeverCrash) {
  int refused = 0, imported = 0;
  uint32_t seed = 20241126;
  for (const auto& [name, bytes] : base_models()) {
    for (const Damaged& d : byte_flips(name, bytes, 200, seed++)) {
      const std::string message = import_outcome(d);
      if (message.empty()) {
        ++imported;  // a flip in weight data or a name leaves a valid model
      } else {
        ++refused;
        expect_one_line_naming(message, d);
      }
    }
  }
  std::printf("bad models: byte flips: %d refused, %d still valid\n", refused, imported);
  EXPECT_GT(refused, 0);
}

// --- the same through the CLI -----------------------------------------------------------

testing::CliRun run_inspect(const fs::path& model, const fs::path& dir) {
  return testing::run_cli("inspect '" + model.string() + "'", dir);
}

class BadModelsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("tinyforge_bad_models_{}", ::getpid());
    fs::create_directories(dir_);
    // The CLI is a build dependency of the test binary; a broken `inspect` is a failure
    // (not a skip), or every refusal below would pass for the wrong reason.
    ASSERT_TRUE(fs::exists(TINYFORGE_CLI)) << "CLI not built: " << TINYFORGE_CLI;
    const fs::path good = write("good", testing::build_tflite(testing::tiny_int8_model()));
    const testing::CliRun r = run_inspect(good, dir_);
    ASSERT_EQ(r.exit_code, 0) << "`tinyforge inspect` fails on a valid model: " << r.err;
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::vector<uint8_t>& bytes) {
    const fs::path p = dir_ / (name + ".tflite");
    io::write_file(p.string(), bytes);
    return p;
  }
  // Exit 1 and exactly one stderr line "tinyforge: FILE: ..." naming the file.
  void expect_refused(const Damaged& d) {
    const testing::CliRun r = run_inspect(write(d.name, d.bytes), dir_);
    EXPECT_EQ(r.exit_code, 1) << d.name << ": " << r.err;
    const std::string& e = r.err;
    EXPECT_EQ(e.rfind("tinyforge: ", 0), 0u) << d.name << ": " << e;
    EXPECT_TRUE(!e.empty() && e.back() == '\n' && e.find('\n') == e.size() - 1)
        << d.name << ": expected exactly one line, got: " << e;
    EXPECT_NE(e.find(d.name + ".tflite"), std::string::npos) << d.name << ": " << e;
    if (!d.problem.empty()) {
      EXPECT_NE(e.find(d.problem), std::string::npos)
          << d.name << ": expected '" << d.problem << "' in: " << e;
    }
  }
  fs::path dir_;
};

TEST_F(BadModelsCli, InspectRefusesDamagedModelsWithOneLine) {
  for (const Damaged& d : targeted_corpus()) expect_refused(d);
  for (const auto& [name, bytes] : base_models())
    for (const Damaged& d : truncations(name, bytes)) expect_refused(d);
}

TEST_F(BadModelsCli, InspectSurvivesByteFlips) {
  const auto bases = base_models();
  int refused = 0;
  for (const Damaged& d : byte_flips(bases[0].first, bases[0].second, 40, 7)) {
    const testing::CliRun r = run_inspect(write(d.name, d.bytes), dir_);
    ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1)
        << d.name << " exit " << r.exit_code << ": " << r.err;
    if (r.exit_code == 1) {
      ++refused;
      EXPECT_EQ(r.err.rfind("tinyforge: ", 0), 0u) << r.err;
      EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
    }
  }
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace tinyforge
