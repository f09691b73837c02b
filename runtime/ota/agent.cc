// The OTA update agent; see tinyforge/ota/agent.h and docs/ota-format.md.
//
// Power-cut safety rests on three rules:
//  1. the slot the state record names as active (or pending) is never erased or written;
//  2. the state record changes by writing a new copy to the other state page, so a torn
//     erase or write leaves the previous record as the newest valid one;
//  3. a slot becomes pending only after its stored bytes verified (signature, hash, plan
//     validation), and becomes active only after its first boot passed the known-answer
//     test; the "trial" mark is written before the test, so an interrupted trial rolls back.
// Anti-rollback rests on two more:
//  4. the security record (floor, key changes) only grows; its two copies are written one
//     at a time, never the only valid one first, so a valid copy is never behind what was
//     committed; with no valid copy the agent refuses updates (fails closed);
//  5. the floor also catches up with the confirmed model at every boot, so a power cut
//     between "confirmed" and "floor raised" loses nothing.
// Every write is read back; reads are retried, and data that stays unreadable is damaged.
#include "tinyforge/ota/agent.h"

#include <cstring>

#include "tinyforge/ota/known_answer.h"
#include "tinyforge/ota/sha256.h"
#include "tinyforge/runtime.h"

namespace tinyforge::ota {
namespace {

bool is_pow2(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

uint32_t round_up(uint32_t v, uint32_t unit) { return (v + unit - 1) & ~(unit - 1); }

struct Region {
  uint64_t begin, end;
};

bool overlap(Region a, Region b) { return a.begin < b.end && b.begin < a.end; }

uint32_t max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }

bool all_erased(const uint8_t* p, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i)
    if (p[i] != 0xFF) return false;
  return true;
}

int compare(const SemVer& a, const SemVer& b) {
  if (a.major != b.major) return a.major < b.major ? -1 : 1;
  if (a.minor != b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch != b.patch) return a.patch < b.patch ? -1 : 1;
  return 0;
}

bool contains(const uint32_t* ids, uint32_t n, uint32_t id) {
  for (uint32_t i = 0; i < n; ++i)
    if (ids[i] == id) return true;
  return false;
}

// The security state after `m` is confirmed: floor raised, its key changes applied.
// False if they do not fit (checked before the package is accepted).
bool apply_changes(const SecurityState& now, const Manifest& m, SecurityState* next) {
  *next = now;
  next->floor = max_u32(now.floor, m.security_counter);
  if (m.has_add_key) {
    const uint32_t id = key_id_of(m.add_key);
    bool present = false;
    for (uint32_t i = 0; i < now.num_added; ++i) present |= key_id_of(now.added[i]) == id;
    if (!present) {
      if (next->num_added >= kMaxAddedKeys) return false;
      std::memcpy(next->added[next->num_added++], m.add_key, 32);
    }
  }
  if (m.has_revoke_key && !contains(now.revoked, now.num_revoked, m.revoke_key_id)) {
    if (next->num_revoked >= kMaxRevokedKeys) return false;
    next->revoked[next->num_revoked++] = m.revoke_key_id;
  }
  return true;
}

bool same_security(const SecurityState& a, const SecurityState& b) {  // generation aside
  if (a.floor != b.floor || a.num_added != b.num_added || a.num_revoked != b.num_revoked)
    return false;
  for (uint32_t i = 0; i < a.num_added; ++i)
    if (std::memcmp(a.added[i], b.added[i], 32) != 0) return false;
  for (uint32_t i = 0; i < a.num_revoked; ++i)
    if (a.revoked[i] != b.revoked[i]) return false;
  return true;
}

}  // namespace

Status UpdateAgent::init(const AgentConfig& config) {
  initialized_ = false;
  booted_ = false;
  phase_ = Phase::off;
  running_ = ImageInfo{};
  pending_ = ImageInfo{};
  last_boot_ = BootOutcome::not_booted;

  const Flash& f = config.flash;
  if (f.read == nullptr || f.write == nullptr || f.erase_page == nullptr ||
      config.keys == nullptr || config.num_keys == 0 || config.num_keys > kMaxFactoryKeys ||
      config.target == nullptr || config.mapped_flash == nullptr || config.arena == nullptr ||
      reinterpret_cast<uintptr_t>(config.mapped_flash) % 4 != 0)
    return Status::bad_params;
  if ((config.hardware_counter.read == nullptr) != (config.hardware_counter.advance == nullptr))
    return Status::bad_params;
  if (!is_pow2(f.page_size) || !is_pow2(f.write_unit) || f.write_unit > kMaxWriteUnit ||
      f.page_size < kSecurityRecordBytes)
    return Status::bad_params;
  if (config.slot_size % f.page_size != 0 || config.slot_size <= kSlotPayloadOffset)
    return Status::bad_params;
  Region regions[6];
  for (int i = 0; i < 2; ++i) {
    regions[i] = {config.slot_address[i], uint64_t{config.slot_address[i]} + config.slot_size};
    regions[2 + i] = {config.state_address[i], uint64_t{config.state_address[i]} + f.page_size};
    regions[4 + i] = {config.security_address[i],
                      uint64_t{config.security_address[i]} + f.page_size};
  }
  for (int i = 0; i < 6; ++i) {
    if (regions[i].begin % f.page_size != 0 || regions[i].end > (uint64_t{1} << 32))
      return Status::bad_params;
    for (int j = 0; j < i; ++j)
      if (overlap(regions[i], regions[j])) return Status::bad_params;
  }
  config_ = config;
  Status s = load_state();
  if (s != Status::ok) return s;
  s = load_security();
  if (s != Status::ok) return s;
  initialized_ = true;
  return Status::ok;
}

Status UpdateAgent::read(uint32_t address, uint8_t* out, uint32_t size) {
  const Flash& f = config_.flash;
  Status s = Status::flash_error;
  for (uint32_t attempt = 0; attempt < kReadAttempts; ++attempt) {
    s = f.read(f.context, address, out, size);
    if (s == Status::ok || s == Status::power_lost) return s;
  }
  return s;
}

// Program, then read back: a write that did not take (worn cell, bad ECC word) fails here
// instead of leaving a record or slot that differs from what the agent believes it wrote.
Status UpdateAgent::write_checked(uint32_t address, const uint8_t* data, uint32_t size) {
  const Flash& f = config_.flash;
  Status s = f.write(f.context, address, data, size);
  if (s != Status::ok) return s;
  uint8_t back[64];
  for (uint32_t at = 0; at < size; at += sizeof back) {
    const uint32_t n = size - at < sizeof back ? size - at : static_cast<uint32_t>(sizeof back);
    s = read(address + at, back, n);
    if (s != Status::ok) return s;
    if (std::memcmp(back, data + at, n) != 0) return Status::flash_error;
  }
  return Status::ok;
}

// SHA-256 of `size` bytes of flash at `address` against `expected`. Out of line so the
// hash state and read buffer are not on the stack during signature verification.
[[gnu::noinline]] Status UpdateAgent::hash_flash(uint32_t address, uint32_t size,
                                                 const uint8_t expected[kDigestBytes]) {
  Sha256 hash;
  uint8_t chunk[128];
  for (uint32_t at = 0; at < size;) {
    const uint32_t left = size - at;
    const uint32_t n = left < sizeof(chunk) ? left : static_cast<uint32_t>(sizeof(chunk));
    const Status s = read(address + at, chunk, n);
    if (s != Status::ok) return s;
    hash.update(chunk, n);
    at += n;
  }
  uint8_t digest[kDigestBytes];
  hash.final(digest);
  return std::memcmp(digest, expected, kDigestBytes) == 0 ? Status::ok : Status::bad_hash;
}

// An unreadable journal page is treated like a torn one: it holds no valid record.
Status UpdateAgent::load_state() {
  state_ = StateRecord{0, 0, kNoSlot, 0, 0};
  state_page_ = -1;
  for (int page = 0; page < 2; ++page) {
    uint8_t bytes[kStateRecordBytes];
    const Status s = read(config_.state_address[page], bytes, kStateRecordBytes);
    if (s == Status::power_lost) return s;
    StateRecord r;
    if (s == Status::ok && decode_state(bytes, &r) &&
        (state_page_ < 0 || r.sequence > state_.sequence)) {
      state_ = r;
      state_page_ = static_cast<int8_t>(page);
    }
  }
  return Status::ok;
}

// Each copy is valid, blank (never written) or damaged (torn, flipped, unreadable).
// Known: a valid copy exists (the newer wins), or none was ever completed (both blank, or
// the first one torn while the second is still blank: a new device). Otherwise the floor
// and key changes are unknown and the agent fails closed.
Status UpdateAgent::load_security() {
  enum { blank, valid, damaged } kind[2];
  SecurityState copy[2] = {};
  for (int i = 0; i < 2; ++i) {
    uint8_t bytes[kSecurityRecordBytes];
    const Status s = read(config_.security_address[i], bytes, kSecurityRecordBytes);
    if (s == Status::power_lost) return s;
    if (s != Status::ok)
      kind[i] = damaged;
    else if (decode_security(bytes, &copy[i]))
      kind[i] = valid;
    else
      kind[i] = all_erased(bytes, kSecurityRecordBytes) ? blank : damaged;
  }
  security_ = SecurityState{};
  security_stale_ = 0;
  security_known_ = true;
  uint32_t lower = state_.sequence != 0 ? state_.counter_floor : 0;
  if (kind[0] == valid || kind[1] == valid) {
    const int best =
        kind[1] == valid && (kind[0] != valid || copy[1].generation > copy[0].generation);
    security_ = copy[best];
    for (int i = 0; i < 2; ++i)
      if (kind[i] != valid || !same_security(copy[i], security_)) security_stale_ |= 1u << i;
  } else if (kind[1] == blank) {
    security_stale_ = kind[0] == blank ? 0 : 1;  // new device (first write may be torn)
  } else {
    security_known_ = false;
  }
  for (int i = 0; i < 2; ++i)  // a damaged or lost state never lowers the floor
    if (kind[i] == valid) lower = max_u32(lower, copy[i].floor);
  if (config_.hardware_counter.read != nullptr) {
    uint32_t hw = 0;
    const Status s = config_.hardware_counter.read(config_.hardware_counter.context, &hw);
    if (s == Status::power_lost) return s;
    if (s != Status::ok)
      security_known_ = false;  // an unreadable counter: fail closed
    else
      lower = max_u32(lower, hw);
  }
  floor_ = lower;
  if (security_known_ && lower > security_.floor) {  // e.g. the hardware counter is ahead
    security_.floor = lower;
    security_stale_ = 3;
  }
  return Status::ok;
}

Status UpdateAgent::write_state(const StateRecord& next) {
  StateRecord r = next;
  r.sequence = state_.sequence + 1;
  r.counter_floor = max_u32(r.counter_floor, floor_);
  const int page = state_page_ == 0 ? 1 : 0;  // never the page holding the current record
  uint8_t bytes[kStateRecordBytes];
  encode_state(r, bytes);
  const Flash& f = config_.flash;
  Status s = f.erase_page(f.context, config_.state_address[page]);
  if (s != Status::ok) return s;
  s = write_checked(config_.state_address[page], bytes, kStateRecordBytes);
  if (s != Status::ok) return s;
  state_ = r;
  state_page_ = static_cast<int8_t>(page);
  return Status::ok;
}

// Hardware counter first, then the stale copy, then the other: a copy is erased only while
// the other one is valid and not behind it.
Status UpdateAgent::write_security(const SecurityState& next) {
  if (!security_known_) return Status::floor_unknown;
  SecurityState r = next;
  r.generation = security_.generation + 1;
  r.floor = max_u32(r.floor, floor_);
  if (config_.hardware_counter.advance != nullptr) {
    const Status s = config_.hardware_counter.advance(config_.hardware_counter.context, r.floor);
    if (s != Status::ok) return s;
  }
  uint8_t bytes[kSecurityRecordBytes];
  encode_security(r, bytes);
  const int first = (security_stale_ & 2) && !(security_stale_ & 1) ? 1 : 0;
  const Flash& f = config_.flash;
  for (int k = 0; k < 2; ++k) {
    const int copy = k == 0 ? first : 1 - first;
    security_stale_ |= 1u << copy;
    Status s = f.erase_page(f.context, config_.security_address[copy]);
    if (s != Status::ok) return s;
    s = write_checked(config_.security_address[copy], bytes, kSecurityRecordBytes);
    if (s != Status::ok) return s;
    if (k == 0) {  // one copy holds `r` now: it is the state, the other copy is behind
      security_ = r;
      floor_ = r.floor;
      security_stale_ = static_cast<uint8_t>(1u << (1 - copy));
    } else {
      security_stale_ = 0;
    }
  }
  return Status::ok;
}

// The confirmed model's floor and key changes are in the security record, and both copies
// are intact. A no-op (no write) when nothing is missing.
Status UpdateAgent::catch_up(const Manifest& confirmed) {
  if (!security_known_) return Status::ok;  // nothing may be written: fail closed
  SecurityState next;
  if (!apply_changes(security_, confirmed, &next)) return Status::ok;  // checked at accept
  if (same_security(next, security_) && security_stale_ == 0) return Status::ok;
  return write_security(next);
}

// A key the device trusts: a factory key or one added by rotation, not revoked. A package
// already confirmed was accepted under the keys of its day, so its key may have been
// revoked since (rotation revokes the key that signed the rotation itself).
const uint8_t* UpdateAgent::find_key(uint32_t key_id, bool for_new_package) const {
  if (for_new_package && contains(security_.revoked, security_.num_revoked, key_id)) return nullptr;
  for (uint32_t i = 0; i < config_.num_keys; ++i)
    if (key_id_of(config_.keys[i]) == key_id) return config_.keys[i];
  if (!security_known_) return nullptr;
  for (uint32_t i = 0; i < security_.num_added; ++i)
    if (key_id_of(security_.added[i]) == key_id) return security_.added[i];
  return nullptr;
}

// Signature (with a trusted key), target, size and hash of what a slot holds. Read errors
// that outlast the retries come back as flash_error: the slot counts as not verified.
Status UpdateAgent::verify_slot(uint8_t slot, Manifest* manifest, bool for_new_package) {
  const uint32_t base = config_.slot_address[slot];
  Status s = read(base, block_, kPackageHeaderBytes);
  if (s != Status::ok) return s;
  uint32_t manifest_size = 0;
  s = parse_package_header(block_, kPackageHeaderBytes, &manifest_size);
  if (s != Status::ok) return s;
  const uint32_t size = signed_block_bytes(manifest_size);  // <= kMaxSignedBlockBytes
  s = read(base + kPackageHeaderBytes, block_ + kPackageHeaderBytes, size - kPackageHeaderBytes);
  if (s != Status::ok) return s;
  uint32_t key_id = 0;
  s = peek_key_id(block_, size, &key_id);
  if (s != Status::ok) return s;
  const uint8_t* key = find_key(key_id, for_new_package);
  if (key == nullptr) return Status::bad_key;
  s = verify_signed_block(block_, size, key, manifest);
  if (s != Status::ok) return s;
  if (std::strcmp(manifest->target, config_.target) != 0) return Status::bad_target;
  if (manifest->payload_size > config_.slot_size - kSlotPayloadOffset) return Status::too_large;
  return hash_flash(base + kSlotPayloadOffset, manifest->payload_size, manifest->payload_sha256);
}

// The runtime's own load-time check, in place: format, bounds, kernels compiled into this
// firmware, and an arena no larger than the device's.
Status UpdateAgent::validate_plan_in_slot(uint8_t slot, const Manifest& m) {
  const uint8_t* plan = config_.mapped_flash + config_.slot_address[slot] + kSlotPayloadOffset;
  Runtime rt;
  return rt.init(plan, m.has_self_test ? m.self_test_offset : m.payload_size, config_.arena,
                 config_.arena_size);
}

// Before a slot may be confirmed (first boot or fallback): the plan validates, reproduces
// its known answer, and passes the product's own test if it has one.
Status UpdateAgent::test_image(uint8_t slot, const Manifest& m, SelfTest self_test, void* user) {
  Status s = validate_plan_in_slot(slot, m);
  if (s != Status::ok) return s;
  if (m.has_self_test) {
    const uint8_t* payload = config_.mapped_flash + config_.slot_address[slot] + kSlotPayloadOffset;
    s = run_known_answer_test(payload, m.self_test_offset, payload + m.self_test_offset,
                              m.payload_size - m.self_test_offset, config_.arena,
                              config_.arena_size);
    if (s != Status::ok) return s;
  } else if ((config_.policy & kAllowNoSelfTest) == 0) {
    return Status::no_self_test;
  }
  if (self_test != nullptr) {
    ImageInfo info;
    fill_info(&info, slot, m);
    if (!self_test(user, info)) return Status::self_test_failed;
  }
  return Status::ok;
}

void UpdateAgent::fill_info(ImageInfo* info, uint8_t slot, const Manifest& m) const {
  *info = ImageInfo{};
  info->valid = true;
  info->slot = slot;
  std::memcpy(info->model_id, m.model_id, sizeof(info->model_id));
  info->version = m.version;
  info->security_counter = m.security_counter;
  info->payload_address = config_.slot_address[slot] + kSlotPayloadOffset;
  info->payload_size = m.payload_size;
  info->plan_size = m.has_self_test ? m.self_test_offset : m.payload_size;
  info->key_id = m.key_id;
  std::memcpy(info->payload_sha256, m.payload_sha256, kDigestBytes);
}

Status UpdateAgent::roll_back(BootOutcome why) {
  StateRecord r = state_;
  r.pending = kNoSlot;
  r.trial = 0;
  last_boot_ = why;
  return write_state(r);
}

Status UpdateAgent::boot(SelfTest self_test, void* user) {
  if (!initialized_) return Status::not_initialized;
  if (phase_ == Phase::signed_block || phase_ == Phase::payload) return Status::bad_state;
  booted_ = false;
  running_ = ImageInfo{};
  pending_ = ImageInfo{};
  last_boot_ = BootOutcome::normal;
  Manifest m;
  Status s;

  if (state_.pending != kNoSlot) {
    const uint8_t p = state_.pending;
    if (state_.trial != 0) {
      s = roll_back(BootOutcome::rolled_back_reset);
      if (s != Status::ok) return s;
    } else {
      Status v = verify_slot(p, &m, true);
      if (v == Status::power_lost) return v;
      if (v == Status::ok && m.security_counter < floor_) v = Status::rollback;
      if (v == Status::ok && !security_known_) v = Status::floor_unknown;  // cannot confirm
      if (v == Status::ok) v = validate_plan_in_slot(p, m);
      if (v != Status::ok) {
        s = roll_back(BootOutcome::rolled_back_invalid);
        if (s != Status::ok) return s;
      } else {
        StateRecord trial = state_;
        trial.trial = 1;  // before the test: a reset during it means "failed"
        s = write_state(trial);
        if (s != Status::ok) return s;
        if (test_image(p, m, self_test, user) == Status::ok) {
          StateRecord confirmed = state_;
          confirmed.active = p;
          confirmed.pending = kNoSlot;
          confirmed.trial = 0;
          confirmed.counter_floor = max_u32(floor_, m.security_counter);
          s = write_state(confirmed);  // then the floor (rule 5 covers a cut in between)
          if (s != Status::ok) return s;
          s = catch_up(m);
          if (s != Status::ok) return s;
          fill_info(&running_, p, m);
          booted_ = true;
          last_boot_ = BootOutcome::confirmed_update;
          return Status::ok;
        }
        s = roll_back(BootOutcome::rolled_back_test);
        if (s != Status::ok) return s;
      }
    }
  }

  const uint8_t active = state_.active;
  Status v = verify_slot(active, &m, false);
  if (v == Status::power_lost) return v;
  if (v == Status::ok && m.security_counter >= floor_) {
    s = catch_up(m);
    if (s != Status::ok) return s;
    fill_info(&running_, active, m);
    booted_ = true;
    return Status::ok;
  }

  // The confirmed slot does not verify (never caused by a power cut: rule 1 above, but
  // flash wears and bits flip), or is below the floor (a damaged journal named an older
  // slot). The other slot may take over if it verifies, is not below the floor and passes
  // the same tests as a first boot.
  const uint8_t other = static_cast<uint8_t>(1 - active);
  v = verify_slot(other, &m, true);
  if (v == Status::power_lost) return v;
  if (v == Status::ok && m.security_counter >= floor_ &&
      test_image(other, m, self_test, user) == Status::ok) {
    StateRecord r = state_;
    r.active = other;
    r.pending = kNoSlot;
    r.trial = 0;
    r.counter_floor = max_u32(floor_, m.security_counter);
    s = write_state(r);
    if (s != Status::ok) return s;
    s = catch_up(m);
    if (s != Status::ok) return s;
    fill_info(&running_, other, m);
    booted_ = true;
    last_boot_ = BootOutcome::fallback;
    return Status::ok;
  }
  booted_ = true;  // nothing to run, but an update may still be installed
  last_boot_ = BootOutcome::no_image;
  return Status::no_image;
}

Status UpdateAgent::begin_update() {
  if (!booted_) return Status::bad_state;
  if (phase_ == Phase::signed_block || phase_ == Phase::payload) return Status::bad_state;
  if (!security_known_) return Status::floor_unknown;
  target_slot_ = static_cast<uint8_t>(1 - (running_.valid ? running_.slot : state_.active));
  phase_ = Phase::signed_block;
  block_size_ = 0;
  received_ = 0;
  payload_end_ = 0;
  staged_ = 0;
  return Status::ok;
}

Status UpdateAgent::fail(Status s) {
  phase_ = Phase::failed;
  return s;
}

// Everything decided from the authenticated manifest alone, before any flash is touched.
Status UpdateAgent::check_policy(const Manifest& m) const {
  if (std::strcmp(m.target, config_.target) != 0) return Status::bad_target;
  if (m.payload_size > config_.slot_size - kSlotPayloadOffset) return Status::too_large;
  if (m.security_counter < floor_) return Status::rollback;
  if (running_.valid) {
    if (m.security_counter < running_.security_counter) return Status::rollback;
    if (m.security_counter == running_.security_counter) {
      const int order = compare(m.version, running_.version);
      if (order < 0) return Status::rollback;
      if (order == 0 && (config_.policy & kAllowReinstall) == 0) return Status::already_installed;
    }
  }
  if (!m.has_self_test && (config_.policy & kAllowNoSelfTest) == 0) return Status::no_self_test;
  // Key changes must fit, and must leave at least one key to sign the next update with.
  SecurityState next;
  if (!apply_changes(security_, m, &next)) return Status::too_large;
  if (m.has_add_key && contains(next.revoked, next.num_revoked, key_id_of(m.add_key)))
    return Status::bad_key;
  uint32_t usable = 0;
  for (uint32_t i = 0; i < config_.num_keys; ++i)
    usable += !contains(next.revoked, next.num_revoked, key_id_of(config_.keys[i]));
  for (uint32_t i = 0; i < next.num_added; ++i)
    usable += !contains(next.revoked, next.num_revoked, key_id_of(next.added[i]));
  return usable > 0 ? Status::ok : Status::bad_key;
}

Status UpdateAgent::accept_signed_block() {
  uint32_t key_id = 0;
  Status s = peek_key_id(block_, block_size_, &key_id);
  if (s != Status::ok) return s;
  const uint8_t* key = find_key(key_id, true);
  if (key == nullptr) return Status::bad_key;
  s = verify_signed_block(block_, block_size_, key, &incoming_);
  if (s != Status::ok) return s;
  s = check_policy(incoming_);
  if (s != Status::ok) return s;
  if (incoming_.has_delta && incoming_.delta_size > 0xFFFFFFFFu - block_size_)
    return Status::too_large;
  if (incoming_.has_base) {  // a precondition on the running plan, hashed where it lies
    const Status wrong = incoming_.has_delta ? Status::wrong_base : Status::bad_target;
    if (!running_.valid) return wrong;
    s = hash_flash(running_.payload_address, running_.plan_size, incoming_.base_sha256);
    if (s == Status::power_lost) return s;
    if (s != Status::ok) return wrong;  // not the base (or unreadable: nothing to copy from)
  }

  // Authenticated and acceptable: only now is flash touched. A pending update in the
  // target slot is forgotten first, so no record ever names a half-written slot.
  if (state_.pending == target_slot_) {
    StateRecord r = state_;
    r.pending = kNoSlot;
    r.trial = 0;
    s = write_state(r);
    if (s != Status::ok) return s;
    pending_ = ImageInfo{};
  }
  const uint32_t base = config_.slot_address[target_slot_];
  erased_end_ = base;
  payload_end_ =
      block_size_ + (incoming_.has_delta ? incoming_.delta_size : incoming_.payload_size);
  if (incoming_.has_delta) {  // rebuilt from the running plan, checked above
    delta_.start(running_.plan_size, incoming_.payload_size);
    delta_hash_.reset();
  }
  const uint32_t padded = round_up(block_size_, config_.flash.write_unit);  // <= 512
  std::memset(block_ + block_size_, 0xFF, padded - block_size_);
  s = program(base, block_, padded);
  if (s != Status::ok) return s;
  write_address_ = base + kSlotPayloadOffset;
  return Status::ok;
}

// Writes whole write units at the sequential write position, erasing each page just
// before the first write into it and never crossing a page within one write call.
Status UpdateAgent::program(uint32_t address, const uint8_t* data, uint32_t size) {
  const Flash& f = config_.flash;
  while (size > 0) {
    if (address >= erased_end_) {
      const Status s = f.erase_page(f.context, erased_end_);
      if (s != Status::ok) return s;
      erased_end_ += f.page_size;
      continue;
    }
    const uint32_t room = erased_end_ - address;
    const uint32_t n = size < room ? size : room;
    const Status s = write_checked(address, data, n);
    if (s != Status::ok) return s;
    address += n;
    data += n;
    size -= n;
  }
  return Status::ok;
}

Status UpdateAgent::flush_staged() {
  if (staged_ == 0) return Status::ok;
  const uint32_t unit = config_.flash.write_unit;
  std::memset(staging_ + staged_, 0xFF, unit - staged_);
  const Status s = program(write_address_, staging_, unit);
  if (s != Status::ok) return s;
  write_address_ += unit;
  staged_ = 0;
  return Status::ok;
}

// Appends payload bytes at the write position: whole write units are programmed, a
// shorter tail waits in staging_.
Status UpdateAgent::write_payload(const uint8_t* data, uint32_t size) {
  const uint32_t unit = config_.flash.write_unit;
  while (size > 0) {
    if (staged_ > 0 || size < unit) {  // collect a partial write unit
      const uint32_t n = size < unit - staged_ ? size : unit - staged_;
      std::memcpy(staging_ + staged_, data, n);
      staged_ += n;
      data += n;
      size -= n;
      if (staged_ == unit) {
        const Status s = flush_staged();
        if (s != Status::ok) return s;
      }
      continue;
    }
    const uint32_t n = size & ~(unit - 1);
    const Status s = program(write_address_, data, n);
    if (s != Status::ok) return s;
    write_address_ += n;
    data += n;
    size -= n;
  }
  return Status::ok;
}

// The delta decoder reads the base from the running slot (never written during an update)
// and appends what it rebuilds to the update slot.
Status UpdateAgent::read_base(void* self, uint32_t offset, uint8_t* out, uint32_t size) {
  auto* agent = static_cast<UpdateAgent*>(self);
  return agent->read(agent->running_.payload_address + offset, out, size);
}

Status UpdateAgent::write_rebuilt(void* self, const uint8_t* data, uint32_t size) {
  return static_cast<UpdateAgent*>(self)->write_payload(data, size);
}

DeltaSink UpdateAgent::delta_sink() { return DeltaSink{this, &read_base, &write_rebuilt}; }

Status UpdateAgent::write_update(const uint8_t* data, size_t size) {
  if (phase_ != Phase::signed_block && phase_ != Phase::payload) return Status::bad_state;
  while (size > 0) {
    if (phase_ == Phase::signed_block) {
      const uint32_t want = block_size_ != 0 ? block_size_ : kPackageHeaderBytes;
      const uint32_t n = size < want - received_ ? static_cast<uint32_t>(size) : want - received_;
      std::memcpy(block_ + received_, data, n);
      received_ += n;
      data += n;
      size -= n;
      if (received_ < want) break;
      if (block_size_ == 0) {
        uint32_t manifest_size = 0;
        const Status s = parse_package_header(block_, received_, &manifest_size);
        if (s != Status::ok) return fail(s);
        block_size_ = signed_block_bytes(manifest_size);
        continue;
      }
      const Status s = accept_signed_block();
      if (s != Status::ok) return fail(s);
      phase_ = Phase::payload;
      continue;
    }
    if (size > payload_end_ - received_) return fail(Status::too_large);
    const uint32_t n = static_cast<uint32_t>(size);  // <= what is left of the package
    Status s;
    if (incoming_.has_delta) {
      delta_hash_.update(data, n);
      s = delta_.feed(data, n, delta_sink());
    } else {
      s = write_payload(data, n);
    }
    if (s != Status::ok) return fail(s);
    received_ += n;
    break;
  }
  return Status::ok;
}

Status UpdateAgent::finish_update() {
  if (phase_ == Phase::signed_block) return fail(Status::truncated);
  if (phase_ != Phase::payload) return Status::bad_state;
  if (received_ < payload_end_) return fail(Status::truncated);
  Status s;
  if (incoming_.has_delta) {  // the stream is complete and the one signed
    s = delta_.finish(delta_sink());
    if (s != Status::ok) return fail(s);
    uint8_t digest[kDigestBytes];
    delta_hash_.final(digest);
    if (std::memcmp(digest, incoming_.delta_sha256, kDigestBytes) != 0)
      return fail(Status::bad_hash);
  }
  s = flush_staged();
  if (s != Status::ok) return fail(s);
  // Verify what flash now holds, not what was streamed: signature, target, size, hash,
  // then the plan itself, as the runtime will check it at load.
  Manifest stored;
  s = verify_slot(target_slot_, &stored, true);
  if (s != Status::ok) return fail(s);
  if (std::memcmp(&stored, &incoming_, sizeof(stored)) != 0) return fail(Status::bad_hash);
  s = validate_plan_in_slot(target_slot_, stored);
  if (s != Status::ok) return fail(s);
  StateRecord r = state_;
  r.pending = target_slot_;
  r.trial = 0;
  s = write_state(r);
  if (s != Status::ok) return fail(s);
  fill_info(&pending_, target_slot_, stored);
  phase_ = Phase::complete;
  return Status::ok;
}

void UpdateAgent::abort_update() {
  if (phase_ != Phase::complete) phase_ = Phase::off;
}

Status UpdateAgent::restore_security(const SecurityState& restored) {
  if (!initialized_) return Status::not_initialized;
  if (phase_ == Phase::signed_block || phase_ == Phase::payload) return Status::bad_state;
  const uint32_t known = max_u32(floor_, running_.valid ? running_.security_counter : 0);
  if (restored.floor < known || restored.num_added > kMaxAddedKeys ||
      restored.num_revoked > kMaxRevokedKeys)
    return Status::bad_params;
  const bool was_known = security_known_;
  security_known_ = true;  // both copies are rewritten from `restored`, damaged one first
  security_stale_ = 3;
  const Status s = write_security(restored);
  if (s != Status::ok && security_stale_ == 3) security_known_ = was_known;  // nothing written
  return s;
}

void UpdateAgent::report(VersionReport* out) const {
  out->running = running_;
  out->pending = pending_;
  for (uint8_t i = 0; i < 2; ++i) {
    SlotState st = SlotState::idle;
    if (running_.valid && running_.slot == i)
      st = SlotState::running;
    else if (state_.pending == i)
      st = SlotState::pending;
    else if ((phase_ == Phase::signed_block || phase_ == Phase::payload) && target_slot_ == i)
      st = SlotState::receiving;
    out->slot_state[i] = st;
  }
  out->counter_floor = max_u32(floor_, running_.valid ? running_.security_counter : 0);
  out->floor_known = security_known_;
  out->num_added_keys = security_.num_added;
  out->num_revoked_keys = security_.num_revoked;
  out->last_boot = last_boot_;
}

}  // namespace tinyforge::ota
