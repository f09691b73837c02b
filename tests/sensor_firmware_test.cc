// examples/sensor_firmware, built from a package of `tinyforge export --as cmake`, boots in
// QEMU's mps2-an386: for frames of the digits test set put into its sensor buffer it prints
// the scores `tinyforge run` gives for the same frames quantized as TFLite defines it, the
// digit they rank first, and writes that digit to GPIO port 0 (seen by QEMU, which logs
// the write to the GPIO block). Without a frame it classifies its built-in pattern, a "7".
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

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
constexpr uint32_t kFrameReady = 0x4D415246;  // examples/sensor_firmware/light_sensor.h
constexpr int kFrames = 6;

struct Boot {
  int exit_code = -1;
  std::string output;
  int digit = -1, percent = -1;
  std::string frame, scores;
  long gpio = -1;  // the last value written to GPIO0 DATAOUT, -1 when none
};

Boot boot(const std::string& elf, const std::vector<std::string>& extra) {
  std::vector<std::string> cmd = {
      "timeout", "60",   "qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none",
      "-serial", "none", "-semihosting",    "-d", "unimp",      "-kernel",    elf};
  cmd.insert(cmd.end(), extra.begin(), extra.end());
  const emit::ProcessResult r = emit::run_process(cmd);
  Boot b;
  b.exit_code = r.exit_code;
  b.output = r.output;
  std::smatch m;
  if (std::regex_search(
          r.output, m,
          std::regex("sensor: frame=(\\S+) digit=(\\d) p=(\\d+)% scores=([0-9a-f]+)"))) {
    b.frame = m[1];
    b.digit = std::stoi(m[2]);
    b.percent = std::stoi(m[3]);
    b.scores = m[4];
  }
  const std::regex gpio(
      "cmsdk-ahb-gpio: unimplemented device write \\(size 4, offset 0x004, "
      "value 0x([0-9a-f]+)\\)");
  for (auto it = std::sregex_iterator(r.output.begin(), r.output.end(), gpio);
       it != std::sregex_iterator(); ++it)
    b.gpio = std::stol((*it)[1].str(), nullptr, 16);
  return b;
}

std::string hex(const uint8_t* b, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i)
    s += "0123456789abcdef"[b[i] >> 4], s += "0123456789abcdef"[b[i] & 15];
  return s;
}

// The scale of the header's `#define DIGITS_<what>_SCALE <hex float>f`, and its zero point.
void header_quantization(const std::string& header, const std::string& what, float& scale,
                         int& zero_point) {
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(header, m,
                        std::regex("#define DIGITS_" + what + "_SCALE (\\S+)f\\n#define DIGITS_" +
                                   what + "_ZERO_POINT \\((-?\\d+)\\)")));
  scale = std::strtof(m[1].str().c_str(), nullptr);
  zero_point = std::stoi(m[2]);
}

TEST(SensorFirmware, ClassifiesSensorFramesAndDrivesTheGpio) {
  if (!emit::cross_toolchain_available())
    TINYFORGE_SKIP_MISSING("arm-none-eabi-gcc not found (scripts/bootstrap installs it)");
  if (!emit::program_available("qemu-system-arm"))
    TINYFORGE_SKIP_MISSING("qemu-system-arm not found (Debian's qemu-system-arm)");
  const fs::path digits = kSource / "examples" / "digits";
  if (!fs::exists(digits / "data" / "test.bin") || !fs::exists(digits / "data" / "calibration.bin"))
    TINYFORGE_SKIP_MISSING(
        "examples/digits/data missing (scripts/bootstrap, or "
        "examples/digits/prepare_data.py)");
  const fs::path dir =
      fs::temp_directory_path() / ("tinyforge-sensor-firmware-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  struct Cleanup {
    fs::path d;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(d, ec);
    }
  } cleanup{dir};

  // The README's steps: quantize (int8 input and output), export, build.
  const std::string model = (dir / "digits_int8.tflite").string();
  const fs::path pkg = dir / "digits_pkg", build = dir / "build";
  for (const std::string& args :
       {"quantize '" + (digits / "digits.onnx").string() + "' --calibration '" +
            (digits / "data" / "calibration.bin").string() + "' --io int8 -o '" + model + "'",
        "export '" + model + "' --as cmake --target cortex-m4 --name digits -o '" + pkg.string() +
            "'"}) {
    const testing::CliRun r = testing::run_cli(args, dir);
    ASSERT_EQ(r.exit_code, 0) << args << "\n" << r.err;
  }
  for (const std::vector<std::string>& cmd :
       {std::vector<std::string>{"cmake", "-S", (kSource / "examples" / "sensor_firmware").string(),
                                 "-B", build.string(), "-DCMAKE_BUILD_TYPE=Release",
                                 "-DCMAKE_TOOLCHAIN_FILE=" +
                                     (kSource / "targets" / "cmake" / "cortex-m4.cmake").string(),
                                 "-DDIGITS_PACKAGE=" + pkg.string()},
        std::vector<std::string>{"cmake", "--build", build.string(), "-j", "2"}}) {
    const emit::ProcessResult r = emit::run_process(cmd);
    ASSERT_EQ(r.exit_code, 0) << cmd[1] << "\n" << r.output;
  }
  const std::string elf = (build / "sensor_firmware.elf").string();
  const std::string header = [&] {
    std::ifstream in(pkg / "src" / "digits_model.h");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }();
  float in_scale = 0, out_scale = 0;
  int in_zero = 0, out_zero = 0;
  header_quantization(header, "INPUT0", in_scale, in_zero);
  header_quantization(header, "OUTPUT0", out_scale, out_zero);
  ASSERT_GT(in_scale, 0.0f);

  // No frame in the sensor buffer: the built-in pattern, a hand-drawn 7.
  const Boot pattern = boot(elf, {});
  EXPECT_EQ(pattern.exit_code, 0) << pattern.output;
  EXPECT_EQ(pattern.frame, "test-pattern") << pattern.output;
  EXPECT_EQ(pattern.digit, 7) << pattern.output;
  EXPECT_EQ(pattern.gpio & 0xF, 7) << pattern.output;

  // Frames from the held-out test set: pixels in [0, 1] as 8-bit brightness counts.
  const std::vector<uint8_t> test = io::read_file((digits / "data" / "test.bin").string());
  ASSERT_GE(test.size(), kFrames * 64 * 4u);
  std::vector<std::array<uint8_t, 64>> frames(kFrames);
  std::vector<uint8_t> quantized;  // what the firmware must feed the model, by TFLite's rule
  for (int k = 0; k < kFrames; ++k)
    for (int i = 0; i < 64; ++i) {
      float x;
      std::memcpy(&x, test.data() + (k * 64 + i) * 4, 4);
      frames[k][i] = static_cast<uint8_t>(std::lround(x * 255.0f));
      const long q = std::lround(frames[k][i] / 255.0f / in_scale) + in_zero;
      quantized.push_back(static_cast<uint8_t>(static_cast<int8_t>(std::clamp(q, -128L, 127L))));
    }
  io::write_file((dir / "quantized.bin").string(), quantized);
  const testing::CliRun run =
      testing::run_cli("run '" + model + "' --input '" + (dir / "quantized.bin").string() +
                           "' --output '" + (dir / "expected.bin").string() + "'",
                       dir);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::vector<uint8_t> expected = io::read_file((dir / "expected.bin").string());
  ASSERT_EQ(expected.size(), kFrames * 10u);

  const auto dma = sim::read_elf(elf).symbol("light_sensor_dma");
  ASSERT_TRUE(dma.has_value());
  char addr[16];
  std::snprintf(addr, sizeof addr, "0x%08x", dma->value);
  for (int k = 0; k < kFrames; ++k) {
    SCOPED_TRACE("test frame " + std::to_string(k));
    std::vector<uint8_t> dma_bytes(4 + 64);  // DmaFrame: the ready marker, then the pixels
    std::memcpy(dma_bytes.data(), &kFrameReady, 4);
    std::memcpy(dma_bytes.data() + 4, frames[k].data(), 64);
    const std::string frame_file = (dir / ("frame" + std::to_string(k) + ".bin")).string();
    io::write_file(frame_file, dma_bytes);
    const Boot b = boot(elf, {"-device", "loader,file=" + frame_file + ",addr=" + addr});
    EXPECT_EQ(b.exit_code, 0) << b.output;
    EXPECT_EQ(b.frame, "dma") << b.output;
    const uint8_t* scores = expected.data() + k * 10;
    EXPECT_EQ(b.scores, hex(scores, 10)) << "the firmware's scores differ from tinyforge run's";
    int best = 0;
    for (int i = 1; i < 10; ++i)
      if (static_cast<int8_t>(scores[i]) > static_cast<int8_t>(scores[best])) best = i;
    EXPECT_EQ(b.digit, best);
    const float p = out_scale * static_cast<float>(static_cast<int8_t>(scores[best]) - out_zero);
    EXPECT_EQ(b.percent, static_cast<int>(p * 100.0f + 0.5f));
    EXPECT_EQ(b.gpio, best | (p >= 0.5f ? 0x10 : 0)) << b.output;
  }
}

}  // namespace
}  // namespace tinyforge
