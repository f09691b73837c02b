// The agent's policy at its edges (docs/ota-format.md): a counter equal to the installed one
// is accepted, a lower one never runs -- not even through a state record naming an older
// genuine slot pending; a genuine package for another target never boots; and an install
// whose bytes did not reach flash (a write-protected slot that ignores erases and writes
// without an error) is refused instead of marking the slot's old contents pending.
#include <gtest/gtest.h>

#include <algorithm>
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
using testing::test_plan;

void write_slot(Device& d, uint8_t slot, const std::vector<uint8_t>& package) {
  uint32_t manifest_size = 0;
  ASSERT_EQ(parse_package_header(package.data(), package.size(), &manifest_size), Status::ok);
  const uint32_t block = signed_block_bytes(manifest_size);
  uint8_t* base = d.memory().data() + d.config().slot_address[slot];
  std::memset(base, 0xFF, d.config().slot_size);
  std::memcpy(base, package.data(), block);
  std::memcpy(base + kSlotPayloadOffset, package.data() + block, package.size() - block);
}

// The newest state record replaced by `next` (sequence one higher, the other page).
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
  uint8_t* at = d.memory().data() + d.config().state_address[newest_page == 0 ? 1 : 0];
  std::memset(at, 0xFF, d.geometry().page_size);
  encode_state(next, at);
}

TEST(OtaAgentPolicy, EqualCounterIsAcceptedLowerIsNot) {
  Device d;
  d.reboot();
  const auto v1 = test_plan(900, 1), v1b = test_plan(950, 2), old = test_plan(800, 3);
  ASSERT_EQ(d.install(make_package(v1, {1, 0, 0}, 3, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  // A fix that keeps the security counter (3 = installed) installs and runs.
  ASSERT_EQ(d.install(make_package(v1b, {1, 0, 1}, 3, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  EXPECT_EQ(d.running_payload(), v1b);
  EXPECT_EQ(d.install(make_package(old, {0, 9, 0}, 2, d.keys())), Status::rollback);
  d.agent().abort_update();
  ASSERT_EQ(d.reboot(), Status::ok);
  EXPECT_EQ(d.running_payload(), v1b);
}

TEST(OtaAgentPolicy, OlderGenuineSlotNamedPendingIsRolledBack) {
  Device d;
  d.reboot();
  const auto v1 = test_plan(1000, 1), v2 = test_plan(1000, 2);
  ASSERT_EQ(d.install(make_package(v1, {1, 0, 0}, 1, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  const uint8_t v1_slot = d.agent().running().slot;
  ASSERT_EQ(d.install(make_package(v2, {2, 0, 0}, 2, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  ASSERT_EQ(d.report().counter_floor, 2u);
  const uint8_t v2_slot = d.agent().running().slot;

  // v1 (counter 1, genuinely signed) is still in its slot; a record naming it pending must
  // not bring it back below the floor.
  write_state_record(d, StateRecord{0, v2_slot, v1_slot, 0, 2});
  int tests = 0;
  auto count = [](void* user, const ImageInfo&) {
    ++*static_cast<int*>(user);
    return true;
  };
  ASSERT_EQ(d.reboot(count, &tests), Status::ok);
  EXPECT_EQ(d.report().last_boot, BootOutcome::rolled_back_invalid);
  EXPECT_EQ(tests, 0);
  EXPECT_EQ(d.running_payload(), v2);
  EXPECT_EQ(d.report().counter_floor, 2u);
}

TEST(OtaAgentPolicy, GenuinePackageForAnotherTargetNeverBoots) {
  Device d;
  write_slot(d, 0, make_package(test_plan(700, 4), {1, 0, 0}, 1, d.keys(), "cortex-m7"));
  write_state_record(d, StateRecord{0, 0, kNoSlot, 0, 0});
  EXPECT_EQ(d.reboot(), Status::no_image);
  EXPECT_FALSE(d.agent().running().valid);

  // Named pending instead: rolled back, not tried.
  write_slot(d, 1, make_package(test_plan(700, 5), {1, 0, 0}, 1, d.keys(), "cortex-m7"));
  write_state_record(d, StateRecord{0, 0, 1, 0, 0});
  EXPECT_EQ(d.reboot(), Status::no_image);
  EXPECT_EQ(d.report().last_boot, BootOutcome::no_image);
  EXPECT_FALSE(d.agent().running().valid);
}

// Flash whose slot `protected_slot` silently ignores erases and writes (a misconfigured
// write protection): every call reports success, nothing changes.
struct ProtectedFlash {
  Flash inner;
  uint32_t begin, end;

  static Status read(void* c, uint32_t a, uint8_t* out, uint32_t n) {
    auto* f = static_cast<ProtectedFlash*>(c);
    return f->inner.read(f->inner.context, a, out, n);
  }
  static Status write(void* c, uint32_t a, const uint8_t* data, uint32_t n) {
    auto* f = static_cast<ProtectedFlash*>(c);
    if (a >= f->begin && a < f->end) return Status::ok;
    return f->inner.write(f->inner.context, a, data, n);
  }
  static Status erase(void* c, uint32_t a) {
    auto* f = static_cast<ProtectedFlash*>(c);
    if (a >= f->begin && a < f->end) return Status::ok;
    return f->inner.erase_page(f->inner.context, a);
  }
};

TEST(OtaAgentPolicy, InstallThatNeverReachedFlashIsRefused) {
  Device d;
  d.reboot();
  const auto v1 = test_plan(1200, 1), v2 = test_plan(1200, 2), v3 = test_plan(1200, 3);
  ASSERT_EQ(d.install(make_package(v1, {1, 0, 0}, 1, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  ASSERT_EQ(d.install(make_package(v2, {2, 0, 0}, 2, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  const uint8_t target = static_cast<uint8_t>(1 - d.agent().running().slot);  // holds v1

  ProtectedFlash guard{d.config().flash, d.config().slot_address[target],
                       d.config().slot_address[target] + d.config().slot_size};
  Flash flash = guard.inner;
  flash.context = &guard;
  flash.read = ProtectedFlash::read;
  flash.write = ProtectedFlash::write;
  flash.erase_page = ProtectedFlash::erase;
  d.config().flash = flash;
  ASSERT_EQ(d.reboot(), Status::ok);

  // The slot still holds v1, which verifies on its own; it is not what was streamed.
  EXPECT_NE(d.install(make_package(v3, {3, 0, 0}, 3, d.keys())), Status::ok);
  EXPECT_FALSE(d.report().pending.valid);
  ASSERT_EQ(d.reboot(), Status::ok);
  EXPECT_EQ(d.report().last_boot, BootOutcome::normal);
  EXPECT_EQ(d.running_payload(), v2);
}

// Every state change goes to the page that does not hold the current record, so the
// previous record survives intact beside the new one (sequence numbers n and n - 1).
TEST(OtaAgentPolicy, StateChangesAlternatePagesKeepingThePreviousRecord) {
  Device d;
  d.reboot();
  uint32_t last = 0;
  for (uint8_t v = 1; v <= 3; ++v) {
    SCOPED_TRACE(::testing::Message() << "update " << int{v});
    ASSERT_EQ(d.install(make_package(test_plan(600, v), {v, 0, 0}, v, d.keys())), Status::ok);
    ASSERT_EQ(d.reboot(), Status::ok);
    StateRecord r[2];
    ASSERT_TRUE(decode_state(d.memory().data() + d.config().state_address[0], &r[0]));
    ASSERT_TRUE(decode_state(d.memory().data() + d.config().state_address[1], &r[1]));
    const uint32_t newest = std::max(r[0].sequence, r[1].sequence);
    EXPECT_EQ(std::min(r[0].sequence, r[1].sequence) + 1, newest);
    EXPECT_GT(newest, last);
    last = newest;
  }
}

}  // namespace
}  // namespace tinyforge::ota
