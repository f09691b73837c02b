// Gemm and MatMul with a constant right-hand side -> FullyConnected with weights [OUT,IN]
// (alpha and beta folded into weights and bias). When the input is a channels-last
// flatten of a [N,C,H,W] value, the weight columns are permuted offline instead of
// transposing the activations back to NCHW.
#include <fmt/format.h>

#include "import/onnx/converters.h"
#include "ops/add.h"
#include "ops/fully_connected.h"

namespace tinyforge::onnx_import {
namespace {

// Weights [OUT,IN] whose IN columns are in ONNX (c,h,w) order -> columns in (h,w,c) order.
std::vector<float> permute_columns_to_hwc(const std::vector<float>& w, int64_t out,
                                          const Shape& chw) {
  const int64_t c = chw[0], h = chw[1], wd = chw[2], in = c * h * wd;
  std::vector<float> r(w.size());
  for (int64_t o = 0; o < out; ++o)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < wd; ++x)
        for (int64_t ch = 0; ch < c; ++ch)
          r[o * in + (y * wd + x) * c + ch] = w[o * in + (ch * h + y) * wd + x];
  return r;
}

// Emits FullyConnected(a, weights [out,in], bias) for a 2-D input value `a` of ONNX shape
// [rows, in]; uses a's channels-last flatten directly when that is all we have.
int emit_fc(Context& ctx, Value& a, std::vector<float> weights, int64_t out,
            const std::vector<float>& bias, const std::string& name) {
  const int64_t rows = a.shape[0], in = a.shape[1];
  int input;
  if (a.flat >= 0 && a.onnx < 0) {
    weights = permute_columns_to_hwc(weights, out, a.flat_chw);
    input = a.flat;
  } else {
    input = ctx.as_onnx(a, ctx.node->input(0));
  }
  const int w = ctx.ir_constant(name + "/weights", ctx.ir_shape({out, in}), weights);
  const int b = ctx.ir_constant(name + "/bias", ctx.ir_shape({out}), bias);
  return ctx.emit(OpCode::FullyConnected, {input, w, b}, ctx.ir_shape({rows, out}),
                  ops::FullyConnectedAttrs{}, name);
}

}  // namespace

void convert_Gemm(Context& ctx) {
  Value& a = ctx.input(0);
  if (a.is_constant()) ctx.unsupported("Gemm with a constant A");
  if (a.shape.size() != 2)
    ctx.fail(fmt::format("A has shape {}; expected 2-D", shape_str(a.shape)));
  const Constant& bc = ctx.constant_input(1, "B");
  if (!bc.is_float || bc.shape.size() != 2)
    ctx.fail(fmt::format("B has shape {}; expected 2-D float", shape_str(bc.shape)));
  const bool trans_a = ctx.attr_int("transA", 0) != 0, trans_b = ctx.attr_int("transB", 0) != 0;
  const float alpha = ctx.attr_float("alpha", 1.0f), beta = ctx.attr_float("beta", 1.0f);
  const int64_t m = trans_a ? a.shape[1] : a.shape[0], k = trans_a ? a.shape[0] : a.shape[1];
  const int64_t kb = trans_b ? bc.shape[1] : bc.shape[0], n = trans_b ? bc.shape[0] : bc.shape[1];
  if (kb != k)
    ctx.fail(fmt::format("A {} and B {} do not multiply (transA={}, transB={})", shape_str(a.shape),
                         shape_str(bc.shape), trans_a, trans_b));
  std::vector<float> weights(static_cast<size_t>(n * k));
  for (int64_t o = 0; o < n; ++o)
    for (int64_t i = 0; i < k; ++i)
      weights[o * k + i] = alpha * (trans_b ? bc.f[o * k + i] : bc.f[i * n + o]);

  // C broadcasts to [M,N]: one row becomes the FC bias; a C that varies by row is
  // added afterwards as a constant [M,N] tensor.
  std::vector<float> bias(static_cast<size_t>(n), 0.0f);
  std::vector<float> matrix_bias;
  if (ctx.has_input(2)) {
    const Constant& cc = ctx.constant_input(2, "C");
    if (!cc.is_float || cc.shape.size() > 2)
      ctx.fail(fmt::format("C has shape {}; expected up to 2-D float", shape_str(cc.shape)));
    const Shape cs = cc.shape;
    const int64_t c_rows = cs.size() == 2 ? cs[0] : 1;
    const int64_t c_cols = cs.empty() ? 1 : cs.back();
    if ((c_cols != 1 && c_cols != n) || (c_rows != 1 && c_rows != m))
      ctx.fail(fmt::format("C of shape {} does not broadcast to [{},{}]", shape_str(cs), m, n));
    std::vector<float> full(static_cast<size_t>(m * n));
    for (int64_t r = 0; r < m; ++r)
      for (int64_t o = 0; o < n; ++o)
        full[r * n + o] = beta * cc.f[(c_rows == 1 ? 0 : r) * c_cols + (c_cols == 1 ? 0 : o)];
    bool rows_equal = true;
    for (int64_t i = n; i < m * n && rows_equal; ++i) rows_equal = full[i] == full[i % n];
    if (rows_equal)
      bias.assign(full.begin(), full.begin() + n);
    else
      matrix_bias = std::move(full);
  }
  const std::string name = ctx.node->output(0);
  Value out;
  out.shape = {m, n};
  const std::string fc_name = matrix_bias.empty() ? name : name + "/fc";
  if (trans_a) {
    Value at;
    at.shape = {m, k};
    at.onnx = ctx.transpose(ctx.as_onnx(a, ctx.node->input(0)), {1, 0}, name + "/transA");
    out.onnx = emit_fc(ctx, at, std::move(weights), n, bias, fc_name);
  } else {
    out.onnx = emit_fc(ctx, a, std::move(weights), n, bias, fc_name);
  }
  if (!matrix_bias.empty()) {
    const int c = ctx.ir_constant(name + "/C", ctx.ir_shape({m, n}), matrix_bias);
    out.onnx = ctx.emit(OpCode::Add, {out.onnx, c}, ctx.ir_shape({m, n}), ops::AddAttrs{}, name);
  }
  ctx.set_output(0, std::move(out));
}

void convert_MatMul(Context& ctx) {
  Value& a = ctx.input(0);
  if (a.is_constant()) ctx.unsupported("MatMul with a constant left operand");
  if (a.shape.size() < 2)
    ctx.unsupported(fmt::format("MatMul of a {}-D left operand", a.shape.size()));
  Value& bv = ctx.input(1);
  if (!bv.is_constant())
    ctx.unsupported("MatMul of two run-time tensors (the right operand must be constant)");
  const Constant& bc = ctx.constant_input(1, "B");
  if (!bc.is_float) ctx.fail("B must be float");
  if (bc.shape.size() != 2)
    ctx.unsupported(fmt::format("MatMul with a {}-D constant (batched) B", bc.shape.size()));
  const int64_t k = a.shape.back(), n = bc.shape[1];
  if (bc.shape[0] != k)
    ctx.fail(fmt::format("A {} and B {} do not multiply", shape_str(a.shape), shape_str(bc.shape)));
  std::vector<float> weights(static_cast<size_t>(n * k));
  for (int64_t o = 0; o < n; ++o)
    for (int64_t i = 0; i < k; ++i) weights[o * k + i] = bc.f[i * n + o];
  const std::string name = ctx.node->output(0);
  Value out;
  out.shape = a.shape;
  out.shape.back() = n;
  if (a.shape.size() == 2) {
    out.onnx = emit_fc(ctx, a, std::move(weights), n,
                       std::vector<float>(static_cast<size_t>(n), 0.0f), name);
  } else {
    const int64_t rows = elements_of(a.shape) / k;
    Value a2 = reshaped(ctx, a, {rows, k}, name + "/rows");
    const int fc = emit_fc(ctx, a2, std::move(weights), n,
                           std::vector<float>(static_cast<size_t>(n), 0.0f), name + "/fc");
    out.onnx = ctx.reshape(fc, ctx.ir_shape(out.shape), name);
  }
  ctx.set_output(0, std::move(out));
}

}  // namespace tinyforge::onnx_import
