// Cast: everything the compiler knows about it, in one file.
//
// Semantics: TFLite CAST (53; micro/kernels/cast.cc) and ONNX Cast of a run-time tensor: each
// element converted to the output's dtype with static_cast, quantization ignored (the stored
// integers are the values). Dtypes: float32, int8, int16, int32 (TFLite's INT64 tensors an op
// writes run as int32), uint32 (the energies of TFLM's signal ops, which micro_speech's
// preprocessor casts to int32 and back). Float to integer truncates toward zero and saturates where
// static_cast would be undefined (docs/numerics.md); a narrower integer keeps the low bits.
// Invariants, checked at import and lowering: same element count, rank <= 4. TFLite version
// 3 when either side is int8, else 1 (tools/versioning/op_version.cc). ONNX Cast: a
// constant is evaluated at import; a run-time float32 or int32 value (ArgMax's indices)
// to FLOAT, INT32 or INT64 becomes this op (int64 stored as int32), other targets are
// refused as unsupported.
#include <fmt/format.h>

#include <cmath>
#include <string>

#include "export/tflite_builder.h"
#include "import/onnx/onnx_convert.h"
#include "import/onnx/onnx_tensor.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "plan/lower_checks.h"

namespace tinyforge {
namespace {

using tflite_import::OpMapper;

bool castable(DType t) {
  return t == DType::f32 || t == DType::i8 || t == DType::i16 || t == DType::i32 || t == DType::u32;
}

// Why `in` cannot cast to `out`, or "".
std::string problem(const ir::Tensor& in, const ir::Tensor& out) {
  for (const ir::Tensor* t : {&in, &out}) {
    if (!castable(t->type))
      return fmt::format("'{}' is {}; expected float32, int8, int16, int32 or uint32", t->name,
                         dtype_name(t->type));
    if (t->shape.size() > kMaxRank) return fmt::format("'{}' has rank above 4", t->name);
  }
  if (in.elements() != out.elements())
    return fmt::format("output has shape {}; expected the input's {}",
                       tflite_import::shape_string(out.shape),
                       tflite_import::shape_string(in.shape));
  return "";
}

// --- TFLite import and export ---------------------------------------------------------

ir::Node read_tflite(OpMapper& m) {
  m.require_arity(1, 1);
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  for (const ir::Tensor* t : {&in, &out})
    if (!castable(t->type))
      m.unsupported(fmt::format("'{}' is {}; expected float32, int8, int16, int32 or uint32",
                                t->name, dtype_name(t->type)));
  const std::string why = problem(in, out);
  if (!why.empty()) m.fail(why);
  m.require_shape(out, m.out_label(), in.shape);
  return ir::Node{OpCode::Cast, {m.input_index(0)}, {}, {}, {}};
}

tfl::TensorType tflite_type(DType t) {
  switch (t) {
    case DType::i8:
      return tfl::TensorType::INT8;
    case DType::i16:
      return tfl::TensorType::INT16;
    case DType::i32:
      return tfl::TensorType::INT32;
    case DType::u32:
      return tfl::TensorType::UINT32;
    default:
      return tfl::TensorType::FLOAT32;
  }
}

void write_tflite(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  const ir::Node& n = b.graph().nodes[node];
  const DType from = in_tensor(b, node, 0).type, to = out_tensor(b, node).type;
  const int version = from == DType::i8 || to == DType::i8 ? 3 : 1;
  b.add_operator(tfl::BuiltinOperator::CAST, version, io_of(b, n.inputs), io_of(b, n.outputs),
                 tfl::BuiltinOptions::CastOptions,
                 tfl::CreateCastOptions(b.fbb(), tflite_type(from), tflite_type(to)).Union());
}

}  // namespace

namespace plan {

LoweredOp lower_Cast(ir::Graph& g, size_t node) {
  using namespace lowering;
  const ir::Node& n = g.nodes.at(node);
  const int count = static_cast<int>(g.tensors.size());
  if (n.inputs.size() != 1 || n.outputs.size() != 1)
    refuse(g, node, "expected one input and one output");
  for (int t : {n.inputs[0], n.outputs[0]})
    if (t < 0 || t >= count) refuse(g, node, "a tensor is missing or out of range");
  const std::string why = problem(g.tensors[n.inputs[0]], g.tensors[n.outputs[0]]);
  if (!why.empty()) refuse(g, node, why);
  return lowered(CastParams{}, {n.inputs[0]});
}

}  // namespace plan

// ONNX import: Cast. Constants are evaluated here (the shape arithmetic around Reshape).
namespace onnx_import {
namespace {

void fold_cast(Context& ctx, Constant c, bool to_float) {
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

void convert_Cast(Context& ctx) {
  Value& x = ctx.input(0);
  const int64_t to = ctx.attr_int("to", 0);
  const bool to_float = to == onnx::TensorProto::FLOAT || to == onnx::TensorProto::DOUBLE;
  if (x.is_constant()) return fold_cast(ctx, ctx.constants[x.const_index], to_float);
  const bool to_index = to == onnx::TensorProto::INT32 || to == onnx::TensorProto::INT64;
  if (to != onnx::TensorProto::FLOAT && !to_index)
    ctx.unsupported(
        fmt::format("Cast of a run-time tensor to {}", onnx_type_name(static_cast<int32_t>(to))));
  const int t = ctx.as_onnx(x, ctx.node->input(0));
  const DType from = ctx.graph.tensors[static_cast<size_t>(t)].type;
  const DType target = to_index ? DType::i32 : DType::f32;
  if (from == target) return ctx.set_output(0, x);
  Value out;
  out.shape = x.shape;
  out.onnx = ctx.emit(OpCode::Cast, {t}, ctx.shape_of(t), ir::Params{}, ctx.node->output(0));
  ctx.graph.tensors[static_cast<size_t>(out.onnx)].type = target;
  ctx.set_output(0, std::move(out));
}

}  // namespace
}  // namespace onnx_import

namespace ops {

const HostOp& host_op_Cast() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::not_quantized, 0.0f, 0, -1, false, ir::ChannelRule::blocks},
      {{static_cast<int32_t>(tfl::BuiltinOperator::CAST), "CAST", read_tflite}},
      {{"Cast", onnx_import::convert_Cast, 6}},
      write_tflite};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
