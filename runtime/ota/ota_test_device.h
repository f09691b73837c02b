// Test support (header only, host tests): a simulated device with NOR flash laid out as
// two slots + two state pages, a signing key, and helpers to stream packages and reboot.
#pragma once
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "ota/package_writer.h"
#include "ota/signing_keys.h"
#include "tinyforge/ota/agent.h"
#include "tinyforge/ota/nor_flash_sim.h"

namespace tinyforge::ota::testing {

struct Geometry {
  uint32_t page_size = 1024;
  uint32_t write_unit = 8;
  uint32_t slot_pages = 8;
};

// A deterministic key, so failures reproduce.
inline KeyPair test_keys(uint8_t tag = 1) {
  std::array<uint8_t, 32> seed{};
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(tag * 31 + i);
  return keypair_from_seed(seed);
}

// Payload bytes that identify themselves: a tag byte pattern, so a mix of two is visible.
inline std::vector<uint8_t> test_payload(size_t size, uint8_t tag) {
  std::vector<uint8_t> p(size);
  for (size_t i = 0; i < size; ++i) p[i] = static_cast<uint8_t>(tag * 37 + i * 7 + (i >> 8));
  return p;
}

inline std::vector<uint8_t> make_package(const std::vector<uint8_t>& payload, SemVer version,
                                         uint32_t counter, const KeyPair& keys,
                                         const std::string& target = "cortex-m4",
                                         const std::string& model_id = "kws") {
  PackageSpec spec;
  spec.model_id = model_id;
  spec.version = version;
  spec.security_counter = counter;
  spec.target = target;
  return write_package(spec, payload, keys.secret_key);
}

class Device {
 public:
  explicit Device(Geometry g = {}, KeyPair keys = test_keys()) : geometry_(g), keys_(keys) {
    const uint32_t slot = g.page_size * g.slot_pages;
    memory_.resize(2 * slot + 2 * g.page_size);
    sim_.init(memory_.data(), static_cast<uint32_t>(memory_.size()), g.page_size, g.write_unit);
    config_.flash = sim_.flash();
    config_.slot_address[0] = 0;
    config_.slot_address[1] = slot;
    config_.slot_size = slot;
    config_.state_address[0] = 2 * slot;
    config_.state_address[1] = 2 * slot + g.page_size;
    config_.public_key = keys_.public_key.data();
    config_.target = "cortex-m4";
  }
  Device(const Device&) = delete;  // the flash callbacks point into this object
  Device& operator=(const Device&) = delete;

  // Power on: a fresh agent (RAM is lost), init and boot.
  Status reboot(SelfTest test = nullptr, void* user = nullptr) {
    sim_.power_on();
    agent_ = UpdateAgent{};
    const Status s = agent_.init(config_);
    if (s != Status::ok) return s;
    return agent_.boot(test, user);
  }

  // begin + write in `chunk`-byte pieces + finish; stops at the first failure.
  Status install(const std::vector<uint8_t>& package, size_t chunk = 256) {
    Status s = agent_.begin_update();
    if (s != Status::ok) return s;
    for (size_t at = 0; at < package.size(); at += chunk) {
      const size_t n = std::min(chunk, package.size() - at);
      s = agent_.write_update(package.data() + at, n);
      if (s != Status::ok) return s;
    }
    return agent_.finish_update();
  }

  // The bytes of the running model, read straight from flash.
  std::vector<uint8_t> running_payload() const {
    const ImageInfo& r = agent_.running();
    if (!r.valid) return {};
    return std::vector<uint8_t>(memory_.begin() + r.payload_address,
                                memory_.begin() + r.payload_address + r.payload_size);
  }

  VersionReport report() const {
    VersionReport r;
    agent_.report(&r);
    return r;
  }

  UpdateAgent& agent() { return agent_; }
  NorFlashSim& sim() { return sim_; }
  std::vector<uint8_t>& memory() { return memory_; }
  AgentConfig& config() { return config_; }
  const KeyPair& keys() const { return keys_; }
  const Geometry& geometry() const { return geometry_; }

 private:
  Geometry geometry_;
  KeyPair keys_;
  std::vector<uint8_t> memory_;
  NorFlashSim sim_;
  AgentConfig config_{};
  UpdateAgent agent_;
};

}  // namespace tinyforge::ota::testing
