// A CMake package made by `tinyforge export --as cmake` works in someone else's project:
// the digits example model (quantized to int8) is exported, and tests/package_consumer (a tiny
// project of its own) is configured and built against it through add_subdirectory and, separately,
// through `cmake --install` + find_package, for the host and for Cortex-M4. The host build runs;
// the Cortex-M4 image boots in QEMU's mps2-an386 with semihosting. Both must give the output bytes
// of `tinyforge run` on the same plan.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <regex>

#include "cli_run.h"
#include "emit/cross_build.h"
#include "emit/subprocess.h"
#include "io/files.h"
#include "shared_data.h"
#include "sim/elf_reader.h"

namespace tinyforge {
namespace {

namespace fs = std::filesystem;

const fs::path kSource = TINYFORGE_SOURCE_DIR;

std::string hex(const std::vector<uint8_t>& b) {
  std::string s;
  for (uint8_t x : b) s += "0123456789abcdef"[x >> 4], s += "0123456789abcdef"[x & 15];
  return s;
}

// One input of the int8 digits model: int8 [1,1,8,8], scale 1/255, zero point -128 (pixels
// 0..1), a made-up stroke pattern.
std::vector<uint8_t> digits_input() {
  std::vector<uint8_t> bytes(64);
  for (int i = 0; i < 64; ++i) bytes[i] = static_cast<uint8_t>(-128 + ((i * 7) % 17) * 15);
  return bytes;
}

struct Case {
  const char* target;  // "host" or "cortex-m4"
  bool installed;      // find_package after cmake --install, else add_subdirectory
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.target << (c.installed ? " find_package" : " add_subdirectory");
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return std::string(info.param.target == std::string("host") ? "Host" : "CortexM4") +
         (info.param.installed ? "FindPackage" : "AddSubdirectory");
}

class PackageConsumer : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tinyforge-consumer-" + std::string(case_name({GetParam(), 0})) + "-" +
            std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Runs a command, failing the test with its output when it does not succeed.
  bool step(const std::vector<std::string>& cmd) {
    const emit::ProcessResult r = emit::run_process(cmd);
    std::string line;
    for (const std::string& a : cmd) line += a + " ";
    EXPECT_EQ(r.exit_code, 0) << line << "\n" << r.output;
    return r.exit_code == 0;
  }

  std::vector<std::string> configure(const fs::path& source, const fs::path& build,
                                     std::vector<std::string> extra) const {
    std::vector<std::string> cmd = {"cmake", "-S",           source.string(),
                                    "-B",    build.string(), "-DCMAKE_BUILD_TYPE=Release"};
    if (std::string(GetParam().target) != "host")
      cmd.push_back(
          "-DCMAKE_TOOLCHAIN_FILE=" +
          (kSource / "targets" / "cmake" / (std::string(GetParam().target) + ".cmake")).string());
    cmd.insert(cmd.end(), extra.begin(), extra.end());
    return cmd;
  }

  fs::path dir_;
};

TEST_P(PackageConsumer, BuildsAndGivesTheOutputOfTinyforgeRun) {
  const Case c = GetParam();
  const bool host = std::string(c.target) == "host";
  if (!host && !emit::cross_toolchain_available())
    TINYFORGE_SKIP_MISSING("arm-none-eabi-gcc not found (scripts/bootstrap installs it)");
  if (!host && !emit::program_available("qemu-system-arm"))
    TINYFORGE_SKIP_MISSING("qemu-system-arm not found (Debian's qemu-system-arm)");
  if (!emit::program_available("cmake")) TINYFORGE_SKIP_MISSING("cmake not found");

  // The shipped digits model quantized to int8 (int8 input and output, so that both builds
  // must give `tinyforge run`'s bytes exactly), exported, and what `tinyforge run` gives.
  const fs::path digits = kSource / "examples" / "digits";
  if (!fs::exists(digits / "data" / "calibration.bin"))
    TINYFORGE_SKIP_MISSING(
        "examples/digits/data/calibration.bin missing (scripts/bootstrap, or "
        "examples/digits/prepare_data.py)");
  const std::string model = (dir_ / "digits_int8.tflite").string();
  const fs::path pkg = dir_ / "digits_pkg";
  io::write_file((dir_ / "input.bin").string(), digits_input());
  for (const std::string& args :
       {"quantize '" + (digits / "digits.onnx").string() + "' --calibration '" +
            (digits / "data" / "calibration.bin").string() + "' --io int8 -o '" + model + "'",
        "export '" + model + "' --as cmake --target " + c.target + " --name digits -o '" +
            pkg.string() + "'",
        "compile '" + model + "' --target " + c.target + " -o '" + (dir_ / "m.tfp").string() + "'",
        "run '" + (dir_ / "m.tfp").string() + "' --input '" + (dir_ / "input.bin").string() +
            "' --output '" + (dir_ / "expected.bin").string() + "'"}) {
    const testing::CliRun r = testing::run_cli(args, dir_);
    ASSERT_EQ(r.exit_code, 0) << args << "\n" << r.err;
  }
  const std::vector<uint8_t> expected = io::read_file((dir_ / "expected.bin").string());
  ASSERT_EQ(expected.size(), 10u);  // 10 int8 class scores

  const fs::path consumer_src = kSource / "tests" / "package_consumer";
  const fs::path build = dir_ / "consumer_build";
  std::vector<std::string> extra = {"-DTINYFORGE_TARGETS_DIR=" + (kSource / "targets").string()};
  if (c.installed) {
    const fs::path pkg_build = dir_ / "pkg_build", prefix = dir_ / "prefix";
    ASSERT_TRUE(step(configure(pkg, pkg_build, {})));
    ASSERT_TRUE(step({"cmake", "--build", pkg_build.string(), "-j", "2"}));
    ASSERT_TRUE(step({"cmake", "--install", pkg_build.string(), "--prefix", prefix.string()}));
    ASSERT_TRUE(fs::exists(prefix / "lib" / "cmake" / "digits" / "digitsConfig.cmake"));
    extra.push_back("-DCMAKE_PREFIX_PATH=" + prefix.string());
  } else {
    extra.push_back("-DDIGITS_PACKAGE=" + pkg.string());
  }
  ASSERT_TRUE(step(configure(consumer_src, build, extra)));
  ASSERT_TRUE(step({"cmake", "--build", build.string(), "-j", "2"}));

  if (host) {
    ASSERT_TRUE(step({(build / "consumer").string(), (dir_ / "input.bin").string(),
                      (dir_ / "output.bin").string()}));
    EXPECT_EQ(hex(io::read_file((dir_ / "output.bin").string())), hex(expected));
    return;
  }
  const std::string elf = (build / "consumer.elf").string();
  const auto symbol = sim::read_elf(elf).symbol("consumer_input");
  ASSERT_TRUE(symbol.has_value());
  char addr[16];
  std::snprintf(addr, sizeof addr, "0x%08x", symbol->value);
  const emit::ProcessResult r = emit::run_process(
      {"timeout", "60", "qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none",
       "-serial", "none", "-semihosting", "-kernel", elf, "-device",
       "loader,file=" + (dir_ / "input.bin").string() + ",addr=" + addr});
  EXPECT_EQ(r.exit_code, 0) << "QEMU did not exit by semihosting SYS_EXIT (124 = timed out):\n"
                            << r.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex("consumer: output=([0-9a-f]+)")))
      << r.output;
  EXPECT_EQ(m[1].str(), hex(expected)) << "the Cortex-M4 build differs from `tinyforge run`";
}

class PackageShims : public ::testing::TestWithParam<const char*> {};

// The manifest's CMake, run with stand-ins for zephyr_library_* / idf_component_register,
// builds the package's sources and example/main.cc on the host; the example returns 0
// only when the model initialises, runs and gives the header's output size.
TEST_P(PackageShims, ManifestBuildsTheExampleWithStandInFunctions) {
  if (!emit::program_available("cmake")) TINYFORGE_SKIP_MISSING("cmake not found");
  const std::string format = GetParam();
  const fs::path dir =
      fs::temp_directory_path() / ("tinyforge-shims-" + format + "-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path pkg = dir / "pkg", build = dir / "build";
  const std::string args = "export '" + (kSource / "examples" / "digits" / "digits.onnx").string() +
                           "' --as " + format + " --target host --name digits -o '" + pkg.string() +
                           "'";
  const testing::CliRun r = testing::run_cli(args, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const std::vector<std::string>& cmd :
       {std::vector<std::string>{"cmake", "-S", (kSource / "tests" / "package_shims").string(),
                                 "-B", build.string(), "-DPACKAGE_FORMAT=" + format,
                                 "-DPACKAGE_DIR=" + pkg.string(), "-DPACKAGE_NAME=digits"},
        std::vector<std::string>{"cmake", "--build", build.string(), "-j", "2"},
        std::vector<std::string>{(build / "example").string()}}) {
    const emit::ProcessResult p = emit::run_process(cmd);
    EXPECT_EQ(p.exit_code, 0) << cmd[0] << " " << cmd[1] << "\n" << p.output;
    if (p.exit_code != 0) break;
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

INSTANTIATE_TEST_SUITE_P(Formats, PackageShims, ::testing::Values("zephyr", "esp-idf"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param) == "zephyr" ? "Zephyr" : "EspIdf";
                         });

INSTANTIATE_TEST_SUITE_P(Digits, PackageConsumer,
                         ::testing::Values(Case{"host", false}, Case{"host", true},
                                           Case{"cortex-m4", false}, Case{"cortex-m4", true}),
                         case_name);

}  // namespace
}  // namespace tinyforge
