// The OTA agent on simulated NOR flash: install, first-boot self-test, confirm, roll back,
// anti-rollback, policy checks before any flash write, any chunk size and flash geometry,
// fallback, version report. Every test also checks the agent never broke the flash rules.
#include "tinyforge/ota/agent.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "host/compile.h"
#include "io/files.h"
#include "runtime/ota/testing/ota_test_device.h"
#include "tflite_model_builder.h"
#include "tinyforge/ota/sha256.h"
#include "tinyforge/runtime.h"

namespace tinyforge::ota {
namespace {

using testing::Device;
using testing::Geometry;
using testing::make_package;
using testing::NorFlashSim;
using testing::self_test_for;
using testing::test_keys;
using testing::test_plan;

struct TestLog {
  int calls = 0;
  bool result = true;
  ImageInfo last{};
};

bool logging_test(void* user, const ImageInfo& image) {
  auto* log = static_cast<TestLog*>(user);
  ++log->calls;
  log->last = image;
  return log->result;
}

// Blank device -> v1 installed and confirmed -> reboots run v1 without testing it again.
TEST(OtaAgent, FreshDeviceInstallsConfirmsAndReportsVersion) {
  Device d;
  TestLog log;
  EXPECT_EQ(d.reboot(logging_test, &log), Status::no_image);
  EXPECT_EQ(d.report().last_boot, BootOutcome::no_image);
  const auto v1 = test_plan(3000, 1);
  ASSERT_EQ(d.install(make_package(v1, {1, 0, 0}, 1, d.keys())), Status::ok);

  VersionReport r = d.report();
  EXPECT_FALSE(r.running.valid);
  ASSERT_TRUE(r.pending.valid);
  EXPECT_EQ(r.slot_state[r.pending.slot], SlotState::pending);

  ASSERT_EQ(d.reboot(logging_test, &log), Status::ok);
  EXPECT_EQ(log.calls, 1);
  EXPECT_STREQ(log.last.model_id, "kws");
  EXPECT_EQ(log.last.plan_size, v1.size());
  EXPECT_GT(log.last.payload_size, v1.size());  // the known-answer block follows the plan
  EXPECT_EQ(d.running_payload(), v1);
  r = d.report();
  EXPECT_EQ(r.last_boot, BootOutcome::confirmed_update);
  EXPECT_STREQ(r.running.model_id, "kws");
  EXPECT_EQ(r.running.version.major, 1u);
  EXPECT_EQ(r.running.security_counter, 1u);
  EXPECT_EQ(r.counter_floor, 1u);
  EXPECT_EQ(r.slot_state[r.running.slot], SlotState::running);
  EXPECT_EQ(r.slot_state[1 - r.running.slot], SlotState::idle);

  ASSERT_EQ(d.reboot(logging_test, &log), Status::ok);
  EXPECT_EQ(log.calls, 1);  // confirmed: no second self-test
  EXPECT_EQ(d.report().last_boot, BootOutcome::normal);
  EXPECT_EQ(d.running_payload(), v1);
  EXPECT_EQ(d.sim().violations(), 0u);
}

TEST(OtaAgent, UpdateGoesToTheOtherSlotAndKeepsTheOldOne) {
  Device d;
  d.reboot();
  const auto v1 = test_plan(5000, 1), v2 = test_plan(4000, 2);
  ASSERT_EQ(d.install(make_package(v1, {1, 0, 0}, 1, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  const uint8_t slot_v1 = d.agent().running().slot;
  ASSERT_EQ(d.install(make_package(v2, {2, 1, 0}, 2, d.keys())), Status::ok);
  EXPECT_EQ(d.running_payload(), v1);  // still running v1 until the reboot
  ASSERT_EQ(d.reboot(), Status::ok);
  EXPECT_EQ(d.running_payload(), v2);
  EXPECT_NE(d.agent().running().slot, slot_v1);
  EXPECT_EQ(d.report().running.version.minor, 1u);
  EXPECT_EQ(d.sim().violations(), 0u);
}

TEST(OtaAgent, FailedSelfTestRollsBackAndRetryCompletes) {
  Device d;
  d.reboot();
  const auto v1 = test_plan(2000, 1), v2 = test_plan(2100, 2);
  ASSERT_EQ(d.install(make_package(v1, {1, 0, 0}, 1, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  ASSERT_EQ(d.install(make_package(v2, {2, 0, 0}, 2, d.keys())), Status::ok);
  TestLog failing{0, false, {}};
  ASSERT_EQ(d.reboot(logging_test, &failing), Status::ok);
  EXPECT_EQ(failing.calls, 1);
  EXPECT_EQ(d.report().last_boot, BootOutcome::rolled_back_test);
  EXPECT_EQ(d.running_payload(), v1);
  EXPECT_EQ(d.report().counter_floor, 1u);  // the failed update did not raise the floor
  ASSERT_EQ(d.reboot(logging_test, &failing), Status::ok);
  EXPECT_EQ(failing.calls, 1);  // rolled back for good: not tried again
  EXPECT_EQ(d.running_payload(), v1);

  ASSERT_EQ(d.install(make_package(v2, {2, 0, 0}, 2, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  EXPECT_EQ(d.running_payload(), v2);
  EXPECT_EQ(d.report().counter_floor, 2u);
}

// A reset while the self-test runs (the device never reaches the confirm write) means the
// update failed: the next boot rolls back without running it again.
TEST(OtaAgent, ResetDuringSelfTestRollsBack) {
  Device d;
  d.reboot();
  const auto v1 = test_plan(2000, 1), v2 = test_plan(2000, 2);
  ASSERT_EQ(d.install(make_package(v1, {1, 0, 0}, 1, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  ASSERT_EQ(d.install(make_package(v2, {2, 0, 0}, 2, d.keys())), Status::ok);
  auto crash = [](void* user, const ImageInfo&) {
    auto* sim = static_cast<NorFlashSim*>(user);
    sim->arm_cut(sim->operations(), NorFlashSim::Cut::before, 1);  // the next flash access dies
    return true;
  };
  EXPECT_EQ(d.reboot(crash, &d.sim()), Status::power_lost);
  TestLog log;
  ASSERT_EQ(d.reboot(logging_test, &log), Status::ok);
  EXPECT_EQ(log.calls, 0);
  EXPECT_EQ(d.report().last_boot, BootOutcome::rolled_back_reset);
  EXPECT_EQ(d.running_payload(), v1);
}

// Authentication and policy are decided from the signed block alone, before the first
// erase: a refused package costs no flash operation at all.
TEST(OtaAgent, RefusedPackagesNeverTouchFlash) {
  Device d;
  d.reboot();
  const auto v3 = test_plan(1500, 3);
  ASSERT_EQ(d.install(make_package(v3, {3, 0, 0}, 3, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  const auto payload = test_plan(1200, 4);
  struct Case {
    const char* what;
    std::vector<uint8_t> package;
    Status expected;
  } cases[] = {
      {"older counter", make_package(payload, {4, 0, 0}, 2, d.keys()), Status::rollback},
      {"unknown key", make_package(payload, {4, 0, 0}, 4, test_keys(9)), Status::bad_key},
      {"same version again", make_package(test_plan(1500, 3), {3, 0, 0}, 3, d.keys()),
       Status::already_installed},
      {"older version, same counter", make_package(payload, {2, 9, 0}, 3, d.keys()),
       Status::rollback},
      {"other target", make_package(payload, {4, 0, 0}, 4, d.keys(), "cortex-m7"),
       Status::bad_target},
      {"larger than a slot", make_package(test_plan(8 * 1024, 4), {4, 0, 0}, 4, d.keys()),
       Status::too_large},
  };
  for (const auto& c : cases) {
    const uint32_t ops = d.sim().operations();
    EXPECT_EQ(d.install(c.package, 100), c.expected) << c.what;
    EXPECT_EQ(d.sim().operations(), ops) << c.what << ": flash was touched";
    d.agent().abort_update();
  }
  // The same counter with a newer version is allowed (a fix without a security bump).
  EXPECT_EQ(d.install(make_package(payload, {3, 0, 1}, 3, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  EXPECT_EQ(d.running_payload(), payload);
  EXPECT_EQ(d.sim().violations(), 0u);
}

TEST(OtaAgent, TruncatedAndOverlongStreamsAreRefused) {
  Device d;
  d.reboot();
  const auto pkg = make_package(test_plan(3000, 1), {1, 0, 0}, 1, d.keys());
  for (size_t cut : {size_t{0}, size_t{5}, size_t{12}, size_t{100}, pkg.size() - 1}) {
    std::vector<uint8_t> shorter(pkg.begin(), pkg.begin() + cut);
    EXPECT_EQ(d.install(shorter), Status::truncated) << cut;
    d.agent().abort_update();
  }
  std::vector<uint8_t> longer = pkg;
  longer.push_back(0);
  EXPECT_EQ(d.install(longer), Status::too_large);
  d.agent().abort_update();
  // After all that, nothing is pending and nothing runs; a good stream still installs.
  ASSERT_EQ(d.reboot(), Status::no_image);
  ASSERT_EQ(d.install(pkg), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
}

TEST(OtaAgent, CallsOutOfOrderAreRefused) {
  Device d;
  const uint8_t byte = 0;
  EXPECT_EQ(d.agent().boot(nullptr, nullptr), Status::not_initialized);
  ASSERT_EQ(d.agent().init(d.config()), Status::ok);
  EXPECT_EQ(d.agent().begin_update(), Status::bad_state);  // boot first
  EXPECT_EQ(d.agent().write_update(&byte, 1), Status::bad_state);
  EXPECT_EQ(d.agent().finish_update(), Status::bad_state);
  EXPECT_EQ(d.agent().boot(nullptr, nullptr), Status::no_image);
  ASSERT_EQ(d.agent().begin_update(), Status::ok);
  EXPECT_EQ(d.agent().begin_update(), Status::bad_state);  // one update at a time
  EXPECT_EQ(d.agent().boot(nullptr, nullptr), Status::bad_state);
  d.agent().abort_update();
  EXPECT_EQ(d.agent().begin_update(), Status::ok);
}

// Any chunk size, write unit and page size gives the same slot contents.
TEST(OtaAgent, AnyChunkSizeWriteUnitAndPageSize) {
  const auto v1 = test_plan(2500, 1), v2 = test_plan(6100, 2);
  int installs = 0;
  for (uint32_t page : {256u, 1024u, 4096u}) {
    for (uint32_t unit : {1u, 4u, 8u, 16u, 32u}) {
      Geometry g;
      g.page_size = page;
      g.write_unit = unit;
      g.slot_pages = (8 * 1024) / page;
      for (size_t chunk :
           {size_t{1}, size_t{3}, size_t{13}, size_t{64}, size_t{1000}, size_t{100000}}) {
        if (chunk == 1 && unit != 8) continue;  // byte-by-byte once per page size is enough
        Device d(g);
        d.reboot();
        ASSERT_EQ(d.install(make_package(v1, {1, 0, 0}, 1, d.keys()), chunk), Status::ok);
        ASSERT_EQ(d.reboot(), Status::ok);
        ASSERT_EQ(d.install(make_package(v2, {2, 0, 0}, 2, d.keys()), chunk), Status::ok);
        ASSERT_EQ(d.reboot(), Status::ok);
        ASSERT_EQ(d.running_payload(), v2) << page << "/" << unit << "/" << chunk;
        ASSERT_EQ(d.sim().violations(), 0u) << page << "/" << unit << "/" << chunk;
        ++installs;
      }
    }
  }
  EXPECT_GT(installs, 60);
}

// A second update replaces one still waiting for its first boot.
TEST(OtaAgent, PendingUpdateCanBeReplacedBeforeReboot) {
  Device d;
  d.reboot();
  const auto v1 = test_plan(2000, 1), v2 = test_plan(2000, 2), v3 = test_plan(2000, 3);
  ASSERT_EQ(d.install(make_package(v1, {1, 0, 0}, 1, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  ASSERT_EQ(d.install(make_package(v2, {2, 0, 0}, 2, d.keys())), Status::ok);
  ASSERT_EQ(d.install(make_package(v3, {3, 0, 0}, 3, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  EXPECT_EQ(d.running_payload(), v3);
}

// What becomes pending is what was authenticated and checked against the policy as it
// streamed in: when the slot's signed block is replaced before finish_update (by another
// genuine signed block for the same payload, written behind the agent's back), nothing
// becomes pending.
TEST(OtaAgent, SignedBlockReplacedBeforeFinishIsNotMadePending) {
  Device d;
  d.reboot();
  const auto v1 = test_plan(1500, 1), v2 = test_plan(1500, 2);
  ASSERT_EQ(d.install(make_package(v1, {1, 0, 0}, 1, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  const auto streamed = make_package(v2, {2, 0, 0}, 2, d.keys());
  const auto swapped = make_package(v2, {2, 0, 1}, 2, d.keys());
  uint32_t manifest_size = 0;
  ASSERT_EQ(parse_package_header(swapped.data(), swapped.size(), &manifest_size), Status::ok);
  const uint32_t block = signed_block_bytes(manifest_size);
  ASSERT_EQ(d.agent().begin_update(), Status::ok);
  ASSERT_EQ(d.agent().write_update(streamed.data(), streamed.size()), Status::ok);
  const uint8_t slot = static_cast<uint8_t>(1 - d.agent().running().slot);
  std::copy(swapped.begin(), swapped.begin() + block,
            d.memory().begin() + d.config().slot_address[slot]);
  EXPECT_NE(d.agent().finish_update(), Status::ok);
  EXPECT_FALSE(d.report().pending.valid);
  ASSERT_EQ(d.reboot(), Status::ok);
  EXPECT_EQ(d.report().last_boot, BootOutcome::normal);
  EXPECT_EQ(d.running_payload(), v1);
}

TEST(OtaAgent, BaseHashMustMatchTheRunningModel) {
  Device d;
  d.reboot();
  const auto v1 = test_plan(2000, 1), v2 = test_plan(2000, 2);
  ASSERT_EQ(d.install(make_package(v1, {1, 0, 0}, 1, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  PackageSpec spec;
  spec.model_id = "kws";
  spec.version = {2, 0, 0};
  spec.security_counter = 2;
  std::array<uint8_t, 32> base;
  sha256(v2.data(), v2.size(), base.data());  // not what runs
  spec.base_sha256 = base;
  EXPECT_EQ(d.install(write_package(spec, v2, d.keys().secret_key, self_test_for(v2))),
            Status::bad_target);
  d.agent().abort_update();
  sha256(v1.data(), v1.size(), base.data());
  spec.base_sha256 = base;
  EXPECT_EQ(d.install(write_package(spec, v2, d.keys().secret_key, self_test_for(v2))), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  EXPECT_EQ(d.running_payload(), v2);
}

// Flash wear, not power cuts, can damage the running slot: the other slot takes over if
// it verifies, is not below the counter floor and passes the self-test.
TEST(OtaAgent, DamagedRunningSlotFallsBackToTheOtherValidSlot) {
  Device d;
  d.reboot();
  const auto v1 = test_plan(2000, 1), v2 = test_plan(2000, 2);
  ASSERT_EQ(d.install(make_package(v1, {1, 0, 0}, 1, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  ASSERT_EQ(d.install(make_package(v2, {2, 0, 0}, 1, d.keys())), Status::ok);  // same counter
  ASSERT_EQ(d.reboot(), Status::ok);
  ASSERT_EQ(d.running_payload(), v2);
  d.memory()[d.agent().running().payload_address + 100] ^= 0x01;
  TestLog log;
  ASSERT_EQ(d.reboot(logging_test, &log), Status::ok);
  EXPECT_EQ(d.report().last_boot, BootOutcome::fallback);
  EXPECT_EQ(log.calls, 1);
  EXPECT_EQ(d.running_payload(), v1);
  // With the counter floor above the old model, falling back is refused.
  Device e;
  e.reboot();
  ASSERT_EQ(e.install(make_package(v1, {1, 0, 0}, 1, e.keys())), Status::ok);
  ASSERT_EQ(e.reboot(), Status::ok);
  ASSERT_EQ(e.install(make_package(v2, {2, 0, 0}, 2, e.keys())), Status::ok);
  ASSERT_EQ(e.reboot(), Status::ok);
  e.memory()[e.agent().running().payload_address + 100] ^= 0x01;
  EXPECT_EQ(e.reboot(), Status::no_image);
}

TEST(OtaAgent, InitRefusesInconsistentGeometry) {
  Device d;
  UpdateAgent a;
  AgentConfig c = d.config();
  c.state_address[1] = c.state_address[0];  // overlap
  EXPECT_EQ(a.init(c), Status::bad_params);
  c = d.config();
  c.slot_address[1] += 4;  // not page-aligned
  EXPECT_EQ(a.init(c), Status::bad_params);
  c = d.config();
  c.flash.write_unit = 64;  // more than kMaxWriteUnit
  EXPECT_EQ(a.init(c), Status::bad_params);
  c = d.config();
  c.slot_size = 512;  // no room for a payload
  EXPECT_EQ(a.init(c), Status::bad_params);
  c = d.config();
  c.keys = nullptr;
  EXPECT_EQ(a.init(c), Status::bad_params);
  c = d.config();
  c.num_keys = kMaxFactoryKeys + 1;
  EXPECT_EQ(a.init(c), Status::bad_params);
  c = d.config();
  c.mapped_flash = nullptr;  // plans are validated in place
  EXPECT_EQ(a.init(c), Status::bad_params);
  c = d.config();
  c.arena = nullptr;  // self-tests run in the device's arena
  EXPECT_EQ(a.init(c), Status::bad_params);
  c = d.config();
  c.security_address[1] = c.state_address[0];  // overlap
  EXPECT_EQ(a.init(c), Status::bad_params);
  c = d.config();
  c.slot_address[1] = 0xFFFFFC00;  // runs past 4 GiB
  EXPECT_EQ(a.init(c), Status::bad_params);
  EXPECT_EQ(a.init(d.config()), Status::ok);
}

// The product's own extra self-test runs the model in place, from the slot, after the
// built-in known-answer test. A correctly signed package whose plan is broken never gets
// that far: the device validates the plan before it marks the update pending.
struct ModelTest {
  const uint8_t* flash;
  int inferences = 0;
};

bool run_model(void* user, const ImageInfo& image) {
  auto* t = static_cast<ModelTest*>(user);
  alignas(16) static uint8_t arena[64 * 1024];
  Runtime rt;
  if (rt.init(t->flash + image.payload_address, image.plan_size, arena, sizeof arena) != Status::ok)
    return false;
  if (rt.num_inputs() == 0) return false;
  std::memset(rt.input(0).data, 0, rt.input(0).bytes);
  if (rt.invoke() != Status::ok) return false;
  ++t->inferences;
  return true;
}

TEST(OtaAgent, SelfTestRunsTheModelFromItsSlot) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tinyforge_ota_model_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string model = (dir / "tiny.tflite").string();
  io::write_file(model, tinyforge::testing::build_tflite(tinyforge::testing::tiny_int8_model()));
  const std::vector<uint8_t> blob = host::compile_model_file(model).blob;
  std::filesystem::remove_all(dir);

  Device d;
  d.reboot();
  ModelTest t{d.memory().data()};
  ASSERT_EQ(d.install(make_package(blob, {1, 0, 0}, 1, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(run_model, &t), Status::ok);
  EXPECT_EQ(t.inferences, 1);
  EXPECT_EQ(d.report().last_boot, BootOutcome::confirmed_update);

  std::vector<uint8_t> broken = blob;
  broken[8] ^= 0xFF;  // header_size: validate_plan refuses it, the signature is still good
  PackageSpec spec;
  spec.model_id = "kws";
  spec.version = {1, 0, 1};
  spec.security_counter = 1;
  const auto signed_broken = write_package(spec, broken, d.keys().secret_key, self_test_for(blob));
  const uint32_t ops = d.sim().operations();
  EXPECT_EQ(d.install(signed_broken), Status::bad_params);
  EXPECT_GT(d.sim().operations(), ops);  // it was written, then refused before "pending"
  EXPECT_FALSE(d.report().pending.valid);
  ASSERT_EQ(d.reboot(run_model, &t), Status::ok);
  EXPECT_EQ(d.report().last_boot, BootOutcome::normal);
  EXPECT_EQ(t.inferences, 1);
  EXPECT_EQ(d.running_payload(), blob);
  EXPECT_EQ(d.sim().violations(), 0u);
}

}  // namespace
}  // namespace tinyforge::ota
