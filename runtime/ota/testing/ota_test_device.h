// Test support (host tests only; includes compiler headers): a simulated device with NOR
// flash laid out as two slots + two journal pages + two security pages, factory signing
// keys, an inference arena, real plan blobs to ship, and helpers to stream packages and
// reboot.
#pragma once
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "host/compile.h"
#include "io/files.h"
#include "ota/delta_writer.h"
#include "ota/package_writer.h"
#include "ota/self_test_writer.h"
#include "ota/signing_keys.h"
#include "runtime/ota/testing/nor_flash_sim.h"
#include "tflite_model_builder.h"
#include "tinyforge/ota/agent.h"
#include "tinyforge/runtime.h"

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

// Bytes that identify themselves by a tag pattern (not a plan: for format tests).
inline std::vector<uint8_t> test_payload(size_t size, uint8_t tag) {
  std::vector<uint8_t> p(size);
  for (size_t i = 0; i < size; ++i) p[i] = static_cast<uint8_t>(tag * 37 + i * 7 + (i >> 8));
  return p;
}

// A real plan blob of roughly `size` bytes whose weights identify it by `tag` (so a mix of
// two is visible): int8 fully connected [1,32] -> [1,units], compiled by the host path.
inline std::vector<uint8_t> test_plan(size_t size, uint8_t tag) {
  static std::map<std::pair<size_t, uint8_t>, std::vector<uint8_t>> cache;
  auto& blob = cache[{size, tag}];
  if (!blob.empty()) return blob;
  namespace tb = tinyforge::testing;
  using tfl = tb::tfl::BuiltinOperator;
  const int32_t units = static_cast<int32_t>(std::max<size_t>(4, size / 44));
  tb::ModelSpec m;
  m.tensors.push_back(tb::act_i8("input", {1, 32}, 0.05f, -3));
  m.tensors.push_back(tb::TensorSpec{"fc/weights",
                                     {units, 32},
                                     tb::tfl::TensorType::INT8,
                                     tb::bytes_of(tb::pattern<int8_t>(units * 32, -127, 127, tag)),
                                     {0.02f},
                                     {0}});
  m.tensors.push_back(tb::TensorSpec{"fc/bias",
                                     {units},
                                     tb::tfl::TensorType::INT32,
                                     tb::bytes_of(tb::pattern<int32_t>(units, -500, 500, tag + 1u)),
                                     {0.001f},
                                     {0}});
  m.tensors.push_back(tb::act_i8("output", {1, units}, 0.1f, 2));
  m.ops = {tb::OpSpec{tfl::FULLY_CONNECTED, {0, 1, 2}, {3}}};
  m.inputs = {0};
  m.outputs = {3};
  const auto dir =
      std::filesystem::temp_directory_path() / ("tinyforge_ota_plan_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "fc.tflite").string();
  io::write_file(path, tb::build_tflite(m));
  blob = host::compile_model_file(path).blob;
  std::filesystem::remove_all(dir);
  return blob;
}

inline std::vector<uint8_t> self_test_for(const std::vector<uint8_t>& plan) {
  static std::map<std::vector<uint8_t>, std::vector<uint8_t>> cache;
  auto& block = cache[plan];
  if (block.empty()) block = make_self_test(plan, SelfTestSpec{});
  return block;
}

struct PackageOptions {
  std::string target = "cortex-m4";
  std::string model_id = "kws";
  bool self_test = true;  // added when the payload is a plan blob (not to raw test bytes)
  std::optional<PublicKey> add_key;
  std::optional<uint32_t> revoke_key_id;
};

inline std::vector<uint8_t> make_package(const std::vector<uint8_t>& plan, SemVer version,
                                         uint32_t counter, const KeyPair& keys,
                                         const PackageOptions& o = {}) {
  PackageSpec spec;
  spec.model_id = o.model_id;
  spec.version = version;
  spec.security_counter = counter;
  spec.target = o.target;
  spec.add_key = o.add_key;
  spec.revoke_key_id = o.revoke_key_id;
  std::vector<uint32_t> aligned((plan.size() + 3) / 4);
  if (!plan.empty()) std::memcpy(aligned.data(), plan.data(), plan.size());
  const bool is_plan = validate_plan(reinterpret_cast<const uint8_t*>(aligned.data()),
                                     static_cast<uint32_t>(plan.size())) == Status::ok;
  return write_package(spec, plan, keys.secret_key,
                       o.self_test && is_plan ? self_test_for(plan) : std::vector<uint8_t>{});
}

// The same update as make_package(plan, ...), sent as a delta against `base_plan`.
inline std::vector<uint8_t> make_delta_package(const std::vector<uint8_t>& base_plan,
                                               const std::vector<uint8_t>& plan, SemVer version,
                                               uint32_t counter, const KeyPair& keys,
                                               const PackageOptions& o = {}) {
  PackageSpec spec;
  spec.model_id = o.model_id;
  spec.version = version;
  spec.security_counter = counter;
  spec.target = o.target;
  spec.add_key = o.add_key;
  spec.revoke_key_id = o.revoke_key_id;
  return write_delta_package(spec, base_plan, plan, keys.secret_key,
                             o.self_test ? self_test_for(plan) : std::vector<uint8_t>{});
}

inline std::vector<uint8_t> make_package(const std::vector<uint8_t>& plan, SemVer version,
                                         uint32_t counter, const KeyPair& keys,
                                         const std::string& target) {
  PackageOptions o;
  o.target = target;
  return make_package(plan, version, counter, keys, o);
}

class Device {
 public:
  explicit Device(Geometry g = {}, KeyPair keys = test_keys()) : geometry_(g), keys_(keys) {
    const uint32_t slot = g.page_size * g.slot_pages;
    memory_.resize(2 * slot + 4 * g.page_size);
    sim_.init(memory_.data(), static_cast<uint32_t>(memory_.size()), g.page_size, g.write_unit);
    std::memcpy(factory_keys_[0], keys_.public_key.data(), 32);
    config_.flash = sim_.flash();
    config_.mapped_flash = memory_.data();
    lay_out_contiguous(config_, slot, g.page_size);
    config_.keys = factory_keys_;
    config_.num_keys = 1;
    config_.target = "cortex-m4";
    config_.arena = reinterpret_cast<uint8_t*>(arena_.data());
    config_.arena_size = static_cast<uint32_t>(arena_.size() * 4);
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

  // The plan blob of the running model, read straight from flash.
  std::vector<uint8_t> running_payload() const {
    const ImageInfo& r = agent_.running();
    if (!r.valid) return {};
    return std::vector<uint8_t>(memory_.begin() + r.payload_address,
                                memory_.begin() + r.payload_address + r.plan_size);
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
  void add_factory_key(const PublicKey& key) {
    std::memcpy(factory_keys_[config_.num_keys++], key.data(), 32);
  }

 private:
  Geometry geometry_;
  KeyPair keys_;
  std::vector<uint8_t> memory_;
  std::vector<uint32_t> arena_ = std::vector<uint32_t>(4096);  // 16 KiB, 4-byte aligned
  uint8_t factory_keys_[kMaxFactoryKeys][32] = {};
  NorFlashSim sim_;
  AgentConfig config_{};
  UpdateAgent agent_;
};

}  // namespace tinyforge::ota::testing
