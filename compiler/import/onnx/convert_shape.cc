// Shape and data-movement ops: Flatten, Reshape, Squeeze, Unsqueeze, Transpose, Concat,
// Softmax (needs its axis last), Pad; and ReduceMean. Constant inputs are evaluated here; a
// channels-last value is reshaped without a transpose when its bytes are already in ONNX
// order, and a [N,C,H,W] -> [N,C*H*W] flatten of it is kept channels-last for the next Gemm.
#include <fmt/format.h>

#include <algorithm>

#include "import/onnx/converters.h"
#include "ops/concatenation.h"
#include "ops/pad.h"
#include "ops/reduce.h"
#include "ops/softmax.h"

namespace tinyforge::onnx_import {
namespace {

// A negative axis counts from the end; `inclusive_end` also allows axis == rank (Flatten).
int64_t normalize_axis(Context& ctx, int64_t axis, int64_t rank, bool inclusive_end = false) {
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

}  // namespace

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

void convert_Flatten(Context& ctx) {
  Value& x = ctx.input(0);
  const auto rank = static_cast<int64_t>(x.shape.size());
  const int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", 1), rank, true);
  Shape out{1, 1};
  for (int64_t d = 0; d < rank; ++d) out[d < axis ? 0 : 1] *= x.shape[d];
  ctx.set_output(0, reshaped(ctx, x, out, ctx.node->output(0)));
}

void convert_Reshape(Context& ctx) {
  Value& x = ctx.input(0);
  const std::vector<int64_t> spec = ctx.ints_input(1, "shape");
  const bool allow_zero = ctx.opset >= 14 && ctx.attr_int("allowzero", 0) != 0;
  Shape out;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < spec.size(); ++i) {
    int64_t d = spec[i];
    if (d == 0 && !allow_zero) {
      if (i >= x.shape.size()) ctx.fail("shape copies a dimension the input does not have");
      d = x.shape[i];
    }
    if (d == -1) {
      if (infer >= 0) ctx.fail("shape has more than one -1");
      infer = static_cast<int>(i);
      d = 1;
    } else if (d < 0 || d > kMaxDim) {
      ctx.fail(fmt::format("shape entry {} out of range", d));
    }
    out.push_back(d);
    known *= d;
    if (known > kMaxElements) ctx.fail("shape too large");
  }
  const int64_t total = elements_of(x.shape);
  if (infer >= 0) {
    if (known == 0 || total % known != 0)
      ctx.fail(
          fmt::format("cannot infer -1 reshaping {} to {}", shape_str(x.shape), shape_str(spec)));
    out[infer] = total / known;
  }
  ctx.set_output(0, reshaped(ctx, x, out, ctx.node->output(0)));
}

void convert_Squeeze(Context& ctx) {
  Value& x = ctx.input(0);
  const auto rank = static_cast<int64_t>(x.shape.size());
  std::vector<char> drop(x.shape.size(), 0);
  const std::vector<int64_t> axes = axes_argument(ctx, 1, 13);
  if (axes.empty())
    for (int64_t d = 0; d < rank; ++d) drop[d] = x.shape[d] == 1;
  for (int64_t a : axes) {
    const int64_t d = normalize_axis(ctx, a, rank);
    if (x.shape[d] != 1) ctx.fail(fmt::format("cannot squeeze axis {} of size {}", d, x.shape[d]));
    drop[d] = 1;
  }
  Shape out;
  for (int64_t d = 0; d < rank; ++d)
    if (!drop[d]) out.push_back(x.shape[d]);
  ctx.set_output(0, reshaped(ctx, x, out, ctx.node->output(0)));
}

void convert_Unsqueeze(Context& ctx) {
  Value& x = ctx.input(0);
  const std::vector<int64_t> axes = axes_argument(ctx, 1, 13);
  if (axes.empty()) ctx.fail("axes is empty");
  const auto rank = static_cast<int64_t>(x.shape.size() + axes.size());
  if (rank > static_cast<int64_t>(kMaxConstRank)) ctx.unsupported(fmt::format("rank {}", rank));
  std::vector<char> added(static_cast<size_t>(rank), 0);
  for (int64_t a : axes) {
    const int64_t d = normalize_axis(ctx, a, rank);
    if (added[d]) ctx.fail("axes has a duplicate");
    added[d] = 1;
  }
  Shape out;
  size_t k = 0;
  for (int64_t d = 0; d < rank; ++d) out.push_back(added[d] ? 1 : x.shape[k++]);
  ctx.set_output(0, reshaped(ctx, x, out, ctx.node->output(0)));
}

void convert_Transpose(Context& ctx) {
  Value& x = ctx.input(0);
  const size_t rank = x.shape.size();
  std::vector<int64_t> perm = ctx.attr_ints("perm");
  if (perm.empty())
    for (size_t d = rank; d-- > 0;) perm.push_back(static_cast<int64_t>(d));
  check_permutation(ctx, perm, rank);
  const std::string name = ctx.node->output(0);
  if (x.is_constant()) {
    const std::vector<int32_t> p32(perm.begin(), perm.end());
    return ctx.set_output(
        0, ctx.constant_value(transpose_constant(ctx.constants[x.const_index], p32)));
  }
  Value out;
  for (int64_t p : perm) out.shape.push_back(x.shape[p]);
  std::vector<int32_t> q;
  int src;
  if (ctx.prefers_nhwc(x)) {  // compose with the channels-last layout
    for (int64_t p : perm) q.push_back(channels_last_axis(p, rank));
    src = x.nhwc;
  } else {
    for (int64_t p : perm) q.push_back(static_cast<int32_t>(p));
    src = ctx.as_onnx(x, ctx.node->input(0));
  }
  ctx.ir_shape(out.shape);  // rank/size checks before emitting
  out.onnx = ctx.transpose(src, q, name);
  ctx.set_output(0, std::move(out));
}

void convert_Concat(Context& ctx) {
  const size_t count = ctx.num_inputs();
  if (count == 0) ctx.fail("no inputs");
  std::vector<Value*> in;
  for (size_t i = 0; i < count; ++i) in.push_back(&ctx.input(i));
  const size_t rank = in[0]->shape.size();
  if (rank == 0) ctx.fail("cannot concatenate scalars");
  const int64_t axis =
      normalize_axis(ctx, ctx.attr_int("axis", ctx.opset < 11 ? 1 : 0), static_cast<int64_t>(rank));
  Value out;
  out.shape = in[0]->shape;
  out.shape[axis] = 0;
  bool all_constant = true, any_nhwc = false;
  for (Value* v : in) {
    if (v->shape.size() != rank) ctx.fail("inputs have different ranks");
    for (size_t d = 0; d < rank; ++d)
      if (static_cast<int64_t>(d) != axis && v->shape[d] != in[0]->shape[d])
        ctx.fail(fmt::format("input shapes {} and {} differ outside the axis",
                             shape_str(in[0]->shape), shape_str(v->shape)));
    out.shape[axis] += v->shape[axis];
    all_constant = all_constant && v->is_constant();
    any_nhwc = any_nhwc || (!v->is_constant() && ctx.prefers_nhwc(*v));
  }
  if (all_constant) {  // evaluate (shape arithmetic, mostly)
    Constant r;
    r.shape = out.shape;
    r.is_float = ctx.constants[in[0]->const_index].is_float;
    int64_t outer = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= out.shape[d];
    for (int64_t o = 0; o < outer; ++o)
      for (Value* v : in) {
        const Constant& c = ctx.constants[v->const_index];
        if (c.is_float != r.is_float) ctx.fail("inputs have different element types");
        const int64_t chunk = c.elements() / std::max<int64_t>(outer, 1);
        for (int64_t k = 0; k < chunk; ++k) {
          if (r.is_float)
            r.f.push_back(c.f[o * chunk + k]);
          else
            r.i.push_back(c.i[o * chunk + k]);
        }
      }
    return ctx.set_output(0, ctx.constant_value(std::move(r)));
  }
  const bool nhwc = has_channels_last_form(rank) && any_nhwc;
  const ops::ConcatenationAttrs a{nhwc ? channels_last_axis(axis, rank) : static_cast<int>(axis)};
  const std::string name = ctx.node->output(0);
  std::vector<int> tensors;
  for (size_t i = 0; i < count; ++i) {
    if (in[i]->is_constant() && ctx.constants[in[i]->const_index].elements() == 0) continue;
    if (in[i]->shape[axis] == 0) continue;
    tensors.push_back(nhwc ? ctx.as_nhwc(*in[i], ctx.node->input(static_cast<int>(i)))
                           : ctx.as_onnx(*in[i], ctx.node->input(static_cast<int>(i))));
  }
  if (tensors.empty()) ctx.fail("all inputs are empty");
  // The runtime op takes up to kMaxOpInputs inputs: longer lists are chained.
  int acc = tensors[0];
  size_t next = 1;
  while (next < tensors.size()) {
    std::vector<int> group{acc};
    while (next < tensors.size() && group.size() < kMaxOpInputs) group.push_back(tensors[next++]);
    std::vector<int32_t> shape = ctx.shape_of(group[0]);
    for (size_t g = 1; g < group.size(); ++g) shape[a.axis] += ctx.shape_of(group[g])[a.axis];
    acc = ctx.emit(OpCode::Concatenation, group, shape, a,
                   next < tensors.size() ? name + "/part" : name);
  }
  if (tensors.size() == 1) acc = ctx.reshape(acc, ctx.shape_of(acc), name);
  (nhwc ? out.nhwc : out.onnx) = acc;
  ctx.set_output(0, std::move(out));
}

void convert_Softmax(Context& ctx) {
  Value& x = ctx.input(0);
  const auto rank = static_cast<int64_t>(x.shape.size());
  if (rank == 0) ctx.fail("scalar input");
  const int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", ctx.opset >= 13 ? -1 : 1), rank);
  const std::string name = ctx.node->output(0);
  if (x.is_constant()) ctx.unsupported("Softmax of a constant");
  const ops::SoftmaxAttrs a;
  Value out;
  out.shape = x.shape;
  if (axis == 1 && ctx.prefers_nhwc(x) &&
      (ctx.opset >= 13 || elements_of(x.shape) == x.shape[0] * x.shape[1])) {
    out.nhwc =
        ctx.emit(OpCode::Softmax, {x.nhwc}, ctx.shape_of(x.nhwc), a, name);  // channels are last
  } else if (axis == rank - 1) {
    const int t = ctx.as_onnx(x, ctx.node->input(0));
    out.onnx = ctx.emit(OpCode::Softmax, {t}, ctx.shape_of(t), a, name);
  } else if (ctx.opset < 13) {  // softmax over the flattened dims [axis, rank)
    int64_t inner = 1;
    for (int64_t d = axis; d < rank; ++d) inner *= x.shape[d];
    const int t = ctx.reshape(ctx.as_onnx(x, ctx.node->input(0)),
                              ctx.ir_shape({elements_of(x.shape) / inner, inner}), name + "/2d");
    const int s = ctx.emit(OpCode::Softmax, {t}, ctx.shape_of(t), a, name + "/softmax");
    out.onnx = ctx.reshape(s, ctx.ir_shape(x.shape), name);
  } else {  // move the axis last, softmax, move it back
    std::vector<int32_t> perm, inverse(static_cast<size_t>(rank));
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis) perm.push_back(static_cast<int32_t>(d));
    perm.push_back(static_cast<int32_t>(axis));
    for (int64_t d = 0; d < rank; ++d) inverse[perm[d]] = static_cast<int32_t>(d);
    const int t = ctx.transpose(ctx.as_onnx(x, ctx.node->input(0)), perm, name + "/axis_last");
    const int s = ctx.emit(OpCode::Softmax, {t}, ctx.shape_of(t), a, name + "/softmax");
    out.onnx = ctx.transpose(s, inverse, name);
  }
  ctx.set_output(0, std::move(out));
}

void convert_Pad(Context& ctx) {
  Value& x = ctx.input(0);
  const size_t rank = x.shape.size();
  const std::string mode = ctx.attr_string("mode", "constant");
  if (mode != "constant") ctx.unsupported(fmt::format("mode '{}' (only 'constant')", mode));
  std::vector<int64_t> pads;
  float value = 0.0f;
  if (ctx.opset < 11) {
    pads = ctx.attr_ints("pads");
    value = ctx.attr_float("value", 0.0f);
  } else {
    pads = ctx.ints_input(1, "pads");
    if (ctx.has_input(2)) {
      const Constant& c = ctx.constant_input(2, "constant_value");
      if (c.elements() != 1) ctx.fail("constant_value must be a scalar");
      value = c.is_float ? c.f[0] : static_cast<float>(c.i[0]);
    }
    if (ctx.has_input(3)) ctx.unsupported("the axes input");
  }
  if (pads.size() != 2 * rank)
    ctx.fail(fmt::format("pads has {} values; expected {}", pads.size(), 2 * rank));
  for (int64_t p : pads) {
    if (p < 0) ctx.unsupported("negative pads (cropping)");
    if (p > kMaxDim) ctx.fail(fmt::format("pad {} out of range", p));
  }
  if (x.is_constant()) ctx.unsupported("Pad of a constant");
  Value out;
  out.shape = x.shape;
  for (size_t d = 0; d < rank; ++d) out.shape[d] += pads[d] + pads[rank + d];
  if (std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; }))
    return ctx.set_output(0, x);
  ops::PadAttrs a;
  a.value = value;
  const bool nhwc = ctx.prefers_nhwc(x);
  const std::vector<int32_t> to_last = to_channels_last(rank);
  a.pads.resize(2 * rank);
  for (size_t d = 0; d < rank; ++d) {
    const size_t src = nhwc ? static_cast<size_t>(to_last[d]) : d;
    a.pads[d] = static_cast<int32_t>(pads[src]);
    a.pads[rank + d] = static_cast<int32_t>(pads[rank + src]);
  }
  const int t = nhwc ? x.nhwc : ctx.as_onnx(x, ctx.node->input(0));
  std::vector<int32_t> shape = ctx.shape_of(t);
  for (size_t d = 0; d < rank; ++d) shape[d] += a.pads[d] + a.pads[rank + d];
  ctx.ir_shape(out.shape);
  (nhwc ? out.nhwc : out.onnx) = ctx.emit(OpCode::Pad, {t}, shape, a, ctx.node->output(0));
  ctx.set_output(0, std::move(out));
}

void convert_ReduceMean(Context& ctx) {  // Mean over `axes` (default all) in ONNX layout
  Value& x = ctx.input(0);
  const auto rank = static_cast<int64_t>(x.shape.size());
  if (rank == 0) ctx.fail("scalar input");
  if (x.is_constant()) ctx.unsupported("ReduceMean of a constant");
  std::vector<int64_t> axes = ctx.attr_ints("axes");
  if (axes.empty())
    for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
  const bool keep = ctx.attr_int("keepdims", 1) != 0;
  ops::ReduceOptions o;
  o.keep_dims = keep;
  std::vector<bool> reduced(static_cast<size_t>(rank), false);
  for (int64_t a : axes) {
    const int64_t d = normalize_axis(ctx, a, rank);
    reduced[static_cast<size_t>(d)] = true;
    o.axes.push_back(static_cast<int32_t>(d));
  }
  Value out;
  for (int64_t d = 0; d < rank; ++d) {
    if (!reduced[static_cast<size_t>(d)])
      out.shape.push_back(x.shape[d]);
    else if (keep)
      out.shape.push_back(1);
  }
  if (out.shape.empty()) ctx.unsupported("a scalar result (keepdims = 0 over every axis)");
  const std::string name = ctx.node->output(0);
  const int t = ctx.as_onnx(x, ctx.node->input(0));
  out.onnx = ctx.emit(OpCode::Mean, {t}, ctx.ir_shape(out.shape), o, name);
  ctx.set_output(0, std::move(out));
}

}  // namespace tinyforge::onnx_import
