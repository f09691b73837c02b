// The agent's security state: an anti-rollback floor that fails closed when its records
// are damaged (and the hardware counter hook), key ids, rotation and revocation, the
// known-answer self-test and plan validation before confirm, read-back of every write,
// persistent read errors in a slot.
#include <gtest/gtest.h>

#include "runtime/ota/testing/ota_test_device.h"

namespace tinyforge::ota {
namespace {

using testing::Device;
using testing::make_package;
using testing::NorFlashSim;
using testing::PackageOptions;
using testing::self_test_for;
using testing::test_keys;
using testing::test_plan;

const std::vector<uint8_t>& plan(uint32_t major) {
  static std::map<uint32_t, std::vector<uint8_t>> plans;
  auto& p = plans[major];
  if (p.empty()) p = test_plan(1500 + 200 * major, static_cast<uint8_t>(major));
  return p;
}

std::vector<uint8_t> pkg(uint32_t major, const KeyPair& keys, PackageOptions o = {}) {
  return make_package(plan(major), {major, 0, 0}, major, keys, o);
}

// v1 then v2 installed and confirmed.
void run_v1_then_v2(Device& d) {
  ASSERT_EQ(d.reboot(), Status::no_image);
  ASSERT_EQ(d.install(pkg(1, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  ASSERT_EQ(d.install(pkg(2, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  ASSERT_EQ(d.running_payload(), plan(2));
}

void damage(Device& d, uint32_t address) { d.memory()[address + 9] ^= 0x10; }

TEST(OtaSecurity, DamagedFloorRecordsFailClosedUntilRestored) {
  Device d;
  run_v1_then_v2(d);
  damage(d, d.config().security_address[0]);
  damage(d, d.config().security_address[1]);
  ASSERT_EQ(d.reboot(), Status::ok);
  EXPECT_EQ(d.running_payload(), plan(2));  // the running model keeps running
  VersionReport r = d.report();
  EXPECT_FALSE(r.floor_known);
  EXPECT_EQ(r.counter_floor, 2u);  // what can still be read: never lowered
  EXPECT_EQ(d.install(pkg(1, d.keys())), Status::floor_unknown);
  EXPECT_EQ(d.install(pkg(3, d.keys())), Status::floor_unknown);
  ASSERT_EQ(d.reboot(), Status::ok);  // stays closed across reboots
  EXPECT_FALSE(d.report().floor_known);

  SecurityState restored{};
  restored.floor = 1;
  EXPECT_EQ(d.agent().restore_security(restored), Status::bad_params);  // below what is known
  restored.floor = 2;
  ASSERT_EQ(d.agent().restore_security(restored), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  EXPECT_TRUE(d.report().floor_known);
  EXPECT_EQ(d.install(pkg(1, d.keys())), Status::rollback);
  d.agent().abort_update();
  ASSERT_EQ(d.install(pkg(3, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  EXPECT_EQ(d.running_payload(), plan(3));
  EXPECT_EQ(d.report().counter_floor, 3u);
  EXPECT_EQ(d.sim().violations(), 0u);
}

// The journal can be damaged too: its newest record lost, the older one names v1 as
// active. The floor (2) refuses v1, and the device falls back to v2.
TEST(OtaSecurity, LostJournalRecordDoesNotRunTheOlderModel) {
  for (uint32_t page = 0; page < 2; ++page) {
    Device e;
    run_v1_then_v2(e);
    // Newest journal record: the one with the higher sequence number.
    const uint32_t a0 = e.config().state_address[0], a1 = e.config().state_address[1];
    uint32_t s0, s1;
    std::memcpy(&s0, e.memory().data() + a0 + 4, 4);
    std::memcpy(&s1, e.memory().data() + a1 + 4, 4);
    const uint32_t newest = s0 > s1 ? a0 : a1;
    damage(e, page == 0 ? newest : (newest == a0 ? a1 : a0));
    ASSERT_EQ(e.reboot(), Status::ok);
    EXPECT_EQ(e.running_payload(), plan(2)) << page;
    EXPECT_EQ(e.install(pkg(1, e.keys())), Status::rollback) << page;
  }
}

struct FakeOtp {
  uint32_t value = 0;
  int advances = 0;
  static Status read(void* self, uint32_t* v) {
    *v = static_cast<FakeOtp*>(self)->value;
    return Status::ok;
  }
  static Status advance(void* self, uint32_t v) {
    auto* o = static_cast<FakeOtp*>(self);
    if (v > o->value) {
      o->value = v;
      ++o->advances;
    }
    return Status::ok;
  }
};

// A physical attacker wipes the metadata pages and copies the old signed v1 over the slot
// holding v2. With a hardware counter the device refuses to run v1 (and takes the next
// update); without one the attack works, as docs/ota-security.md says.
void wipe_and_replay_v1(Device& d) {
  const uint32_t page = d.geometry().page_size;
  for (uint32_t a : {d.config().state_address[0], d.config().state_address[1],
                     d.config().security_address[0], d.config().security_address[1]})
    std::fill(d.memory().begin() + a, d.memory().begin() + a + page, 0xFF);
  const uint32_t v2 = d.agent().running().slot, v1 = 1 - v2;
  const uint32_t size = d.config().slot_size;
  std::copy(d.memory().begin() + d.config().slot_address[v1],
            d.memory().begin() + d.config().slot_address[v1] + size,
            d.memory().begin() + d.config().slot_address[v2]);
}

TEST(OtaSecurity, HardwareCounterHoldsTheFloorWhenFlashIsRewritten) {
  Device d;
  FakeOtp otp;
  d.config().hardware_counter = {&otp, &FakeOtp::read, &FakeOtp::advance};
  run_v1_then_v2(d);
  EXPECT_EQ(otp.value, 2u);
  wipe_and_replay_v1(d);
  ASSERT_EQ(d.reboot(), Status::no_image);
  EXPECT_EQ(d.report().counter_floor, 2u);
  EXPECT_EQ(d.install(pkg(1, d.keys())), Status::rollback);
  d.agent().abort_update();
  ASSERT_EQ(d.install(pkg(3, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  EXPECT_EQ(d.running_payload(), plan(3));
  EXPECT_EQ(otp.value, 3u);

  Device e;  // no hardware counter: not defended
  run_v1_then_v2(e);
  wipe_and_replay_v1(e);
  ASSERT_EQ(e.reboot(), Status::ok);
  EXPECT_EQ(e.running_payload(), plan(1));
}

// Only the security pages erased (a partial wipe, or pages that read as blank): the agent
// sees a new device's security record, but the journal still holds the floor, so the old
// signed v1 copied over v2 does not run and is not accepted as an update either.
TEST(OtaSecurity, ErasedSecurityPagesKeepTheJournalsFloor) {
  Device d;
  run_v1_then_v2(d);
  const uint32_t page = d.geometry().page_size;
  for (uint32_t a : {d.config().security_address[0], d.config().security_address[1]})
    std::fill(d.memory().begin() + a, d.memory().begin() + a + page, 0xFF);
  const uint32_t v2 = d.agent().running().slot, v1 = 1 - v2;
  const uint32_t size = d.config().slot_size;
  std::copy(d.memory().begin() + d.config().slot_address[v1],
            d.memory().begin() + d.config().slot_address[v1] + size,
            d.memory().begin() + d.config().slot_address[v2]);
  ASSERT_EQ(d.reboot(), Status::no_image);
  EXPECT_FALSE(d.agent().running().valid);
  EXPECT_EQ(d.report().counter_floor, 2u);
  EXPECT_EQ(d.install(pkg(1, d.keys())), Status::rollback);
  d.agent().abort_update();
  ASSERT_EQ(d.install(pkg(3, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  EXPECT_EQ(d.running_payload(), plan(3));
}

TEST(OtaSecurity, KeyRotationAndRevocation) {
  Device d;
  const KeyPair k1 = d.keys(), k2 = test_keys(2), k3 = test_keys(3);
  ASSERT_EQ(d.reboot(), Status::no_image);
  ASSERT_EQ(d.install(pkg(1, k1)), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  EXPECT_EQ(d.install(pkg(2, k2)), Status::bad_key);  // not trusted yet
  d.agent().abort_update();

  PackageOptions rotate;
  rotate.add_key = k2.public_key;
  rotate.revoke_key_id = key_id_of(k1.public_key.data());
  ASSERT_EQ(d.install(pkg(2, k1, rotate)), Status::ok);  // signed with the old key
  VersionReport r = d.report();
  EXPECT_EQ(r.num_added_keys, 0u);  // only once the update is confirmed
  ASSERT_EQ(d.reboot(), Status::ok);
  r = d.report();
  EXPECT_EQ(r.num_added_keys, 1u);
  EXPECT_EQ(r.num_revoked_keys, 1u);
  ASSERT_EQ(d.reboot(), Status::ok);  // the running model signed by the revoked key still runs
  EXPECT_EQ(d.running_payload(), plan(2));
  EXPECT_EQ(d.install(pkg(3, k1)), Status::bad_key);  // revoked
  d.agent().abort_update();
  EXPECT_EQ(d.install(pkg(3, k3)), Status::bad_key);  // never trusted
  d.agent().abort_update();
  ASSERT_EQ(d.install(pkg(3, k2)), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  EXPECT_EQ(d.running_payload(), plan(3));

  // A revocation that would leave no key, or re-adding a revoked key, is refused.
  PackageOptions lockout;
  lockout.revoke_key_id = key_id_of(k2.public_key.data());
  EXPECT_EQ(d.install(pkg(4, k2, lockout)), Status::bad_key);
  d.agent().abort_update();
  PackageOptions readd;
  readd.add_key = k1.public_key;
  EXPECT_EQ(d.install(pkg(4, k2, readd)), Status::bad_key);
  d.agent().abort_update();
  EXPECT_EQ(d.sim().violations(), 0u);
}

// A power cut at every operation of the rotation's install and first boot: afterwards the
// keys are either all old (v1 runs) or all new (v2 runs), never a mix.
TEST(OtaSecurity, PowerCutDuringRotationKeepsKeysConsistent) {
  Device d;
  const KeyPair k1 = d.keys(), k2 = test_keys(2);
  d.sim().set_ecc(true);
  ASSERT_EQ(d.reboot(), Status::no_image);
  ASSERT_EQ(d.install(pkg(1, k1)), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  PackageOptions rotate;
  rotate.add_key = k2.public_key;
  rotate.revoke_key_id = key_id_of(k1.public_key.data());
  const auto rotation = pkg(2, k1, rotate);
  const auto snapshot = d.memory();
  auto sequence = [&] {
    Status s = d.install(rotation);
    return s == Status::ok ? d.reboot() : s;
  };
  const uint32_t start = d.sim().operations();
  ASSERT_EQ(sequence(), Status::ok);
  const uint32_t ops = d.sim().operations() - start;
  int cuts = 0;
  for (uint32_t op = 0; op < ops; ++op) {
    d.memory() = snapshot;
    d.sim().clear_read_errors();
    ASSERT_EQ(d.reboot(), Status::ok);
    d.sim().arm_cut(d.sim().operations() + op, NorFlashSim::Cut::torn, op + 1);
    ASSERT_EQ(sequence(), Status::power_lost) << op;
    ASSERT_EQ(d.reboot(), Status::ok) << op;
    const bool rotated = d.running_payload() == plan(2);
    ASSERT_TRUE(rotated || d.running_payload() == plan(1)) << op;
    EXPECT_EQ(d.install(pkg(3, rotated ? k1 : k2)), Status::bad_key) << op;
    d.agent().abort_update();
    EXPECT_EQ(d.install(pkg(3, rotated ? k2 : k1)), Status::ok) << op;
    ++cuts;
  }
  EXPECT_GT(cuts, 10);
}

TEST(OtaSecurity, PackagesWithoutKnownAnswerAreRefusedUnlessTheProductOptsOut) {
  Device d;
  ASSERT_EQ(d.reboot(), Status::no_image);
  PackageOptions bare;
  bare.self_test = false;
  const uint32_t ops = d.sim().operations();
  EXPECT_EQ(d.install(pkg(1, d.keys(), bare)), Status::no_self_test);
  EXPECT_EQ(d.sim().operations(), ops);  // refused from the signed block alone
  d.agent().abort_update();

  Device e;
  e.config().policy = kAllowNoSelfTest;
  ASSERT_EQ(e.reboot(), Status::no_image);
  ASSERT_EQ(e.install(pkg(1, e.keys(), bare)), Status::ok);
  ASSERT_EQ(e.reboot(), Status::ok);
  EXPECT_EQ(e.report().last_boot, BootOutcome::confirmed_update);
}

// A signed package whose recorded answer does not match what the plan computes (a model
// that would run but compute something else on this device) is rolled back at first boot.
TEST(OtaSecurity, WrongKnownAnswerRollsBack) {
  Device d;
  ASSERT_EQ(d.reboot(), Status::no_image);
  ASSERT_EQ(d.install(pkg(1, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  std::vector<uint8_t> answer = self_test_for(plan(2));
  // The first byte of the expected output (one unit off): skip the header and the input.
  const uint32_t input_bytes = answer[16] | (answer[17] << 8);
  answer[16 + 4 + ((input_bytes + 3) & ~3u) + 4] ^= 0x01;
  PackageSpec spec;
  spec.model_id = "kws";
  spec.version = {2, 0, 0};
  spec.security_counter = 2;
  ASSERT_EQ(d.install(write_package(spec, plan(2), d.keys().secret_key, answer)), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  EXPECT_EQ(d.report().last_boot, BootOutcome::rolled_back_test);
  EXPECT_EQ(d.running_payload(), plan(1));
  EXPECT_EQ(d.report().counter_floor, 1u);
}

TEST(OtaSecurity, PlanNeedingMoreArenaThanTheDeviceIsRefused) {
  Device d;
  d.config().arena_size = 16;
  ASSERT_EQ(d.reboot(), Status::no_image);
  EXPECT_EQ(d.install(pkg(1, d.keys())), Status::arena_too_small);
  ASSERT_EQ(d.reboot(), Status::no_image);
  EXPECT_FALSE(d.report().pending.valid);
}

// Every write is read back: a write that silently did not take (worn cells) fails the
// update instead of being trusted, at any write of the stream or of the records.
TEST(OtaSecurity, WeakWriteIsCaughtByReadBack) {
  Device d;
  ASSERT_EQ(d.reboot(), Status::no_image);
  ASSERT_EQ(d.install(pkg(1, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  const auto snapshot = d.memory();
  const uint32_t start = d.sim().operations();
  ASSERT_EQ(d.install(pkg(2, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  const uint32_t ops = d.sim().operations() - start;
  int caught = 0;
  for (uint32_t op = 0; op < ops; ++op) {
    d.memory() = snapshot;
    ASSERT_EQ(d.reboot(), Status::ok);
    d.sim().arm_weak_write(d.sim().operations() + op, op + 1);
    Status s = d.install(pkg(2, d.keys()));
    if (s == Status::ok) s = d.reboot();
    d.sim().disarm();
    if (s == Status::flash_error) ++caught;
    ASSERT_EQ(d.reboot(), Status::ok) << op;
    const bool v2 = d.running_payload() == plan(2);
    ASSERT_TRUE(v2 || d.running_payload() == plan(1)) << op;
    if (!v2) {
      ASSERT_EQ(d.install(pkg(2, d.keys())), Status::ok) << op;
      ASSERT_EQ(d.reboot(), Status::ok) << op;
      ASSERT_EQ(d.running_payload(), plan(2)) << op;
    }
  }
  EXPECT_GT(caught, static_cast<int>(ops / 3));  // erases have nothing to read back
  EXPECT_EQ(d.sim().violations(), 0u);
}

// A page of the running slot that stays unreadable (wear, not a power cut): the device
// runs the other slot if it is acceptable, else reports no_image and takes an update.
TEST(OtaSecurity, PersistentReadErrorInTheRunningSlot) {
  Device d;
  run_v1_then_v2(d);
  d.sim().set_unreadable(d.agent().running().payload_address + 600);
  ASSERT_EQ(d.reboot(), Status::no_image);  // v1 in the other slot is below the floor
  ASSERT_EQ(d.install(pkg(3, d.keys())), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  EXPECT_EQ(d.running_payload(), plan(3));

  Device e;  // same counter in the other slot: it takes over
  ASSERT_EQ(e.reboot(), Status::no_image);
  ASSERT_EQ(e.install(make_package(plan(1), {1, 0, 0}, 1, e.keys())), Status::ok);
  ASSERT_EQ(e.reboot(), Status::ok);
  ASSERT_EQ(e.install(make_package(plan(2), {1, 1, 0}, 1, e.keys())), Status::ok);
  ASSERT_EQ(e.reboot(), Status::ok);
  e.sim().set_unreadable(e.agent().running().payload_address + 600);
  ASSERT_EQ(e.reboot(), Status::ok);
  EXPECT_EQ(e.report().last_boot, BootOutcome::fallback);
  EXPECT_EQ(e.running_payload(), plan(1));
}

}  // namespace
}  // namespace tinyforge::ota
