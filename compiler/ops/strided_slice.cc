// StridedSlice: everything the compiler knows about it, in one file.
//
// Semantics: TFLite STRIDED_SLICE with constant begin/end/strides (begin_mask, end_mask and
// shrink_axis_mask; ellipsis_mask, new_axis_mask and offset are refused) and SLICE with
// constant begin/size (imported as the equivalent strided slice); ONNX Slice on a run-time
// tensor maps to it. Lowering resolves each dim as
// TFLite's strided_slice_logic.h StartForAxis / StopForAxis: a masked begin (end) becomes
// the first (last) index in the stride's direction, negative indices count from the end, the
// start is clamped to [0, dim] ([-1, dim - 1] for negative strides) and so is the stop; a
// shrunk dim reads one element at the start. Invariants, checked at import and lowering:
// rank <= 4, one begin/end/stride per input dim, strides non-zero, no empty result, a shrunk
// dim has a positive stride, an in-range start and no begin/end mask bit (whose meaning for a
// shrunk dim we do not rely on), the output shape is the sliced one, and
// int8 (or int16, TFLite's 16x8 scheme) input and output share one quantization (elements
// are copied); int32 slices plain integers (micro_speech's preprocessor slices its
// energies). Quantization keeps the
// input's parameters; channels do not pass through for pruning. TFLite: STRIDED_SLICE (45,
// StridedSliceOptions) and SLICE (65), version 2 for int8; always written as STRIDED_SLICE.
#include "ops/strided_slice.h"

#include <fmt/format.h>

#include <algorithm>
#include <climits>

#include "export/tflite_builder.h"
#include "import/onnx/onnx_convert.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "plan/lower_checks.h"

namespace tinyforge {
namespace {

using tflite_import::OpMapper;

// Per input dim: first index, step and element count; `problem` set when not runnable.
struct Resolved {
  StridedSliceParams params{};
  std::vector<int32_t> out_shape;
  std::string problem;
};

Resolved resolve(const ops::StridedSliceOptions& o, const std::vector<int32_t>& shape) {
  Resolved r;
  const size_t rank = shape.size();
  if (rank > kMaxRank) {
    r.problem = "input rank is above 4";
    return r;
  }
  if (o.begin.size() != rank || o.end.size() != rank || o.strides.size() != rank) {
    r.problem = fmt::format("begin, end and strides have {}, {} and {} entries; expected {}",
                            o.begin.size(), o.end.size(), o.strides.size(), rank);
    return r;
  }
  for (size_t d = 0; d < 4; ++d) {
    r.params.start[d] = 0;
    r.params.stride[d] = 1;
    r.params.count[d] = 1;
  }
  for (size_t d = 0; d < rank; ++d) {
    const int64_t dim = shape[d], stride = o.strides[d];
    const int32_t bit = 1 << d;
    if (stride == 0) {
      r.problem = fmt::format("stride of dimension {} is 0", d);
      return r;
    }
    int64_t start = o.begin[d];
    if (o.begin_mask & bit) start = stride > 0 ? INT32_MIN : INT32_MAX;
    if (start < 0) start += dim;
    start =
        stride > 0 ? std::clamp<int64_t>(start, 0, dim) : std::clamp<int64_t>(start, -1, dim - 1);
    int64_t count;
    if (o.shrink_axis_mask & bit) {
      if ((o.begin_mask | o.end_mask) & bit) {
        r.problem = fmt::format(
            "shrunk dimension {} is also in begin_mask or end_mask; expected "
            "neither",
            d);
        return r;
      }
      if (stride < 0 || start >= dim) {
        r.problem = fmt::format(
            "shrunk dimension {} starts at {} with stride {}; expected a "
            "start inside the dimension and a positive stride",
            d, o.begin[d], stride);
        return r;
      }
      count = 1;
    } else {
      int64_t stop = o.end[d];
      if (o.end_mask & bit) stop = stride > 0 ? INT32_MAX : INT32_MIN;
      if (stop < 0) stop += dim;
      stop =
          stride > 0 ? std::clamp<int64_t>(stop, 0, dim) : std::clamp<int64_t>(stop, -1, dim - 1);
      count =
          stride > 0 ? (stop - start + stride - 1) / stride : (start - stop - stride - 1) / -stride;
      if (count < 1) {
        r.problem = fmt::format("dimension {} slices to no elements; expected at least one", d);
        return r;
      }
      r.out_shape.push_back(static_cast<int32_t>(count));
    }
    r.params.start[d] = static_cast<int32_t>(start);
    r.params.stride[d] = static_cast<int32_t>(stride);
    r.params.count[d] = static_cast<int32_t>(count);
  }
  return r;
}

std::string problem(const ops::StridedSliceOptions& o, const ir::Tensor& in,
                    const ir::Tensor& out) {
  const Resolved r = resolve(o, in.shape);
  if (!r.problem.empty()) return r.problem;
  if (out.shape != r.out_shape)
    return fmt::format("output has shape {}; expected {}", tflite_import::shape_string(out.shape),
                       tflite_import::shape_string(r.out_shape));
  return {};
}

// --- TFLite import and export ---------------------------------------------------------

ir::Node finish_read(OpMapper& m, const ops::StridedSliceOptions& o) {
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  const std::string why = problem(o, in, out);
  if (!why.empty()) m.fail(why);
  ir::Node n{OpCode::StridedSlice, {m.input_index(0)}, {}, {}, {}};  // the rest are params
  n.params = o;
  return n;
}

void require_types(OpMapper& m) {
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  m.require_activation_types(in, out, /*int16=*/true, /*int32=*/true);
  m.require_same_quant(in, m.in_label(0), out, m.out_label());
}

ir::Node read_strided_slice(OpMapper& m) {
  m.require_arity(4, 4);
  const auto* opt = m.options(m.op().builtin_options_as_StridedSliceOptions(),
                              tfl::BuiltinOptions::StridedSliceOptions);
  require_types(m);
  const auto rank = static_cast<int64_t>(m.input(0).shape.size());
  ops::StridedSliceOptions o;
  o.begin = tflite_import::constant_ints(m, 1, rank);
  o.end = tflite_import::constant_ints(m, 2, rank);
  o.strides = tflite_import::constant_ints(m, 3, rank);
  if (opt) {
    if (opt->ellipsis_mask() != 0 || opt->new_axis_mask() != 0 || opt->offset())
      m.fail(fmt::format("ellipsis_mask {}, new_axis_mask {}, offset {}; expected 0, 0, false",
                         opt->ellipsis_mask(), opt->new_axis_mask(), opt->offset()));
    o.begin_mask = opt->begin_mask();
    o.end_mask = opt->end_mask();
    o.shrink_axis_mask = opt->shrink_axis_mask();
  }
  return finish_read(m, o);
}

ir::Node read_slice(OpMapper& m) {
  m.require_arity(3, 3);
  require_types(m);
  const std::vector<int32_t>& shape = m.input(0).shape;
  const auto rank = static_cast<int64_t>(shape.size());
  const std::vector<int32_t> begin = tflite_import::constant_ints(m, 1, rank);
  const std::vector<int32_t> size = tflite_import::constant_ints(m, 2, rank);
  ops::StridedSliceOptions o;
  for (size_t d = 0; d < shape.size(); ++d) {
    const int64_t end = size[d] == -1 ? shape[d] : int64_t{begin[d]} + size[d];
    if (begin[d] < 0 || size[d] < -1 || end > shape[d])
      m.fail(fmt::format("dimension {}: begin {} size {} leave the input's {} elements", d,
                         begin[d], size[d], shape[d]));
    o.begin.push_back(begin[d]);
    o.end.push_back(static_cast<int32_t>(end));
    o.strides.push_back(1);
  }
  return finish_read(m, o);
}

void write_tflite(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  refuse_int16x8(b, node);
  const ir::Node& n = b.graph().nodes[node];
  const auto& o = n.params.get<ops::StridedSliceOptions>();
  const std::string& name = out_tensor(b, node).name;
  const auto rank = static_cast<int32_t>(o.begin.size());
  const int32_t begin = b.constant_i32(name + "/begin", {rank}, o.begin);
  const int32_t end = b.constant_i32(name + "/end", {rank}, o.end);
  const int32_t strides = b.constant_i32(name + "/strides", {rank}, o.strides);
  b.add_operator(tfl::BuiltinOperator::STRIDED_SLICE, is_int8(b, node) ? 2 : 1,
                 {b.tensor(n.inputs[0]), begin, end, strides}, io_of(b, n.outputs),
                 tfl::BuiltinOptions::StridedSliceOptions,
                 tfl::CreateStridedSliceOptions(b.fbb(), o.begin_mask, o.end_mask, 0, 0,
                                                o.shrink_axis_mask, false)
                     .Union());
}

}  // namespace

namespace plan {

LoweredOp lower_StridedSlice(ir::Graph& g, size_t node) {
  using namespace lowering;
  const ir::Node& n = checked(g, node, 1, 1, 1, /*int16=*/true, /*int32=*/true);
  const auto& o = n.params.get<ops::StridedSliceOptions>();
  const ir::Tensor& in = g.tensors[n.inputs[0]];
  const ir::Tensor& out = g.tensors[n.outputs[0]];
  const std::string why = problem(o, in, out);
  if (!why.empty()) refuse(g, node, why);
  if (out.type == DType::i8 || out.type == DType::i16) same_quantization(g, node, "input");
  return lowered(resolve(o, in.shape).params, {n.inputs[0]});
}

}  // namespace plan

// ONNX import: the ONNX op types that become this op.
namespace onnx_import {
namespace {

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

}  // namespace
}  // namespace onnx_import

namespace ops {

const HostOp& host_op_StridedSlice() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::same_as_input, 0.0f, 0, -1, false, ir::ChannelRule::blocks},
      {{static_cast<int32_t>(tfl::BuiltinOperator::STRIDED_SLICE), "STRIDED_SLICE",
        read_strided_slice},
       {static_cast<int32_t>(tfl::BuiltinOperator::SLICE), "SLICE", read_slice}},
      {{"Slice", onnx_import::convert_Slice, 1}},
      write_tflite};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
