// Read access to the records of a plan blob. Only used on blobs that validate_plan()
// accepted (or, inside the validator, on ranges it has already checked).
#pragma once
#include <cstring>

#include "tinyforge/kernel.h"
#include "tinyforge/plan_format.h"

namespace tinyforge {

// Records are copied out (memcpy) instead of cast in place: no alignment or aliasing
// assumptions about where the blob lives; they are small.
inline PlanHeader read_header(const uint8_t* blob) {
  PlanHeader h;
  std::memcpy(&h, blob, sizeof h);
  return h;
}
inline TensorRecord read_tensor(const uint8_t* blob, const PlanHeader& h, uint32_t i) {
  TensorRecord t;
  std::memcpy(&t, blob + h.tensors_offset + i * sizeof(TensorRecord), sizeof t);
  return t;
}
inline OpRecord read_op(const uint8_t* blob, const PlanHeader& h, uint32_t i) {
  OpRecord o;
  std::memcpy(&o, blob + h.ops_offset + i * sizeof(OpRecord), sizeof o);
  return o;
}
inline uint16_t read_index(const uint8_t* blob, const PlanHeader& h, uint32_t i) {
  uint16_t v;
  std::memcpy(&v, blob + h.indices_offset + i * sizeof(uint16_t), sizeof v);
  return v;
}

// A view of tensor record `t`; data resolved against the blob or the arena (either may
// be nullptr during validation, which only checks shapes).
inline TensorView make_view(const TensorRecord& t, const uint8_t* blob, uint8_t* arena) {
  TensorView v{};
  v.type = static_cast<DType>(t.dtype);
  v.rank = t.rank;
  for (uint8_t d = 0; d < kMaxRank; ++d) v.dims[d] = t.dims[d];
  v.bytes = t.size_bytes;
  v.scale = t.scale;
  v.zero_point = t.zero_point;
  if (static_cast<Storage>(t.storage) == Storage::constant)
    v.data = blob ? const_cast<uint8_t*>(blob) + t.offset : nullptr;
  else
    v.data = arena ? arena + t.offset : nullptr;
  return v;
}

}  // namespace tinyforge
