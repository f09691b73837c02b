// The validator and executor on small hand-made plans: a good blob runs; every damaged
// variant is refused with the status that names the problem, never a crash.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "emit/plan_writer.h"
#include "plan/plan.h"
#include "tinyforge/runtime.h"

namespace tinyforge {
namespace {

// input [2,3] float -> Reshape -> [3,2] -> Reshape -> output [6]
plan::Plan two_reshapes() {
  plan::Plan p;
  auto tensor = [](std::vector<int32_t> shape, uint32_t offset) {
    plan::PlanTensor t;
    t.type = DType::f32;
    t.shape = std::move(shape);
    t.arena_offset = offset;
    return t;
  };
  p.tensors = {tensor({2, 3}, 0), tensor({3, 2}, 24), tensor({6}, 0)};
  for (uint16_t i = 0; i < 2; ++i) {
    plan::PlanOp op;
    op.op = OpCode::Reshape;
    op.inputs = {i};
    op.outputs = {static_cast<uint16_t>(i + 1)};
    op.params = plan::params_bytes(ReshapeParams{});
    p.ops.push_back(op);
  }
  p.inputs = {0};
  p.outputs = {2};
  p.arena_size = 48;
  return p;
}

struct Aligned {
  explicit Aligned(const std::vector<uint8_t>& b) : words((b.size() + 3) / 4 + 1), size(b.size()) {
    if (!b.empty()) std::memcpy(words.data(), b.data(), b.size());  // empty: data() may be null
  }
  uint8_t* data() { return reinterpret_cast<uint8_t*>(words.data()); }
  std::vector<uint32_t> words;
  size_t size;
};

TEST(PlanValidator, GoodBlobRuns) {
  Aligned blob(emit::write_plan_blob(two_reshapes()));
  ASSERT_EQ(validate_plan(blob.data(), blob.size), Status::ok);
  uint32_t arena[12] = {};
  Runtime rt;
  ASSERT_EQ(rt.init(blob.data(), blob.size, reinterpret_cast<uint8_t*>(arena), sizeof arena),
            Status::ok);
  ASSERT_EQ(rt.num_inputs(), 1u);
  ASSERT_EQ(rt.output(0).bytes, 24u);
  float* in = rt.input(0).as<float>();
  for (int i = 0; i < 6; ++i) in[i] = static_cast<float>(i) + 0.5f;
  ASSERT_EQ(rt.invoke(), Status::ok);
  const float* out = rt.output(0).as<float>();
  for (int i = 0; i < 6; ++i) EXPECT_EQ(out[i], static_cast<float>(i) + 0.5f);
}

TEST(PlanValidator, RefusesWhatIsWrong) {
  const std::vector<uint8_t> good = emit::write_plan_blob(two_reshapes());
  auto status_of = [](std::vector<uint8_t> b) {
    Aligned a(b);
    return validate_plan(a.data(), static_cast<uint32_t>(b.size()));
  };
  EXPECT_EQ(status_of({}), Status::truncated);
  EXPECT_EQ(status_of(std::vector<uint8_t>(good.begin(), good.begin() + 40)), Status::truncated);
  EXPECT_EQ(status_of(std::vector<uint8_t>(good.begin(), good.end() - 4)), Status::truncated);
  auto bad = good;
  bad[0] ^= 1;
  EXPECT_EQ(status_of(bad), Status::bad_magic);
  bad = good;
  bad[4] = 9;
  EXPECT_EQ(status_of(bad), Status::bad_version);
  bad = good;
  bad.back() ^= 0x40;  // a params byte: caught by the checksum
  EXPECT_EQ(status_of(bad), Status::bad_hash);

  // Semantic errors with a correct checksum: rewrite and re-sign.
  auto resign = [](std::vector<uint8_t>& b) {
    PlanHeader h;
    std::memcpy(&h, b.data(), sizeof h);
    h.checksum = plan_checksum(b.data(), h.total_size);
    std::memcpy(b.data(), &h, sizeof h);
  };
  PlanHeader h;
  std::memcpy(&h, good.data(), sizeof h);
  bad = good;
  bad[h.tensors_offset] = 77;  // dtype of tensor 0
  resign(bad);
  EXPECT_EQ(status_of(bad), Status::bad_enum);
  bad = good;
  std::memcpy(bad.data() + h.tensors_offset + 20, "\xff\xff\x00\x00", 4);  // arena offset
  resign(bad);
  EXPECT_EQ(status_of(bad), Status::out_of_bounds);
  bad = good;
  std::memcpy(bad.data() + h.ops_offset, "\x99\x00", 2);  // opcode
  resign(bad);
  EXPECT_EQ(status_of(bad), Status::unsupported_op);
  bad = good;
  const uint16_t no_such_tensor = 500;
  std::memcpy(bad.data() + h.indices_offset, &no_such_tensor, 2);
  resign(bad);
  EXPECT_EQ(status_of(bad), Status::out_of_bounds);
  bad = good;
  std::memcpy(bad.data() + h.tensors_offset + 4 + 4, "\x05\x00\x00\x00", 4);  // shape [2,5]
  resign(bad);
  EXPECT_EQ(status_of(bad), Status::bad_shape);
  // PlanTarget (2.1): the name NUL-terminated, the kernel variant known.
  bad = good;
  std::memset(bad.data() + sizeof(PlanHeader), 'x', 16);
  resign(bad);
  EXPECT_EQ(status_of(bad), Status::bad_params);
  bad = good;
  bad[sizeof(PlanHeader) + 16] = 7;
  resign(bad);
  EXPECT_EQ(status_of(bad), Status::bad_enum);
  bad = good;
  const uint32_t short_header = sizeof(PlanHeader);
  std::memcpy(bad.data() + 8, &short_header, 4);  // a 2.1 header without its PlanTarget
  resign(bad);
  EXPECT_EQ(status_of(bad), Status::bad_params);
}

TEST(PlanValidator, BlobRecordsItsTarget) {
  plan::PlanOptions options;
  options.target = "cortex-m4";
  options.kernels = plan::KernelSet::armv7em;
  const std::vector<uint8_t> blob = emit::write_plan_blob(two_reshapes(), options);
  PlanTarget t;
  std::memcpy(&t, blob.data() + sizeof(PlanHeader), sizeof t);
  EXPECT_STREQ(t.target, "cortex-m4");
  EXPECT_EQ(t.kernels, static_cast<uint32_t>(KernelVariant::armv7em));
  std::memcpy(&t, emit::write_plan_blob(two_reshapes()).data() + sizeof(PlanHeader), sizeof t);
  EXPECT_STREQ(t.target, "host");
  EXPECT_EQ(t.kernels, static_cast<uint32_t>(KernelVariant::reference));
}

TEST(PlanValidator, ArenaMustBeLargeEnoughAndAligned) {
  Aligned blob(emit::write_plan_blob(two_reshapes()));
  uint32_t arena[16] = {};
  Runtime rt;
  EXPECT_EQ(rt.init(blob.data(), blob.size, reinterpret_cast<uint8_t*>(arena), 40),
            Status::arena_too_small);
  EXPECT_EQ(rt.invoke(), Status::not_initialized);
  EXPECT_EQ(rt.init(blob.data(), blob.size, reinterpret_cast<uint8_t*>(arena) + 1, 60),
            Status::misaligned);
  EXPECT_EQ(rt.init(blob.data() + 1, blob.size - 1, reinterpret_cast<uint8_t*>(arena), 64),
            Status::misaligned);
}

TEST(PlanValidator, RandomDamageNeverCrashes) {
  const std::vector<uint8_t> good = emit::write_plan_blob(two_reshapes());
  std::mt19937 rng(1);
  int refused = 0, damaged = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<uint8_t> b = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      size_t at = rng() % b.size();
      b[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
    }
    if (b == good) continue;  // two flips cancelled out
    ++damaged;
    Aligned a(b);
    const bool ok = validate_plan(a.data(), static_cast<uint32_t>(b.size())) == Status::ok;
    refused += !ok;
    if (ok)
      for (size_t k = 0; k < b.size(); ++k)
        if (b[k] != good[k]) ADD_FAILURE() << "accepted a flip at byte " << k;
  }
  EXPECT_EQ(refused, damaged);  // the checksum covers every byte but itself
}

}  // namespace
}  // namespace tinyforge
