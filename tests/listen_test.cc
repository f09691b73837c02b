// `tinyforge listen` end to end: micro_speech (../shared) with TFLM's micro front-end hears
// "yes" and "no" spoken by espeak-ng (scripts/keyword-wav, made at test time), in the right
// order and at the right times; on the emulated Cortex-M4 the front-end and the model give
// the host's features and scores byte for byte, and the listening firmware booted in QEMU
// acts on a spoken "yes" (its semihosting line names the class); unreadable audio is
// refused clearly.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "audio/wav.h"
#include "emit/cross_build.h"
#include "emit/firmware.h"
#include "emit/subprocess.h"
#include "host/compile.h"
#include "io/files.h"
#include "shared_data.h"
#include "sim/elf_reader.h"

namespace tinyforge {
namespace {

namespace fs = std::filesystem;

std::string micro_speech() {
  return (testing::shared_dir() / "models" / "micro_speech_quantized.tflite").string();
}

emit::ProcessResult cli(std::vector<std::string> args) {
  args.insert(args.begin(), TINYFORGE_CLI);
  return emit::run_process(args);
}

nlohmann::json json_of(const emit::ProcessResult& r) {
  return nlohmann::json::parse(r.output.substr(r.output.find('{')));
}

class Listen : public ::testing::Test {
 protected:
  void SetUp() override {
    TINYFORGE_REQUIRE_SHARED("models/micro_speech_quantized.tflite");
    if (std::system("command -v espeak-ng >/dev/null && command -v sox >/dev/null") != 0)
      TINYFORGE_SKIP_MISSING("espeak-ng or sox not found (scripts/bootstrap installs them)");
    dir_ = fs::temp_directory_path() / ("tinyforge-listen-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // WORDS spoken by espeak-ng with `env` (VOICE=, SPEED=, ...) as a 16 kHz WAV.
  std::string speech(const std::string& name, const std::string& words,
                     const std::string& env = "") {
    const std::string wav = (dir_ / name).string();
    const std::string cmd =
        env + " " + TINYFORGE_SOURCE_DIR + "/scripts/keyword-wav " + wav + " " + words;
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return wav;
  }
  fs::path dir_;
};

std::vector<std::pair<std::string, double>> detections(const nlohmann::json& j) {
  std::vector<std::pair<std::string, double>> d;
  for (const auto& x : j["detections"]) d.emplace_back(x["label"], x["time_s"]);
  return d;
}

TEST_F(Listen, MicroSpeechHearsYesThenNo) {
  // keyword-wav: 0.5 s of silence, the word, 1 s, then the next word the same way.
  const auto r = cli({"listen", micro_speech(), "--wav",
                      speech("yes_no.wav", "yes no", "SPEED=120 GAP=1.0"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto d = detections(json_of(r));
  ASSERT_EQ(d.size(), 2u) << r.output;
  EXPECT_EQ(d[0].first, "yes");
  EXPECT_EQ(d[1].first, "no");
  EXPECT_GT(d[0].second, 0.5);
  EXPECT_LT(d[0].second, 2.0);
  EXPECT_GT(d[1].second, 2.0);
}

TEST_F(Listen, AnotherVoiceSaysNoThenYes) {
  const auto r = cli({"listen", micro_speech(), "--wav",
                      speech("no_yes.wav", "no yes", "VOICE=en-us SPEED=120 GAP=1.0"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto d = detections(json_of(r));
  ASSERT_EQ(d.size(), 2u) << r.output;
  EXPECT_EQ(d[0].first, "no");
  EXPECT_EQ(d[1].first, "yes");
}

TEST_F(Listen, RefusesAudioItCannotRead) {
  const std::string wav = speech("yes.wav", "yes");
  audio::Wav w = audio::parse_wav(io::read_file(wav), wav);
  w.sample_rate = 8000;
  const std::string slow = (dir_ / "slow.wav").string();
  io::write_file(slow, audio::make_wav(w));
  auto r = cli({"listen", micro_speech(), "--wav", slow});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("expects 16000 Hz (resample: sox"), std::string::npos) << r.output;
  const std::string junk = (dir_ / "junk.wav").string();
  io::write_file(junk, {'R', 'I', 'F', 'F', 1, 2, 3});
  r = cli({"listen", micro_speech(), "--wav", junk});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("junk.wav: not a WAV file"), std::string::npos) << r.output;
  r = cli({"listen", micro_speech(), "--wav", wav, "--labels", "a,b"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  const std::string blob = (dir_ / "ms.tfp").string();
  ASSERT_EQ(cli({"compile", micro_speech(), "--frontend", "default", "-o", blob}).exit_code, 0);
  r = cli({"listen", blob, "--wav", wav, "--frontend", "channels=40"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  r = cli({"listen", blob, "--wav", wav, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(detections(json_of(r)).at(0).first, "yes");
}

TEST_F(Listen, CortexM4GivesTheHostsFeaturesAndScores) {
  if (!emit::cross_toolchain_available())
    TINYFORGE_SKIP_MISSING("arm-none-eabi-gcc not found (scripts/bootstrap installs it)");
  // The first 1.2 s on the device (60 frames): "yes", spoken from 0.5 s, fills its window.
  const auto r = cli({"listen", micro_speech(), "--wav", speech("yes.wav", "yes", "SPEED=120"),
                      "--target", "cortex-m4", "--device-frames", "60", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = json_of(r);
  EXPECT_TRUE(j["device_matches_host"].get<bool>());
  EXPECT_EQ(j["board"], "STM32F446RE");
  const double frontend = j["frontend_cycles_per_frame"], model = j["model_cycles_per_inference"];
  EXPECT_GT(frontend, 1000);
  EXPECT_GT(model, 1000);
  // real-time factor = cycles per 20 ms frame / (180 MHz x 20 ms)
  EXPECT_NEAR(j["realtime_factor"].get<double>(), (frontend + model) / (180e6 * 0.02), 1e-9);
  EXPECT_LT(j["realtime_factor"].get<double>(), 1.0);
  EXPECT_EQ(j["device_top_class"], 2);  // micro_speech's classes: silence, unknown, yes, no
}

TEST_F(Listen, FirmwareInQemuActsOnYes) {
  if (!emit::cross_toolchain_available())
    TINYFORGE_SKIP_MISSING("arm-none-eabi-gcc not found (scripts/bootstrap installs it)");
  if (!emit::program_available("qemu-system-arm") || !emit::program_available("timeout"))
    TINYFORGE_SKIP_MISSING("qemu-system-arm or timeout not found (Debian's qemu-system-arm)");
  // The first 1.2 s: "yes" (spoken from 0.5 s) fills the model's 1 s window of features.
  const std::string wav = speech("yes.wav", "yes", "SPEED=120");
  std::vector<int16_t> pcm = audio::parse_wav(io::read_file(wav), wav).samples;
  ASSERT_GE(pcm.size(), 19200u);
  pcm.resize(19200);
  const plan::PlanOptions options = host::plan_options_for_target("cortex-m4");
  host::Compiled c = host::compile_model_file(micro_speech(), options);
  host::add_frontend(c, audio::FrontendSpec{}, options, micro_speech());
  const emit::FirmwareImage image =
      emit::build_listen_firmware(c.blob, static_cast<uint32_t>(pcm.size()), {},
                                  (dir_ / "fw").string(), [](const std::string&) {});
  const std::string input = (dir_ / "pcm.bin").string();
  const auto* bytes = reinterpret_cast<const uint8_t*>(pcm.data());
  io::write_file(input, std::vector<uint8_t>(bytes, bytes + 2 * pcm.size()));
  char addr[16];
  std::snprintf(addr, sizeof addr, "0x%08x",
                sim::read_elf(image.elf_path).symbol("tinyforge_input")->value);
  const emit::ProcessResult r =
      emit::run_process({"timeout", "120", "qemu-system-arm", "-M", "mps2-an386", "-nographic",
                         "-monitor", "none", "-serial", "none", "-semihosting", "-kernel",
                         image.elf_path, "-device", "loader,file=" + input + ",addr=" + addr});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(r.output, m, std::regex("tinyforge: status=ok class=(\\d+) score=(\\d+)")))
      << r.output;
  EXPECT_EQ(m[1], "2");  // micro_speech's classes: silence, unknown, yes, no
  EXPECT_GT(std::stoi(m[2]), 200);
}

}  // namespace
}  // namespace tinyforge
