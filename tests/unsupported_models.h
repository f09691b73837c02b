// Test models (header only) that tinyforge cannot run, for the "will it run?" checks: one
// with several builtins no op maps, one whose ops import but have no kernel.
#pragma once
#include "tflite_model_builder.h"

namespace tinyforge::testing {

// float32 [1,4] through 7 ops, 5 of them unsupported: COS (op 0), SIN v2 (op 2), FLOOR
// (op 3), CUSTOM 'MyOp' (op 5) are builtins no op maps; LOGISTIC, TANH and ADD are
// supported, but the ADD's second operand is an int16 constant (op 6): a dtype no op takes.
inline ModelSpec five_missing_ops_model() {
  using B = tfl::BuiltinOperator;
  ModelSpec m;
  for (int i = 0; i <= 7; ++i) m.tensors.push_back({"t" + std::to_string(i), {1, 4}});
  m.tensors.push_back(
      {"c", {4}, tfl::TensorType::INT16, bytes_of(std::vector<int16_t>{1, 2, 3, 4})});
  const B ops[] = {B::COS, B::LOGISTIC, B::SIN, B::FLOOR, B::TANH, B::CUSTOM, B::ADD};
  for (int i = 0; i < 7; ++i) {
    OpSpec op{ops[i], {i}, {i + 1}};
    op.with_options = ops[i] == B::ADD;
    if (ops[i] == B::SIN) op.version = 2;
    if (ops[i] == B::CUSTOM) op.custom_code = "MyOp";
    if (ops[i] == B::ADD) op.inputs.push_back(8);
    m.ops.push_back(op);
  }
  m.inputs = {0};
  m.outputs = {7};
  return m;
}

// int8 [1,4] -> SOFTMAX (op 0) and SOFTMAX (op 1), both with an input scale (1e-9) too small
// for the int8 reference kernel: they import, and lowering refuses both.
inline ModelSpec unlowerable_softmax_model() {
  using B = tfl::BuiltinOperator;
  ModelSpec m;
  m.tensors.push_back(act_i8("in", {1, 4}, 1e-9f, 0));
  m.tensors.push_back(act_i8("p0", {1, 4}, 1.0f / 256, -128));
  m.tensors.push_back(act_i8("p1", {1, 4}, 1.0f / 256, -128));
  m.ops = {OpSpec{B::SOFTMAX, {0}, {1}}, OpSpec{B::SOFTMAX, {0}, {2}}};
  m.inputs = {0};
  m.outputs = {1, 2};
  return m;
}

}  // namespace tinyforge::testing
