// The ONNX converter table (gathered from the op host files and onnx_only_ops.cc) and the
// toolkit the converters share.
#include "import/onnx/onnx_convert.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "ops/concatenation.h"
#include "tinyforge/plan_format.h"

namespace tinyforge::onnx_import {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Flat index into a tensor of shape `s` (right-aligned to `out`) for the output index.
int64_t source_index(const Shape& s, const Shape& out, const std::vector<int64_t>& idx) {
  int64_t k = 0;
  const size_t off = out.size() - s.size();
  for (size_t d = 0; d < s.size(); ++d) k = k * s[d] + (s[d] == 1 ? 0 : idx[off + d]);
  return k;
}

// The binary ops binary() emits, evaluated on constants.
template <typename T>
T apply(OpCode op, T x, T y) {
  switch (op) {
    case OpCode::Add:
      return x + y;
    case OpCode::Sub:
      return x - y;
    case OpCode::Mul:
      return x * y;
    case OpCode::Maximum:
      return x > y ? x : y;
    case OpCode::Minimum:
      return x < y ? x : y;
    default:
      throw tinyforge::Error(std::string("internal error: no constant form of ") +
                             op_info(op).name);
  }
}

Constant fold_binary(const Constant& a, const Constant& b, const Shape& out, OpCode op) {
  Constant r;
  r.shape = out;
  r.is_float = a.is_float || b.is_float;
  const int64_t n = elements_of(out);
  std::vector<int64_t> idx(out.size(), 0);
  auto fval = [](const Constant& c, int64_t k) {
    return c.is_float ? c.f[k] : static_cast<float>(c.i[k]);
  };
  for (int64_t e = 0; e < n; ++e) {
    const int64_t ka = source_index(a.shape, out, idx), kb = source_index(b.shape, out, idx);
    if (r.is_float)
      r.f.push_back(apply(op, fval(a, ka), fval(b, kb)));
    else
      r.i.push_back(apply(op, a.i[ka], b.i[kb]));
    for (size_t d = out.size(); d-- > 0;) {
      if (++idx[d] < out[d]) break;
      idx[d] = 0;
    }
  }
  return r;
}

// The IR tensor of operand `v` for a binary op whose output has ONNX rank `rank`.
int operand(Context& ctx, Value& v, bool nhwc, size_t rank, const std::string& name) {
  if (v.is_constant() && ctx.constants[v.const_index].shape.empty()) {  // scalar -> [1]
    Constant c = ctx.constants[v.const_index];
    c.shape = {1};
    Value one = ctx.constant_value(std::move(c));
    return nhwc ? operand(ctx, one, nhwc, rank, name) : ctx.as_onnx(one, name);
  }
  if (!nhwc) return ctx.as_onnx(v, name);
  if (v.shape.size() == rank) return ctx.as_nhwc(v, name);
  Value padded;  // right-aligned to the output rank with leading ones, then channels-last
  padded.shape.assign(rank - v.shape.size(), 1);
  padded.shape.insert(padded.shape.end(), v.shape.begin(), v.shape.end());
  if (v.is_constant()) {
    Constant c = ctx.constants[v.const_index];
    c.shape = padded.shape;
    padded.const_index = ctx.add_constant(std::move(c));
  } else {
    padded.onnx = ctx.reshape(ctx.as_onnx(v, name), ctx.ir_shape(padded.shape),
                              name + "/rank" + std::to_string(rank));
  }
  return ctx.as_nhwc(padded, name);
}

}  // namespace

const std::vector<ops::OnnxRead>& converters() {
  static const std::vector<ops::OnnxRead> table = [] {
    std::vector<ops::OnnxRead> t = onnx_only_converters();
    for (uint16_t i = 0; i < kNumOps; ++i)
      for (const ops::OnnxRead& r : ops::host_op(static_cast<OpCode>(i)).onnx_reads) t.push_back(r);
    std::sort(t.begin(), t.end(), [](const ops::OnnxRead& a, const ops::OnnxRead& b) {
      return std::strcmp(a.op_type, b.op_type) < 0;
    });
    return t;
  }();
  return table;
}

const ops::OnnxRead* find_converter(const std::string& op_type) {
  for (const ops::OnnxRead& r : converters())
    if (op_type == r.op_type) return &r;
  return nullptr;
}

Value unary(Context& ctx, OpCode op, Value& x, const ir::Params& a, const std::string& name) {
  Value out;
  out.shape = x.shape;
  if (x.nhwc >= 0) {
    out.nhwc = ctx.emit(op, {x.nhwc}, ctx.shape_of(x.nhwc), a, name);
  } else if (x.flat >= 0 && x.onnx < 0) {
    out.flat = ctx.emit(op, {x.flat}, ctx.shape_of(x.flat), a, name);
    out.flat_chw = x.flat_chw;
  } else {
    const int t = ctx.as_onnx(x, ctx.node->input(0));
    out.onnx = ctx.emit(op, {t}, ctx.shape_of(t), a, name);
  }
  return out;
}

bool fold_unary(Context& ctx, Value& x, const std::function<float(float)>& f) {
  if (!x.is_constant()) return false;
  Constant c = ctx.constants[x.const_index];
  if (!c.is_float) ctx.fail("integer input; expected float");
  for (float& v : c.f) v = f(v);
  ctx.set_output(0, ctx.constant_value(std::move(c)));
  return true;
}

Value binary(Context& ctx, OpCode op, Value& a, Value& b, const std::string& name,
             const ir::Params& params) {
  Shape out_shape;
  if (!broadcast_shape(a.shape, b.shape, out_shape))
    ctx.fail(
        fmt::format("shapes {} and {} do not broadcast", shape_str(a.shape), shape_str(b.shape)));
  if (a.is_constant() && b.is_constant())
    return ctx.constant_value(
        fold_binary(ctx.constants[a.const_index], ctx.constants[b.const_index], out_shape, op));
  for (const Value* v : {&a, &b})
    if (v->is_constant() && !ctx.constants[v->const_index].is_float)
      ctx.fail("integer operand; expected float");
  if (out_shape.size() > kMaxRank)
    ctx.unsupported(fmt::format("broadcast to rank {} (the runtime supports rank <= {})",
                                out_shape.size(), kMaxRank));
  const bool nhwc =
      has_channels_last_form(out_shape.size()) &&
      ((!a.is_constant() && ctx.prefers_nhwc(a) && a.shape.size() == out_shape.size()) ||
       (!b.is_constant() && ctx.prefers_nhwc(b) && b.shape.size() == out_shape.size()));
  const int ta = operand(ctx, a, nhwc, out_shape.size(), name + "/a");
  const int tb = operand(ctx, b, nhwc, out_shape.size(), name + "/b");
  std::vector<int32_t> ir_out;
  if (!broadcast_shape(ctx.shape_of(ta), ctx.shape_of(tb), ir_out))
    ctx.fail("internal error: operands lost their broadcast compatibility");
  Value out;
  out.shape = out_shape;
  (nhwc ? out.nhwc : out.onnx) = ctx.emit(op, {ta, tb}, ir_out, params, name);
  return out;
}

int concatenate(Context& ctx, const std::vector<int>& tensors, int axis, const std::string& name) {
  if (tensors.empty()) ctx.fail("nothing to concatenate");
  if (tensors.size() == 1) return ctx.reshape(tensors[0], ctx.shape_of(tensors[0]), name);
  int acc = tensors[0];
  for (size_t next = 1; next < tensors.size();) {
    std::vector<int> group{acc};
    while (next < tensors.size() && group.size() < kMaxOpInputs) group.push_back(tensors[next++]);
    std::vector<int32_t> shape = ctx.shape_of(group[0]);
    for (size_t g = 1; g < group.size(); ++g) shape[axis] += ctx.shape_of(group[g])[axis];
    acc = ctx.emit(OpCode::Concatenation, group, shape, ops::ConcatenationAttrs{axis},
                   next < tensors.size() ? name + "/part" : name);
  }
  return acc;
}

Value binary_chain(Context& ctx, OpCode op, const ir::Params& params) {
  const size_t n = ctx.num_inputs();
  if (n == 0) ctx.fail("expected at least one input");
  for (size_t i = 0; i < n; ++i)
    if (!ctx.has_input(i)) ctx.fail(fmt::format("input {} is empty", i));
  if (n == 1) return ctx.input(0);
  const std::string name = ctx.node->output(0);
  Value acc = binary(ctx, op, ctx.input(0), ctx.input(1), n == 2 ? name : name + "/1", params);
  for (size_t i = 2; i < n; ++i)
    acc = binary(ctx, op, acc, ctx.input(i), i + 1 == n ? name : fmt::format("{}/{}", name, i),
                 params);
  return acc;
}

bool try_fuse_activation(Context& ctx, Value& v, float lo, float hi) {
  ir::Activation act;
  if (lo == 0.0f && hi == kInf)
    act = ir::Activation::relu;
  else if (lo == 0.0f && hi == 6.0f)
    act = ir::Activation::relu6;
  else if (lo == -1.0f && hi == 1.0f)
    act = ir::Activation::relu_n1_to_1;
  else
    return false;
  if (v.is_constant() || (v.onnx >= 0) + (v.nhwc >= 0) + (v.flat >= 0) != 1 ||
      ctx.uses_of_input(0) != 1)
    return false;
  const int p = ctx.producer_through_reshape(v.onnx >= 0 ? v.onnx : v.nhwc >= 0 ? v.nhwc : v.flat);
  if (p < 0) return false;
  ir::Node& n = ctx.graph.nodes[p];
  const auto activation_of = ops::host_op(n.op).fused_activation;
  if (!activation_of || *activation_of(n) != ir::Activation::none) return false;
  *activation_of(n) = act;
  return true;
}

Value permuted(Context& ctx, Value& x, const std::vector<int64_t>& perm, const std::string& name) {
  check_permutation(ctx, perm, x.shape.size());
  const std::vector<int32_t> p32(perm.begin(), perm.end());
  if (x.is_constant())
    return ctx.constant_value(transpose_constant(ctx.constants[x.const_index], p32));
  Value out;
  for (int64_t p : perm) out.shape.push_back(x.shape[p]);
  if (x.view_source >= 0) {  // compose with the view's permutation; no op yet
    out.view_source = x.view_source;
    out.view_dims = x.view_dims;
    for (int64_t p : perm) out.view_perm.push_back(x.view_perm[p]);
    return out;
  }
  ctx.ir_shape(out.shape);    // rank/size checks before emitting
  if (ctx.prefers_nhwc(x)) {  // compose with the channels-last layout
    std::vector<int32_t> q;
    for (int64_t p : perm) q.push_back(channels_last_axis(p, x.shape.size()));
    out.onnx = ctx.transpose(x.nhwc, q, name);
  } else {
    out.onnx = ctx.transpose(ctx.as_onnx(x, ctx.node->input(0)), p32, name);
  }
  return out;
}

int64_t normalize_axis(Context& ctx, int64_t axis, int64_t rank, bool inclusive_end) {
  if (axis < 0) axis += rank;
  if (axis < 0 || axis > rank || (axis == rank && !inclusive_end))
    ctx.fail(fmt::format("axis out of range for rank {}", rank));
  return axis;
}

std::vector<int64_t> axes_argument(Context& ctx, size_t input_index, int min_opset_for_input) {
  if (ctx.opset >= min_opset_for_input)
    return ctx.has_input(input_index) ? ctx.ints_input(input_index, "axes")
                                      : std::vector<int64_t>{};
  return ctx.attr_ints("axes");
}

void check_permutation(Context& ctx, const std::vector<int64_t>& perm, size_t rank) {
  std::vector<char> seen(rank, 0);
  if (perm.size() != rank)
    ctx.fail(fmt::format("perm has {} entries; the input has rank {}", perm.size(), rank));
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(rank) || seen[p]) ctx.fail("perm is not a permutation");
    seen[p] = 1;
  }
}

Value reshaped(Context& ctx, Value& v, const Shape& shape, const std::string& name) {
  if (elements_of(shape) != elements_of(v.shape))
    ctx.fail(fmt::format("cannot reshape {} to {}", shape_str(v.shape), shape_str(shape)));
  Value out;
  out.shape = shape;
  if (v.is_constant()) {
    Constant c = ctx.constants[v.const_index];
    c.shape = shape;
    return ctx.constant_value(std::move(c));
  }
  if (v.view_source >= 0 || shape.size() > kMaxRank) {
    // A rank the runtime cannot hold stays a view until a reshape brings it back.
    if (shape.size() <= kMaxRank) {
      out.onnx = ctx.materialize(v, shape, name);
      return out;
    }
    out.view_source = v.view_source < 0 ? ctx.as_onnx(v, name)
                                        : ctx.materialize(v, {elements_of(shape)}, name + "/flat");
    out.view_dims = shape;
    for (size_t i = 0; i < shape.size(); ++i) out.view_perm.push_back(static_cast<int32_t>(i));
    return out;
  }
  if (v.onnx >= 0) {
    out.onnx = ctx.reshape(v.onnx, ctx.ir_shape(shape), name);
    return out;
  }
  if (v.nhwc >= 0) {
    const int64_t n = v.shape[0], c = v.shape[1], hw = elements_of(v.shape) / (n * c);
    if (c == 1 || hw == 1) {  // channels-last bytes are already in ONNX order
      out.onnx = ctx.reshape(v.nhwc, ctx.ir_shape(shape), name);
      return out;
    }
    if (has_channels_last_form(shape.size()) && shape[0] == n && shape[1] == c) {
      // Only the spatial dims change ([N,C,H,W] <-> [N,C,H*W]): channels stay last.
      Shape last{n};
      last.insert(last.end(), shape.begin() + 2, shape.end());
      last.push_back(c);
      out.nhwc = ctx.reshape(v.nhwc, ctx.ir_shape(last), name);
      return out;
    }
    if (shape == Shape{n, c * hw}) {  // a flatten: stay channels-last, the consumer adapts
      out.flat = ctx.reshape(v.nhwc, ctx.ir_shape({n, hw * c}), name);
      out.flat_chw = {c, v.shape.size() == 4 ? v.shape[2] : 1, v.shape.back()};
      return out;
    }
  }
  if (v.flat >= 0 && shape == v.shape) return v;
  out.onnx = ctx.reshape(ctx.as_onnx(v, name), ctx.ir_shape(shape), name);
  return out;
}

}  // namespace tinyforge::onnx_import
