// C linkage over tinyforge::Runtime (tinyforge/c_api.h). The runtime object lives inside
// the caller's tinyforge_runtime storage, so the C API allocates nothing either.
#include "tinyforge/c_api.h"

#include <new>

#include "tinyforge/runtime.h"

namespace tinyforge {
namespace {

static_assert(sizeof(Runtime) <= sizeof(tinyforge_runtime) &&
                  alignof(Runtime) <= alignof(tinyforge_runtime),
              "tinyforge_runtime's storage must hold a Runtime");
static_assert(TINYFORGE_OK == static_cast<int>(Status::ok) &&
                  TINYFORGE_ARENA_TOO_SMALL == static_cast<int>(Status::arena_too_small) &&
                  TINYFORGE_NOT_INITIALIZED == static_cast<int>(Status::not_initialized) &&
                  TINYFORGE_OUT_OF_BOUNDS == static_cast<int>(Status::out_of_bounds),
              "C status codes are tinyforge::Status values");
static_assert(TINYFORGE_F32 == static_cast<int>(DType::f32) &&
                  TINYFORGE_I8 == static_cast<int>(DType::i8) &&
                  TINYFORGE_I32 == static_cast<int>(DType::i32) &&
                  TINYFORGE_U8 == static_cast<int>(DType::u8) &&
                  TINYFORGE_I16 == static_cast<int>(DType::i16) &&
                  TINYFORGE_U32 == static_cast<int>(DType::u32) &&
                  TINYFORGE_U64 == static_cast<int>(DType::u64),
              "C dtype values are tinyforge::DType values");
static_assert(kMaxRank == 4, "tinyforge_tensor holds 4 dims");

Runtime* get(tinyforge_runtime* rt) { return std::launder(reinterpret_cast<Runtime*>(rt)); }
const Runtime* get(const tinyforge_runtime* rt) {
  return std::launder(reinterpret_cast<const Runtime*>(rt));
}

int to_c(const TensorView& v, tinyforge_tensor* out) {
  out->dtype = static_cast<int32_t>(v.type);
  out->rank = v.rank;
  for (int i = 0; i < 4; ++i) out->dims[i] = v.dims[i];
  out->data = v.data;
  out->bytes = v.bytes;
  out->scale = v.scale;
  out->zero_point = v.zero_point;
  return TINYFORGE_OK;
}

}  // namespace
}  // namespace tinyforge

using tinyforge::get;

extern "C" {

int tinyforge_validate(const uint8_t* blob, uint32_t size) {
  return static_cast<int>(tinyforge::validate_plan(blob, size));
}

int tinyforge_init(tinyforge_runtime* rt, const uint8_t* blob, uint32_t blob_size, uint8_t* arena,
                   uint32_t arena_size) {
  if (rt == nullptr) return static_cast<int>(tinyforge::Status::not_initialized);
  // A fresh Runtime each time: a failed init leaves it unbound (not_initialized).
  new (rt) tinyforge::Runtime();
  return static_cast<int>(get(rt)->init(blob, blob_size, arena, arena_size));
}

int tinyforge_invoke(tinyforge_runtime* rt) {
  if (rt == nullptr) return TINYFORGE_NOT_INITIALIZED;
  return static_cast<int>(get(rt)->invoke());
}

void tinyforge_reset_state(tinyforge_runtime* rt) {
  if (rt != nullptr) get(rt)->reset_state();
}

uint32_t tinyforge_num_inputs(const tinyforge_runtime* rt) {
  return rt ? get(rt)->num_inputs() : 0;
}
uint32_t tinyforge_num_outputs(const tinyforge_runtime* rt) {
  return rt ? get(rt)->num_outputs() : 0;
}
uint32_t tinyforge_arena_size(const tinyforge_runtime* rt) {
  return rt ? get(rt)->arena_size() : 0;
}

int tinyforge_input(const tinyforge_runtime* rt, uint32_t index, tinyforge_tensor* out) {
  if (rt == nullptr || !get(rt)->initialized()) return TINYFORGE_NOT_INITIALIZED;
  if (out == nullptr || index >= get(rt)->num_inputs()) return TINYFORGE_OUT_OF_BOUNDS;
  return tinyforge::to_c(get(rt)->input(index), out);
}

int tinyforge_output(const tinyforge_runtime* rt, uint32_t index, tinyforge_tensor* out) {
  if (rt == nullptr || !get(rt)->initialized()) return TINYFORGE_NOT_INITIALIZED;
  if (out == nullptr || index >= get(rt)->num_outputs()) return TINYFORGE_OUT_OF_BOUNDS;
  return tinyforge::to_c(get(rt)->output(index), out);
}

const char* tinyforge_status_name(int status) {
  if (status < 0 || status >= static_cast<int>(tinyforge::Status::last_)) return "unknown";
  return tinyforge::status_name(static_cast<tinyforge::Status>(status));
}

}  // extern "C"
