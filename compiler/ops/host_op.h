// What the compiler knows about one op of the op table, gathered in one place: its traits
// for the passes, its TFLite import and export, its ONNX import. Each row of ops.def has a
// `host_op_<Name>()`, defined in the op's host file under compiler/ops/ (one file per op
// or small family, beside its lowering `plan::lower_<Name>`), so adding an op touches the
// table row, its params struct, its kernel and its host file, nothing else.
//
// The TFLite reader and writer and the ONNX importer find every op here; the target kernel variants
// (dsp_variants.cc) have no TFLite form.
#pragma once
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/op_traits.h"
#include "ir/weight_geometry.h"

namespace tinyforge::tflite_import {
class OpMapper;
}
namespace tinyforge::tflite_export {
class ModelBuilder;
}
namespace tinyforge::onnx_import {
class Context;
}

namespace tinyforge::ops {

// schema.fbs: BuiltinOperator CUSTOM, the code of every custom op (named by custom_code).
constexpr int32_t kTfliteCustom = 32;

// One TFLite builtin this op imports: the node it becomes (outputs left empty; inputs left
// empty too, and the importer lists every operand of the TFLite operator in order, unless
// the read function lists the ones the IR keeps).
struct TfliteRead {
  int32_t builtin;   // tfl::BuiltinOperator; kTfliteCustom for a custom op
  const char* name;  // the builtin's name, or a custom op's custom_code
  ir::Node (*read)(tflite_import::OpMapper& m);
};

// One ONNX op type that becomes this op: its converter (defined in the op's host file with
// the toolkit of import/onnx/onnx_convert.h) and the first opset whose semantics it
// implements (before it: legacy attributes such as `consumed_inputs` or Add's `broadcast`).
// Later changes (Pad / Clip parameters as inputs from opset 11, single-axis Softmax from
// 13, ...) are handled inside the converter by branching on the context's opset.
struct OnnxRead {
  const char* op_type;
  void (*convert)(onnx_import::Context& ctx);
  int min_opset;
};

// What the passes ask an op about one node, so they never read another op's params.
struct HostOp {
  ir::OpTraits traits;
  std::vector<TfliteRead> tflite_reads;
  std::vector<OnnxRead> onnx_reads;
  void (*write_tflite)(tflite_export::ModelBuilder& b, size_t node) = nullptr;
  // The node's fused activation; null for an op that takes none.
  ir::Activation* (*fused_activation)(ir::Node& n) = nullptr;
  // Why the node only copies its input when input and output shapes are equal, or nullptr.
  const char* (*copies_input)(const ir::Node& n) = nullptr;
  // Why channels do not pass through the node for pruning although its traits' channel rule
  // lets them, or nullptr (Pad padding the channel dim).
  const char* (*blocks_channels)(const ir::Node& n) = nullptr;
  // Adds the node's attributes to its description by `tinyforge inspect`.
  void (*describe)(const ir::Node& n, nlohmann::json& out) = nullptr;
  // A weighted op's layer as a grouped convolution (for bias correction and the pruner's
  // refit); null for an op without weights. Throws for a node whose shapes disagree.
  ir::WeightGeometry (*weight_geometry)(const ir::Graph& g, size_t node) = nullptr;
};

// `fused_activation` of an op whose params struct P has an `activation` field.
template <class P>
ir::Activation* activation_field(ir::Node& n) {
  return &n.params.get_or_set_default<P>().activation;
}

#define OP(name, params, min_in, max_in, n_out) const HostOp& host_op_##name();
#include "tinyforge/ops.def"
#undef OP

const HostOp& host_op(OpCode op);
inline const ir::OpTraits& traits(OpCode op) { return host_op(op).traits; }
inline bool has_weights(OpCode op) { return traits(op).weight_channel_axis >= 0; }

// The node's fused activation (none for an op that takes none).
ir::Activation fused_activation(const ir::Node& n);

// The host op reading TFLite builtin `builtin` (not CUSTOM), or nullptr.
const TfliteRead* find_tflite_read(int32_t builtin);
// The host op reading the custom op of custom_code `code`, or nullptr.
const TfliteRead* find_tflite_custom_read(const std::string& code);

}  // namespace tinyforge::ops
