// The audio front-end against TFLM's micro front-end: its own published known answers
// (frontend_test.cc: 2 channels at 1 kHz), and, byte for byte, an independent Python
// reference of the published arithmetic (tests/audio/micro_frontend_reference.py) on cases
// it generates at test time: speech-like signal, silence, full scale, clipping, impulses,
// and configurations without PCAN, without log, at 8 kHz (a radix-2 FFT stage), MFCC.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "audio/frontend_spec.h"
#include "io/files.h"
#include "ir/error.h"
#include "shared_data.h"
#include "tinyforge/audio_frontend.h"

namespace tinyforge::audio {
namespace {

namespace fs = std::filesystem;

// Runs a whole PCM stream through the front-end in chunks of random sizes (the frames must
// not depend on how the samples arrive). Returns every frame's features, and their int8s.
struct Stream {
  std::vector<int32_t> features;
  std::vector<int8_t> quantized;
  uint32_t frames = 0;
};
Stream run_stream(const std::vector<uint8_t>& section, const std::vector<int16_t>& pcm) {
  static AudioFrontend frontend;  // 11 KB: not on the stack
  EXPECT_EQ(frontend.init(section.data(), static_cast<uint32_t>(section.size())), Status::ok);
  Stream out;
  std::mt19937 rng(5);
  size_t at = 0;
  while (at < pcm.size()) {
    uint32_t n = std::uniform_int_distribution<uint32_t>(1, 700)(rng);
    n = static_cast<uint32_t>(std::min<size_t>(n, pcm.size() - at));
    uint32_t consumed = 0;
    if (frontend.process(pcm.data() + at, n, &consumed)) {
      const uint32_t count = frontend.config().num_features;
      out.features.insert(out.features.end(), frontend.features(), frontend.features() + count);
      std::vector<int8_t> q(count);
      frontend.quantize(q.data());
      out.quantized.insert(out.quantized.end(), q.begin(), q.end());
      ++out.frames;
    }
    at += consumed;
  }
  return out;
}

FrontendSpec tflm_unit_spec() {
  FrontendSpec s;
  s.sample_rate = 1000;
  s.window_ms = 25;
  s.hop_ms = 10;
  s.channels = 2;
  s.lower_hz = 8.0f;
  s.upper_hz = 450.0f;
  return s;
}

TEST(AudioFrontend, MatchesTflmPublishedKnownAnswers) {
  // tensorflow/lite/experimental/microfrontend/lib/frontend_test.cc: this input and config
  // give {479, 425}, and {436, 378} one hop later.
  std::vector<int16_t> pcm;
  for (int i = 0; i < 9; ++i) pcm.insert(pcm.end(), {0, 32767, 0, -32768});
  const std::vector<uint8_t> section = build_frontend_section(tflm_unit_spec(), {2, 0.1f, 0});
  const Stream s = run_stream(section, pcm);
  ASSERT_GE(s.frames, 2u);
  EXPECT_EQ(s.features[0], 479);
  EXPECT_EQ(s.features[1], 425);
  EXPECT_EQ(s.features[2], 436);
  EXPECT_EQ(s.features[3], 378);
}

TEST(AudioFrontend, MicroSpeechConfigHasTflmGeometry) {
  FrontendSpec s;  // defaults: micro_speech's
  const std::vector<uint8_t> section = build_frontend_section(s, {49 * 40, 0.1f, -128});
  FrontendConfig c;
  std::memcpy(&c, section.data(), sizeof c);
  EXPECT_EQ(c.window_samples, 480);
  EXPECT_EQ(c.hop_samples, 320);
  EXPECT_EQ(c.fft_size, 512);
  EXPECT_EQ(c.num_frames, 49);
  EXPECT_EQ(c.pcan_snr_shift, 6);  // 21 - (10 - 1 - 6) - 12
  EXPECT_EQ(c.even_smoothing, 409);
  EXPECT_EQ(c.odd_smoothing, 983);
  EXPECT_EQ(c.min_signal_remaining, 819);
  // Frames the input cannot hold: a partial frame, or more frames than asked for.
  EXPECT_THROW(build_frontend_section(s, {49 * 40 + 1, 0.1f, -128}), tinyforge::Error);
  s.frames = 49;
  EXPECT_THROW(build_frontend_section(s, {48 * 40, 0.1f, -128}), tinyforge::Error);
}

TEST(AudioFrontend, CheckRefusesBrokenSections) {
  const std::vector<uint8_t> good = build_frontend_section(FrontendSpec{}, {49 * 40, 0.1f, -128});
  ASSERT_EQ(check_frontend(good.data(), static_cast<uint32_t>(good.size())), Status::ok);
  EXPECT_EQ(check_frontend(good.data(), static_cast<uint32_t>(good.size()) - 4), Status::truncated);
  const auto patched = [&](size_t offset, uint16_t value) {
    std::vector<uint8_t> b = good;
    std::memcpy(b.data() + offset, &value, 2);
    return check_frontend(b.data(), static_cast<uint32_t>(b.size()));
  };
  EXPECT_EQ(patched(offsetof(FrontendConfig, fft_size), 384), Status::bad_params);  // not 2^n
  EXPECT_EQ(patched(offsetof(FrontendConfig, fft_size), 2048), Status::bad_params);
  EXPECT_EQ(patched(offsetof(FrontendConfig, num_channels), 0), Status::bad_params);
  EXPECT_EQ(patched(offsetof(FrontendConfig, hop_samples), 481), Status::bad_params);
  EXPECT_EQ(patched(offsetof(FrontendConfig, flags), 0x40), Status::bad_params);
  // A channel whose width runs past the spectrum: the last widths entry of the tables.
  FrontendConfig c;
  std::memcpy(&c, good.data(), sizeof c);
  size_t widths = sizeof(FrontendConfig);
  for (uint32_t bytes : {2u * c.window_samples, 4u * c.fft_size / 2, 4u * c.fft_size / 4,
                         2u * (c.num_channels + 1), 2u * (c.num_channels + 1)})
    widths += (bytes + 3) & ~3u;
  EXPECT_EQ(patched(widths + 2 * c.num_channels, 300), Status::out_of_bounds);
  EXPECT_EQ(patched(widths, 0x8000), Status::out_of_bounds);  // negative
}

std::vector<int16_t> read_pcm(const fs::path& p) {
  const std::vector<uint8_t> bytes = io::read_file(p.string());
  std::vector<int16_t> pcm(bytes.size() / 2);
  std::memcpy(pcm.data(), bytes.data(), pcm.size() * 2);
  return pcm;
}

FrontendSpec spec_from(const nlohmann::json& j) {
  FrontendSpec s;
  s.sample_rate = j.at("rate");
  s.window_ms = j.at("window");
  s.hop_ms = j.at("hop");
  s.channels = j.at("channels");
  s.lower_hz = j.at("lower");
  s.upper_hz = j.at("upper");
  s.pcan = j.value("pcan", true);
  s.log = j.value("log", true);
  s.log_shift = j.value("log_shift", 6);
  s.mfcc = j.value("mfcc", 0);
  return s;
}

TEST(AudioFrontend, BitExactWithPythonReferenceOfTflm) {
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0)
    TINYFORGE_SKIP_MISSING("/usr/bin/python3 cannot import numpy (install python3-numpy)");
  const fs::path dir =
      fs::temp_directory_path() / ("tinyforge-frontend-" + std::to_string(::getpid()));
  const std::string cmd = std::string("/usr/bin/python3 ") + TINYFORGE_SOURCE_DIR +
                          "/tests/audio/micro_frontend_reference.py " + dir.string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  int cases = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".json") continue;
    ++cases;
    const fs::path stem = e.path().parent_path() / e.path().stem();
    SCOPED_TRACE(stem.filename().string());
    std::ifstream in(e.path());
    const nlohmann::json j = nlohmann::json::parse(in);
    FrontendSpec spec = spec_from(j.at("spec"));
    spec.feature_scale = j.at("feature_scale");
    const std::vector<uint8_t> expected = io::read_file(stem.string() + ".features");
    const std::vector<uint8_t> expected_q = io::read_file(stem.string() + ".int8");
    const uint32_t frames =
        static_cast<uint32_t>(expected_q.size()) / (spec.mfcc ? spec.mfcc : spec.channels);
    ASSERT_GT(frames, 0u);
    spec.frames = frames;
    const std::vector<uint8_t> section = build_frontend_section(
        spec,
        {static_cast<uint32_t>(expected_q.size()), j.at("input_scale"), j.at("input_zero_point")});
    const Stream s = run_stream(section, read_pcm(stem.string() + ".pcm"));
    ASSERT_EQ(s.frames, frames);
    ASSERT_EQ(s.features.size() * 4, expected.size());
    EXPECT_EQ(std::memcmp(s.features.data(), expected.data(), expected.size()), 0);
    for (size_t i = 0; i < s.features.size(); ++i) {
      int32_t want;
      std::memcpy(&want, expected.data() + 4 * i, 4);
      ASSERT_EQ(s.features[i], want) << "value " << i;
    }
    EXPECT_EQ(std::memcmp(s.quantized.data(), expected_q.data(), expected_q.size()), 0);
  }
  fs::remove_all(dir);
  EXPECT_EQ(cases, 11);
}

}  // namespace
}  // namespace tinyforge::audio
