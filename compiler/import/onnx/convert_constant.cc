// Ops evaluated entirely at import time: Constant, Shape (shapes are static here),
// Gather, Slice and Cast on constants. Typical inputs: the shape arithmetic PyTorch exports
// around Reshape. Slice of a run-time tensor becomes a StridedSlice.
#include <fmt/format.h>

#include <cmath>

#include "import/onnx/converters.h"
#include "import/onnx/onnx_tensor.h"
#include "ops/strided_slice.h"

namespace tinyforge::onnx_import {

void convert_Constant(Context& ctx) {
  if (ctx.node->attribute_size() != 1) ctx.fail("expected exactly one value attribute");
  const onnx::AttributeProto& a = ctx.node->attribute(0);
  Constant c;
  if (a.name() == "value") {
    if (!a.has_t()) ctx.fail("attribute 'value' holds no tensor");
    c = read_tensor(a.t(), ctx.where());
  } else if (a.name() == "value_float") {
    c.f = {ctx.attr_float("value_float", 0.0f)};
  } else if (a.name() == "value_floats") {
    c.f = ctx.attr_floats("value_floats");
    c.shape = {static_cast<int64_t>(c.f.size())};
  } else if (a.name() == "value_int") {
    c.is_float = false;
    c.i = {ctx.attr_int("value_int", 0)};
  } else if (a.name() == "value_ints") {
    c.is_float = false;
    c.i = ctx.attr_ints("value_ints");
    c.shape = {static_cast<int64_t>(c.i.size())};
  } else {
    ctx.unsupported(fmt::format("Constant attribute '{}'", a.name()));
  }
  ctx.set_output(0, ctx.constant_value(std::move(c)));
}

void convert_Shape(Context& ctx) {
  const Value& x = ctx.input(0);
  const auto rank = static_cast<int64_t>(x.shape.size());
  int64_t start = ctx.opset >= 15 ? ctx.attr_int("start", 0) : 0;
  int64_t end = ctx.opset >= 15 ? ctx.attr_int("end", rank) : rank;
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::min(std::max<int64_t>(start, 0), rank);
  end = std::min(std::max<int64_t>(end, start), rank);
  Constant c;
  c.is_float = false;
  c.i.assign(x.shape.begin() + start, x.shape.begin() + end);
  c.shape = {end - start};
  ctx.set_output(0, ctx.constant_value(std::move(c)));
}

void convert_Gather(Context& ctx) {
  Value& data = ctx.input(0);
  if (!data.is_constant()) ctx.unsupported("Gather from a run-time tensor");
  const Constant d = ctx.constants[data.const_index];
  const std::vector<int64_t> indices = ctx.ints_input(1, "indices");
  const Shape index_shape = ctx.constant_input(1, "indices").shape;
  const auto rank = static_cast<int64_t>(d.shape.size());
  if (rank == 0) ctx.fail("data is a scalar");
  int64_t axis = ctx.attr_int("axis", 0);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) ctx.fail("axis out of range");
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < axis; ++k) outer *= d.shape[k];
  for (int64_t k = axis + 1; k < rank; ++k) inner *= d.shape[k];
  const int64_t n = d.shape[axis];
  Constant r;
  r.is_float = d.is_float;
  r.shape.assign(d.shape.begin(), d.shape.begin() + axis);
  r.shape.insert(r.shape.end(), index_shape.begin(), index_shape.end());
  r.shape.insert(r.shape.end(), d.shape.begin() + axis + 1, d.shape.end());
  if (elements_of(r.shape) > kMaxElements) ctx.fail("result too large");
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t idx : indices) {
      if (idx < -n || idx >= n)
        ctx.fail(fmt::format("index {} out of range for a dim of {}", idx, n));
      const int64_t j = idx < 0 ? idx + n : idx;
      for (int64_t k = 0; k < inner; ++k) {
        const int64_t src = (o * n + j) * inner + k;
        if (d.is_float)
          r.f.push_back(d.f[src]);
        else
          r.i.push_back(d.i[src]);
      }
    }
  ctx.set_output(0, ctx.constant_value(std::move(r)));
}

void convert_Slice(Context& ctx) {
  Value& data = ctx.input(0);
  const Shape shape = data.shape;
  const auto rank = static_cast<int64_t>(shape.size());
  std::vector<int64_t> starts, ends, axes, steps;
  if (ctx.opset < 10) {
    starts = ctx.attr_ints("starts");
    ends = ctx.attr_ints("ends");
    axes = ctx.attr_ints("axes");
  } else {
    starts = ctx.ints_input(1, "starts");
    ends = ctx.ints_input(2, "ends");
    if (ctx.has_input(3)) axes = ctx.ints_input(3, "axes");
    if (ctx.has_input(4)) steps = ctx.ints_input(4, "steps");
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    ctx.fail("starts, ends, axes and steps differ in length");
  // Per dim: first index, step and count (ONNX spec: negative indices count from the end,
  // then clamp to [0, dim] for positive steps and [-1, dim - 1] for negative ones).
  std::vector<int64_t> first(static_cast<size_t>(rank), 0), step(static_cast<size_t>(rank), 1),
      count(shape);
  std::vector<char> seen(static_cast<size_t>(rank), 0);
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t axis = axes[i] < 0 ? axes[i] + rank : axes[i];
    if (axis < 0 || axis >= rank || seen[axis]) ctx.fail("axes out of range or repeated");
    seen[axis] = 1;
    const int64_t dim = shape[axis], s = steps[i];
    if (s == 0) ctx.fail("step 0");
    auto clampi = [](int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : (v > hi ? hi : v); };
    int64_t b = starts[i] < 0 ? starts[i] + dim : starts[i];
    int64_t e = ends[i] < 0 ? (ends[i] < -dim - 1 ? -1 : ends[i] + dim) : ends[i];
    if (s > 0) {
      b = clampi(b, 0, dim);
      e = clampi(e, 0, dim);
      count[axis] = e > b ? (e - b + s - 1) / s : 0;
    } else {
      b = clampi(b, -1, dim - 1);
      e = clampi(e, -1, dim - 1);
      count[axis] = b > e ? (b - e - s - 1) / -s : 0;
    }
    first[axis] = b;
    step[axis] = s;
  }
  if (!data.is_constant()) {  // a StridedSlice in ONNX layout
    if (elements_of(count) == 0) ctx.unsupported("an empty result");
    const std::string name = ctx.node->output(0);
    const int t = ctx.as_onnx(data, ctx.node->input(0));
    Value out;
    out.shape = count;
    out.onnx = ctx.emit(OpCode::StridedSlice, {t}, ctx.ir_shape(count),
                        ops::strided_slice_of(first, step, count), name);
    return ctx.set_output(0, std::move(out));
  }
  const Constant d = ctx.constants[data.const_index];
  Constant r;
  r.is_float = d.is_float;
  r.shape = count;
  const int64_t n = elements_of(count);
  std::vector<int64_t> idx(static_cast<size_t>(rank), 0);
  for (int64_t e = 0; e < n; ++e) {
    int64_t k = 0;
    for (int64_t a = 0; a < rank; ++a) k = k * d.shape[a] + first[a] + idx[a] * step[a];
    if (d.is_float)
      r.f.push_back(d.f[k]);
    else
      r.i.push_back(d.i[k]);
    for (int64_t a = rank; a-- > 0;) {
      if (++idx[a] < count[a]) break;
      idx[a] = 0;
    }
  }
  ctx.set_output(0, ctx.constant_value(std::move(r)));
}

void convert_Cast(Context& ctx) {
  Value& x = ctx.input(0);
  const int64_t to = ctx.attr_int("to", 0);
  const bool to_float = to == onnx::TensorProto::FLOAT || to == onnx::TensorProto::DOUBLE;
  if (!x.is_constant()) {
    if (to != onnx::TensorProto::FLOAT)
      ctx.unsupported(
          fmt::format("Cast of a run-time tensor to {}", onnx_type_name(static_cast<int32_t>(to))));
    return ctx.set_output(0, x);  // float32 -> float32
  }
  Constant c = ctx.constants[x.const_index];
  if (to_float && !c.is_float) {
    for (int64_t v : c.i) c.f.push_back(static_cast<float>(v));
    c.i.clear();
    c.is_float = true;
  } else if (!to_float && c.is_float) {
    for (float v : c.f) {
      if (!std::isfinite(v) || std::fabs(v) > 9.0e18f) ctx.fail("value does not fit an integer");
      c.i.push_back(static_cast<int64_t>(v));
    }
    c.f.clear();
    c.is_float = false;
  }
  ctx.set_output(0, ctx.constant_value(std::move(c)));
}

}  // namespace tinyforge::onnx_import
