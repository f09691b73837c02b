// Power cut at every flash erase and write of an update, exhaustively: before the
// operation, after it, and inside it (torn write / torn erase, several random outcomes).
// After each cut the device reboots and must run a valid signed model, the old one or the
// new one, byte for byte and with the matching manifest (never a mix), and a later retry
// must complete. A second sweep cuts power again at every operation of the recovery.
#include <gtest/gtest.h>

#include <cstdio>

#include "runtime/ota/testing/ota_test_device.h"

namespace tinyforge::ota {
namespace {

using testing::Device;
using testing::Geometry;
using testing::make_package;
using testing::NorFlashSim;
using testing::test_plan;

struct Models {
  std::vector<uint8_t> v1 = test_plan(4400, 1);  // 6 pages of 1 KiB with header + self-test
  std::vector<uint8_t> v2 = test_plan(5000, 2);
  std::vector<uint8_t> v3 = test_plan(4000, 3);
};

// Self-test used on every boot: the image offered for its first boot must be exactly one
// of the known models, and its manifest must name that model's version.
struct Checker {
  const Models* models;
  const std::vector<uint8_t>* memory;
  int bad_images = 0;
  uint32_t tested = 0;   // bit per major version that has passed a self-test
  uint32_t failing = 0;  // bit per major version whose self-test fails
};

const std::vector<uint8_t>* expected_payload(const Models& m, uint32_t major) {
  return major == 1 ? &m.v1 : major == 2 ? &m.v2 : major == 3 ? &m.v3 : nullptr;
}

bool image_is_consistent(const Models& m, const std::vector<uint8_t>& memory,
                         const ImageInfo& image) {
  const std::vector<uint8_t>* want = expected_payload(m, image.version.major);
  if (want == nullptr || image.plan_size < want->size() || image.plan_size > want->size() + 3 ||
      image.security_counter != image.version.major)
    return false;
  return std::equal(want->begin(), want->end(), memory.begin() + image.payload_address);
}

bool checking_self_test(void* user, const ImageInfo& image) {
  auto* c = static_cast<Checker*>(user);
  if (!image_is_consistent(*c->models, *c->memory, image)) ++c->bad_images;
  const uint32_t bit = 1u << image.version.major;
  if (c->failing & bit) return false;
  c->tested |= bit;
  return true;
}

class OtaPowerCut : public ::testing::Test {
 protected:
  // The operations under test: boot of the running device, the update, the first boot
  // of the new model (trial, self-test, confirm).
  Status update_sequence(Device& d, const std::vector<uint8_t>& package, size_t chunk, Checker* c) {
    Status s = d.reboot(checking_self_test, c);
    if (s != Status::ok && s != Status::no_image) return s;
    s = d.install(package, chunk);
    if (s != Status::ok) return s;
    return d.reboot(checking_self_test, c);
  }

  // After a cut: reboot cleanly and check what runs. `old_major` 0 means a blank device.
  void expect_valid_model(Device& d, Checker* c, uint32_t old_major, uint32_t new_major,
                          const std::string& where) {
    const Status s = d.reboot(checking_self_test, c);
    if (old_major == 0 && s == Status::no_image) return;
    ASSERT_EQ(s, Status::ok) << where;
    const ImageInfo& r = d.agent().running();
    ASSERT_TRUE(r.version.major == old_major || r.version.major == new_major) << where;
    ASSERT_TRUE(image_is_consistent(models_, d.memory(), r)) << where << ": running a mixed image";
    // A new model runs only after it passed its self-test on its first boot.
    ASSERT_TRUE(c->tested & (1u << r.version.major)) << where << ": running an untested model";
    VersionReport report = d.report();
    ASSERT_EQ(report.running.version.major, r.version.major) << where;
    // Falling back to "whatever other slot verifies" is for worn flash; a power cut must
    // never need it (it would mean the state record or the running slot was damaged).
    if (old_major != 0) ASSERT_NE(report.last_boot, BootOutcome::fallback) << where;
  }

  // The retry: the new model installs and runs; then one more update still works.
  void expect_retry_completes(Device& d, Checker* c, const std::vector<uint8_t>& package,
                              uint32_t old_major, uint32_t new_major, size_t chunk,
                              const std::string& where) {
    if (!d.agent().running().valid || d.agent().running().version.major != new_major) {
      ASSERT_EQ(d.install(package, chunk), Status::ok) << where;
      const Status s = d.reboot(checking_self_test, c);
      ASSERT_TRUE(s == Status::ok || (old_major == 0 && s == Status::no_image)) << where;
    }
    const bool fails = (c->failing & (1u << new_major)) != 0;
    if (fails) {
      ASSERT_EQ(d.report().last_boot, BootOutcome::rolled_back_test) << where;
      if (old_major != 0) ASSERT_EQ(d.agent().running().version.major, old_major) << where;
    } else {
      ASSERT_EQ(d.agent().running().version.major, new_major) << where;
    }
    ASSERT_EQ(d.install(make_package(models_.v3, {3, 0, 0}, 3, d.keys()), chunk), Status::ok)
        << where;
    ASSERT_EQ(d.reboot(checking_self_test, c), Status::ok) << where;
    ASSERT_EQ(d.running_payload(), models_.v3) << where;
    ASSERT_EQ(d.report().counter_floor, 3u) << where;
  }

  // One exhaustive sweep; returns the number of cut points tried.
  // `delta`: v2 is sent as a delta package against v1.
  int sweep(Geometry g, size_t chunk, bool blank_device, bool new_model_fails = false,
            bool delta = false) {
    Device d(g);
    Checker c{&models_, &d.memory()};
    c.tested = 1u << 1;  // v1 is installed (or tested) outside the sweep
    if (new_model_fails) c.failing = 1u << 2;
    const uint32_t old_major = blank_device ? 0 : 1, new_major = blank_device ? 1 : 2;
    d.reboot();
    if (!blank_device) {
      EXPECT_EQ(d.install(make_package(models_.v1, {1, 0, 0}, 1, d.keys()), chunk), Status::ok);
      EXPECT_EQ(d.reboot(), Status::ok);
    }
    const std::vector<uint8_t> package =
        blank_device ? make_package(models_.v1, {1, 0, 0}, 1, d.keys())
        : delta      ? testing::make_delta_package(models_.v1, models_.v2, {2, 0, 0}, 2, d.keys())
                     : make_package(models_.v2, {2, 0, 0}, 2, d.keys());
    const std::vector<uint8_t> snapshot = d.memory();

    // How many erase/write operations the uninterrupted sequence performs.
    uint32_t start = d.sim().operations();
    EXPECT_EQ(update_sequence(d, package, chunk, &c), Status::ok);
    const uint32_t total = d.sim().operations() - start;
    EXPECT_GT(total, 10u);
    EXPECT_EQ(d.running_payload(), blank_device      ? models_.v1
                                   : new_model_fails ? models_.v1
                                                     : models_.v2);

    const NorFlashSim::Cut kinds[] = {NorFlashSim::Cut::before, NorFlashSim::Cut::after,
                                      NorFlashSim::Cut::torn, NorFlashSim::Cut::torn,
                                      NorFlashSim::Cut::torn};
    int tried = 0;
    for (uint32_t op = 0; op < total; ++op) {
      for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); ++k) {
        const std::string where = "cut at operation " + std::to_string(op) + " kind " +
                                  std::to_string(static_cast<int>(kinds[k])) + " variant " +
                                  std::to_string(k) + " chunk " + std::to_string(chunk);
        d.memory() = snapshot;
        d.sim().power_on();
        c.tested = blank_device ? 0 : 1u << 1;
        d.sim().arm_cut(d.sim().operations() + op, kinds[k], 0x9e3779b9u * (op + 1) + k);
        EXPECT_EQ(update_sequence(d, package, chunk, &c), Status::power_lost) << where;
        EXPECT_TRUE(d.sim().cut_happened()) << where;
        expect_valid_model(d, &c, old_major, new_major, where);
        expect_retry_completes(d, &c, package, old_major, new_major, chunk, where);
        EXPECT_EQ(c.bad_images, 0) << where;
        EXPECT_EQ(d.sim().violations(), 0u) << where;
        if (::testing::Test::HasFatalFailure() || c.bad_images != 0) return tried;
        ++tried;
      }
    }
    return tried;
  }

  Models models_;
};

TEST_F(OtaPowerCut, EveryOperationOfAnUpdateRecovers) {
  int points = 0;
  points += sweep(Geometry{1024, 8, 8}, 256, false);
  points += sweep(Geometry{256, 4, 32}, 77, false);
  points += sweep(Geometry{4096, 32, 2}, 1000, false);
  points += sweep(Geometry{1024, 1, 8}, 4096, false);
  points += sweep(Geometry{1024, 8, 8}, 300, true);         // first install on a blank device
  points += sweep(Geometry{1024, 8, 8}, 256, false, true);  // the new model fails its self-test
  std::printf(
      "ota power-cut: %d cut points (before/after/torn x every erase and write of 6 update runs), "
      "all recovered\n",
      points);
  EXPECT_GT(points, 500);
}

// The same sweep with v2 sent as a delta against v1 (rebuilt from the running slot) on the
// smallest and largest geometries (page 256 B / unit 4 B, page 4 KiB / unit 32 B) and with
// a v2 that fails its self-test.
TEST_F(OtaPowerCut, EveryOperationOfADeltaUpdateRecovers) {
  int points = 0;
  points += sweep(Geometry{256, 4, 32}, 77, false, false, true);
  points += sweep(Geometry{4096, 32, 2}, 1000, false, false, true);
  points += sweep(Geometry{1024, 8, 8}, 256, false, true, true);
  std::printf("ota power-cut: %d cut points of 3 delta update runs, all recovered\n", points);
  EXPECT_GT(points, 300);
}

// A cut during the update, then another cut at every operation of the recovery (reboot,
// retry, first boot of the new model): still old-or-new, and the retry still completes.
TEST_F(OtaPowerCut, SecondCutDuringRecoveryRecovers) {
  Geometry g{1024, 8, 8};
  const size_t chunk = 512;
  Device d(g);
  Checker c{&models_, &d.memory()};
  c.tested = 1u << 1;
  d.reboot();
  ASSERT_EQ(d.install(make_package(models_.v1, {1, 0, 0}, 1, d.keys()), chunk), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  const auto package = make_package(models_.v2, {2, 0, 0}, 2, d.keys());
  const std::vector<uint8_t> snapshot = d.memory();
  uint32_t start = d.sim().operations();
  ASSERT_EQ(update_sequence(d, package, chunk, &c), Status::ok);
  const uint32_t total = d.sim().operations() - start;

  auto recovery = [&](Device& dev) -> Status {  // reboot, retry the update, boot it
    Status s = dev.reboot(checking_self_test, &c);
    if (s != Status::ok) return s;
    if (dev.agent().running().version.major != 2) {
      s = dev.install(package, chunk);
      if (s != Status::ok) return s;
      s = dev.reboot(checking_self_test, &c);
    }
    return s;
  };
  int pairs = 0;
  for (uint32_t first = 0; first < total; ++first) {
    // State right after the first cut, and how many operations its recovery performs.
    d.memory() = snapshot;
    d.sim().power_on();
    c.tested = 1u << 1;
    d.sim().arm_cut(d.sim().operations() + first, NorFlashSim::Cut::torn, first * 7919u + 1);
    ASSERT_EQ(update_sequence(d, package, chunk, &c), Status::power_lost);
    const std::vector<uint8_t> after_first = d.memory();
    const uint32_t tested_after_first = c.tested;
    start = d.sim().operations();
    ASSERT_EQ(recovery(d), Status::ok) << "first cut " << first;
    const uint32_t recovery_ops = d.sim().operations() - start;
    for (uint32_t second = 0; second < recovery_ops; ++second) {
      const std::string where =
          "cuts at " + std::to_string(first) + " then " + std::to_string(second);
      d.memory() = after_first;
      d.sim().power_on();
      c.tested = tested_after_first;
      d.sim().arm_cut(d.sim().operations() + second, NorFlashSim::Cut::torn,
                      second * 104729u + first);
      ASSERT_EQ(recovery(d), Status::power_lost) << where;
      expect_valid_model(d, &c, 1, 2, where);
      ASSERT_EQ(recovery(d), Status::ok) << where;
      ASSERT_EQ(d.running_payload(), models_.v2) << where;
      ASSERT_EQ(c.bad_images, 0) << where;
      ++pairs;
    }
  }
  EXPECT_EQ(d.sim().violations(), 0u);
  std::printf(
      "ota power-cut: %d double cut points (torn update operation, then torn recovery operation), "
      "all recovered\n",
      pairs);
  EXPECT_GT(pairs, 100);
}

}  // namespace
}  // namespace tinyforge::ota
