// The keywords example (examples/keywords) end to end, and `tinyforge features`, which makes
// its training features. Speech is synthesized at test time by espeak-ng
// (scripts/keyword-wav); the committed keywords.onnx is quantized with a calibration set
// of training voices made here, compiled with its front-end, and `listen` hears a
// sentence spoken by a voice the model never heard in training.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "audio/frontend_spec.h"
#include "audio/wav.h"
#include "emit/subprocess.h"
#include "emit/validated_plan.h"
#include "io/files.h"
#include "shared_data.h"
#include "tinyforge/audio_frontend.h"
#include "tinyforge/plan_reader.h"

namespace tinyforge {
namespace {

namespace fs = std::filesystem;

const char* const kLabels = "silence,unknown,yes,no,up,down,left,right,on,off,stop,go";

emit::ProcessResult cli(std::vector<std::string> args) {
  args.insert(args.begin(), TINYFORGE_CLI);
  return emit::run_process(args);
}

class Keywords : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v espeak-ng >/dev/null && command -v sox >/dev/null") != 0)
      TINYFORGE_SKIP_MISSING("espeak-ng or sox not found (scripts/bootstrap installs them)");
    dir_ = fs::temp_directory_path() / ("tinyforge-keywords-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // WORDS spoken by espeak-ng's VOICE as a 16 kHz WAV (scripts/keyword-wav).
  std::string speech(const std::string& name, const std::string& words, const std::string& voice,
                     const std::string& gap = "0.7") {
    const std::string wav = (dir_ / name).string();
    const std::string cmd = "VOICE=" + voice + " GAP=" + gap + " " + TINYFORGE_SOURCE_DIR +
                            "/scripts/keyword-wav " + wav + " " + words;
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return wav;
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

// The front-end run here, in the test's process, over a whole WAV: the last `frames`
// frames' features (silence, 0, before the first), and the int8 window push_frame keeps.
struct Window {
  std::vector<float> real;
  std::vector<int8_t> quantized;
};
Window frontend_window(const std::vector<uint8_t>& section, const std::string& wav_path) {
  auto frontend = std::make_unique<AudioFrontend>();
  EXPECT_EQ(frontend->init(section.data(), static_cast<uint32_t>(section.size())), Status::ok);
  const FrontendConfig& c = frontend->config();
  const audio::Wav wav = audio::parse_wav(io::read_file(wav_path), wav_path);
  std::vector<std::vector<float>> frames;
  Window w;
  w.quantized.assign(c.num_frames * c.num_features, static_cast<int8_t>(c.output_zero_point));
  for (uint32_t at = 0, used = 0; at < wav.samples.size(); at += used) {
    if (!frontend->process(wav.samples.data() + at, static_cast<uint32_t>(wav.samples.size() - at),
                           &used))
      continue;
    frontend->push_frame(w.quantized.data());
    frames.emplace_back();
    for (uint32_t i = 0; i < c.num_features; ++i)
      frames.back().push_back(static_cast<float>(frontend->features()[i]) * c.feature_scale);
  }
  for (uint32_t f = 0; f < c.num_frames; ++f) {
    const int64_t index = static_cast<int64_t>(frames.size()) - c.num_frames + f;
    for (uint32_t i = 0; i < c.num_features; ++i)
      w.real.push_back(index < 0 ? 0.0f : frames[index][i]);
  }
  return w;
}

template <typename T>
std::vector<T> values_of(const std::vector<uint8_t>& bytes, size_t first, size_t count) {
  std::vector<T> v(count);
  std::memcpy(v.data(), bytes.data() + first * sizeof(T), count * sizeof(T));
  return v;
}

TEST_F(Keywords, FeaturesAreTheFrontendsOwnFloatAndInt8Values) {
  // Two WAVs: "go" (about 1.2 s: fewer than 60 frames, silence first) and two words (more).
  const std::vector<std::string> wavs = {speech("a.wav", "go", "en-us+m1", "0.3"),
                                         speech("b.wav", "left right", "en+f3")};
  const std::string spec = "frames=60,channels=32,upper=6000";
  const auto f = cli(
      {"features", wavs[0], wavs[1], "--frontend", spec, "-o", path("f.bin"), "--json", "--quiet"});
  ASSERT_EQ(f.exit_code, 0) << f.output;
  const auto j = nlohmann::json::parse(f.output);
  EXPECT_EQ(j["dtype"], "float32");
  EXPECT_EQ(j["frames"], 60);
  EXPECT_EQ(j["features"], 32);
  const std::vector<uint8_t> got = io::read_file(path("f.bin"));
  ASSERT_EQ(got.size(), 2u * 60 * 32 * 4);
  const std::vector<uint8_t> section =
      audio::build_frontend_section(audio::parse_frontend_spec(spec), {60 * 32, 1.0f, 0});
  for (size_t w = 0; w < wavs.size(); ++w)
    EXPECT_EQ(values_of<float>(got, w * 60 * 32, 60 * 32), frontend_window(section, wavs[w]).real)
        << wavs[w];

  // With a model: int8, the model input's quantization, what listen feeds the model. The
  // example's model, quantized with the two WAVs' float features as calibration.
  const std::string model = std::string(TINYFORGE_SOURCE_DIR) + "/examples/keywords/keywords.onnx";
  ASSERT_EQ(
      cli({"features", wavs[0], wavs[1], "--frontend", "frames=49", "-o", path("c.bin"), "--quiet"})
          .exit_code,
      0);
  ASSERT_EQ(cli({"quantize", model, "--calibration", path("c.bin"), "--io", "int8", "-o",
                 path("q.tflite"), "--quiet"})
                .exit_code,
            0);
  ASSERT_EQ(
      cli({"compile", path("q.tflite"), "--frontend", "frames=49", "-o", path("q.tfp"), "--quiet"})
          .exit_code,
      0);
  const auto i8 = cli({"features", wavs[0], wavs[1], "--model", path("q.tfp"), "-o", path("i8.bin"),
                       "--json", "--quiet"});
  ASSERT_EQ(i8.exit_code, 0) << i8.output;
  EXPECT_EQ(nlohmann::json::parse(i8.output)["dtype"], "int8");
  const std::vector<uint8_t> got8 = io::read_file(path("i8.bin"));
  ASSERT_EQ(got8.size(), 2u * 49 * 40);
  const std::vector<uint8_t> blob = io::read_file(path("q.tfp"));
  const emit::ValidatedPlan plan(blob, "q.tfp");
  const PlanFrontend in_blob = read_frontend(plan.data(), plan.header());
  const std::vector<uint8_t> section49(plan.data() + in_blob.offset,
                                       plan.data() + in_blob.offset + in_blob.size);
  for (size_t w = 0; w < wavs.size(); ++w) {
    const std::vector<int8_t> expected = frontend_window(section49, wavs[w]).quantized;
    EXPECT_EQ(values_of<int8_t>(got8, w * 49 * 40, 49 * 40), expected) << wavs[w];
  }
}

TEST_F(Keywords, CommittedModelHearsAVoiceItNeverHeard) {
  // Calibration: each keyword once, by a training voice (examples/keywords/keywords_data.py).
  std::vector<std::string> args = {"features"};
  for (const char* word : {"yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"})
    args.push_back(speech(std::string(word) + ".wav", word, "en-us+m1", "0.3"));
  args.insert(args.end(), {"--frontend", "frames=49", "-o", path("calibration.bin"), "--quiet"});
  ASSERT_EQ(cli(args).exit_code, 0);
  const std::string model = std::string(TINYFORGE_SOURCE_DIR) + "/examples/keywords/keywords.onnx";
  const auto q = cli({"quantize", model, "--calibration", path("calibration.bin"), "--io", "int8",
                      "-o", path("keywords.tflite"), "--quiet"});
  ASSERT_EQ(q.exit_code, 0) << q.output;
  const auto c = cli({"compile", path("keywords.tflite"), "--frontend", "frames=49", "-o",
                      path("keywords.tfp"), "--quiet"});
  ASSERT_EQ(c.exit_code, 0) << c.output;

  // m3 is a test voice: it never speaks in the training or calibration clips.
  const std::set<std::string> spoken = {"yes", "left", "stop"};
  const auto r = cli({"listen", path("keywords.tfp"), "--wav",
                      speech("sentence.wav", "yes left stop", "en-us+m3", "1.0"), "--labels",
                      kLabels, "--json", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  int heard = 0;
  for (const auto& d : j["detections"]) heard += spoken.count(d["label"].get<std::string>());
  EXPECT_GE(heard, 1) << r.output;
}

}  // namespace
}  // namespace tinyforge
