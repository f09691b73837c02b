// Known-answer self-test of a payload; see tinyforge/ota/known_answer.h.
#include "tinyforge/ota/known_answer.h"

#include <cstring>

#include "tinyforge/runtime.h"

namespace tinyforge::ota {
namespace {

uint32_t load_u32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

struct Cursor {
  const uint8_t* data;
  uint32_t size, at;
  // The next tensor record: its bytes, which must be exactly `want` long.
  const uint8_t* take(uint32_t want) {
    if (size - at < 4 || load_u32(data + at) != want) return nullptr;
    const uint64_t padded = (uint64_t{want} + 3) & ~uint64_t{3};
    if (padded > size - at - 4) return nullptr;
    const uint8_t* bytes = data + at + 4;
    at += 4 + static_cast<uint32_t>(padded);
    return bytes;
  }
};

int64_t element(const TensorView& t, const uint8_t* bytes, int32_t i) {
  switch (t.type) {
    case DType::i8:
      return static_cast<int8_t>(bytes[i]);
    case DType::u8:
      return bytes[i];
    case DType::i16: {
      int16_t v;
      std::memcpy(&v, bytes + 2 * i, 2);
      return v;
    }
    case DType::i32: {
      int32_t v;
      std::memcpy(&v, bytes + 4 * i, 4);
      return v;
    }
    case DType::u32: {
      uint32_t v;
      std::memcpy(&v, bytes + 4 * i, 4);
      return v;
    }
    default:
      return 0;
  }
}

bool matches(const TensorView& t, const uint8_t* expected, uint32_t int_tol, float float_tol) {
  const auto* got = static_cast<const uint8_t*>(t.data);
  for (int32_t i = 0; i < t.elements(); ++i) {
    if (t.type == DType::f32) {
      float a, b;
      std::memcpy(&a, got + 4 * i, 4);
      std::memcpy(&b, expected + 4 * i, 4);
      const float d = a > b ? a - b : b - a;
      if (!(d <= float_tol)) return false;  // also false for NaN
    } else if (t.type == DType::u64) {      // beyond int64_t's differences: compared unsigned
      uint64_t a, b;
      std::memcpy(&a, got + 8 * i, 8);
      std::memcpy(&b, expected + 8 * i, 8);
      if ((a > b ? a - b : b - a) > int_tol) return false;
    } else {
      const int64_t d = element(t, got, i) - element(t, expected, i);
      if ((d < 0 ? -d : d) > int_tol) return false;
    }
  }
  return true;
}

}  // namespace

Status run_known_answer_test(const uint8_t* plan, uint32_t plan_size, const uint8_t* block,
                             uint32_t block_size, uint8_t* arena, uint32_t arena_size) {
  Runtime rt;
  Status s = rt.init(plan, plan_size, arena, arena_size);
  if (s != Status::ok) return s;
  if (block_size < kSelfTestHeaderBytes || load_u32(block) != kSelfTestMagic)
    return Status::bad_manifest;
  const uint32_t num_inputs = block[4] | (block[5] << 8), num_outputs = block[6] | (block[7] << 8);
  if (num_inputs != rt.num_inputs() || num_outputs != rt.num_outputs()) return Status::bad_manifest;
  const uint32_t int_tol = load_u32(block + 8);
  float float_tol;
  std::memcpy(&float_tol, block + 12, 4);
  Cursor c{block, block_size, kSelfTestHeaderBytes};
  for (uint32_t i = 0; i < num_inputs; ++i) {
    const TensorView in = rt.input(i);
    const uint8_t* bytes = c.take(in.bytes);
    if (bytes == nullptr) return Status::bad_manifest;
    std::memcpy(in.data, bytes, in.bytes);
  }
  const uint32_t outputs_at = c.at;
  for (uint32_t i = 0; i < num_outputs; ++i)  // check the layout before running
    if (c.take(rt.output(i).bytes) == nullptr) return Status::bad_manifest;
  if (c.at != block_size) return Status::bad_manifest;
  s = rt.invoke();
  if (s != Status::ok) return s;
  c.at = outputs_at;
  for (uint32_t i = 0; i < num_outputs; ++i) {
    const TensorView out = rt.output(i);
    if (!matches(out, c.take(out.bytes), int_tol, float_tol)) return Status::self_test_failed;
  }
  return Status::ok;
}

}  // namespace tinyforge::ota
