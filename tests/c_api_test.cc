// The C API (tinyforge/c_api.h) runs a compiled plan exactly as the C++ Runtime does, and
// turns the C++ preconditions into status codes.
#include "tinyforge/c_api.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "ir_test_graphs.h"
#include "tinyforge/runtime.h"

namespace tinyforge {
namespace {

std::vector<uint8_t> small_cnn_blob() {
  return emit::write_plan_blob(plan::build_plan(testing::small_float_cnn(5)));
}

TEST(CApi, RunsThePlanLikeTheCppRuntime) {
  const std::vector<uint8_t> blob = small_cnn_blob();
  const std::vector<uint8_t> input = testing::random_floats(128, 9);
  alignas(16) static uint8_t arena_c[64 * 1024], arena_cpp[64 * 1024];

  tinyforge_runtime rt;
  ASSERT_EQ(tinyforge_validate(blob.data(), static_cast<uint32_t>(blob.size())), TINYFORGE_OK);
  ASSERT_EQ(
      tinyforge_init(&rt, blob.data(), static_cast<uint32_t>(blob.size()), arena_c, sizeof arena_c),
      TINYFORGE_OK);
  Runtime cpp;
  ASSERT_EQ(cpp.init(blob.data(), static_cast<uint32_t>(blob.size()), arena_cpp, sizeof arena_cpp),
            Status::ok);
  EXPECT_EQ(tinyforge_num_inputs(&rt), 1u);
  EXPECT_EQ(tinyforge_num_outputs(&rt), 1u);
  EXPECT_EQ(tinyforge_arena_size(&rt), cpp.arena_size());

  tinyforge_tensor in, out;
  ASSERT_EQ(tinyforge_input(&rt, 0, &in), TINYFORGE_OK);
  EXPECT_EQ(in.dtype, TINYFORGE_F32);
  ASSERT_EQ(in.rank, 4);
  EXPECT_EQ(in.dims[1], 8);
  EXPECT_EQ(in.dims[3], 2);
  ASSERT_EQ(in.bytes, input.size());
  EXPECT_EQ(in.data,
            static_cast<void*>(arena_c + (static_cast<uint8_t*>(cpp.input(0).data) - arena_cpp)));
  std::memcpy(in.data, input.data(), in.bytes);
  std::memcpy(cpp.input(0).data, input.data(), input.size());
  ASSERT_EQ(tinyforge_invoke(&rt), TINYFORGE_OK);
  ASSERT_EQ(cpp.invoke(), Status::ok);
  ASSERT_EQ(tinyforge_output(&rt, 0, &out), TINYFORGE_OK);
  ASSERT_EQ(out.bytes, cpp.output(0).bytes);
  EXPECT_EQ(std::memcmp(out.data, cpp.output(0).data, out.bytes), 0);
  const float* probs = static_cast<const float*>(out.data);
  float sum = 0;
  for (uint32_t i = 0; i < out.bytes / 4; ++i) sum += probs[i];
  EXPECT_NEAR(sum, 1.0f, 1e-5f) << "the model ends in softmax";
}

TEST(CApi, PreconditionsBecomeStatusCodes) {
  std::vector<uint8_t> blob = small_cnn_blob();
  alignas(16) static uint8_t arena[64 * 1024];
  tinyforge_runtime rt;
  tinyforge_tensor t;
  ASSERT_EQ(tinyforge_init(&rt, blob.data(), static_cast<uint32_t>(blob.size()), arena, 16),
            TINYFORGE_ARENA_TOO_SMALL);
  EXPECT_EQ(tinyforge_invoke(&rt), TINYFORGE_NOT_INITIALIZED);
  EXPECT_EQ(tinyforge_input(&rt, 0, &t), TINYFORGE_NOT_INITIALIZED);
  EXPECT_EQ(tinyforge_arena_size(&rt), 0u);
  EXPECT_STREQ(tinyforge_status_name(TINYFORGE_ARENA_TOO_SMALL), "arena_too_small");
  EXPECT_STREQ(tinyforge_status_name(static_cast<int>(Status::bad_delta)), "bad_delta");
  EXPECT_STREQ(tinyforge_status_name(static_cast<int>(Status::last_)), "unknown");
  EXPECT_STREQ(tinyforge_status_name(-1), "unknown");

  ASSERT_EQ(
      tinyforge_init(&rt, blob.data(), static_cast<uint32_t>(blob.size()), arena, sizeof arena),
      TINYFORGE_OK);
  EXPECT_EQ(tinyforge_input(&rt, 1, &t), TINYFORGE_OUT_OF_BOUNDS);
  EXPECT_EQ(tinyforge_output(&rt, 1, &t), TINYFORGE_OUT_OF_BOUNDS);
  EXPECT_EQ(tinyforge_output(&rt, 0, nullptr), TINYFORGE_OUT_OF_BOUNDS);

  blob[blob.size() / 2] ^= 0x40;  // the checksum no longer matches
  const int s =
      tinyforge_init(&rt, blob.data(), static_cast<uint32_t>(blob.size()), arena, sizeof arena);
  EXPECT_NE(s, TINYFORGE_OK);
  EXPECT_EQ(tinyforge_validate(blob.data(), static_cast<uint32_t>(blob.size())), s);
  EXPECT_EQ(tinyforge_invoke(&rt), TINYFORGE_NOT_INITIALIZED) << "a failed init unbinds";
  EXPECT_EQ(tinyforge_invoke(nullptr), TINYFORGE_NOT_INITIALIZED);
}

}  // namespace
}  // namespace tinyforge
