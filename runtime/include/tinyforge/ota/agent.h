// The OTA update agent: A/B slots, a journaled state record, streaming install, verified
// activation, on-device plan validation and known-answer self-test before confirm, roll
// back, an anti-rollback floor and key set that fail closed, key rotation and revocation.
// Freestanding: no heap, no exceptions; RAM is the UpdateAgent object itself (sizeof,
// about 1.2 KiB) plus a bounded stack (docs/ota-format.md lists both). The state machine
// and the guarantees under power cuts, read errors and bit flips: docs/ota-format.md;
// the threat model: docs/ota-security.md.
//
//   UpdateAgent agent;
//   agent.init(config);                      // reads the state record, never writes
//   agent.boot(self_test, &app);             // resolves a pending update, picks the model
//   run the model at agent.running().payload_address
//   ... later, an update arrives in chunks of any size:
//   agent.begin_update();
//   agent.write_update(chunk, n);            // repeatedly
//   agent.finish_update();                   // verified and pending: reboot to try it
//
// A delta package (tinyforge/ota/delta.h) is streamed the same way: the agent rebuilds the
// new payload into the update slot from the running slot's plan and the stream, then
// verifies the result exactly as it verifies a full package.
//
// Every call returns a Status; after power_lost or flash_error the caller resets (or
// calls init() again): the flash is always in a state boot() recovers from. Reads are
// retried; a page that stays unreadable counts as damaged, like a torn one.
#pragma once
#include <cstddef>
#include <cstdint>

#include "tinyforge/ota/delta.h"
#include "tinyforge/ota/flash.h"
#include "tinyforge/ota/package.h"
#include "tinyforge/ota/sha256.h"
#include "tinyforge/ota/state_record.h"
#include "tinyforge/status.h"

namespace tinyforge::ota {

// Slot layout: the signed block (header + manifest + signature) at offset 0, the payload
// (plan blob) at this offset, so the blob is read in place with 512-byte alignment.
constexpr uint32_t kSlotPayloadOffset = kMaxSignedBlockBytes;

constexpr uint32_t kMaxFactoryKeys = 4;
constexpr uint32_t kReadAttempts = 3;  // a read that fails this often in a row is an error

// Optional hardware anti-rollback counter (OTP fuses, secure-element or RPMB counter). When
// present it is the authoritative floor; the flash copies still hold the key changes.
struct MonotonicCounter {
  void* context;
  Status (*read)(void* context, uint32_t* value);
  Status (*advance)(void* context, uint32_t value);  // to at least `value`; never lowers
};

// Policy bits (AgentConfig::policy). Both off by default: fail closed.
constexpr uint32_t kAllowNoSelfTest = 1;  // accept packages without a known-answer test
constexpr uint32_t kAllowReinstall = 2;   // accept the running version again

struct AgentConfig {
  Flash flash;
  const uint8_t* mapped_flash;   // flash address A is readable at mapped_flash + A (XIP)
  uint32_t slot_address[2];      // page-aligned
  uint32_t slot_size;            // bytes, a multiple of the page size, same for both slots
  uint32_t state_address[2];     // journal: one page each, page-aligned, outside the slots
  uint32_t security_address[2];  // floor + key records: one page each, >= 128 bytes
  const uint8_t (*keys)[32];     // factory-trusted Ed25519 public keys, 1..kMaxFactoryKeys
  uint32_t num_keys;
  const char* target;                 // this device's target name, e.g. "cortex-m4"
  uint8_t* arena;                     // the inference arena, borrowed by boot() for self-tests
  uint32_t arena_size;                // plans needing more are refused before they can boot
  MonotonicCounter hardware_counter;  // read == nullptr: none (flash copies only)
  uint32_t policy;                    // kAllow* bits
};

// The plainest flash layout: both slots from address 0, then the two journal pages, then
// the two security pages (2 x slot_size + 4 pages in all). Sets only the address fields.
inline void lay_out_contiguous(AgentConfig& c, uint32_t slot_size, uint32_t page_size) {
  c.slot_address[0] = 0;
  c.slot_address[1] = slot_size;
  c.slot_size = slot_size;
  for (uint32_t i = 0; i < 2; ++i) {
    c.state_address[i] = 2 * slot_size + i * page_size;
    c.security_address[i] = 2 * slot_size + (2 + i) * page_size;
  }
}

struct ImageInfo {
  bool valid;
  uint8_t slot;
  char model_id[kMaxModelIdBytes + 1];
  SemVer version;
  uint32_t security_counter;
  uint32_t payload_address;  // flash address of the plan blob
  uint32_t payload_size;     // signed payload: the plan, then its self-test block if any
  uint32_t plan_size;        // bytes of the plan blob (what Runtime::init gets)
  uint32_t key_id;           // the key that signed it
  uint8_t payload_sha256[kDigestBytes];
};

enum class SlotState : uint8_t {
  idle,       // not selected: empty, an older model, or a rolled-back one
  running,    // the confirmed model the device runs
  pending,    // a verified update that runs its self-test on the next boot
  receiving,  // an update is being written here
};

enum class BootOutcome : uint8_t {
  not_booted,
  normal,               // ran the confirmed model
  confirmed_update,     // the pending update passed its self-test and is now confirmed
  rolled_back_test,     // the pending update failed its self-test
  rolled_back_reset,    // the pending update's first boot was interrupted (reset, power cut)
  rolled_back_invalid,  // the pending update no longer verified (or its counter is too low,
                        // or the anti-rollback state is damaged so it cannot be confirmed)
  fallback,             // the confirmed slot failed verification; the other slot took over
  no_image,             // nothing valid to run
};

struct VersionReport {
  ImageInfo running;  // model id, version, counter, where it is
  ImageInfo pending;  // valid when an update waits for its first boot
  SlotState slot_state[2];
  uint32_t counter_floor;  // lowest security counter the device still accepts
  bool floor_known;        // false: the floor records are damaged, updates are refused
  uint8_t num_added_keys;  // keys trusted by rotation, besides the factory ones
  uint8_t num_revoked_keys;
  BootOutcome last_boot;
};

// A product's own extra check of an image, after the built-in known-answer test passed;
// true = the model works. Called during boot() only for a slot the device has not run
// before. May be null.
using SelfTest = bool (*)(void* user, const ImageInfo& image);

class UpdateAgent {
 public:
  // bad_params if the configuration is inconsistent; power_lost. Never writes flash.
  Status init(const AgentConfig& config);
  // ok when a verified model runs (see running()); no_image if there is none.
  Status boot(SelfTest self_test, void* user);

  Status begin_update();
  Status write_update(const uint8_t* data, size_t size);
  Status finish_update();
  void abort_update();

  // Service path when report().floor_known is false: writes a security record again from
  // a trusted source (a provisioning tool). bad_params unless `restored.floor` is at least
  // every floor the device can still read (damaged state is never lowered).
  Status restore_security(const SecurityState& restored);

  const ImageInfo& running() const { return running_; }
  void report(VersionReport* out) const;

 private:
  enum class Phase : uint8_t { off, signed_block, payload, complete, failed };

  Status read(uint32_t address, uint8_t* out, uint32_t size);
  Status hash_flash(uint32_t address, uint32_t size, const uint8_t expected[kDigestBytes]);
  Status write_checked(uint32_t address, const uint8_t* data, uint32_t size);
  Status load_state();
  Status load_security();
  Status write_state(const StateRecord& next);
  Status write_security(const SecurityState& next);
  Status catch_up(const Manifest& confirmed);
  const uint8_t* find_key(uint32_t key_id, bool for_new_package) const;
  Status verify_slot(uint8_t slot, Manifest* manifest, bool for_new_package);
  Status validate_plan_in_slot(uint8_t slot, const Manifest& m);
  Status test_image(uint8_t slot, const Manifest& m, SelfTest self_test, void* user);
  Status check_policy(const Manifest& m) const;
  Status accept_signed_block();
  Status program(uint32_t address, const uint8_t* data, uint32_t size);
  Status write_payload(const uint8_t* data, uint32_t size);
  Status flush_staged();
  DeltaSink delta_sink();
  static Status read_base(void* self, uint32_t offset, uint8_t* out, uint32_t size);
  static Status write_rebuilt(void* self, const uint8_t* data, uint32_t size);
  Status fail(Status s);
  Status roll_back(BootOutcome why);
  void fill_info(ImageInfo* info, uint8_t slot, const Manifest& m) const;

  AgentConfig config_{};
  StateRecord state_{};
  int8_t state_page_ = -1;  // page holding state_, -1 if none
  SecurityState security_{};
  bool security_known_ = false;
  uint8_t security_stale_ = 0;  // bit per copy that is damaged or older than security_
  uint32_t floor_ = 0;          // max of every floor source still readable
  bool initialized_ = false;
  bool booted_ = false;
  BootOutcome last_boot_ = BootOutcome::not_booted;
  ImageInfo running_{};
  ImageInfo pending_{};

  // Update stream.
  Phase phase_ = Phase::off;
  uint8_t target_slot_ = 0;
  uint32_t block_size_ = 0;     // bytes of the signed block, once the header is known
  uint32_t received_ = 0;       // bytes of the package so far
  uint32_t payload_end_ = 0;    // package bytes in total
  uint32_t write_address_ = 0;  // next flash address to program
  uint32_t erased_end_ = 0;     // flash below this (in the target slot) is erased
  uint32_t staged_ = 0;         // bytes in staging_
  Manifest incoming_{};
  uint8_t block_[kMaxSignedBlockBytes];  // signed block; reused to read slots back
  uint8_t staging_[kMaxWriteUnit];       // tail shorter than one write unit
  DeltaDecoder delta_;                   // delta packages: rebuilds the payload
  Sha256 delta_hash_;                    // of the delta stream as received
};

}  // namespace tinyforge::ota
