// Status codes returned by every fallible runtime call. The runtime never throws,
// never allocates and never writes outside the buffers it was given.
#pragma once
#include <cstdint>

namespace tinyforge {

enum class Status : uint8_t {
  ok = 0,
  bad_magic,          // not a plan blob / package
  bad_version,        // format version this runtime does not read
  truncated,          // a length or offset runs past the end of the buffer
  out_of_bounds,      // an offset/index points outside its section, arena or table
  misaligned,         // buffer or section not aligned as the format requires
  bad_enum,           // unknown dtype, storage class or similar
  bad_shape,          // tensor shapes inconsistent with the op
  bad_params,         // op parameters inconsistent (wrong size, zero stride, ...)
  unsupported_op,     // opcode unknown or compiled out of this runtime
  arena_too_small,    // caller's arena smaller than the plan needs
  not_initialized,    // invoke() before a successful init()
  bad_signature,      // OTA: signature does not verify
  bad_hash,           // checksum (plan) or hash (OTA payload) mismatch
  rollback,           // OTA: security counter lower than the installed one
  bad_target,         // OTA: package built for another target
  too_large,          // OTA: length field larger than the slot / limit
  flash_error,        // OTA: flash callback failed
  power_lost,         // OTA (simulation): the flash lost power mid-operation
  bad_state,          // OTA: operation not allowed in the current state
  bad_manifest,       // OTA: manifest record missing, duplicated or malformed
  no_image,           // OTA: no slot holds a valid, signed model
  bad_key,            // OTA: signed with a key the device does not trust (unknown or revoked)
  no_self_test,       // OTA: package has no known-answer self-test and the device requires one
  self_test_failed,   // OTA: the model did not reproduce its known answer
  floor_unknown,      // OTA: anti-rollback state damaged; updates refused until it is restored
  already_installed,  // OTA: same version as the running model (reinstall not allowed)
  wrong_base,         // OTA: a delta update built against another model than the running one
  bad_delta,          // OTA: a delta update's stream is malformed
  // Add new codes above: last_ is one past the last (C API range check, name table).
  last_,
};

// Stable, short, lower-case name of a status (for logs and CLI messages).
const char* status_name(Status s);

}  // namespace tinyforge
