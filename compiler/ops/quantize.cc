// Quantize and Dequantize: everything the compiler knows about them, in one file.
//
// Semantics: TFLite QUANTIZE (float32 -> int8 or int16, or requantization between int8 and
// int16 in any direction: the boundaries of 16x8 models) and DEQUANTIZE (int8 or int16 ->
// float32), per-tensor parameters; the quantizer inserts them at the model's float
// boundaries. Lowering as TFLite Micro's PrepareQuantizeReference
// (micro/kernels/quantize_common.cc: requantize by in_scale / out_scale in double) and
// dequantize_common.cc. They are never quantized themselves; channels pass through for
// pruning. TFLite: builtins QUANTIZE (114) and DEQUANTIZE (6), versions below.
#include <fmt/format.h>

#include "export/tflite_builder.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "plan/lower_checks.h"
#include "plan/lower_elementwise.h"

namespace tinyforge {
namespace {

using tflite_import::OpMapper;

bool is_quantized(DType t) { return t == DType::i8 || t == DType::i16; }

ir::Node read_quantize(OpMapper& m) {
  m.require_arity(1, 1);
  ir::Node n{OpCode::Quantize, {}, {}, {}, {}};
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  if (in.type != DType::f32 && !is_quantized(in.type))
    m.fail(fmt::format("{} is {}; expected float32, int8 or int16", m.in_label(0),
                       dtype_name(in.type)));
  if (!is_quantized(out.type))
    m.fail(fmt::format("{} is {}; expected int8 or int16", m.out_label(), dtype_name(out.type)));
  m.require_per_tensor(in, m.in_label(0));
  m.require_per_tensor(out, m.out_label());
  m.require_shape(out, m.out_label(), in.shape);
  return n;
}

ir::Node read_dequantize(OpMapper& m) {
  m.require_arity(1, 1);
  ir::Node n{OpCode::Dequantize, {}, {}, {}, {}};
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  if (!is_quantized(in.type))
    m.fail(fmt::format("{} is {}; expected int8 or int16", m.in_label(0), dtype_name(in.type)));
  m.require_type(out, m.out_label(), DType::f32);
  m.require_per_tensor(in, m.in_label(0));
  m.require_shape(out, m.out_label(), in.shape);
  return n;
}

bool is_int16(tflite_export::ModelBuilder& b, int t) {
  return b.graph().tensors[static_cast<size_t>(t)].type == DType::i16;
}

void write_unary(tflite_export::ModelBuilder& b, size_t node, tfl::BuiltinOperator builtin,
                 int32_t version) {
  const ir::Node& n = b.graph().nodes[node];
  b.add_operator(builtin, version, tflite_export::io_of(b, n.inputs),
                 tflite_export::io_of(b, n.outputs));
}

// Versions from tensorflow/lite/tools/versioning/op_version.cc: QUANTIZE 2 for an int16
// output; DEQUANTIZE 3 for an int16 input, 2 for int8.
void write_quantize(tflite_export::ModelBuilder& b, size_t node) {
  const bool to_int16 = is_int16(b, b.graph().nodes[node].outputs[0]);
  write_unary(b, node, tfl::BuiltinOperator::QUANTIZE, to_int16 ? 2 : 1);
}
void write_dequantize(tflite_export::ModelBuilder& b, size_t node) {
  const bool from_int16 = is_int16(b, b.graph().nodes[node].inputs[0]);
  write_unary(b, node, tfl::BuiltinOperator::DEQUANTIZE,
              from_int16                        ? 3
              : tflite_export::is_int8(b, node) ? 2
                                                : 1);
}

}  // namespace

namespace plan {

using namespace elementwise_lowering;

LoweredOp lower_Quantize(ir::Graph& g, size_t node) {
  const ir::Node& n = node_with_arity(g, node, 1);
  const int in = n.inputs[0], out = n.outputs[0];
  if (g.tensors[in].elements() != g.tensors[out].elements())
    refuse(g, node, "input and output element counts differ");
  const TensorQuant qo = per_tensor_quantized(g, node, out, "output");
  QuantizeParams p{};
  p.scale = qo.scale;
  p.zero_point = qo.zero_point;
  const DType type = g.tensors[in].type;
  if (type == DType::i8 || type == DType::i16) {
    // quantize_common.cc PrepareQuantizeReference: requantize by in_scale / out_scale.
    const TensorQuant qi = per_tensor_quantized(g, node, in, "input");
    const QuantizedMultiplier m =
        quantize_multiplier(static_cast<double>(qi.scale) / static_cast<double>(qo.scale));
    p.input_zero_point = qi.zero_point;
    p.multiplier = m.multiplier;
    p.shift = m.shift;
  } else if (type != DType::f32) {
    refuse(g, node, fmt::format("input is {}; expected float32, int8 or int16", dtype_name(type)));
  }
  return lowering::lowered(p, {in});
}

LoweredOp lower_Dequantize(ir::Graph& g, size_t node) {
  const ir::Node& n = node_with_arity(g, node, 1);
  const int in = n.inputs[0], out = n.outputs[0];
  if (g.tensors[in].elements() != g.tensors[out].elements())
    refuse(g, node, "input and output element counts differ");
  const TensorQuant qi = per_tensor_quantized(g, node, in, "input");
  require_dtype(g, node, out, DType::f32, "output");
  DequantizeParams p{};
  p.scale = qi.scale;
  p.zero_point = qi.zero_point;
  return lowering::lowered(p, {in});
}

}  // namespace plan

namespace ops {
namespace {

constexpr ir::OpTraits kTraits{ir::QuantRule::not_quantized, 0.0f, 0, -1, false,
                               ir::ChannelRule::elementwise};

}  // namespace

const HostOp& host_op_Quantize() {
  static const HostOp op{
      kTraits,
      {{static_cast<int32_t>(tfl::BuiltinOperator::QUANTIZE), "QUANTIZE", read_quantize}},
      /*onnx_reads=*/{},
      write_quantize};
  return op;
}

const HostOp& host_op_Dequantize() {
  static const HostOp op{
      kTraits,
      {{static_cast<int32_t>(tfl::BuiltinOperator::DEQUANTIZE), "DEQUANTIZE", read_dequantize}},
      /*onnx_reads=*/{},
      write_dequantize};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
