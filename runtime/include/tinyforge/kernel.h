// What the executor hands every kernel: views of its tensors (shape, data pointer) built
// on the stack from the validated plan, plus the op's scratch buffer. Kernels are pure
// functions of (params, inputs) -> outputs; no global state.
#pragma once
#include <cstdint>

#include "tinyforge/dtype.h"
#include "tinyforge/ops.h"
#include "tinyforge/params.h"
#include "tinyforge/plan_format.h"
#include "tinyforge/status.h"

namespace tinyforge {

struct TensorView {
  DType type;
  uint8_t rank;
  int32_t dims[kMaxRank];  // dims[rank..] == 1
  void* data;              // nullptr for an absent optional input
  uint32_t bytes;
  float scale;
  int32_t zero_point;

  int32_t elements() const {
    int32_t n = 1;
    for (uint8_t i = 0; i < rank; ++i) n *= dims[i];
    return n;
  }
  int32_t dim(int i) const { return dims[i]; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(data);
  }
};

struct KernelIO {
  const TensorView* in;  // in[num_inputs]; absent optional inputs have data == nullptr
  uint8_t num_inputs;
  const TensorView* out;  // out[num_outputs]
  uint8_t num_outputs;
  uint8_t* scratch;  // op's scratch in the arena (may be nullptr if size 0)
  uint32_t scratch_size;
};

// Every op in ops.def has, in its kernel file, a pair:
//   Status check_<Name>(const Params&, const KernelIO&)  -- shapes, dtypes and params are
//          consistent, so eval cannot read or write outside the views; called once by the
//          validator (data pointers may be null there: check only shapes/types/params).
//   void   eval_<Name>(const Params&, const KernelIO&)   -- compute.
// A check runs once per plan, at init: declared cold, so the compiler optimizes it for size
// (flash) rather than speed; eval is the hot path and keeps the build's optimization.
#define OP(name, params, min_in, max_in, n_out)                                   \
  __attribute__((cold)) Status check_##name(const params& p, const KernelIO& io); \
  void eval_##name(const params& p, const KernelIO& io);
#include "tinyforge/ops.def"
#undef OP

}  // namespace tinyforge
