// libFuzzer target: the OTA package parser and verifier, in memory and streamed through
// the update agent over simulated NOR flash, plus boot over hostile slot contents.
// Input: one mode byte, then the package. Mode bit 0 re-signs the header + manifest with
// the harness key, so the fuzzer also reaches the manifest parser and the agent's policy
// checks with authenticated but hostile manifests; bits 1..7 pick the stream chunk size.
#include <sodium.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "ota/signing_keys.h"
#include "runtime/ota/testing/nor_flash_sim.h"
#include "tinyforge/ota/agent.h"
#include "tinyforge/ota/package.h"

namespace {

using namespace tinyforge;
using namespace tinyforge::ota;
using tinyforge::ota::testing::NorFlashSim;

const KeyPair& harness_keys() {
  static const KeyPair keys = keypair_from_seed(std::array<uint8_t, 32>{7, 7, 7});
  return keys;
}

constexpr uint32_t kPage = 1024, kSlot = 8 * kPage;

struct Device {
  alignas(16) uint8_t memory[2 * kSlot + 4 * kPage];
  alignas(16) uint8_t arena[4096];
  NorFlashSim sim;
  AgentConfig config{};
  Device() {
    sim.init(memory, sizeof memory, kPage, 8);
    config.flash = sim.flash();
    config.slot_address[0] = 0;
    config.slot_address[1] = kSlot;
    config.slot_size = kSlot;
    config.state_address[0] = 2 * kSlot;
    config.state_address[1] = 2 * kSlot + kPage;
    config.security_address[0] = 2 * kSlot + 2 * kPage;
    config.security_address[1] = 2 * kSlot + 3 * kPage;
    config.mapped_flash = memory;
    config.keys = reinterpret_cast<const uint8_t(*)[32]>(harness_keys().public_key.data());
    config.num_keys = 1;
    config.arena = arena;
    config.arena_size = sizeof arena;
    config.policy = kAllowNoSelfTest;  // hostile payloads also reach the plan validator
    config.target = "cortex-m4";
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  std::vector<uint8_t> pkg(data + 1, data + size);
  if (pkg.empty()) pkg.push_back(0);  // keeps pkg.data() non-null for memcpy
  if ((mode & 1) && pkg.size() >= kPackageHeaderBytes) {
    uint32_t manifest_size = 0;
    std::memcpy(&manifest_size, pkg.data() + 8, 4);  // little-endian host
    const uint64_t signed_end = uint64_t{kPackageHeaderBytes} + manifest_size + kSignatureBytes;
    if (signed_end <= pkg.size())
      crypto_sign_detached(pkg.data() + kPackageHeaderBytes + manifest_size, nullptr, pkg.data(),
                           kPackageHeaderBytes + manifest_size, harness_keys().secret_key.data());
  }

  Manifest m;
  (void)verify_package(pkg.data(), pkg.size(), harness_keys().public_key.data(), &m);
  if (pkg.size() > kPackageHeaderBytes) {
    const uint32_t n = static_cast<uint32_t>(
        std::min<size_t>(pkg.size() - kPackageHeaderBytes, kMaxManifestBytes));
    (void)parse_manifest(pkg.data() + kPackageHeaderBytes, n, &m);
  }

  // Streamed install, then a boot of whatever it left behind.
  static Device* device = new Device;  // reused: ~18 KiB
  device->sim.init(device->memory, sizeof device->memory, kPage, 8);
  UpdateAgent agent;
  if (agent.init(device->config) != Status::ok) __builtin_trap();
  (void)agent.boot(nullptr, nullptr);
  if (agent.begin_update() != Status::ok) __builtin_trap();
  const size_t chunk = 1 + (mode >> 1) * 13;
  Status s = Status::ok;
  for (size_t at = 0; at < pkg.size() && s == Status::ok; at += chunk)
    s = agent.write_update(pkg.data() + at, std::min(chunk, pkg.size() - at));
  if (s == Status::ok) s = agent.finish_update();
  if (device->sim.violations() != 0) __builtin_trap();  // the agent broke the flash contract
  UpdateAgent rebooted;
  if (rebooted.init(device->config) == Status::ok) (void)rebooted.boot(nullptr, nullptr);

  // Boot over hostile contents: the input as slot 0 and as the journal and security pages.
  device->sim.init(device->memory, sizeof device->memory, kPage, 8);
  std::memcpy(device->memory, pkg.data(), std::min<size_t>(pkg.size(), kSlot));
  for (uint32_t page = 0; page < 4; ++page)
    std::memcpy(device->memory + 2 * kSlot + page * kPage, pkg.data(),
                std::min<size_t>(pkg.size(), kPage));
  UpdateAgent hostile;
  if (hostile.init(device->config) == Status::ok) (void)hostile.boot(nullptr, nullptr);
  return 0;
}
