// libFuzzer target: the OTA package parser and verifier, in memory and streamed through
// the update agent over simulated NOR flash, plus boot over hostile slot contents.
// Input: one mode byte, then the package. Mode bit 0 re-signs the header + manifest with
// the harness key, so the fuzzer also reaches the manifest parser and the agent's policy
// checks with authenticated but hostile manifests; bit 1 first rewrites the manifest's
// payload size and hash to match the payload (reaching past the hash check; in a delta
// package, the delta record's size and hash); bits 2..7 pick the stream chunk size. Seeds
// (make_fuzz_seeds) are packages signed by the harness key, full and delta ones.
//
// Delta packages: the bytes after the signed block also go straight to the delta decoder
// against harness_base_payload(); and a package whose manifest names a delta is streamed
// into a device already running the harness base package, so the agent rebuilds it.
//
// The oracle is libsodium, not our verifier (fuzz/ota_harness.h): if verify_package, the
// agent's finish_update or any boot ever accepts or runs a package whose signature is not
// the harness key's (or whose payload does not match its signed hash), the target aborts.
#include <sodium.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "fuzz/ota_harness.h"
#include "runtime/ota/testing/nor_flash_sim.h"
#include "tinyforge/ota/agent.h"
#include "tinyforge/ota/delta.h"
#include "tinyforge/ota/package.h"

namespace {

using namespace tinyforge;
using namespace tinyforge::ota;
using fuzz::harness_keys;
using fuzz::signed_by_harness;
using tinyforge::ota::testing::NorFlashSim;

constexpr uint32_t kPage = 1024, kSlot = 8 * kPage;

struct Device {
  alignas(16) uint8_t memory[2 * kSlot + 4 * kPage];
  alignas(16) uint8_t arena[4096];
  NorFlashSim sim;
  AgentConfig config{};
  Device() {
    sim.init(memory, sizeof memory, kPage, 8);
    config.flash = sim.flash();
    lay_out_contiguous(config, kSlot, kPage);
    config.mapped_flash = memory;
    config.keys = reinterpret_cast<const uint8_t(*)[32]>(harness_keys().public_key.data());
    config.num_keys = 1;
    config.arena = arena;
    config.arena_size = sizeof arena;
    config.policy = kAllowNoSelfTest;  // hostile payloads also reach the plan validator
    config.target = "cortex-m4";
  }
};

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "OTA oracle: %s\n", what);
  std::abort();
}

// The slot the agent runs must hold a package signed by the harness key whose payload
// matches the signed hash, whatever our verifier said.
void check_running(const UpdateAgent& agent, const Device& d, const char* when) {
  const ImageInfo& r = agent.running();
  if (!r.valid) return;
  const uint8_t* slot = d.memory + d.config.slot_address[r.slot];
  if (!signed_by_harness(slot, kMaxSignedBlockBytes, slot + kSlotPayloadOffset,
                         kSlot - kSlotPayloadOffset, false))
    finding(when);
}

// Bit 1: payload size and hash records rewritten in place to describe the payload.
void fix_payload_records(std::vector<uint8_t>& pkg) {
  if (pkg.size() < kPackageHeaderBytes) return;
  const uint32_t manifest_size = fuzz::load_le32(pkg.data() + 8);
  const uint64_t signed_end = uint64_t{kPackageHeaderBytes} + manifest_size + kSignatureBytes;
  if (manifest_size > kMaxManifestBytes || signed_end > pkg.size()) return;
  uint8_t* manifest = pkg.data() + kPackageHeaderBytes;
  const uint32_t payload_size = static_cast<uint32_t>(pkg.size() - signed_end);
  uint16_t n = 0;
  auto* delta = const_cast<uint8_t*>(
      fuzz::find_record(manifest, manifest_size, static_cast<uint16_t>(RecordType::delta), &n));
  if (delta != nullptr && n == 4 + kDigestBytes) {
    for (int i = 0; i < 4; ++i) delta[i] = static_cast<uint8_t>(payload_size >> (8 * i));
    crypto_hash_sha256(delta + 4, pkg.data() + signed_end, payload_size);
    return;
  }
  auto* size = const_cast<uint8_t*>(fuzz::find_record(
      manifest, manifest_size, static_cast<uint16_t>(RecordType::payload_size), &n));
  if (size != nullptr && n == 4)
    for (int i = 0; i < 4; ++i) size[i] = static_cast<uint8_t>(payload_size >> (8 * i));
  auto* hash = const_cast<uint8_t*>(fuzz::find_record(
      manifest, manifest_size, static_cast<uint16_t>(RecordType::payload_sha256), &n));
  if (hash != nullptr && n == kDigestBytes)
    crypto_hash_sha256(hash, pkg.data() + signed_end, payload_size);
}

// The delta decoder alone, on hostile bytes, against the harness base: it may refuse, but
// never reads outside the base nor writes more than the output size it was given.
void decode_delta(const uint8_t* data, size_t size, size_t chunk) {
  const std::vector<uint8_t>& base = fuzz::harness_base_payload();
  struct Sink {
    const std::vector<uint8_t>* base;
    uint32_t written, limit;
  } sink{&base, 0, 0};
  const DeltaSink callbacks{&sink,
                            [](void* c, uint32_t offset, uint8_t* out, uint32_t n) {
                              auto* s = static_cast<Sink*>(c);
                              if (uint64_t{offset} + n > s->base->size()) finding("base overread");
                              std::memcpy(out, s->base->data() + offset, n);
                              return Status::ok;
                            },
                            [](void* c, const uint8_t*, uint32_t n) {
                              auto* s = static_cast<Sink*>(c);
                              s->written += n;
                              if (s->written > s->limit) finding("delta wrote past its output");
                              return Status::ok;
                            }};
  // The output size the stream announces (capped), so the fuzzer reaches the commands.
  sink.limit = size >= 12 ? std::min<uint32_t>(fuzz::load_le32(data + 8), 1u << 16) : 0;
  DeltaDecoder decoder;
  decoder.start(static_cast<uint32_t>(base.size()), sink.limit);
  Status s = Status::ok;
  for (size_t at = 0; at < size && s == Status::ok; at += chunk)
    s = decoder.feed(data + at, std::min(chunk, size - at), callbacks);
  if (s == Status::ok && decoder.finish(callbacks) == Status::ok && sink.written != sink.limit)
    finding("delta finished short of its output");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  std::vector<uint8_t> pkg(data + 1, data + size);
  if (pkg.empty()) pkg.push_back(0);  // keeps pkg.data() non-null for memcpy
  if (mode & 2) fix_payload_records(pkg);
  if ((mode & 1) && pkg.size() >= kPackageHeaderBytes) {
    const uint32_t manifest_size = fuzz::load_le32(pkg.data() + 8);
    const uint64_t signed_end = uint64_t{kPackageHeaderBytes} + manifest_size + kSignatureBytes;
    if (signed_end <= pkg.size())
      crypto_sign_detached(pkg.data() + kPackageHeaderBytes + manifest_size, nullptr, pkg.data(),
                           kPackageHeaderBytes + manifest_size, harness_keys().secret_key.data());
  }
  const uint32_t manifest_size =
      pkg.size() >= kPackageHeaderBytes ? fuzz::load_le32(pkg.data() + 8) : 0;
  const size_t signed_size = kPackageHeaderBytes + size_t{manifest_size} + kSignatureBytes;
  const uint8_t* payload = pkg.size() >= signed_size ? pkg.data() + signed_size : nullptr;
  const size_t payload_bytes = payload ? pkg.size() - signed_size : 0;

  Manifest m;
  if (verify_package(pkg.data(), pkg.size(), harness_keys().public_key.data(), &m) == Status::ok &&
      (payload == nullptr || !signed_by_harness(pkg.data(), pkg.size(), payload, payload_bytes)))
    finding("verify_package accepted a package the harness key did not sign");
  if (pkg.size() > kPackageHeaderBytes) {
    const uint32_t n = static_cast<uint32_t>(
        std::min<size_t>(pkg.size() - kPackageHeaderBytes, kMaxManifestBytes));
    (void)parse_manifest(pkg.data() + kPackageHeaderBytes, n, &m);
  }

  const size_t chunk = 1 + (mode >> 2) * 13;
  if (payload != nullptr) decode_delta(payload, payload_bytes, chunk);
  bool is_delta = false;
  if (pkg.size() >= signed_size && manifest_size <= kMaxManifestBytes &&
      parse_manifest(pkg.data() + kPackageHeaderBytes, manifest_size, &m) == Status::ok)
    is_delta = m.has_delta;

  // Streamed install (a delta into a device running the harness base), then a boot of
  // whatever it left behind.
  static Device* device = new Device;  // reused: ~18 KiB
  device->sim.init(device->memory, sizeof device->memory, kPage, 8);
  if (is_delta) {  // slot 0 holds the base package; a blank journal means "active: slot 0"
    const std::vector<uint8_t>& base = fuzz::harness_base_package();
    const size_t block = base.size() - fuzz::harness_base_payload().size();
    std::memcpy(device->memory, base.data(), block);
    std::memcpy(device->memory + kSlotPayloadOffset, base.data() + block, base.size() - block);
  }
  UpdateAgent agent;
  if (agent.init(device->config) != Status::ok) __builtin_trap();
  (void)agent.boot(nullptr, nullptr);
  if (is_delta && !agent.running().valid) __builtin_trap();  // the base must run
  if (agent.begin_update() != Status::ok) __builtin_trap();
  Status s = Status::ok;
  for (size_t at = 0; at < pkg.size() && s == Status::ok; at += chunk)
    s = agent.write_update(pkg.data() + at, std::min(chunk, pkg.size() - at));
  if (s == Status::ok) s = agent.finish_update();
  if (s == Status::ok &&
      (payload == nullptr || !signed_by_harness(pkg.data(), pkg.size(), payload, payload_bytes)))
    finding("the agent installed a package the harness key did not sign");
  if (device->sim.violations() != 0) __builtin_trap();  // the agent broke the flash contract
  UpdateAgent rebooted;
  if (rebooted.init(device->config) == Status::ok) {
    (void)rebooted.boot(nullptr, nullptr);
    check_running(rebooted, *device, "booted an unsigned slot after an install");
  }

  // Boot over hostile contents: the input as slot 0 and as the journal and security pages;
  // then with the input's signed block and payload laid out in slot 1 as the agent would
  // write them.
  device->sim.init(device->memory, sizeof device->memory, kPage, 8);
  std::memcpy(device->memory, pkg.data(), std::min<size_t>(pkg.size(), kSlot));
  for (uint32_t page = 0; page < 4; ++page)
    std::memcpy(device->memory + 2 * kSlot + page * kPage, pkg.data(),
                std::min<size_t>(pkg.size(), kPage));
  if (payload != nullptr && signed_size <= kMaxSignedBlockBytes) {
    std::memcpy(device->memory + kSlot, pkg.data(), signed_size);
    std::memcpy(device->memory + kSlot + kSlotPayloadOffset, payload,
                std::min<size_t>(payload_bytes, kSlot - kSlotPayloadOffset));
  }
  UpdateAgent hostile;
  if (hostile.init(device->config) == Status::ok) {
    (void)hostile.boot(nullptr, nullptr);
    check_running(hostile, *device, "booted a slot the harness key did not sign");
  }
  return 0;
}
