// Names of status codes, dtypes and ops, and the op table.
#include "src/enabled_ops.h"
#include "tinyforge/dtype.h"
#include "tinyforge/ops.h"
#include "tinyforge/params.h"
#include "tinyforge/status.h"

namespace tinyforge {

const char* status_name(Status s) {
  switch (s) {
    case Status::ok:
      return "ok";
    case Status::bad_magic:
      return "bad_magic";
    case Status::bad_version:
      return "bad_version";
    case Status::truncated:
      return "truncated";
    case Status::out_of_bounds:
      return "out_of_bounds";
    case Status::misaligned:
      return "misaligned";
    case Status::bad_enum:
      return "bad_enum";
    case Status::bad_shape:
      return "bad_shape";
    case Status::bad_params:
      return "bad_params";
    case Status::unsupported_op:
      return "unsupported_op";
    case Status::arena_too_small:
      return "arena_too_small";
    case Status::not_initialized:
      return "not_initialized";
    case Status::bad_signature:
      return "bad_signature";
    case Status::bad_hash:
      return "bad_hash";
    case Status::rollback:
      return "rollback";
    case Status::bad_target:
      return "bad_target";
    case Status::too_large:
      return "too_large";
    case Status::flash_error:
      return "flash_error";
    case Status::power_lost:
      return "power_lost";
    case Status::bad_state:
      return "bad_state";
    case Status::bad_manifest:
      return "bad_manifest";
    case Status::no_image:
      return "no_image";
    case Status::bad_key:
      return "bad_key";
    case Status::no_self_test:
      return "no_self_test";
    case Status::self_test_failed:
      return "self_test_failed";
    case Status::floor_unknown:
      return "floor_unknown";
    case Status::already_installed:
      return "already_installed";
    case Status::wrong_base:
      return "wrong_base";
    case Status::bad_delta:
      return "bad_delta";
    case Status::last_:
      break;
  }
  return "unknown_status";
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::f32:
      return "float32";
    case DType::i8:
      return "int8";
    case DType::i32:
      return "int32";
    case DType::u8:
      return "uint8";
    case DType::i16:
      return "int16";
    case DType::u32:
      return "uint32";
    case DType::u64:
      return "uint64";
  }
  return "unknown";
}

namespace {

// Rows (12 bytes + the name string each) only for the ops this build carries
// (src/enabled_ops.h): a firmware image holds its kernel set's rows, the host all of them.
// Every other opcode maps to the last row, whose null name makes the validator refuse it.
constexpr OpInfo kOpTable[] = {
#define OP(name, params, min_in, max_in, n_out) \
  TINYFORGE_OP_CASE(name, {#name, min_in, max_in, n_out, static_cast<uint16_t>(sizeof(params))}, )
#include "tinyforge/ops.def"
#undef OP
    {nullptr, 0, 0, 0, 0},
};
constexpr uint8_t kNotCarried = sizeof(kOpTable) / sizeof(kOpTable[0]) - 1;

constexpr bool kCarried[] = {
#define OP(name, params, min_in, max_in, n_out) TINYFORGE_OP_IS_ENABLED(name) != 0,
#include "tinyforge/ops.def"
#undef OP
};
static_assert(sizeof(kCarried) == kNumOps, "one flag per op");

struct RowIndex {
  uint8_t row[kNumOps];
};
constexpr RowIndex row_index() {
  RowIndex index{};
  uint8_t next = 0;
  for (uint16_t op = 0; op < kNumOps; ++op) index.row[op] = kCarried[op] ? next++ : kNotCarried;
  return index;
}
constexpr RowIndex kRowOf = row_index();

}  // namespace

const OpInfo& op_info(OpCode op) { return kOpTable[kRowOf.row[static_cast<uint16_t>(op)]]; }

}  // namespace tinyforge
