// Fuzz target: arbitrary bytes as a plan blob. validate_plan must refuse or accept without
// reading outside the blob; an accepted blob must init with an arena of its declared size
// and run without touching memory outside blob and arena. The blob's checksum is
// recomputed first when its header allows, so mutations reach the checks behind it.
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
  if (h.arena_size > kMaxArena || work_bound(blob.get(), h) > kMaxWork) return 0;
  std::unique_ptr<uint8_t[]> arena(new uint8_t[h.arena_size ? h.arena_size : 1]());
  Runtime rt;
  if (rt.init(blob.get(), blob_size, arena.get(), h.arena_size) != Status::ok) return 0;
  rt.invoke();
  return 0;
}
