// What the compiler knows about one op of the op table, gathered in one place: its traits
// for the passes, its TFLite import and export. Each row of ops.def has a
// `host_op_<Name>()`, defined in the op's host file under compiler/ops/ (one file per op
// or small family, beside its lowering `plan::lower_<Name>`), so adding an op touches the
// table row, its params struct, its kernel and its host file, nothing else.
//
// The ops whose TFLite mapping predates this table keep it in import/tflite/tflite_ops.cc
// and export/tflite_ops_writer.cc (their host entries leave those fields empty,
// builtin_ops.cc); the central mappings fall back to this table for every other op.
#pragma once
#include <cstdint>
#include <vector>

#include "ir/graph.h"
#include "ir/op_traits.h"

namespace tinyforge::tflite_import {
class OpMapper;
}
namespace tinyforge::tflite_export {
class ModelBuilder;
}

namespace tinyforge::ops {

// One TFLite builtin this op imports: the node it becomes (outputs left empty; inputs left
// empty too, and the importer lists every operand of the TFLite operator in order, unless
// the read function lists the ones the IR keeps).
struct TfliteRead {
  int32_t builtin;  // tfl::BuiltinOperator
  const char* name;
  ir::Node (*read)(tflite_import::OpMapper& m);
};

struct HostOp {
  ir::OpTraits traits;
  std::vector<TfliteRead> tflite_reads;
  void (*write_tflite)(tflite_export::ModelBuilder& b, size_t node) = nullptr;
};

#define OP(name, params, min_in, max_in, n_out) const HostOp& host_op_##name();
#include "tinyforge/ops.def"
#undef OP

const HostOp& host_op(OpCode op);
inline const ir::OpTraits& traits(OpCode op) { return host_op(op).traits; }
inline bool has_weights(OpCode op) { return traits(op).weight_channel_axis >= 0; }

// The host op reading TFLite builtin `builtin`, or nullptr.
const TfliteRead* find_tflite_read(int32_t builtin);

}  // namespace tinyforge::ops
