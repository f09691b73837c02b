// Device telemetry (opt-in): what a deployed model did since the last report, as a fixed,
// versioned, CRC-checked little-endian record of kRecordBytes bytes (docs/telemetry.md has
// it byte by byte). Freestanding: no heap, no exceptions; RAM is a Collector (one Record,
// about 700 bytes) plus the ring the caller hands in.
//
//   telemetry::Collector collector;
//   collector.init("dev-0042", boot_count, update_count, rollback_count);
//   collector.set_model(agent.running());            // id, version and hash of the plan
//   collector.count_boot_outcome(report.last_boot);  // an update confirmed or rolled back
//   ... every inference:
//   collector.observe_input(rt.input(0));            // before invoke: the arena is reused
//   Status s = rt.invoke();
//   collector.observe_result(s, rt.output(0), cycles);
//   ... every so often:
//   collector.emit(&ring);                           // encode, queue, start a new window
//   send ring.front() over any link, then ring.pop()
//
// Cumulative fields (boot, update and rollback counters) carry over from window to window;
// the rest (inference count, histograms, error counts, input statistics) describe one
// window and restart at zero after emit(). (boot_count, sequence) orders a device's records:
// the firmware persists boot_count and the update/rollback counters itself.
#pragma once
#include <cstddef>
#include <cstdint>

#include "tinyforge/kernel.h"
#include "tinyforge/ota/agent.h"
#include "tinyforge/status.h"

namespace tinyforge::telemetry {

constexpr uint32_t kRecordMagic = 0x31544654;  // bytes "TFT1"
constexpr uint16_t kVersionMajor = 1;          // readers refuse any other major
constexpr uint16_t kVersionMinor = 0;          // additions append fields before the CRC
constexpr uint32_t kRecordBytes = 616;         // of version 1.0; newer minors may be longer
constexpr uint32_t kDeviceIdBytes = 16;
constexpr uint32_t kModelIdBytes = 32;
constexpr uint32_t kHashBytes = 32;
constexpr uint32_t kLatencyBuckets = 32;  // bucket b: cycles in [2^b, 2^(b+1)); 0 in bucket 0
constexpr uint32_t kErrorKinds = 32;      // indexed by Status code; [0] (ok) stays 0
constexpr uint32_t kMaxClasses = 16;      // argmax >= 15 counts in the last class
constexpr uint32_t kMaxChannels = 8;      // input channel c counts in c % kMaxChannels
static_assert(static_cast<uint32_t>(Status::last_) <= kErrorKinds, "a Status without a slot");

// Running statistics of one channel of the quantized (int8/uint8) input, as raw sums so
// windows add up on the server: mean = sum / count, variance = sum_sq / count - mean^2.
struct ChannelStats {
  uint32_t count;      // values seen
  uint32_t saturated;  // values at the type's minimum or maximum (clipped by quantization)
  int16_t min, max;    // 0 when count is 0
  int64_t sum;
  uint64_t sum_sq;
};

struct Record {
  char device_id[kDeviceIdBytes + 1];  // 1..16 printable ASCII, NUL-terminated
  uint32_t boot_count;
  uint32_t sequence;                 // records emitted since this boot
  char model_id[kModelIdBytes + 1];  // empty: no model running
  uint32_t version[3];               // major, minor, patch
  uint8_t model_sha256[kHashBytes];  // SHA-256 of the signed payload (the plan)
  uint32_t update_count;             // updates confirmed, ever
  uint32_t rollback_count;           // updates rolled back, ever
  uint32_t inference_count;          // in this window
  uint32_t dropped_records;          // records the ring overwrote before they were sent
  uint32_t latency[kLatencyBuckets];
  uint16_t errors[kErrorKinds];  // saturate at 65535
  uint16_t num_classes;          // 0 when no output was classified
  uint16_t num_channels;         // 0 when the input is not int8/uint8
  uint32_t classes[kMaxClasses];
  ChannelStats channels[kMaxChannels];
};

// Writes exactly kRecordBytes bytes, the CRC last. bad_params if the record would not pass
// decode_record (so a device never sends what the server refuses).
Status encode_record(const Record& record, uint8_t out[kRecordBytes]);

// Checks everything before trusting anything: size (truncated / too_large against the
// record's own size field), magic, major version, CRC (bad_hash), then every field's range
// (bad_params). On failure `*what` (if given) names the check that failed.
Status decode_record(const uint8_t* data, size_t size, Record* out, const char** what);

// A queue of encoded records in caller-provided memory: capacity = size / kRecordBytes.
// When full, push() overwrites the oldest record and counts it in dropped().
class Ring {
 public:
  Status init(uint8_t* buffer, uint32_t size);  // bad_params if it holds no record
  void push(const uint8_t record[kRecordBytes]);
  const uint8_t* front() const;  // nullptr when empty
  void pop();
  uint32_t count() const { return count_; }
  uint32_t capacity() const { return capacity_; }
  uint32_t dropped() const { return dropped_; }

 private:
  uint8_t* buffer_ = nullptr;
  uint32_t capacity_ = 0, head_ = 0, count_ = 0, dropped_ = 0;
};

class Collector {
 public:
  // bad_params unless device_id is 1..16 printable ASCII characters.
  Status init(const char* device_id, uint32_t boot_count, uint32_t update_count,
              uint32_t rollback_count);
  void set_model(const ota::ImageInfo& running);  // nothing when !running.valid
  void count_boot_outcome(ota::BootOutcome outcome);
  void count_error(Status status);  // e.g. a failed update step; ok is ignored
  // Per-channel statistics of an int8/uint8 input (others are not counted).
  void observe_input(const TensorView& input);
  // The invoke's status, and on success the argmax of `output` and the latency.
  void observe_result(Status status, const TensorView& output, uint32_t cycles);
  // Encodes the window into the ring and starts the next one (sequence + 1).
  Status emit(Ring* ring);
  const Record& current() const { return record_; }

 private:
  Record record_{};
};

}  // namespace tinyforge::telemetry
