#include "ops/host_op.h"

namespace tinyforge::ops {
namespace {

struct Table {
  const HostOp* rows[kNumOps];
  Table() {
    uint16_t i = 0;
#define OP(name, params, min_in, max_in, n_out) rows[i++] = &host_op_##name();
#include "tinyforge/ops.def"
#undef OP
  }
};

const Table& table() {
  static const Table t;
  return t;
}

}  // namespace

const HostOp& host_op(OpCode op) {
  const auto i = static_cast<uint16_t>(op);
  if (i >= kNumOps) throw tinyforge::Error("op code " + std::to_string(i) + " is not in ops.def");
  return *table().rows[i];
}

ir::Activation fused_activation(const ir::Node& n) {
  const auto get = host_op(n.op).fused_activation;
  // The hook only returns the field's address; the node is not changed.
  return get ? *get(const_cast<ir::Node&>(n)) : ir::Activation::none;
}

const TfliteRead* find_tflite_read(int32_t builtin) {
  if (builtin == kTfliteCustom) return nullptr;
  for (const HostOp* op : table().rows)
    for (const TfliteRead& r : op->tflite_reads)
      if (r.builtin == builtin) return &r;
  return nullptr;
}

const TfliteRead* find_tflite_custom_read(const std::string& code) {
  for (const HostOp* op : table().rows)
    for (const TfliteRead& r : op->tflite_reads)
      if (r.builtin == kTfliteCustom && code == r.name) return &r;
  return nullptr;
}

}  // namespace tinyforge::ops
