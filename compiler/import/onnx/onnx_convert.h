// ONNX import, per op type: the table of converters and the toolkit they share.
//
// A converter reads ctx.node's inputs and attributes (validating them), emits IR nodes and
// sets the node's outputs. Each lives with the IR op it produces: an op's host file under
// compiler/ops/ lists the ONNX op types that become it (ops::HostOp::onnx_reads) and defines
// their converters with this toolkit. ONNX op types with no IR op of their own (evaluated at
// import, folded into another op, or removed) are in onnx_only_ops.cc.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "import/onnx/onnx_context.h"
#include "ops/host_op.h"

namespace tinyforge::onnx_import {

// Every ONNX op type tinyforge imports, sorted by op type.
const std::vector<ops::OnnxRead>& converters();
// The converter of `op_type`, or nullptr.
const ops::OnnxRead* find_converter(const std::string& op_type);
// The ONNX op types with no IR op of their own (onnx_only_ops.cc).
const std::vector<ops::OnnxRead>& onnx_only_converters();

// numpy broadcast of two shapes; false if they are incompatible.
template <typename Dim>
bool broadcast_shape(const std::vector<Dim>& a, const std::vector<Dim>& b, std::vector<Dim>& out) {
  const size_t r = std::max(a.size(), b.size());
  out.assign(r, 1);
  for (size_t i = 1; i <= r; ++i) {
    const Dim da = i <= a.size() ? a[a.size() - i] : 1, db = i <= b.size() ? b[b.size() - i] : 1;
    if (da != db && da != 1 && db != 1) return false;
    out[r - i] = da == 1 ? db : da;
  }
  return true;
}

// Elementwise Add/Sub/Mul/Maximum/Minimum with numpy broadcasting (constant-folded when both are
// constants), in channels-last layout when an operand already is, else in ONNX layout. `params`:
// the node's (the op's attributes, no fused activation).
Value binary(Context& ctx, OpCode op, Value& a, Value& b, const std::string& name,
             const ir::Params& params);

// Concatenation of IR tensors along IR axis `axis`; the runtime op takes up to kMaxOpInputs
// inputs, so longer lists are chained. The last op is named `name`.
int concatenate(Context& ctx, const std::vector<int>& tensors, int axis, const std::string& name);

// A variadic ONNX node (Sum, Max, Min, Mean) as a chain of binary ops over its inputs in
// order; its one input when it has one.
Value binary_chain(Context& ctx, OpCode op, const ir::Params& params);

// Applies a unary op to whichever representation x has (layout is irrelevant).
Value unary(Context& ctx, OpCode op, Value& x, const ir::Params& params, const std::string& name);

// A unary float function of a constant input, evaluated here and set as output 0; false
// (nothing done) when x is not a constant.
bool fold_unary(Context& ctx, Value& x, const std::function<float(float)>& f);

// Fuses a clamp [lo, hi] into the op that produced `v` when that op supports a fused
// activation matching it and `v` has no other reader; returns true if fused (the caller
// then forwards `v` as its output).
bool try_fuse_activation(Context& ctx, Value& v, float lo, float hi);

// A float32 reshape of `v` to the ONNX shape `shape`, taken from whichever representation
// has the bytes in ONNX order already (no transpose when avoidable).
Value reshaped(Context& ctx, Value& v, const Shape& shape, const std::string& name);

// `x` transposed by `perm` (output dim i = x's dim perm[i]): folded for a constant, composed
// with a channels-last layout or a pending view (no op until it is materialized).
Value permuted(Context& ctx, Value& x, const std::vector<int64_t>& perm, const std::string& name);

// A negative axis counts from the end; `inclusive_end` also allows axis == rank (Flatten).
int64_t normalize_axis(Context& ctx, int64_t axis, int64_t rank, bool inclusive_end = false);

// The `axes` of a reduce/squeeze node: an input from `min_opset_for_input` on, an attribute
// before.
std::vector<int64_t> axes_argument(Context& ctx, size_t input_index, int min_opset_for_input);

// Fails unless `perm` is a permutation of 0..rank-1.
void check_permutation(Context& ctx, const std::vector<int64_t>& perm, size_t rank);

}  // namespace tinyforge::onnx_import
