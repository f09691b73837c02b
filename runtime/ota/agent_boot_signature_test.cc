// What boot() runs is authenticated at every boot, not only when it was streamed in: flash
// written behind the agent's back (a debugger, a second bootloader, a worn page) with a
// well-formed package signed by another key must never become the running model, whether
// the state record names it pending or active. Each test writes the slot and the state
// record directly, as such a writer would, then boots.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "runtime/ota/testing/ota_test_device.h"
#include "tinyforge/ota/agent.h"
#include "tinyforge/ota/package.h"
#include "tinyforge/ota/state_record.h"

namespace tinyforge::ota {
namespace {

using testing::Device;
using testing::make_package;
using testing::test_keys;
using testing::test_plan;

// Lays a whole package out in `slot` as the agent would have: signed block at offset 0,
// payload at kSlotPayloadOffset, erased (0xFF) bytes elsewhere.
void write_slot(Device& d, uint8_t slot, const std::vector<uint8_t>& package) {
  uint32_t manifest_size = 0;
  ASSERT_EQ(parse_package_header(package.data(), package.size(), &manifest_size), Status::ok);
  const uint32_t block = signed_block_bytes(manifest_size);
  ASSERT_LE(package.size() - block, d.config().slot_size - kSlotPayloadOffset);
  uint8_t* base = d.memory().data() + d.config().slot_address[slot];
  std::memset(base, 0xFF, d.config().slot_size);
  std::memcpy(base, package.data(), block);
  std::memcpy(base + kSlotPayloadOffset, package.data() + block, package.size() - block);
}

// Writes `next` as the newest state record (sequence one above the current newest) into
// the page that does not hold the current one.
void write_state_record(Device& d, StateRecord next) {
  StateRecord newest{};
  int newest_page = -1;
  for (int page = 0; page < 2; ++page) {
    StateRecord r;
    if (decode_state(d.memory().data() + d.config().state_address[page], &r) &&
        (newest_page < 0 || r.sequence > newest.sequence)) {
      newest = r;
      newest_page = page;
    }
  }
  next.sequence = newest_page < 0 ? 1 : newest.sequence + 1;
  const int page = newest_page == 0 ? 1 : 0;
  uint8_t* at = d.memory().data() + d.config().state_address[page];
  std::memset(at, 0xFF, d.geometry().page_size);
  encode_state(next, at);
}

// A package that names `claimed`'s key id but is signed with `signer`: what an attacker
// without the device's keys can make (the key id only picks the key; it proves nothing).
std::vector<uint8_t> forge_package(const std::vector<uint8_t>& plan, SemVer version,
                                   uint32_t counter, const KeyPair& claimed,
                                   const KeyPair& signer) {
  PackageSpec spec;
  spec.model_id = "kws";
  spec.version = version;
  spec.security_counter = counter;
  spec.key_id = key_id(claimed.public_key);
  return write_package(spec, plan, signer.secret_key, testing::self_test_for(plan));
}

struct SelfTestCalls {
  int calls = 0;
};
bool count_and_pass(void* user, const ImageInfo&) {
  ++static_cast<SelfTestCalls*>(user)->calls;
  return true;
}

TEST(OtaAgentBoot, PendingSlotSignedByAnotherKeyIsRolledBackUntested) {
  Device d;
  d.reboot();
  const auto v1 = test_plan(1500, 1), forged = test_plan(1500, 9);
  ASSERT_EQ(d.install(make_package(v1, {1, 0, 0}, 1, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  const uint8_t active = d.agent().running().slot;
  const uint8_t other = static_cast<uint8_t>(1 - active);

  // Well formed, right target, higher counter: only the key is wrong.
  write_slot(d, other, make_package(forged, {9, 0, 0}, 9, test_keys(2)));
  write_state_record(d, StateRecord{0, active, other, 0, 1});

  SelfTestCalls calls;
  ASSERT_EQ(d.reboot(count_and_pass, &calls), Status::ok);
  EXPECT_EQ(d.report().last_boot, BootOutcome::rolled_back_invalid);
  EXPECT_EQ(calls.calls, 0) << "an unauthenticated slot reached the self-test";
  EXPECT_EQ(d.agent().running().slot, active);
  EXPECT_EQ(d.running_payload(), v1);
  EXPECT_EQ(d.report().counter_floor, 1u) << "a forged counter raised the floor";
  EXPECT_FALSE(d.report().pending.valid);

  // The refusal is recorded: later boots keep running v1 and never try the forged slot.
  ASSERT_EQ(d.reboot(count_and_pass, &calls), Status::ok);
  EXPECT_EQ(d.report().last_boot, BootOutcome::normal);
  EXPECT_EQ(calls.calls, 0);
  EXPECT_EQ(d.running_payload(), v1);
}

TEST(OtaAgentBoot, ActiveSlotSignedByAnotherKeyNeverRuns) {
  Device d;
  const auto forged = test_plan(1200, 9);
  write_slot(d, 0, make_package(forged, {1, 0, 0}, 1, test_keys(2)));
  write_state_record(d, StateRecord{0, 0, kNoSlot, 0, 0});
  SelfTestCalls calls;
  EXPECT_EQ(d.reboot(count_and_pass, &calls), Status::no_image);
  EXPECT_EQ(d.report().last_boot, BootOutcome::no_image);
  EXPECT_FALSE(d.agent().running().valid);
  EXPECT_EQ(calls.calls, 0);

  // A genuine package in the other slot takes over (after its self-test); the forged one
  // stays unused.
  const auto genuine = test_plan(1300, 3);
  write_slot(d, 1, make_package(genuine, {1, 1, 0}, 1, d.keys()));
  ASSERT_EQ(d.reboot(count_and_pass, &calls), Status::ok);
  EXPECT_EQ(d.report().last_boot, BootOutcome::fallback);
  EXPECT_EQ(calls.calls, 1);
  EXPECT_EQ(d.agent().running().slot, 1);
  EXPECT_EQ(d.running_payload(), genuine);
}

TEST(OtaAgentBoot, ConfirmedSlotReplacedByAnotherKeysPackageFallsBack) {
  Device d;
  d.reboot();
  const auto v1 = test_plan(1000, 1), v2 = test_plan(1100, 2);
  ASSERT_EQ(d.install(make_package(v1, {1, 0, 0}, 1, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  ASSERT_EQ(d.install(make_package(v2, {2, 0, 0}, 2, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  const uint8_t v2_slot = d.agent().running().slot;
  ASSERT_EQ(d.running_payload(), v2);

  // The running v2 is overwritten with another key's package of the same size and counter:
  // the device must fall back to v1 (counter 1 < floor 2: refused too) -> nothing runs.
  write_slot(d, v2_slot, make_package(test_plan(1100, 7), {2, 0, 0}, 2, test_keys(3)));
  EXPECT_EQ(d.reboot(), Status::no_image);
  EXPECT_FALSE(d.agent().running().valid);
}

TEST(OtaAgentBoot, SlotClaimingATrustedKeyIdWithAForgedSignatureNeverRuns) {
  Device d;
  d.reboot();
  const auto v1 = test_plan(1500, 1), forged = test_plan(1500, 9);
  const auto package = forge_package(forged, {9, 0, 0}, 9, d.keys(), test_keys(2));
  ASSERT_EQ(d.install(package), Status::bad_signature);  // streamed: refused
  ASSERT_EQ(d.install(make_package(v1, {1, 0, 0}, 1, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  const uint8_t active = d.agent().running().slot;
  const uint8_t other = static_cast<uint8_t>(1 - active);

  // Written behind the agent's back and named pending: refused before its self-test.
  write_slot(d, other, package);
  write_state_record(d, StateRecord{0, active, other, 0, 1});
  SelfTestCalls calls;
  ASSERT_EQ(d.reboot(count_and_pass, &calls), Status::ok);
  EXPECT_EQ(d.report().last_boot, BootOutcome::rolled_back_invalid);
  EXPECT_EQ(calls.calls, 0) << "a forged slot reached the self-test";
  EXPECT_EQ(d.running_payload(), v1);
  EXPECT_EQ(d.report().counter_floor, 1u) << "a forged counter raised the floor";

  // Named active on a device with nothing else: nothing runs.
  Device e;
  write_slot(e, 0, package);
  write_state_record(e, StateRecord{0, 0, kNoSlot, 0, 0});
  EXPECT_EQ(e.reboot(count_and_pass, &calls), Status::no_image);
  EXPECT_FALSE(e.agent().running().valid);
  EXPECT_EQ(calls.calls, 0);
}

}  // namespace
}  // namespace tinyforge::ota
