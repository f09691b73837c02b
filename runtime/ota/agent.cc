// The OTA update agent; see tinyforge/ota/agent.h and docs/ota-format.md.
//
// Power-cut safety rests on three rules:
//  1. the slot the state record names as active (or pending) is never erased or written;
//  2. the state record changes by writing a new copy to the other state page, so a torn
//     erase or write leaves the previous record as the newest valid one;
//  3. a slot becomes pending only after its stored bytes verified (signature and hash),
//     and becomes active only after its first boot passed the self-test; the "trial"
//     mark is written before the self-test runs, so an interrupted trial rolls back.
#include "tinyforge/ota/agent.h"

#include <cstring>

#include "tinyforge/ota/sha256.h"

namespace tinyforge::ota {
namespace {

bool is_pow2(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

uint32_t round_up(uint32_t v, uint32_t unit) { return (v + unit - 1) & ~(unit - 1); }

struct Region {
  uint64_t begin, end;
};

bool overlap(Region a, Region b) { return a.begin < b.end && b.begin < a.end; }

bool is_io_error(Status s) { return s == Status::power_lost || s == Status::flash_error; }

uint32_t max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }

// SHA-256 of `size` bytes of flash at `address` against `expected`. Out of line so the
// hash state and read buffer are not on the stack during signature verification.
[[gnu::noinline]] Status hash_payload(const Flash& f, uint32_t address, uint32_t size,
                                      const uint8_t expected[kDigestBytes]) {
  Sha256 hash;
  uint8_t chunk[128];
  for (uint32_t at = 0; at < size;) {
    const uint32_t left = size - at;
    const uint32_t n = left < sizeof(chunk) ? left : static_cast<uint32_t>(sizeof(chunk));
    const Status s = f.read(f.context, address + at, chunk, n);
    if (s != Status::ok) return s;
    hash.update(chunk, n);
    at += n;
  }
  uint8_t digest[kDigestBytes];
  hash.final(digest);
  return std::memcmp(digest, expected, kDigestBytes) == 0 ? Status::ok : Status::bad_hash;
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
      config.public_key == nullptr || config.target == nullptr)
    return Status::bad_params;
  if (!is_pow2(f.page_size) || !is_pow2(f.write_unit) || f.write_unit > kMaxWriteUnit ||
      f.page_size < kStateRecordBytes)
    return Status::bad_params;
  if (config.slot_size % f.page_size != 0 || config.slot_size <= kSlotPayloadOffset)
    return Status::bad_params;
  Region regions[4];
  for (int i = 0; i < 2; ++i) {
    regions[i] = {config.slot_address[i], uint64_t{config.slot_address[i]} + config.slot_size};
    regions[2 + i] = {config.state_address[i], uint64_t{config.state_address[i]} + f.page_size};
  }
  for (int i = 0; i < 4; ++i) {
    if (regions[i].begin % f.page_size != 0 || regions[i].end > (uint64_t{1} << 32))
      return Status::bad_params;
    for (int j = 0; j < i; ++j)
      if (overlap(regions[i], regions[j])) return Status::bad_params;
  }
  config_ = config;
  const Status s = load_state();
  if (s != Status::ok) return s;
  initialized_ = true;
  return Status::ok;
}

Status UpdateAgent::load_state() {
  state_ = StateRecord{0, 0, kNoSlot, 0, 0};
  state_page_ = -1;
  for (int page = 0; page < 2; ++page) {
    uint8_t bytes[kStateRecordBytes];
    const Status s =
        config_.flash.read(config_.flash.context, config_.state_address[page], bytes, kStateRecordBytes);
    if (s != Status::ok) return s;
    StateRecord r;
    if (decode_state(bytes, &r) && (state_page_ < 0 || r.sequence > state_.sequence)) {
      state_ = r;
      state_page_ = static_cast<int8_t>(page);
    }
  }
  return Status::ok;
}

Status UpdateAgent::write_state(const StateRecord& next) {
  StateRecord r = next;
  r.sequence = state_.sequence + 1;
  const int page = state_page_ == 0 ? 1 : 0;  // never the page holding the current record
  uint8_t bytes[kStateRecordBytes];
  encode_state(r, bytes);
  const Flash& f = config_.flash;
  Status s = f.erase_page(f.context, config_.state_address[page]);
  if (s != Status::ok) return s;
  s = f.write(f.context, config_.state_address[page], bytes, kStateRecordBytes);
  if (s != Status::ok) return s;
  state_ = r;
  state_page_ = static_cast<int8_t>(page);
  return Status::ok;
}

Status UpdateAgent::verify_slot(uint8_t slot, Manifest* manifest) {
  const Flash& f = config_.flash;
  const uint32_t base = config_.slot_address[slot];
  Status s = f.read(f.context, base, block_, kPackageHeaderBytes);
  if (s != Status::ok) return s;
  uint32_t manifest_size = 0;
  s = parse_package_header(block_, kPackageHeaderBytes, &manifest_size);
  if (s != Status::ok) return s;
  const uint32_t size = signed_block_bytes(manifest_size);  // <= kMaxSignedBlockBytes
  s = f.read(f.context, base + kPackageHeaderBytes, block_ + kPackageHeaderBytes,
             size - kPackageHeaderBytes);
  if (s != Status::ok) return s;
  s = verify_signed_block(block_, size, config_.public_key, manifest);
  if (s != Status::ok) return s;
  if (std::strcmp(manifest->target, config_.target) != 0) return Status::bad_target;
  if (manifest->payload_size > config_.slot_size - kSlotPayloadOffset) return Status::too_large;

  return hash_payload(f, base + kSlotPayloadOffset, manifest->payload_size, manifest->payload_sha256);
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
      const Status v = verify_slot(p, &m);
      if (is_io_error(v)) return v;
      if (v != Status::ok || m.security_counter < state_.counter_floor) {
        s = roll_back(BootOutcome::rolled_back_invalid);
        if (s != Status::ok) return s;
      } else {
        StateRecord trial = state_;
        trial.trial = 1;  // before the test: a reset during it means "failed"
        s = write_state(trial);
        if (s != Status::ok) return s;
        ImageInfo info;
        fill_info(&info, p, m);
        if (self_test == nullptr || self_test(user, info)) {
          StateRecord confirmed = state_;
          confirmed.active = p;
          confirmed.pending = kNoSlot;
          confirmed.trial = 0;
          confirmed.counter_floor = max_u32(state_.counter_floor, m.security_counter);
          s = write_state(confirmed);
          if (s != Status::ok) return s;
          running_ = info;
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
  Status v = verify_slot(active, &m);
  if (is_io_error(v)) return v;
  if (v == Status::ok && m.security_counter >= state_.counter_floor) {
    fill_info(&running_, active, m);
    booted_ = true;
    return Status::ok;
  }

  // The confirmed slot does not verify (never caused by a power cut: rule 1 above, but
  // flash can wear out). The other slot may take over if it verifies, is not older than
  // the floor and passes the self-test.
  const uint8_t other = static_cast<uint8_t>(1 - active);
  v = verify_slot(other, &m);
  if (is_io_error(v)) return v;
  if (v == Status::ok && m.security_counter >= state_.counter_floor) {
    ImageInfo info;
    fill_info(&info, other, m);
    if (self_test == nullptr || self_test(user, info)) {
      StateRecord r = state_;
      r.active = other;
      r.pending = kNoSlot;
      r.trial = 0;
      r.counter_floor = max_u32(state_.counter_floor, m.security_counter);
      s = write_state(r);
      if (s != Status::ok) return s;
      running_ = info;
      booted_ = true;
      last_boot_ = BootOutcome::fallback;
      return Status::ok;
    }
  }
  booted_ = true;  // nothing to run, but an update may still be installed
  last_boot_ = BootOutcome::no_image;
  return Status::no_image;
}

Status UpdateAgent::begin_update() {
  if (!booted_) return Status::bad_state;
  if (phase_ == Phase::signed_block || phase_ == Phase::payload) return Status::bad_state;
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

Status UpdateAgent::accept_signed_block() {
  Status s = verify_signed_block(block_, block_size_, config_.public_key, &incoming_);
  if (s != Status::ok) return s;
  if (std::strcmp(incoming_.target, config_.target) != 0) return Status::bad_target;
  if (incoming_.payload_size > config_.slot_size - kSlotPayloadOffset) return Status::too_large;
  const uint32_t installed =
      max_u32(state_.counter_floor, running_.valid ? running_.security_counter : 0);
  if (incoming_.security_counter < installed) return Status::rollback;
  if (incoming_.has_base &&
      (!running_.valid ||
       std::memcmp(incoming_.base_sha256, running_.payload_sha256, kDigestBytes) != 0))
    return Status::bad_target;

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
  payload_end_ = block_size_ + incoming_.payload_size;
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
    const Status s = f.write(f.context, address, data, n);
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

Status UpdateAgent::write_update(const uint8_t* data, size_t size) {
  if (phase_ != Phase::signed_block && phase_ != Phase::payload) return Status::bad_state;
  const uint32_t unit = config_.flash.write_unit;
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
    if (staged_ > 0 || size < unit) {  // collect a partial write unit
      const uint32_t n = size < unit - staged_ ? static_cast<uint32_t>(size) : unit - staged_;
      std::memcpy(staging_ + staged_, data, n);
      staged_ += n;
      received_ += n;
      data += n;
      size -= n;
      if (staged_ == unit) {
        const Status s = flush_staged();
        if (s != Status::ok) return fail(s);
      }
      continue;
    }
    const uint32_t n = static_cast<uint32_t>(size) & ~(unit - 1);  // size <= payload left
    const Status s = program(write_address_, data, n);
    if (s != Status::ok) return fail(s);
    write_address_ += n;
    received_ += n;
    data += n;
    size -= n;
  }
  return Status::ok;
}

Status UpdateAgent::finish_update() {
  if (phase_ == Phase::signed_block) return fail(Status::truncated);
  if (phase_ != Phase::payload) return Status::bad_state;
  if (received_ < payload_end_) return fail(Status::truncated);
  Status s = flush_staged();
  if (s != Status::ok) return fail(s);
  // Verify what flash now holds, not what was streamed: signature, target, size, hash.
  Manifest stored;
  s = verify_slot(target_slot_, &stored);
  if (s != Status::ok) return fail(s);
  if (std::memcmp(&stored, &incoming_, sizeof(stored)) != 0) return fail(Status::bad_hash);
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
  out->counter_floor =
      max_u32(state_.counter_floor, running_.valid ? running_.security_counter : 0);
  out->last_boot = last_boot_;
}

}  // namespace tinyforge::ota
