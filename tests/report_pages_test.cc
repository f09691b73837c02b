// `report`, `compare` and `mapview` end to end through the real binary: the pages are
// self-contained (no external URL), open in headless Chromium without a console error, and
// hold what they promise (one layer row per op; the treemap's total equals
// arm-none-eabi-size's); compare names the one layer whose device output was corrupted.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>

#include "arm_elf.h"
#include "cli_run.h"
#include "emit/cross_build.h"
#include "headless_chromium.h"
#include "shared_data.h"

namespace tinyforge {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size()))
    ++n;
  return n;
}

// No network: nothing the browser would fetch or link to.
void expect_self_contained(const std::string& html) {
  for (const char* bad :
       {"http:", "https:", "//cdn", "<link", "src=", "@import", "<iframe", "<object"})
    EXPECT_EQ(html.find(bad), std::string::npos) << "found " << bad;
  EXPECT_EQ(count(html, "url("), count(html, "url(#")) << "only in-page url(#id) references";
}

using testing::Browser;
using testing::have_chromium;

Browser open_in_chromium(const fs::path& page, const fs::path& scratch) {
  Browser b = testing::open_in_chromium("file://" + page.string(), scratch);
  EXPECT_TRUE(b.ran) << b.log;
  return b;
}

void expect_no_console_errors(const Browser& b) {
  EXPECT_EQ(b.log.find("Uncaught"), std::string::npos) << b.log;
  EXPECT_EQ(b.log.find(":CONSOLE"), std::string::npos) << b.log;  // the pages log nothing
  EXPECT_NE(b.dom.find("data-ready=\"1\""), std::string::npos)
      << "the page's script did not run to its end";
}

class ReportPages : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("tinyforge-report-pages-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  // The digits model this repo trained, quantized to int8 (once per process).
  static void need_digits() {
    if (!fs::exists(examples() / "data" / "calibration.bin"))
      TINYFORGE_SKIP_MISSING("examples/digits/data/ not prepared (scripts/bootstrap)");
    if (!emit::cross_toolchain_available())
      TINYFORGE_SKIP_MISSING("arm-none-eabi-gcc not installed");
    if (fs::exists(dir_ / "digits_int8.tflite")) return;
    const auto r = cli("quantize '" + (examples() / "digits.onnx").string() + "' -c '" +
                       (examples() / "data" / "calibration.bin").string() + "' -o '" +
                       (dir_ / "digits_int8.tflite").string() + "'");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static fs::path examples() { return fs::path(TINYFORGE_SOURCE_DIR) / "examples" / "digits"; }
  static testing::CliRun cli(const std::string& args) { return testing::run_cli(args, dir_); }

  static fs::path dir_;
};
fs::path ReportPages::dir_;

TEST_F(ReportPages, ReportIsSelfContainedAndHasOneRowPerOp) {
  need_digits();
  if (HasFatalFailure() || IsSkipped()) return;
  const fs::path model = dir_ / "digits_int8.tflite", page = dir_ / "report.html";
  const auto compiled = cli("compile '" + model.string() + "' --target cortex-m4 -o '" +
                            (dir_ / "d.tfp").string() + "' --json");
  ASSERT_EQ(compiled.exit_code, 0) << compiled.err;
  const size_t ops = nlohmann::json::parse(compiled.out)["ops"].get<size_t>();
  const auto r = cli("report '" + model.string() + "' --target cortex-m4 --float '" +
                     (examples() / "digits.onnx").string() + "' --input '" +
                     (examples() / "data" / "test.bin").string() +
                     "' --budget ram=16K,flash=128K -o '" + page.string() + "' --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["ops"].size(), ops);
  uint64_t sum = j["overhead_cycles"].get<uint64_t>();
  for (const auto& o : j["ops"]) sum += o["cycles"].get<uint64_t>();
  EXPECT_EQ(sum, j["cycles_estimate"].get<uint64_t>()) << "per-op cycles add up to the run's";
  EXPECT_GE(j["sqnr_layers_matched"].get<int>(), 5);
  for (const auto& o : j["ops"])
    if (o["op"] == "Conv2D") EXPECT_GT(o["sqnr_db"].get<double>(), 20.0) << o.dump();
  EXPECT_EQ(j["arena"]["peak_high_water"].get<uint64_t>(), j["arena"]["bytes"].get<uint64_t>());

  const std::string html = slurp(page);
  expect_self_contained(html);
  EXPECT_EQ(count(html, "<tr class=\"op"), ops);
  EXPECT_NE(html.find("built-in Cortex-M emulator (Unicorn)"), std::string::npos);
  EXPECT_NE(html.find("static cortex-m4 timing model"), std::string::npos);
  EXPECT_NE(html.find("Verdict: OK"), std::string::npos);
  EXPECT_NE(html.find("SQNR dB"), std::string::npos);
  EXPECT_NE(html.find("id=\"arena-peak\""), std::string::npos);
  EXPECT_NE(html.find("(top)"), std::string::npos) << "the top op is labelled, not only coloured";

  if (!have_chromium()) TINYFORGE_SKIP_MISSING("chromium not installed (scripts/bootstrap)");
  const Browser b = open_in_chromium(page, dir_);
  expect_no_console_errors(b);
  EXPECT_EQ(count(b.dom, "<tr class=\"op"), ops);
}

TEST_F(ReportPages, ReportOverBudgetWritesVerdictAndExits3) {
  need_digits();
  if (HasFatalFailure() || IsSkipped()) return;
  const fs::path page = dir_ / "over.html";
  const auto r = cli("report '" + (dir_ / "digits_int8.tflite").string() +
                     "' --budget ram=1K,flash=1M -o '" + page.string() + "'");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("tinyforge: over budget: ram"), std::string::npos) << r.err;
  EXPECT_NE(slurp(page).find("Verdict: OVER BUDGET"), std::string::npos);
}

// One LSB flipped in the emulated memory right after op 4 (the second Conv2D, a DSP kernel)
// ran: compare names op 4, not a later op its error spreads to.
TEST_F(ReportPages, CompareNamesTheLayerWithAOneLsbError) {
  need_digits();
  if (HasFatalFailure() || IsSkipped()) return;
  const std::string base = "compare '" + (dir_ / "digits_int8.tflite").string() + "' --input '" +
                           (examples() / "data" / "test.bin").string() + "' --case 3";
  const auto clean = cli(base);
  EXPECT_EQ(clean.exit_code, 0) << clean.err;
  EXPECT_NE(clean.out.find("every op's output matches"), std::string::npos) << clean.out;
  const auto bad = cli(base + " --test-flip-lsb 4 --json");
  EXPECT_EQ(bad.exit_code, 4) << bad.err;
  EXPECT_NE(bad.err.find("op 4 Conv2D (kernel Conv2DDsp) is the first whose output differs"),
            std::string::npos)
      << bad.err;
  const nlohmann::json j = nlohmann::json::parse(bad.out);
  EXPECT_EQ(j["first_diverging_op"]["index"], 4);
  EXPECT_EQ(j["first_diverging_op"]["differing"], 1);
  EXPECT_EQ(j["first_diverging_op"]["max_abs_diff"], 1.0);
  EXPECT_EQ(j["first_diverging_op"]["histogram"][0]["count"], 1);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(j["ops"][i]["differing"], 0) << i;
}

uint64_t size_dec(const fs::path& elf, const fs::path& scratch) {
  const fs::path out = scratch / "size.txt";
  const std::string cmd = "arm-none-eabi-size '" + elf.string() + "' >'" + out.string() + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  std::istringstream in(slurp(out));
  std::string header;
  std::getline(in, header);
  uint64_t text = 0, data = 0, bss = 0, dec = 0;
  in >> text >> data >> bss >> dec;
  EXPECT_EQ(text + data + bss, dec);
  return dec;
}

TEST_F(ReportPages, MapviewTotalsEqualArmNoneEabiSize) {
  if (!emit::cross_toolchain_available()) TINYFORGE_SKIP_MISSING("arm-none-eabi-gcc not installed");
  ASSERT_TRUE(testing::build_arm_elf(dir_, "small_old", testing::small_c_program(64)));
  ASSERT_TRUE(testing::build_arm_elf(dir_, "small", testing::small_c_program(256)));
  const fs::path elf = dir_ / "small.elf", page = dir_ / "map.html";
  const uint64_t dec = size_dec(elf, dir_);
  const auto r = cli("mapview '" + elf.string() + "' --map '" + (dir_ / "small.map").string() +
                     "' --against '" + (dir_ / "small_old.elf").string() + "' -o '" +
                     page.string() + "' --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["total_bytes"].get<uint64_t>(), dec);
  bool found = false;
  for (const auto& c : j["changes"])
    if (c["name"] == "lookup_table") {
      found = true;
      EXPECT_EQ(c["delta_bytes"], (256 - 64) * 4);
      EXPECT_EQ(c["status"], "grown");
    }
  EXPECT_TRUE(found) << j["changes"].dump();
  EXPECT_EQ(
      j["total_delta_bytes"].get<int64_t>(),
      static_cast<int64_t>(dec) - static_cast<int64_t>(size_dec(dir_ / "small_old.elf", dir_)));
  for (const auto& s : j["symbols"])
    if (s["name"] == "checksum") EXPECT_NE(s.value("file", ""), "") << "object file from the map";

  const std::string html = slurp(page);
  expect_self_contained(html);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(html, m, std::regex("data-total=\"(\\d+)\"")));
  EXPECT_EQ(std::stoull(m[1]), dec);
  uint64_t leaves = 0;
  const std::regex leaf("class=\"leaf\" data-bytes=\"(\\d+)\"");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), leaf); it != std::sregex_iterator();
       ++it)
    leaves += std::stoull((*it)[1]);
  EXPECT_EQ(leaves, dec) << "the treemap's boxes add up to arm-none-eabi-size's total";

  if (!have_chromium()) TINYFORGE_SKIP_MISSING("chromium not installed (scripts/bootstrap)");
  const Browser b = open_in_chromium(page, dir_);
  expect_no_console_errors(b);
  EXPECT_NE(b.dom.find("lookup_table"), std::string::npos);
}

}  // namespace
}  // namespace tinyforge
