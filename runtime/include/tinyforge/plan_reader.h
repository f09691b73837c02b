// The one reader of plan-blob records: the validator, the executor and the host tools
// (`inspect`, the AOT emitter, firmware) all read a blob through it. Use it only on a blob
// that validate_plan() accepted (the validator itself reads only ranges it has checked).
//
// Records are copied out (memcpy) instead of cast in place: no alignment or aliasing
// assumptions about where the blob lives; they are small.
#pragma once
#include <cstddef>
#include <cstring>

#include "tinyforge/kernel.h"
#include "tinyforge/plan_format.h"

namespace tinyforge {

inline PlanHeader read_header(const uint8_t* blob) {
  PlanHeader h;
  std::memcpy(&h, blob, sizeof h);
  return h;
}
inline TensorRecord read_tensor(const uint8_t* blob, uint32_t tensors_offset, uint32_t i) {
  TensorRecord t;
  std::memcpy(&t, blob + tensors_offset + i * sizeof(TensorRecord), sizeof t);
  return t;
}
inline TensorRecord read_tensor(const uint8_t* blob, const PlanHeader& h, uint32_t i) {
  return read_tensor(blob, h.tensors_offset, i);
}
// One 32-bit field of the header (offsetof(PlanHeader, field)), read alone: the executor
// reads a few fields per inference and keeps no 72-byte copy of the header on its stack.
inline uint32_t read_header_word(const uint8_t* blob, size_t field_offset) {
  uint32_t v;
  std::memcpy(&v, blob + field_offset, sizeof v);
  return v;
}
inline OpRecord read_op(const uint8_t* blob, uint32_t ops_offset, uint32_t i) {
  OpRecord o;
  std::memcpy(&o, blob + ops_offset + i * sizeof(OpRecord), sizeof o);
  return o;
}
inline OpRecord read_op(const uint8_t* blob, const PlanHeader& h, uint32_t i) {
  return read_op(blob, h.ops_offset, i);
}
inline uint16_t read_index(const uint8_t* blob, uint32_t indices_offset, uint32_t i) {
  uint16_t v;
  std::memcpy(&v, blob + indices_offset + i * sizeof(uint16_t), sizeof v);
  return v;
}
inline uint16_t read_index(const uint8_t* blob, const PlanHeader& h, uint32_t i) {
  return read_index(blob, h.indices_offset, i);
}

// Version 2.2 blobs carry PlanRegions after PlanTarget; older ones have one arena.
inline bool has_regions(const PlanHeader& h) { return h.version_minor >= 2; }
constexpr uint32_t kRegionsAt = sizeof(PlanHeader) + sizeof(PlanTarget);
inline PlanRegions read_regions(const uint8_t* blob, const PlanHeader& h) {
  PlanRegions r{0, 0, 0, 0};
  if (has_regions(h)) std::memcpy(&r, blob + kRegionsAt, sizeof r);
  return r;
}
inline RegionRecord read_region(const uint8_t* blob, const PlanRegions& r, uint32_t i) {
  RegionRecord rec;
  std::memcpy(&rec, blob + r.regions_offset + i * sizeof(RegionRecord), sizeof rec);
  return rec;
}
inline CopyRecord read_copy(const uint8_t* blob, const PlanRegions& r, uint32_t i) {
  CopyRecord c;
  std::memcpy(&c, blob + r.copies_offset + i * sizeof(CopyRecord), sizeof c);
  return c;
}
// Version 2.3 blobs may carry an audio front-end section (PlanFrontend after PlanRegions).
inline bool has_frontend(const PlanHeader& h) { return h.version_minor >= 3; }
constexpr uint32_t kFrontendAt = kRegionsAt + sizeof(PlanRegions);
inline PlanFrontend read_frontend(const uint8_t* blob, const PlanHeader& h) {
  PlanFrontend f{0, 0};
  if (has_frontend(h)) std::memcpy(&f, blob + kFrontendAt, sizeof f);
  return f;
}
// A plan compiled with --memory: several regions, init copies or a named region. A 2.3 blob
// without --memory has one unnamed region, which is the single arena of older blobs.
inline bool uses_memory_regions(const uint8_t* blob, const PlanHeader& h) {
  if (!has_regions(h)) return false;
  const PlanRegions r = read_regions(blob, h);
  return r.num_regions != 1 || r.num_copies != 0 || read_region(blob, r, 0).name[0] != 0;
}

// The arena a tensor lives in (0 for constants and for blobs before 2.2).
inline uint8_t tensor_region(const PlanHeader& h, const TensorRecord& t) {
  return has_regions(h) ? t.region : 0;
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

// The records of one validated blob, by what they mean rather than by offset.
class PlanReader {
 public:
  explicit PlanReader(const uint8_t* blob) : blob_(blob), h_(read_header(blob)) {}

  const uint8_t* blob() const { return blob_; }
  const PlanHeader& header() const { return h_; }
  TensorRecord tensor(uint32_t t) const { return read_tensor(blob_, h_, t); }
  OpRecord op(uint32_t i) const { return read_op(blob_, h_, i); }
  // Tensor index of op input k (kNoTensor for an absent optional input) / output k.
  uint16_t op_input(const OpRecord& op, uint32_t k) const {
    return read_index(blob_, h_, op.io_at + k);
  }
  uint16_t op_output(const OpRecord& op, uint32_t k) const {
    return read_index(blob_, h_, op.io_at + op.num_inputs + k);
  }
  uint16_t model_input(uint32_t i) const { return read_index(blob_, h_, h_.inputs_at + i); }
  uint16_t model_output(uint32_t i) const { return read_index(blob_, h_, h_.outputs_at + i); }
  // Offset of an op's params (or of a constant) from the start of the data section.
  uint32_t data_relative(uint32_t blob_offset) const { return blob_offset - h_.data_offset; }

 private:
  const uint8_t* blob_;
  PlanHeader h_;
};

}  // namespace tinyforge
