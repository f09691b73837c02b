// Plans with an audio front-end (plan format 2.3): the section travels in the blob and
// validates; the model runs as before with one arena; a blob without a front-end is written
// exactly as before (2.1); the validator refuses a damaged front-end reference or section.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "emit/plan_writer.h"
#include "host/compile.h"
#include "io/files.h"
#include "tflite_model_builder.h"
#include "tinyforge/audio_frontend.h"
#include "tinyforge/plan_reader.h"
#include "tinyforge/runtime.h"

namespace tinyforge {
namespace {

namespace fs = std::filesystem;

struct Aligned {
  explicit Aligned(const std::vector<uint8_t>& b) : words((b.size() + 3) / 4), size(b.size()) {
    std::memcpy(words.data(), b.data(), b.size());
  }
  uint8_t* data() { return reinterpret_cast<uint8_t*>(words.data()); }
  std::vector<uint32_t> words;
  size_t size;
};

Status validate(const std::vector<uint8_t>& blob) {
  Aligned a(blob);
  return validate_plan(a.data(), static_cast<uint32_t>(a.size));
}

template <typename T>
std::vector<uint8_t> patched(std::vector<uint8_t> blob, size_t at, const T& value) {
  std::memcpy(blob.data() + at, &value, sizeof value);
  const uint32_t crc = plan_checksum(blob.data(), static_cast<uint32_t>(blob.size()));
  std::memcpy(blob.data() + 68, &crc, 4);
  return blob;
}

// The tiny int8 model (input 1x8x8x2 = 128 values) with 16 frames of 8 channels at 8 kHz.
host::Compiled tiny_with_frontend(std::vector<uint8_t>* without) {
  const fs::path path = fs::temp_directory_path() / "tinyforge_frontend_tiny.tflite";
  io::write_file(path.string(), testing::build_tflite(testing::tiny_int8_model()));
  const plan::PlanOptions options = host::plan_options_for_target("host");
  host::Compiled c = host::compile_model_file(path.string(), options);
  *without = c.blob;
  host::add_frontend(c, audio::parse_frontend_spec("rate=8000,channels=8,upper=3800"), options,
                     path.string());
  fs::remove(path);
  return c;
}

TEST(PlanFrontend, TravelsInTheBlobAndTheModelStillRuns) {
  std::vector<uint8_t> without;
  const host::Compiled c = tiny_with_frontend(&without);
  const PlanHeader plain = read_header(without.data());
  EXPECT_EQ(plain.version_minor, 1);  // no front-end: written as before
  Aligned a(c.blob);
  ASSERT_EQ(validate_plan(a.data(), static_cast<uint32_t>(a.size)), Status::ok);
  const PlanHeader h = read_header(a.data());
  EXPECT_EQ(h.version_minor, 3);
  EXPECT_FALSE(uses_memory_regions(a.data(), h));
  const PlanFrontend f = read_frontend(a.data(), h);
  ASSERT_EQ(f.size, c.plan.frontend.size());
  EXPECT_EQ(std::memcmp(a.data() + f.offset, c.plan.frontend.data(), f.size), 0);
  FrontendConfig config;
  std::memcpy(&config, a.data() + f.offset, sizeof config);
  EXPECT_EQ(config.num_frames, 16);
  EXPECT_EQ(config.num_channels, 8);
  EXPECT_EQ(config.fft_size, 256);  // 240-sample window: a radix-2 stage in the FFT

  // The model part is the one of the blob without front-end: same outputs for one input.
  std::vector<uint8_t> outputs[2];
  const std::vector<uint8_t>* blobs[2] = {&without, &c.blob};
  for (int i = 0; i < 2; ++i) {
    Aligned b(*blobs[i]);
    std::vector<uint32_t> arena(read_header(b.data()).arena_size / 4 + 1);
    Runtime rt;
    ASSERT_EQ(
        rt.init(b.data(), static_cast<uint32_t>(b.size), reinterpret_cast<uint8_t*>(arena.data()),
                static_cast<uint32_t>(arena.size() * 4)),
        Status::ok);
    const TensorView in = rt.input(0);
    auto* input = static_cast<uint8_t*>(in.data);
    for (uint32_t k = 0; k < in.bytes; ++k) input[k] = static_cast<uint8_t>(k * 37);
    ASSERT_EQ(rt.invoke(), Status::ok);
    const TensorView out = rt.output(0);
    const auto* output = static_cast<const uint8_t*>(out.data);
    outputs[i].assign(output, output + out.bytes);
  }
  EXPECT_EQ(outputs[0], outputs[1]);
}

TEST(PlanFrontend, ValidatorRefusesDamagedSection) {
  std::vector<uint8_t> without;
  const std::vector<uint8_t> blob = tiny_with_frontend(&without).blob;
  const PlanFrontend f = read_frontend(blob.data(), read_header(blob.data()));
  EXPECT_EQ(validate(patched(blob, kFrontendAt, f.offset + 2)), Status::misaligned);
  EXPECT_EQ(validate(patched(blob, kFrontendAt + 4, f.size + 4)), Status::truncated);
  EXPECT_EQ(validate(patched(blob, kFrontendAt, uint32_t{8})), Status::truncated);  // in header
  EXPECT_EQ(validate(patched(blob, kFrontendAt + 4, f.size - 4)), Status::truncated);
  EXPECT_EQ(validate(patched(blob, f.offset + offsetof(FrontendConfig, fft_size), uint16_t{100})),
            Status::bad_params);
  EXPECT_EQ(validate(patched(blob, kFrontendAt, uint32_t{0}) /* size kept, offset 0 */),
            Status::truncated);
  const PlanFrontend none{0, 0};
  EXPECT_EQ(validate(patched(blob, kFrontendAt, none)), Status::ok);  // no front-end
}

}  // namespace
}  // namespace tinyforge
