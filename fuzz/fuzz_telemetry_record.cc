// libFuzzer target: the telemetry record reader (docs/telemetry.md). Any input either is
// refused with a Status, or decodes to a record that the writer accepts and, for format
// 1.0, re-encodes to exactly the same bytes (the format has one encoding per record).
// Seeds: make_fuzz_seeds writes a few valid records.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "tinyforge/telemetry.h"

using namespace tinyforge;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  telemetry::Record record;
  const char* what = nullptr;
  if (telemetry::decode_record(data, size, &record, &what) != Status::ok) {
    if (what == nullptr) std::abort();  // every refusal names its rule
    return 0;
  }
  uint8_t again[telemetry::kRecordBytes];
  if (telemetry::encode_record(record, again) != Status::ok) std::abort();
  if (size == telemetry::kRecordBytes && data[6] == 0 && data[7] == 0 &&
      std::memcmp(again, data, size) != 0)
    std::abort();
  return 0;
}
