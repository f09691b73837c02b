// Fuzz target: arbitrary bytes as a plan blob. validate_plan must refuse or accept without
// reading outside the blob; an accepted blob must init with arenas of its declared sizes
// (one per memory region) and run without touching memory outside blob and arenas. The blob's
// checksum is recomputed first when its header allows, so mutations reach the checks behind it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "tinyforge/plan_format.h"
#include "tinyforge/runtime.h"

namespace {
constexpr uint32_t kMaxArena = 8u << 20;
constexpr size_t kMaxBlob = 16u << 20;
constexpr uint64_t kMaxWork = 20'000'000;

template <typename T>
T read_at(const uint8_t* blob, uint32_t offset) {
  T v;
  std::memcpy(&v, blob + offset, sizeof(T));
  return v;
}

// Upper bound on a validated blob's inner-loop iterations: per op, output bytes times its
// largest input (a filter or window never spans more than an input). Skips running blobs
// that are valid but would take minutes.
uint64_t work_bound(const uint8_t* blob, const tinyforge::PlanHeader& h) {
  using namespace tinyforge;
  uint64_t work = 0;
  for (uint32_t i = 0; i < h.num_ops; ++i) {
    const auto op = read_at<OpRecord>(blob, h.ops_offset + i * sizeof(OpRecord));
    auto bytes_of = [&](uint32_t k) -> uint64_t {
      const auto t = read_at<uint16_t>(blob, h.indices_offset + (op.io_at + k) * 2);
      if (t == kNoTensor) return 0;
      return read_at<TensorRecord>(blob, h.tensors_offset + t * sizeof(TensorRecord)).size_bytes;
    };
    uint64_t largest_input = 1;
    for (uint32_t k = 0; k < op.num_inputs; ++k)
      largest_input = std::max(largest_input, bytes_of(k));
    for (uint32_t k = 0; k < op.num_outputs; ++k)
      work += bytes_of(op.num_inputs + k) * largest_input;
    if (work > kMaxWork) break;
  }
  return work;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tinyforge;
  if (size > kMaxBlob) return 0;
  // Exact-size heap copies (operator new aligns to 16): ASan sees any access past the end.
  std::unique_ptr<uint8_t[]> blob(new uint8_t[size ? size : 1]);
  if (size) std::memcpy(blob.get(), data, size);
  const auto blob_size = static_cast<uint32_t>(size);

  // Keep the checksum right whenever the header's total_size lets it be computed.
  PlanHeader h;
  if (size >= sizeof(h)) {
    std::memcpy(&h, blob.get(), sizeof(h));
    if (h.total_size >= sizeof(h) && h.total_size <= blob_size) {
      h.checksum = plan_checksum(blob.get(), h.total_size);
      std::memcpy(blob.get() + offsetof(PlanHeader, checksum), &h.checksum, sizeof(h.checksum));
    }
  }
  if (validate_plan(blob.get(), blob_size) != Status::ok) return 0;
  std::memcpy(&h, blob.get(), sizeof(h));
  if (work_bound(blob.get(), h) > kMaxWork) return 0;
  // One arena per memory region (plan format 1.2; one for older blobs), as a device would.
  const uint32_t num_regions = Runtime::num_regions(blob.get());
  std::unique_ptr<uint8_t[]> arenas[kMaxRegions];
  ArenaRegion regions[kMaxRegions] = {};
  for (uint32_t r = 0; r < num_regions; ++r) {
    const uint32_t bytes = Runtime::region_size(blob.get(), r);
    if (bytes > kMaxArena) return 0;
    arenas[r].reset(new uint8_t[bytes ? bytes : 1]());
    regions[r] = {arenas[r].get(), bytes};
  }
  Runtime rt;
  if (rt.init(blob.get(), blob_size, regions, num_regions) != Status::ok) return 0;
  rt.invoke();
  return 0;
}
