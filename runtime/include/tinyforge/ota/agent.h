// The OTA update agent: A/B slots, a journaled state record, streaming install, verified
// activation, first-boot self-test, confirm or roll back, anti-rollback. Freestanding: no
// heap, no exceptions; RAM is the UpdateAgent object itself (sizeof, about 1 KiB) plus a
// bounded stack (docs/ota-format.md lists both). The state machine and the power-cut
// guarantees are described in docs/ota-format.md.
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
// Every call returns a Status; after power_lost or flash_error the caller resets (or
// calls init() again): the flash is always in a state boot() recovers from.
#pragma once
#include <cstddef>
#include <cstdint>

#include "tinyforge/ota/flash.h"
#include "tinyforge/ota/package.h"
#include "tinyforge/ota/state_record.h"
#include "tinyforge/status.h"

namespace tinyforge::ota {

// Slot layout: the signed block (header + manifest + signature) at offset 0, the payload
// (plan blob) at this offset, so the blob is read in place with 512-byte alignment.
constexpr uint32_t kSlotPayloadOffset = kMaxSignedBlockBytes;

struct AgentConfig {
  Flash flash;
  uint32_t slot_address[2];   // page-aligned
  uint32_t slot_size;         // bytes, a multiple of the page size, same for both slots
  uint32_t state_address[2];  // one page each, page-aligned, outside the slots
  const uint8_t* public_key;  // 32-byte Ed25519 key the packages must be signed with
  const char* target;         // this device's target name, e.g. "cortex-m4"
};

struct ImageInfo {
  bool valid;
  uint8_t slot;
  char model_id[kMaxModelIdBytes + 1];
  SemVer version;
  uint32_t security_counter;
  uint32_t payload_address;  // flash address of the plan blob
  uint32_t payload_size;
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
  rolled_back_invalid,  // the pending update no longer verified (or its counter is too low)
  fallback,             // the confirmed slot failed verification; the other slot took over
  no_image,             // nothing valid to run
};

struct VersionReport {
  ImageInfo running;  // model id, version, counter, where it is
  ImageInfo pending;  // valid when an update waits for its first boot
  SlotState slot_state[2];
  uint32_t counter_floor;  // lowest security counter the device still accepts
  BootOutcome last_boot;
};

// Runs one inference (or more) on the given image; true = the model works. Called during
// boot() only for a slot the device has not run before. May be null: then any verified
// update is confirmed on its first boot.
using SelfTest = bool (*)(void* user, const ImageInfo& image);

class UpdateAgent {
 public:
  // bad_params if the geometry is inconsistent; flash errors from reading the state.
  Status init(const AgentConfig& config);
  // ok when a verified model runs (see running()); no_image if there is none.
  Status boot(SelfTest self_test, void* user);

  Status begin_update();
  Status write_update(const uint8_t* data, size_t size);
  Status finish_update();
  void abort_update();

  const ImageInfo& running() const { return running_; }
  void report(VersionReport* out) const;

 private:
  enum class Phase : uint8_t { off, signed_block, payload, complete, failed };

  Status load_state();
  Status write_state(const StateRecord& next);
  Status verify_slot(uint8_t slot, Manifest* manifest);
  Status accept_signed_block();
  Status program(uint32_t address, const uint8_t* data, uint32_t size);
  Status flush_staged();
  Status fail(Status s);
  Status roll_back(BootOutcome why);
  void fill_info(ImageInfo* info, uint8_t slot, const Manifest& m) const;

  AgentConfig config_{};
  StateRecord state_{};
  int8_t state_page_ = -1;  // page holding state_, -1 if none
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
};

}  // namespace tinyforge::ota
