// The OTA fault suite: the real agent on simulated NOR flash with ECC, under
//  - a power cut at every erase and write of an update and its first boot (before, after,
//    torn; a torn page then reads back as an ECC error),
//  - a read error at every read of the same sequence (a burst that outlasts the agent's
//    retries, and a sticky ECC error on the journal and security pages),
//  - both: a power cut at every operation, then a read error at every read of the recovery,
//  - a bit flip at every bit of every journal and security record, in steady state, and
//    one flip per record after a power cut at every operation,
//  - signed packages whose plan is malformed (every byte of the plan's header and tables
//    changed, the plan's own checksum fixed up so the deeper checks are reached).
// After every fault the device reboots without faults and must: run the old or the new
// model byte for byte (never a mix, never nothing), refuse the older signed package,
// accept the next update, and never have confirmed a plan that did not validate and
// reproduce its known answer. Totals are printed; every count of failures must be 0.
// The update v1 -> v2 runs as a full package and again as a delta package (Delta* tests).
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdio>

#include "runtime/ota/testing/ota_test_device.h"
#include "tinyforge/ota/known_answer.h"
#include "tinyforge/plan_format.h"

namespace tinyforge::ota {
namespace {

using testing::Device;
using testing::make_package;
using testing::NorFlashSim;
using testing::test_plan;

struct Models {
  std::vector<uint8_t> v1 = test_plan(2600, 1);
  std::vector<uint8_t> v2 = test_plan(3000, 2);
  std::vector<uint8_t> v3 = test_plan(2200, 3);
};

const Models& models() {
  static const Models m;
  return m;
}

struct Tally {
  int scenarios = 0;
  int bricked = 0;      // no model runs after a clean reboot, or the next update fails
  int rollbacks = 0;    // an older signed package accepted, or an older model running
  int unvalidated = 0;  // a confirmed image that does not validate or fails its answer
  int mixed = 0;        // a running image that is not byte-identical to a shipped one
};

// The product's extra self-test: runs only after the built-in validation and known-answer
// test passed, so every image it sees must be a shipped plan that validates.
struct Checker {
  std::vector<uint8_t>* memory;
  int bad_images = 0;
};

const std::vector<uint8_t>* shipped(uint32_t major) {
  const Models& m = models();
  return major == 1 ? &m.v1 : major == 2 ? &m.v2 : major == 3 ? &m.v3 : nullptr;
}

bool is_shipped_image(const std::vector<uint8_t>& memory, const ImageInfo& image) {
  const std::vector<uint8_t>* want = shipped(image.version.major);
  if (want == nullptr || image.security_counter != image.version.major ||
      image.plan_size < want->size() || image.plan_size > want->size() + 3)
    return false;
  return std::equal(want->begin(), want->end(), memory.begin() + image.payload_address);
}

bool checking_self_test(void* user, const ImageInfo& image) {
  auto* c = static_cast<Checker*>(user);
  if (!is_shipped_image(*c->memory, image)) ++c->bad_images;
  return true;
}

// Re-checks a confirmed image the way the device should have: validator + known answer.
bool validated(Device& d, const ImageInfo& image) {
  Manifest m{};
  const uint8_t* slot = d.memory().data() + image.payload_address - kSlotPayloadOffset;
  const uint32_t manifest_size = slot[8] | (slot[9] << 8);
  if (verify_signed_block(slot, signed_block_bytes(manifest_size), d.keys().public_key.data(),
                          &m) != Status::ok)
    return false;
  if (!m.has_self_test) return false;
  const uint8_t* payload = slot + kSlotPayloadOffset;
  return run_known_answer_test(payload, m.self_test_offset, payload + m.self_test_offset,
                               m.payload_size - m.self_test_offset, d.config().arena,
                               d.config().arena_size) == Status::ok;
}

// Which records a bit flip may hit: the two journal records and the two security copies.
std::vector<std::pair<uint32_t, uint32_t>> records(const AgentConfig& c) {
  return {{c.state_address[0], kStateRecordBytes},
          {c.state_address[1], kStateRecordBytes},
          {c.security_address[0], kSecurityRecordBytes},
          {c.security_address[1], kSecurityRecordBytes}};
}

class OtaFaults : public ::testing::Test {
 protected:
  const std::vector<uint8_t>& package(uint32_t major) {
    auto& p = packages_[major];
    if (!p.empty()) return p;
    if (delta_ && major == 2)
      p = testing::make_delta_package(*shipped(1), *shipped(2), {2, 0, 0}, 2, keys_);
    else
      p = make_package(*shipped(major), {major, 0, 0}, major, keys_);
    return p;
  }

  // Device running v1 (confirmed), ECC on.
  void start(Device& d) {
    d.sim().set_ecc(true);
    ASSERT_EQ(d.reboot(), Status::no_image);
    ASSERT_EQ(d.install(package(1)), Status::ok);
    ASSERT_EQ(d.reboot(), Status::ok);
    ASSERT_EQ(d.running_payload(), models().v1);
  }

  // The sequence under test: boot, stream v2, first boot of v2 (trial, test, confirm).
  Status update_sequence(Device& d, Checker* c) {
    Status s = d.reboot(checking_self_test, c);
    if (s != Status::ok) return s;
    s = d.install(package(2), 300);
    if (s != Status::ok) return s;
    return d.reboot(checking_self_test, c);
  }

  // After the faults: clean reboot, then the invariants. `floor` is the lowest counter the
  // device may run (the highest one confirmed before the faults began).
  void check_recovers(Device& d, Checker* c, uint32_t floor, const std::string& where) {
    ++tally_.scenarios;
    d.sim().disarm();
    Status s = d.reboot(checking_self_test, c);
    const ImageInfo run = d.agent().running();
    if (s != Status::ok || !run.valid) {
      ++tally_.bricked;
      ADD_FAILURE() << where << ": no model runs (" << status_name(s) << ")";
      return;
    }
    if (!is_shipped_image(d.memory(), run)) {
      ++tally_.mixed;
      ADD_FAILURE() << where << ": running a mixed image";
      return;
    }
    if (run.security_counter < floor) {
      ++tally_.rollbacks;
      ADD_FAILURE() << where << ": running v" << run.version.major << " below floor " << floor;
    }
    if (!validated(d, run)) {
      ++tally_.unvalidated;
      ADD_FAILURE() << where << ": running an image that does not validate";
    }
    if (run.security_counter >= 2 && d.install(package(1)) == Status::ok) {
      ++tally_.rollbacks;
      ADD_FAILURE() << where << ": accepted the older v1 package";
    }
    d.agent().abort_update();
    if (!d.report().floor_known) return;  // fails closed: shown by its own test
    s = d.install(package(3));
    if (s == Status::ok) s = d.reboot(checking_self_test, c);
    if (s != Status::ok || d.running_payload() != models().v3) {
      ++tally_.bricked;
      ADD_FAILURE() << where << ": the next update did not install (" << status_name(s) << ")";
    }
    if (c->bad_images != 0) {
      ++tally_.unvalidated;
      ADD_FAILURE() << where << ": the self-test saw an image that is not a shipped plan";
      c->bad_images = 0;
    }
    if (d.sim().violations() != 0) ADD_FAILURE() << where << ": flash contract broken";
  }

  void print(const char* what) {
    std::printf(
        "ota faults, %s: %d scenarios, %d bricked, %d rollbacks accepted, %d unvalidated "
        "confirmed, %d mixed images\n",
        what, tally_.scenarios, tally_.bricked, tally_.rollbacks, tally_.unvalidated, tally_.mixed);
    EXPECT_EQ(tally_.bricked + tally_.rollbacks + tally_.unvalidated + tally_.mixed, 0);
  }

  void power_cut_at_every_write() {
    Device d;
    start(d);
    Checker c{&d.memory()};
    const auto snapshot = d.memory();
    const uint32_t ops = count(d, snapshot, [&] { return update_sequence(d, &c); }).first;
    ASSERT_GT(ops, 10u);
    const NorFlashSim::Cut kinds[] = {NorFlashSim::Cut::before, NorFlashSim::Cut::after,
                                      NorFlashSim::Cut::torn, NorFlashSim::Cut::torn};
    for (uint32_t op = 0; op < ops; ++op) {
      for (size_t k = 0; k < 4; ++k) {
        d.memory() = snapshot;
        d.sim().power_on();
        d.sim().clear_read_errors();
        d.sim().arm_cut(d.sim().operations() + op, kinds[k], op * 7919u + k);
        ASSERT_EQ(update_sequence(d, &c), Status::power_lost) << op;
        check_recovers(d, &c, 1, "cut " + std::to_string(op) + "/" + std::to_string(k));
        if (HasFatalFailure()) return;
      }
    }
    print("power cut at every write (ECC)");
  }

  void read_error_at_every_read() {
    Device d;
    start(d);
    Checker c{&d.memory()};
    const auto snapshot = d.memory();
    const uint32_t reads = count(d, snapshot, [&] { return update_sequence(d, &c); }).second;
    ASSERT_GT(reads, 50u);
    const AgentConfig& cfg = d.config();
    auto metadata = [&](uint32_t address) {
      for (int i = 0; i < 2; ++i)
        if (address / d.geometry().page_size == cfg.state_address[i] / d.geometry().page_size ||
            address / d.geometry().page_size == cfg.security_address[i] / d.geometry().page_size)
          return true;
      return false;
    };
    int sticky = 0;
    for (uint32_t r = 0; r < reads; ++r) {
      for (auto kind : {NorFlashSim::ReadFault::transient, NorFlashSim::ReadFault::sticky}) {
        d.memory() = snapshot;
        d.sim().power_on();
        d.sim().clear_read_errors();
        d.sim().arm_read_error(d.sim().reads() + r, kind, kReadAttempts);
        (void)update_sequence(d, &c);  // may fail: flash_error is a legal answer
        // A sticky ECC error is what a torn write leaves: only on pages the agent rewrites
        // (metadata). A persistent error inside the running slot is wear, tested apart.
        if (kind == NorFlashSim::ReadFault::sticky) {
          if (!metadata(d.sim().last_read_error_address())) continue;
          ++sticky;
        }
        check_recovers(d, &c, 1,
                       "read " + std::to_string(r) +
                           (kind == NorFlashSim::ReadFault::sticky ? " sticky" : " burst"));
        if (HasFatalFailure()) return;
      }
    }
    EXPECT_GT(sticky, 4);
    print("read error at every read");
  }

  // A power cut at every operation, then a read error at every read of the recovery boot.
  void power_cut_then_read_error() {
    Device d;
    start(d);
    Checker c{&d.memory()};
    const auto snapshot = d.memory();
    const uint32_t ops = count(d, snapshot, [&] { return update_sequence(d, &c); }).first;
    for (uint32_t op = 0; op < ops; ++op) {
      d.memory() = snapshot;
      d.sim().power_on();
      d.sim().clear_read_errors();
      d.sim().arm_cut(d.sim().operations() + op, NorFlashSim::Cut::torn, op * 104729u + 3);
      ASSERT_EQ(update_sequence(d, &c), Status::power_lost);
      const auto after_cut = d.memory();
      std::vector<bool> unreadable;
      for (uint32_t a = 0; a < d.sim().size(); a += d.geometry().page_size)
        unreadable.push_back(d.sim().unreadable(a));
      auto restore = [&] {
        d.memory() = after_cut;
        d.sim().power_on();
        d.sim().clear_read_errors();
        for (uint32_t p = 0; p < unreadable.size(); ++p)
          if (unreadable[p]) d.sim().set_unreadable(p * d.geometry().page_size);
      };
      const uint32_t reads = count(d, after_cut, [&] {
                               restore();
                               return d.reboot(checking_self_test, &c);
                             }).second;
      for (uint32_t r = 0; r < reads; ++r) {
        restore();
        d.sim().arm_read_error(d.sim().reads() + r, NorFlashSim::ReadFault::transient,
                               kReadAttempts);
        (void)d.reboot(checking_self_test, &c);
        check_recovers(d, &c, 1, "cut " + std::to_string(op) + " then read " + std::to_string(r));
        if (HasFatalFailure()) return;
      }
    }
    print("power cut, then read error at every read of the recovery");
  }

  // v1 then v2 confirmed (floor 2); every bit of every record flipped in turn. The device
  // must keep running v2 (directly or by falling back to it), refuse v1, install v3.
  void bit_flip_in_every_record() {
    Device d;
    start(d);
    ASSERT_EQ(d.install(package(2)), Status::ok);
    ASSERT_EQ(d.reboot(), Status::ok);
    ASSERT_EQ(d.report().counter_floor, 2u);
    Checker c{&d.memory()};
    const auto snapshot = d.memory();
    for (const auto& [address, size] : records(d.config())) {
      for (uint32_t bit = 0; bit < size * 8; ++bit) {
        d.memory() = snapshot;
        d.memory()[address + bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
        check_recovers(d, &c, 2, "flip " + std::to_string(address) + ":" + std::to_string(bit));
        if (HasFatalFailure()) return;
      }
    }
    print("bit flip at every bit of every record");
  }

  // A power cut at every operation, then one bit flipped in each record in turn.
  void power_cut_then_bit_flip() {
    Device d;
    start(d);
    Checker c{&d.memory()};
    const auto snapshot = d.memory();
    const uint32_t ops = count(d, snapshot, [&] { return update_sequence(d, &c); }).first;
    uint32_t rng = 12345;
    for (uint32_t op = 0; op < ops; ++op) {
      for (const auto& [address, size] : records(d.config())) {
        d.memory() = snapshot;
        d.sim().power_on();
        d.sim().clear_read_errors();
        d.sim().arm_cut(d.sim().operations() + op, NorFlashSim::Cut::torn, op + 17);
        ASSERT_EQ(update_sequence(d, &c), Status::power_lost);
        rng = rng * 1103515245u + 12345u;
        const uint32_t bit = (rng >> 8) % (size * 8);
        d.memory()[address + bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
        check_recovers(d, &c, 1, "cut " + std::to_string(op) + " flip " + std::to_string(address));
        if (HasFatalFailure()) return;
      }
    }
    print("power cut, then a bit flip in each record");
  }

  // Operations (erases + writes) and reads of one clean run of `f` from `snapshot`.
  template <typename F>
  std::pair<uint32_t, uint32_t> count(Device& d, const std::vector<uint8_t>& snapshot, F f) {
    d.memory() = snapshot;
    d.sim().power_on();
    const uint32_t ops = d.sim().operations(), reads = d.sim().reads();
    EXPECT_EQ(f(), Status::ok);
    return {d.sim().operations() - ops, d.sim().reads() - reads};
  }

  KeyPair keys_ = testing::test_keys();
  bool delta_ = false;  // v2 is sent as a delta against v1
  std::map<uint32_t, std::vector<uint8_t>> packages_;
  Tally tally_;
};

TEST_F(OtaFaults, PowerCutAtEveryWriteWithEcc) { power_cut_at_every_write(); }

TEST_F(OtaFaults, ReadErrorAtEveryRead) { read_error_at_every_read(); }

// A power cut at every operation, then a read error at every read of the recovery boot.
TEST_F(OtaFaults, PowerCutThenReadErrorDuringRecovery) { power_cut_then_read_error(); }

// v1 then v2 confirmed (floor 2); every bit of every record flipped in turn. The device
// must keep running v2 (directly or by falling back to it), refuse v1, install v3.
TEST_F(OtaFaults, BitFlipInEveryRecordNeverLowersTheFloor) { bit_flip_in_every_record(); }

// A power cut at every operation, then one bit flipped in each record in turn.
TEST_F(OtaFaults, PowerCutThenBitFlipInEachRecord) { power_cut_then_bit_flip(); }

// The same faults with v2 sent as a delta against v1: rebuilt in the update slot from the
// running slot, so every base read, every rebuilt write and the same first boot are hit.
// (Flipping record bits once v2 is confirmed is the same whichever way v2 arrived.)
TEST_F(OtaFaults, DeltaPowerCutAtEveryWriteWithEcc) {
  delta_ = true;
  power_cut_at_every_write();
}

TEST_F(OtaFaults, DeltaReadErrorAtEveryRead) {
  delta_ = true;
  read_error_at_every_read();
}

TEST_F(OtaFaults, DeltaPowerCutThenReadErrorDuringRecovery) {
  delta_ = true;
  power_cut_then_read_error();
}

TEST_F(OtaFaults, DeltaPowerCutThenBitFlipInEachRecord) {
  delta_ = true;
  power_cut_then_bit_flip();
}

// Signed packages whose plan is malformed: every byte of the plan's header and tables
// changed (the plan checksum fixed up so the structural checks are what refuses it). None
// may become pending, let alone confirmed, unless the changed plan still validates and
// reproduces the known answer.
TEST_F(OtaFaults, MalformedSignedPlansAreNeverConfirmed) {
  Device d;
  start(d);
  Checker c{&d.memory()};
  const std::vector<uint8_t>& plan = models().v2;
  const std::vector<uint8_t> answer = testing::self_test_for(plan);
  PlanHeader h;
  std::memcpy(&h, plan.data(), sizeof h);
  const uint32_t tables_end = h.data_offset;  // header, tensors, ops, indices
  const auto snapshot = d.memory();
  int refused = 0, confirmed = 0;
  for (uint32_t at = 0; at < tables_end; ++at) {
    if (at >= offsetof(PlanHeader, checksum) && at < offsetof(PlanHeader, checksum) + 4) continue;
    std::vector<uint8_t> bad = plan;
    bad[at] ^= 0x5A;
    const uint32_t sum = plan_checksum(bad.data(), static_cast<uint32_t>(bad.size()));
    std::memcpy(bad.data() + offsetof(PlanHeader, checksum), &sum, 4);
    PackageSpec spec;
    spec.model_id = "kws";
    spec.version = {2, 0, 0};
    spec.security_counter = 2;
    const auto pkg = write_package(spec, bad, keys_.secret_key, answer);
    d.memory() = snapshot;
    ASSERT_EQ(d.reboot(), Status::ok);
    ++tally_.scenarios;
    if (d.install(pkg) != Status::ok) {
      ++refused;
      d.agent().abort_update();
      continue;
    }
    ASSERT_EQ(d.reboot(), Status::ok);
    if (d.report().last_boot == BootOutcome::confirmed_update) {
      ++confirmed;
      if (!validated(d, d.agent().running())) ++tally_.unvalidated;
    }
  }
  std::printf(
      "ota faults: %d malformed signed plans: %d refused before pending, %d confirmed "
      "(each re-validated and reproducing its answer), %d unvalidated\n",
      tally_.scenarios, refused, confirmed, tally_.unvalidated);
  EXPECT_GT(refused, tally_.scenarios / 2);
  print("malformed signed plans");
}

}  // namespace
}  // namespace tinyforge::ota
