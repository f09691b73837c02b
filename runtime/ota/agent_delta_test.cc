// Delta updates through the agent: rebuilt into the update slot from the running plan, then
// verified like a full package (hash, plan validation, known answer on first boot, floor);
// refused with a clear status, flash untouched, when the base is not the running model,
// and never made pending when the stream is malformed or rebuilds something else.
#include <gtest/gtest.h>

#include <random>

#include "ota/delta_writer.h"
#include "runtime/ota/testing/ota_test_device.h"

namespace tinyforge::ota {
namespace {

using testing::Device;
using testing::Geometry;
using testing::make_delta_package;
using testing::make_package;
using testing::self_test_for;
using testing::test_plan;

struct Plans {
  std::vector<uint8_t> v1 = test_plan(2600, 1);
  std::vector<uint8_t> v2 = test_plan(3000, 2);
  std::vector<uint8_t> v3 = test_plan(2200, 3);
};

const Plans& plans() {
  static const Plans p;
  return p;
}

// A device running v1, confirmed.
void run_v1(Device& d) {
  ASSERT_EQ(d.reboot(), Status::no_image);
  ASSERT_EQ(d.install(make_package(plans().v1, {1, 0, 0}, 1, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  ASSERT_EQ(d.running_payload(), plans().v1);
}

// A signed delta package whose manifest describes `payload` but whose stream is `delta`.
std::vector<uint8_t> signed_delta(const Device& d, const std::vector<uint8_t>& base_plan,
                                  const std::vector<uint8_t>& payload,
                                  const std::vector<uint8_t>& delta, uint32_t self_test_offset) {
  PackageSpec spec;
  spec.model_id = "kws";
  spec.version = {2, 0, 0};
  spec.security_counter = 2;
  spec.key_id = key_id(d.keys().public_key);
  spec.self_test_offset = self_test_offset;
  const auto base = base_image(base_plan);
  std::array<uint8_t, kDigestBytes> digest;
  sha256(base.data(), base.size(), digest.data());
  spec.base_sha256 = digest;
  spec.delta_size = static_cast<uint32_t>(delta.size());
  sha256(delta.data(), delta.size(), spec.delta_sha256.data());
  return assemble_package(encode_manifest(spec, payload), delta, d.keys().secret_key);
}

std::vector<uint8_t> payload_of(const std::vector<uint8_t>& plan) {
  auto p = base_image(plan);
  const auto test = self_test_for(plan);
  p.insert(p.end(), test.begin(), test.end());
  return p;
}

TEST(OtaDeltaAgent, RebuildsVerifiesAndConfirmsTheNewModel) {
  const struct {
    uint32_t unit;
    size_t chunk;
  } runs[] = {{4, 1}, {8, 100}, {32, 4096}, {8, 7}};
  for (const auto& run : runs) {
    Device d(Geometry{1024, run.unit, 8});
    run_v1(d);
    const auto pkg = make_delta_package(plans().v1, plans().v2, {2, 0, 0}, 2, d.keys());
    Manifest m;
    ASSERT_EQ(verify_package(pkg.data(), pkg.size(), d.keys().public_key.data(), &m), Status::ok);
    EXPECT_TRUE(m.has_delta);
    ASSERT_EQ(d.install(pkg, run.chunk), Status::ok) << run.chunk;
    EXPECT_TRUE(d.report().pending.valid);
    EXPECT_EQ(d.report().pending.payload_size, m.payload_size);
    ASSERT_EQ(d.reboot(), Status::ok);
    EXPECT_EQ(d.report().last_boot, BootOutcome::confirmed_update);  // known answer passed
    EXPECT_EQ(d.running_payload(), plans().v2);
    EXPECT_EQ(d.report().counter_floor, 2u);
    // The next delta is built against v2, the model now running.
    ASSERT_EQ(d.install(make_delta_package(plans().v2, plans().v3, {3, 0, 0}, 3, d.keys())),
              Status::ok);
    ASSERT_EQ(d.reboot(), Status::ok);
    EXPECT_EQ(d.running_payload(), plans().v3);
    EXPECT_EQ(d.sim().violations(), 0u);
  }
}

TEST(OtaDeltaAgent, DeltaForAnotherBaseIsRefusedBeforeAnyWrite) {
  Device d;
  run_v1(d);
  const auto before = d.memory();
  const uint32_t ops = d.sim().operations();
  const auto pkg = make_delta_package(plans().v3, plans().v2, {2, 0, 0}, 2, d.keys());
  EXPECT_EQ(d.install(pkg), Status::wrong_base);
  EXPECT_EQ(d.sim().operations(), ops);
  EXPECT_EQ(d.memory(), before);
  ASSERT_EQ(d.reboot(), Status::ok);
  EXPECT_EQ(d.running_payload(), plans().v1);

  Device blank;  // nothing runs: there is no base to rebuild from
  EXPECT_EQ(blank.reboot(), Status::no_image);
  EXPECT_EQ(blank.install(make_delta_package(plans().v1, plans().v2, {2, 0, 0}, 2, blank.keys())),
            Status::wrong_base);
}

TEST(OtaDeltaAgent, PolicyAppliesToDeltasAsToFullPackages) {
  Device d;
  run_v1(d);
  ASSERT_EQ(d.install(make_package(plans().v2, {2, 0, 0}, 2, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  // Below the floor, even against the running base: refused.
  EXPECT_EQ(d.install(make_delta_package(plans().v2, plans().v1, {1, 0, 0}, 1, d.keys())),
            Status::rollback);
  d.agent().abort_update();
  testing::PackageOptions o;
  o.target = "riscv32";
  EXPECT_EQ(d.install(make_delta_package(plans().v2, plans().v3, {3, 0, 0}, 3, d.keys(), o)),
            Status::bad_target);
  d.agent().abort_update();
  o = {};
  o.self_test = false;
  EXPECT_EQ(d.install(make_delta_package(plans().v2, plans().v3, {3, 0, 0}, 3, d.keys(), o)),
            Status::no_self_test);
  d.agent().abort_update();
  // Signed by a key the device does not trust.
  EXPECT_EQ(
      d.install(make_delta_package(plans().v2, plans().v3, {3, 0, 0}, 3, testing::test_keys(9))),
      Status::bad_key);
}

TEST(OtaDeltaAgent, StreamThatRebuildsSomethingElseIsNeverPending) {
  Device d;
  run_v1(d);
  const auto payload = payload_of(plans().v2);
  const uint32_t offset = static_cast<uint32_t>(base_image(plans().v2).size());
  const auto base = base_image(plans().v1);
  // Signed stream, but it rebuilds v3's bytes (padded to v2's size): output hash differs.
  auto other = payload_of(plans().v3);
  other.resize(payload.size(), 0);
  EXPECT_EQ(d.install(signed_delta(d, plans().v1, payload, encode_delta(base, other), offset)),
            Status::bad_hash);
  d.agent().abort_update();
  EXPECT_FALSE(d.report().pending.valid);
  // Signed but malformed stream (a copy past the end of the base).
  auto bad = encode_delta(base, payload);
  bad[kDeltaHeaderBytes] = 1;  // the first command: a copy ...
  for (int i = 0; i < 4; ++i) bad[kDeltaHeaderBytes + 5 + i] = 0xFF;  // ... from 0xFFFFFFFF
  EXPECT_EQ(d.install(signed_delta(d, plans().v1, payload, bad, offset)), Status::bad_delta);
  d.agent().abort_update();
  // A stream cut short, signed as such: ends inside a command.
  auto cut = encode_delta(base, payload);
  cut.resize(cut.size() - 1);
  EXPECT_EQ(d.install(signed_delta(d, plans().v1, payload, cut, offset)), Status::bad_delta);
  d.agent().abort_update();
  // The right stream, one byte changed in transit: the stream hash (or the decoder) refuses.
  const auto good = make_delta_package(plans().v1, plans().v2, {2, 0, 0}, 2, d.keys());
  std::mt19937 rng(1);
  for (int k = 0; k < 40; ++k) {
    auto damaged = good;
    const uint32_t manifest = damaged[8] | (damaged[9] << 8);
    const size_t body = signed_block_bytes(manifest);
    damaged[body + rng() % (damaged.size() - body)] ^= static_cast<uint8_t>(1u << (rng() % 8));
    const Status s = d.install(damaged);
    EXPECT_TRUE(s == Status::bad_hash || s == Status::bad_delta) << status_name(s);
    d.agent().abort_update();
  }
  // Extra bytes after the signed stream, or a stream too short.
  auto longer = good;
  longer.push_back(0);
  EXPECT_EQ(d.install(longer), Status::too_large);
  d.agent().abort_update();
  EXPECT_EQ(d.install(std::vector<uint8_t>(good.begin(), good.end() - 1)), Status::truncated);
  d.agent().abort_update();
  EXPECT_FALSE(d.report().pending.valid);
  ASSERT_EQ(d.reboot(), Status::ok);
  EXPECT_EQ(d.report().last_boot, BootOutcome::normal);
  EXPECT_EQ(d.running_payload(), plans().v1);
  EXPECT_EQ(d.sim().violations(), 0u);
}

// A bit of the base flips after the base check (between the signed block and the stream)
// in a byte the stream copies or adds to: the rebuilt image differs, is refused at
// finish_update (bad_hash) and never made pending; the running model is untouched.
TEST(OtaDeltaAgent, BaseBitFlipDuringTheUpdateIsCaught) {
  Device d;
  run_v1(d);
  const auto pkg = make_delta_package(plans().v1, plans().v2, {2, 0, 0}, 2, d.keys());
  const uint32_t block = signed_block_bytes(pkg[8] | (pkg[9] << 8));
  const std::vector<uint8_t> stream(pkg.begin() + block, pkg.end());
  const auto base = base_image(plans().v1);
  const auto payload = payload_of(plans().v2);
  const ImageInfo running = d.agent().running();
  std::mt19937 rng(4);
  int refused = 0;
  for (int tries = 0; tries < 2000 && refused < 16; ++tries) {
    const uint32_t at = rng() % running.plan_size;
    const uint8_t bit = static_cast<uint8_t>(1u << (rng() % 8));
    auto flipped = base;
    flipped[at] ^= bit;
    Status host;
    if (apply_delta(flipped, stream, static_cast<uint32_t>(payload.size()), &host) == payload)
      continue;  // a byte the stream does not use
    ASSERT_EQ(d.reboot(), Status::ok);
    ASSERT_EQ(d.agent().begin_update(), Status::ok);
    ASSERT_EQ(d.agent().write_update(pkg.data(), block), Status::ok);  // base checked here
    d.memory()[running.payload_address + at] ^= bit;
    Status s = d.agent().write_update(pkg.data() + block, pkg.size() - block);
    if (s == Status::ok) s = d.agent().finish_update();
    d.memory()[running.payload_address + at] ^= bit;
    EXPECT_EQ(s, Status::bad_hash) << at;
    EXPECT_FALSE(d.report().pending.valid) << at;
    ++refused;
  }
  EXPECT_EQ(refused, 16);
  ASSERT_EQ(d.reboot(), Status::ok);
  EXPECT_EQ(d.report().last_boot, BootOutcome::normal);
  EXPECT_EQ(d.running_payload(), plans().v1);
}

// The stream must be the one signed, byte for byte, even when another stream of the same
// size rebuilds the same image (two copies split one byte differently): bad_hash.
TEST(OtaDeltaAgent, OnlyTheSignedStreamIsAccepted) {
  Device d;
  run_v1(d);
  const auto base = base_image(plans().v1);
  const auto payload = payload_of(plans().v1);  // the same model again, as version 2
  const uint32_t plan = static_cast<uint32_t>(base.size());
  auto stream = [&](uint32_t split) {
    std::vector<uint8_t> s;
    auto u32 = [&s](uint32_t v) {
      for (int i = 0; i < 4; ++i) s.push_back(static_cast<uint8_t>(v >> (8 * i)));
    };
    auto command = [&](DeltaOp op, uint32_t length, uint32_t source) {
      s.push_back(static_cast<uint8_t>(op));
      u32(length);
      u32(source);
    };
    u32(kDeltaMagic);
    u32(plan);
    u32(static_cast<uint32_t>(payload.size()));
    u32(0);
    command(DeltaOp::copy, split, 0);
    command(DeltaOp::copy, plan - split, split);
    command(DeltaOp::literal, static_cast<uint32_t>(payload.size()) - plan, 0);
    for (size_t at = plan; at < payload.size(); at += 64) {
      const size_t n = std::min<size_t>(64, payload.size() - at);
      s.push_back(static_cast<uint8_t>(0x40 | (n - 1)));
      s.insert(s.end(), payload.begin() + static_cast<std::ptrdiff_t>(at),
               payload.begin() + static_cast<std::ptrdiff_t>(at + n));
    }
    return s;
  };
  const auto signed_stream = stream(1000), other = stream(1001);
  ASSERT_EQ(signed_stream.size(), other.size());
  Status s;
  ASSERT_EQ(apply_delta(base, other, static_cast<uint32_t>(payload.size()), &s), payload);
  const auto pkg = signed_delta(d, plans().v1, payload, signed_stream, plan);
  auto swapped = pkg;
  std::copy(other.begin(), other.end(), swapped.end() - static_cast<std::ptrdiff_t>(other.size()));
  EXPECT_EQ(d.install(swapped), Status::bad_hash);
  d.agent().abort_update();
  EXPECT_FALSE(d.report().pending.valid);
  EXPECT_EQ(d.install(pkg), Status::ok);  // the signed stream installs
  EXPECT_TRUE(d.report().pending.valid);
}

TEST(OtaDeltaAgent, OldReadersRefuseDeltaPackages) {
  Device d;
  const auto pkg = make_delta_package(plans().v1, plans().v2, {2, 0, 0}, 2, d.keys());
  // The delta record is critical: a reader without it must not take the stream for a plan.
  Manifest m;
  const uint32_t manifest = pkg[8] | (pkg[9] << 8);
  auto stripped = std::vector<uint8_t>(pkg.begin() + kPackageHeaderBytes,
                                       pkg.begin() + kPackageHeaderBytes + manifest);
  ASSERT_EQ(parse_manifest(stripped.data(), manifest, &m), Status::ok);
  EXPECT_TRUE(m.has_delta);
  EXPECT_NE(static_cast<uint16_t>(RecordType::delta) & kRecordCritical, 0);
}

}  // namespace
}  // namespace tinyforge::ota
