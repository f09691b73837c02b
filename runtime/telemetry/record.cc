// The telemetry record's wire format (docs/telemetry.md): one field table read by both
// encode_record and decode_record, and one range check that both run, so a device cannot
// send what the server refuses.
#include <cstring>

#include "tinyforge/plan_format.h"
#include "tinyforge/telemetry.h"

namespace tinyforge::telemetry {
namespace {

// Byte offsets of version 1.0 (docs/telemetry.md, "Layout").
constexpr uint32_t kSizeAt = 8, kDeviceAt = 12, kBootAt = 28, kSequenceAt = 32;
constexpr uint32_t kModelAt = 36, kVersionAt = 68, kHashAt = 80, kCountersAt = 112;
constexpr uint32_t kLatencyAt = 128, kErrorsAt = 256, kNumClassesAt = 320;
constexpr uint32_t kNumChannelsAt = 322, kClassesAt = 324, kChannelsAt = 388;
constexpr uint32_t kChannelBytes = 28, kCrcAt = 612, kHeaderBytes = 12;
static_assert(kChannelsAt + kMaxChannels * kChannelBytes == kCrcAt, "layout");
static_assert(kCrcAt + 4 == kRecordBytes, "layout");

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
void put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void put64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t get32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint64_t get64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Device ids become an MQTT topic level and a database key: no wildcards, no separators.
bool device_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

// A NUL-padded text field of `capacity` bytes: `min_length`.. characters accepted by
// `ok`, then only NULs. `out` gets capacity + 1 bytes, NUL-terminated.
bool read_text(const uint8_t* p, uint32_t capacity, uint32_t min_length, bool (*ok)(char),
               char* out) {
  uint32_t length = 0;
  while (length < capacity && p[length] != 0) ++length;
  for (uint32_t i = length; i < capacity; ++i)
    if (p[i] != 0) return false;
  for (uint32_t i = 0; i < length; ++i)
    if (!ok(static_cast<char>(p[i]))) return false;
  std::memcpy(out, p, length);
  std::memset(out + length, 0, capacity + 1 - length);
  return length >= min_length;
}

bool printable(char c) { return c >= 0x20 && c <= 0x7e; }

bool text_ok(const char* text, uint32_t capacity, uint32_t min_length, bool (*ok)(char)) {
  uint32_t length = 0;
  while (length <= capacity && text[length] != 0) {
    if (!ok(text[length])) return false;
    ++length;
  }
  return length >= min_length && length <= capacity;
}

bool all_zero(const uint8_t* p, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i)
    if (p[i] != 0) return false;
  return true;
}

Status refuse(const char** what, const char* check, Status status = Status::bad_params) {
  if (what != nullptr) *what = check;
  return status;
}

bool channel_ok(const ChannelStats& c) {
  if (c.count == 0)
    return c.saturated == 0 && c.min == 0 && c.max == 0 && c.sum == 0 && c.sum_sq == 0;
  if (c.saturated > c.count || c.min < -128 || c.max > 255 || c.min > c.max) return false;
  // Every value lies in [min, max]: the sums are bounded by count times the extremes
  // (64-bit: count < 2^32 and |value| <= 255).
  const int64_t n = c.count;
  if (c.sum < n * c.min || c.sum > n * c.max) return false;
  const int64_t lo = c.min < 0 ? -static_cast<int64_t>(c.min) : c.min;
  const int64_t hi = c.max < 0 ? -static_cast<int64_t>(c.max) : c.max;
  const int64_t extreme = lo > hi ? lo : hi;
  return c.sum_sq <= static_cast<uint64_t>(n * extreme * extreme);
}

// The range rules of docs/telemetry.md ("What a reader checks").
Status check_record(const Record& r, const char** what) {
  if (!text_ok(r.device_id, kDeviceIdBytes, 1, device_char))
    return refuse(what, "device_id must be 1..16 of [A-Za-z0-9._-]");
  if (!text_ok(r.model_id, kModelIdBytes, 0, printable))
    return refuse(what, "model_id must be printable ASCII");
  if (r.model_id[0] == 0 && (r.version[0] != 0 || r.version[1] != 0 || r.version[2] != 0 ||
                             !all_zero(r.model_sha256, kHashBytes)))
    return refuse(what, "version and hash must be zero without a model");
  for (uint32_t k = 0; k < kErrorKinds; ++k)
    if (r.errors[k] != 0 && (k == 0 || k >= static_cast<uint32_t>(Status::last_)))
      return refuse(what, "error count for a status that does not exist (or ok)");
  uint64_t classified = 0, timed = 0;
  for (uint32_t b = 0; b < kLatencyBuckets; ++b) timed += r.latency[b];
  if (r.num_classes > kMaxClasses) return refuse(what, "num_classes above 16");
  for (uint32_t c = 0; c < kMaxClasses; ++c) {
    if (c >= r.num_classes && r.classes[c] != 0)
      return refuse(what, "class count beyond num_classes");
    classified += r.classes[c];
  }
  if (timed > r.inference_count || classified > r.inference_count)
    return refuse(what, "more latencies or classes than inferences");
  if (r.num_channels > kMaxChannels) return refuse(what, "num_channels above 8");
  for (uint32_t c = 0; c < kMaxChannels; ++c) {
    const ChannelStats& s = r.channels[c];
    if (c >= r.num_channels && s.count != 0)
      return refuse(what, "channel statistics beyond num_channels");
    if (!channel_ok(s)) return refuse(what, "channel statistics out of range");
  }
  return Status::ok;
}

}  // namespace

Status encode_record(const Record& r, uint8_t out[kRecordBytes]) {
  if (check_record(r, nullptr) != Status::ok) return Status::bad_params;
  std::memset(out, 0, kRecordBytes);
  put32(out, kRecordMagic);
  put16(out + 4, kVersionMajor);
  put16(out + 6, kVersionMinor);
  put32(out + kSizeAt, kRecordBytes);
  std::memcpy(out + kDeviceAt, r.device_id, std::strlen(r.device_id));
  put32(out + kBootAt, r.boot_count);
  put32(out + kSequenceAt, r.sequence);
  std::memcpy(out + kModelAt, r.model_id, std::strlen(r.model_id));
  for (uint32_t i = 0; i < 3; ++i) put32(out + kVersionAt + 4 * i, r.version[i]);
  std::memcpy(out + kHashAt, r.model_sha256, kHashBytes);
  const uint32_t counters[4] = {r.update_count, r.rollback_count, r.inference_count,
                                r.dropped_records};
  for (uint32_t i = 0; i < 4; ++i) put32(out + kCountersAt + 4 * i, counters[i]);
  for (uint32_t b = 0; b < kLatencyBuckets; ++b) put32(out + kLatencyAt + 4 * b, r.latency[b]);
  for (uint32_t k = 0; k < kErrorKinds; ++k) put16(out + kErrorsAt + 2 * k, r.errors[k]);
  put16(out + kNumClassesAt, r.num_classes);
  put16(out + kNumChannelsAt, r.num_channels);
  for (uint32_t c = 0; c < kMaxClasses; ++c) put32(out + kClassesAt + 4 * c, r.classes[c]);
  for (uint32_t c = 0; c < kMaxChannels; ++c) {
    uint8_t* p = out + kChannelsAt + kChannelBytes * c;
    const ChannelStats& s = r.channels[c];
    put32(p, s.count);
    put32(p + 4, s.saturated);
    put16(p + 8, static_cast<uint16_t>(s.min));
    put16(p + 10, static_cast<uint16_t>(s.max));
    put64(p + 12, static_cast<uint64_t>(s.sum));
    put64(p + 20, s.sum_sq);
  }
  put32(out + kCrcAt, crc32(out, kCrcAt));
  return Status::ok;
}

Status decode_record(const uint8_t* data, size_t size, Record* out, const char** what) {
  if (size < kHeaderBytes)
    return refuse(what, "shorter than the 12-byte header", Status::truncated);
  if (get32(data) != kRecordMagic) return refuse(what, "magic is not TFT1", Status::bad_magic);
  const uint16_t major = get16(data + 4), minor = get16(data + 6);
  if (major != kVersionMajor)
    return refuse(what, "major version is not 1 (a newer format)", Status::bad_version);
  const uint32_t declared = get32(data + kSizeAt);
  // Version 1.0 is exactly kRecordBytes; later minors may append fields before the CRC.
  if (declared < kRecordBytes || declared % 4 != 0 || (minor == 0 && declared != kRecordBytes))
    return refuse(what, "record_size does not match the version");
  if (size < declared) return refuse(what, "shorter than its record_size", Status::truncated);
  if (size > declared) return refuse(what, "bytes after the record", Status::too_large);
  const uint32_t crc_at = declared - 4;
  if (get32(data + crc_at) != crc32(data, crc_at))
    return refuse(what, "CRC-32 does not match", Status::bad_hash);

  Record r{};
  if (!read_text(data + kDeviceAt, kDeviceIdBytes, 1, device_char, r.device_id))
    return refuse(what, "device_id must be 1..16 of [A-Za-z0-9._-], NUL-padded");
  if (!read_text(data + kModelAt, kModelIdBytes, 0, printable, r.model_id))
    return refuse(what, "model_id must be printable ASCII, NUL-padded");
  r.boot_count = get32(data + kBootAt);
  r.sequence = get32(data + kSequenceAt);
  for (uint32_t i = 0; i < 3; ++i) r.version[i] = get32(data + kVersionAt + 4 * i);
  std::memcpy(r.model_sha256, data + kHashAt, kHashBytes);
  r.update_count = get32(data + kCountersAt);
  r.rollback_count = get32(data + kCountersAt + 4);
  r.inference_count = get32(data + kCountersAt + 8);
  r.dropped_records = get32(data + kCountersAt + 12);
  for (uint32_t b = 0; b < kLatencyBuckets; ++b) r.latency[b] = get32(data + kLatencyAt + 4 * b);
  for (uint32_t k = 0; k < kErrorKinds; ++k) r.errors[k] = get16(data + kErrorsAt + 2 * k);
  r.num_classes = get16(data + kNumClassesAt);
  r.num_channels = get16(data + kNumChannelsAt);
  for (uint32_t c = 0; c < kMaxClasses; ++c) r.classes[c] = get32(data + kClassesAt + 4 * c);
  for (uint32_t c = 0; c < kMaxChannels; ++c) {
    const uint8_t* p = data + kChannelsAt + kChannelBytes * c;
    ChannelStats& s = r.channels[c];
    s.count = get32(p);
    s.saturated = get32(p + 4);
    s.min = static_cast<int16_t>(get16(p + 8));
    s.max = static_cast<int16_t>(get16(p + 10));
    s.sum = static_cast<int64_t>(get64(p + 12));
    s.sum_sq = get64(p + 20);
  }
  const Status status = check_record(r, what);
  if (status != Status::ok) return status;
  *out = r;
  return Status::ok;
}

Status Ring::init(uint8_t* buffer, uint32_t size) {
  if (buffer == nullptr || size < kRecordBytes) return Status::bad_params;
  buffer_ = buffer;
  capacity_ = size / kRecordBytes;
  head_ = count_ = dropped_ = 0;
  return Status::ok;
}

void Ring::push(const uint8_t record[kRecordBytes]) {
  if (capacity_ == 0) return;
  if (count_ == capacity_) {  // full: the oldest record gives way
    pop();
    ++dropped_;
  }
  std::memcpy(buffer_ + ((head_ + count_) % capacity_) * kRecordBytes, record, kRecordBytes);
  ++count_;
}

const uint8_t* Ring::front() const {
  return count_ == 0 ? nullptr : buffer_ + head_ * kRecordBytes;
}

void Ring::pop() {
  if (count_ == 0) return;
  head_ = (head_ + 1) % capacity_;
  --count_;
}

}  // namespace tinyforge::telemetry
