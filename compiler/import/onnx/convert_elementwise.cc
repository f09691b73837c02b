// Elementwise ops: Add, Sub, Mul, Div (numpy broadcasting), Relu, Clip, LeakyRelu, Sigmoid, Tanh,
// and the pass-through Identity and Dropout (inference). Constant operands are folded;
// clamps that match a fused activation go into the producing op.
#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <limits>

#include "import/onnx/converters.h"
#include "ops/add.h"
#include "ops/clamp.h"
#include "ops/host_op.h"
#include "ops/leaky_relu.h"
#include "ops/mul.h"
#include "ops/sub_squared_difference.h"
#include "tinyforge/plan_format.h"

namespace tinyforge::onnx_import {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

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

// Flat index into a tensor of shape `s` (right-aligned to `out`) for the output index.
int64_t source_index(const Shape& s, const Shape& out, const std::vector<int64_t>& idx) {
  int64_t k = 0;
  const size_t off = out.size() - s.size();
  for (size_t d = 0; d < s.size(); ++d) k = k * s[d] + (s[d] == 1 ? 0 : idx[off + d]);
  return k;
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
    if (r.is_float) {
      const float x = fval(a, ka), y = fval(b, kb);
      r.f.push_back(op == OpCode::Add ? x + y : op == OpCode::Sub ? x - y : x * y);
    } else {
      const int64_t x = a.i[ka], y = b.i[kb];
      r.i.push_back(op == OpCode::Add ? x + y : op == OpCode::Sub ? x - y : x * y);
    }
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

// FullyConnected output + constant bias row: add it to the FC's bias instead.
bool try_fold_bias(Context& ctx, Value& x, size_t x_input, const Value& c, const Shape& out_shape) {
  if (x.is_constant() || !c.is_constant() || x.onnx < 0 || x.nhwc >= 0 || x.flat >= 0) return false;
  if (ctx.uses_of_input(x_input) != 1 || out_shape != x.shape || x.shape.size() != 2) return false;
  const Constant& k = ctx.constants[c.const_index];
  if (!k.is_float || k.elements() != x.shape[1] || (k.shape.size() == 2 && k.shape[0] != 1) ||
      k.shape.size() > 2)
    return false;
  const int p = ctx.producer(x.onnx);
  if (p < 0) return false;
  ir::Node& n = ctx.graph.nodes[p];
  if (n.op != OpCode::FullyConnected || ops::fused_activation(n) != ir::Activation::none ||
      n.inputs.size() < 3 || n.inputs[2] < 0)
    return false;
  ir::Tensor& bias = ctx.graph.tensors[n.inputs[2]];
  if (!bias.constant || bias.type != DType::f32 || bias.elements() != x.shape[1]) return false;
  for (int64_t o = 0; o < x.shape[1]; ++o) {
    float b;
    std::memcpy(&b, bias.data.data() + o * 4, 4);
    b += k.f[o];
    std::memcpy(bias.data.data() + o * 4, &b, 4);
  }
  return true;
}

// Applies a unary op to whichever representation x has (layout is irrelevant).
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

// Output of a unary float function on constant input: evaluated here.
bool fold_unary(Context& ctx, Value& x, const std::function<float(float)>& f) {
  if (!x.is_constant()) return false;
  Constant c = ctx.constants[x.const_index];
  if (!c.is_float) ctx.fail("integer input; expected float");
  for (float& v : c.f) v = f(v);
  ctx.set_output(0, ctx.constant_value(std::move(c)));
  return true;
}

void clamp(Context& ctx, float lo, float hi) {
  Value& x = ctx.input(0);
  if (fold_unary(ctx, x, [=](float v) { return std::min(std::max(v, lo), hi); })) return;
  if (try_fuse_activation(ctx, x, lo, hi)) {
    ctx.set_output(0, x);
    return;
  }
  ctx.set_output(0, unary(ctx, OpCode::Clamp, x, ops::ClampAttrs{lo, hi}, ctx.node->output(0)));
}

float scalar_input(Context& ctx, size_t i, const char* role, float fallback) {
  if (!ctx.has_input(i)) return fallback;
  const Constant& c = ctx.constant_input(i, role);
  if (c.elements() != 1) ctx.fail(fmt::format("{} must be a scalar", role));
  return c.is_float ? c.f[0] : static_cast<float>(c.i[0]);
}

Constant scaled_constant(const Constant& c, float factor, bool reciprocal) {
  Constant r = c;
  if (!r.is_float) {
    r.is_float = true;
    for (int64_t v : c.i) r.f.push_back(static_cast<float>(v));
    r.i.clear();
  }
  for (float& v : r.f) v = reciprocal ? factor / v : factor * v;
  return r;
}

}  // namespace

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

void convert_Add(Context& ctx) {
  Value& a = ctx.input(0);
  Value& b = ctx.input(1);
  Shape out_shape;
  if (broadcast_shape(a.shape, b.shape, out_shape)) {
    if (try_fold_bias(ctx, a, 0, b, out_shape)) return ctx.set_output(0, a);
    if (try_fold_bias(ctx, b, 1, a, out_shape)) return ctx.set_output(0, b);
  }
  ctx.set_output(0, binary(ctx, OpCode::Add, a, b, ctx.node->output(0), ops::AddAttrs{}));
}

void convert_Mul(Context& ctx) {
  ctx.set_output(0, binary(ctx, OpCode::Mul, ctx.input(0), ctx.input(1), ctx.node->output(0),
                           ops::MulAttrs{}));
}

void convert_Sub(Context& ctx) {
  ctx.set_output(0, binary(ctx, OpCode::Sub, ctx.input(0), ctx.input(1), ctx.node->output(0),
                           ops::SubOptions{}));
}

void convert_Div(Context& ctx) {  // a / c = a * (1 / c) for a constant divisor
  Value& a = ctx.input(0);
  Value& b = ctx.input(1);
  if (!b.is_constant()) ctx.unsupported("Div by a run-time tensor");
  const Constant& c = ctx.constants[b.const_index];
  if (!c.is_float) ctx.unsupported("integer Div");
  for (float v : c.f)
    if (v == 0.0f) ctx.fail("division by a constant zero");
  Value r = ctx.constant_value(scaled_constant(c, 1.0f, true));
  ctx.set_output(0, binary(ctx, OpCode::Mul, a, r, ctx.node->output(0), ops::MulAttrs{}));
}

void convert_Relu(Context& ctx) { clamp(ctx, 0.0f, kInf); }

void convert_Clip(Context& ctx) {
  float lo, hi;
  if (ctx.opset < 11) {
    lo = ctx.attr_float("min", -kInf);
    hi = ctx.attr_float("max", kInf);
  } else {
    lo = scalar_input(ctx, 1, "min", -kInf);
    hi = scalar_input(ctx, 2, "max", kInf);
  }
  if (std::isnan(lo) || std::isnan(hi)) ctx.fail("min/max is NaN");
  clamp(ctx, lo, hi);
}

void convert_Sigmoid(Context& ctx) {
  Value& x = ctx.input(0);
  if (fold_unary(ctx, x, [](float v) { return 1.0f / (1.0f + std::exp(-v)); })) return;
  ctx.set_output(0, unary(ctx, OpCode::Logistic, x, {}, ctx.node->output(0)));
}

void convert_Tanh(Context& ctx) {
  Value& x = ctx.input(0);
  if (fold_unary(ctx, x, [](float v) { return std::tanh(v); })) return;
  ctx.set_output(0, unary(ctx, OpCode::Tanh, x, {}, ctx.node->output(0)));
}

void convert_LeakyRelu(Context& ctx) {
  const float alpha = ctx.attr_float("alpha", 0.01f);
  if (!std::isfinite(alpha)) ctx.fail(fmt::format("alpha is {}; expected a finite value", alpha));
  Value& x = ctx.input(0);
  if (fold_unary(ctx, x, [alpha](float v) { return v > 0 ? v : v * alpha; })) return;
  ctx.set_output(
      0, unary(ctx, OpCode::LeakyRelu, x, ops::LeakyReluOptions{alpha}, ctx.node->output(0)));
}

void convert_Identity(Context& ctx) { ctx.set_output(0, ctx.input(0)); }

void convert_Dropout(Context& ctx) {
  if (ctx.output_used(1)) ctx.unsupported("the mask output");
  if (ctx.opset >= 12 && ctx.has_input(2)) {
    const Constant& t = ctx.constant_input(2, "training_mode");
    if (t.elements() != 1 || (t.is_float ? t.f[0] != 0.0f : t.i[0] != 0))
      ctx.unsupported("training_mode = true");
  }
  ctx.set_output(0, ctx.input(0));
}

}  // namespace tinyforge::onnx_import
