// Collector: accumulates one telemetry window in a Record, in fixed RAM.
#include <cstring>

#include "tinyforge/telemetry.h"

namespace tinyforge::telemetry {
namespace {

void add_saturating(uint16_t* counter) {
  if (*counter != 0xFFFF) ++*counter;
}

uint32_t latency_bucket(uint32_t cycles) {
  uint32_t bucket = 0;
  while (cycles > 1) {
    cycles >>= 1;
    ++bucket;
  }
  return bucket;
}

void add_value(ChannelStats* s, int32_t v, int32_t lowest, int32_t highest) {
  if (s->count == 0) {
    s->min = s->max = static_cast<int16_t>(v);
  } else {
    if (v < s->min) s->min = static_cast<int16_t>(v);
    if (v > s->max) s->max = static_cast<int16_t>(v);
  }
  ++s->count;
  if (v == lowest || v == highest) ++s->saturated;
  s->sum += v;
  s->sum_sq += static_cast<uint64_t>(static_cast<int64_t>(v) * v);
}

}  // namespace

Status Collector::init(const char* device_id, uint32_t boot_count, uint32_t update_count,
                       uint32_t rollback_count) {
  record_ = Record{};
  size_t length = 0;
  while (device_id != nullptr && length <= kDeviceIdBytes && device_id[length] != 0) ++length;
  if (length == 0 || length > kDeviceIdBytes) return Status::bad_params;
  std::memcpy(record_.device_id, device_id, length);
  uint8_t probe[kRecordBytes];  // the id's characters: the encoder's own check decides
  if (encode_record(record_, probe) != Status::ok) {
    record_ = Record{};
    return Status::bad_params;
  }
  record_.boot_count = boot_count;
  record_.update_count = update_count;
  record_.rollback_count = rollback_count;
  return Status::ok;
}

void Collector::set_model(const ota::ImageInfo& running) {
  if (!running.valid) return;
  static_assert(sizeof(running.model_id) == sizeof(record_.model_id), "same id limit");
  std::memcpy(record_.model_id, running.model_id, sizeof(record_.model_id));
  record_.version[0] = running.version.major;
  record_.version[1] = running.version.minor;
  record_.version[2] = running.version.patch;
  std::memcpy(record_.model_sha256, running.payload_sha256, kHashBytes);
}

void Collector::count_boot_outcome(ota::BootOutcome outcome) {
  switch (outcome) {
    case ota::BootOutcome::confirmed_update:
      ++record_.update_count;
      break;
    case ota::BootOutcome::rolled_back_test:
    case ota::BootOutcome::rolled_back_reset:
    case ota::BootOutcome::rolled_back_invalid:
      ++record_.rollback_count;
      break;
    default:
      break;
  }
}

void Collector::count_error(Status status) {
  const uint32_t code = static_cast<uint32_t>(status);
  if (code != 0 && code < static_cast<uint32_t>(Status::last_))
    add_saturating(&record_.errors[code]);
}

void Collector::observe_input(const TensorView& input) {
  if (input.data == nullptr || (input.type != DType::i8 && input.type != DType::u8)) return;
  const int32_t elements = input.elements();
  const int32_t channels = input.rank == 0 ? 1 : input.dims[input.rank - 1];
  if (elements <= 0 || channels <= 0) return;
  const uint32_t slots = channels < static_cast<int32_t>(kMaxChannels)
                             ? static_cast<uint32_t>(channels)
                             : kMaxChannels;
  if (record_.num_channels == 0) record_.num_channels = static_cast<uint16_t>(slots);
  if (record_.num_channels != slots) return;  // another input shape in this window: skip
  const bool is_signed = input.type == DType::i8;
  for (int32_t i = 0; i < elements; ++i) {
    ChannelStats* s = &record_.channels[static_cast<uint32_t>(i % channels) % kMaxChannels];
    if (s->count == UINT32_MAX) continue;  // a full window stops counting, never wraps
    if (is_signed)
      add_value(s, static_cast<const int8_t*>(input.data)[i], -128, 127);
    else
      add_value(s, static_cast<const uint8_t*>(input.data)[i], 0, 255);
  }
}

void Collector::observe_result(Status status, const TensorView& output, uint32_t cycles) {
  if (record_.inference_count == UINT32_MAX) return;
  ++record_.inference_count;
  if (status != Status::ok) {
    count_error(status);
    return;
  }
  ++record_.latency[latency_bucket(cycles)];
  const int32_t elements = output.elements();
  if (output.data == nullptr || elements <= 0) return;
  int32_t best = 0;
  float best_value = 0;
  for (int32_t i = 0; i < elements; ++i) {
    float v;
    if (output.type == DType::i8)
      v = static_cast<const int8_t*>(output.data)[i];
    else if (output.type == DType::u8)
      v = static_cast<const uint8_t*>(output.data)[i];
    else if (output.type == DType::f32)
      v = static_cast<const float*>(output.data)[i];
    else
      return;  // not a classifier's output
    if (i == 0 || v > best_value) {
      best = i;
      best_value = v;
    }
  }
  const uint32_t classes =
      elements < static_cast<int32_t>(kMaxClasses) ? static_cast<uint32_t>(elements) : kMaxClasses;
  if (record_.num_classes < classes) record_.num_classes = static_cast<uint16_t>(classes);
  const uint32_t slot = static_cast<uint32_t>(best) < kMaxClasses - 1 ? best : kMaxClasses - 1;
  ++record_.classes[slot];
}

Status Collector::emit(Ring* ring) {
  if (ring == nullptr || record_.device_id[0] == 0) return Status::not_initialized;
  record_.dropped_records = ring->dropped();
  uint8_t bytes[kRecordBytes];
  const Status status = encode_record(record_, bytes);
  if (status != Status::ok) return status;
  ring->push(bytes);
  // The next window: cumulative fields stay, the per-window ones restart at zero.
  Record next{};
  std::memcpy(next.device_id, record_.device_id, sizeof(next.device_id));
  std::memcpy(next.model_id, record_.model_id, sizeof(next.model_id));
  std::memcpy(next.version, record_.version, sizeof(next.version));
  std::memcpy(next.model_sha256, record_.model_sha256, kHashBytes);
  next.boot_count = record_.boot_count;
  next.sequence = record_.sequence + 1;
  next.update_count = record_.update_count;
  next.rollback_count = record_.rollback_count;
  record_ = next;
  return Status::ok;
}

}  // namespace tinyforge::telemetry
