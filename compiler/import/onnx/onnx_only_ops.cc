// ONNX op types with no IR op of their own. Evaluated at import: Constant, ConstantOfShape
// and Shape (shapes are static here; typically the shape arithmetic PyTorch exports around
// Reshape, with Gather and Cast, which ops/gather.cc and ops/cast.cc evaluate on a
// constant). Removed: Identity, and Dropout at inference. Folded:
// BatchNormalization into the filter and bias of the Conv/Gemm before it when it is that
// op's only reader, else a per-channel Mul + Add. Unrolled into existing ops: GRU
// (onnx_gru.cc). Every other op type is converted in the host file of the IR op it becomes
// (compiler/ops/).
#include <fmt/format.h>

#include <cmath>

#include "import/onnx/onnx_convert.h"
#include "import/onnx/onnx_recurrent.h"
#include "import/onnx/onnx_tensor.h"
#include "ops/add.h"
#include "ops/mul.h"

namespace tinyforge::onnx_import {
namespace {

std::vector<float> read_floats(const ir::Tensor& t) {
  std::vector<float> v(static_cast<size_t>(t.elements()));
  if (!v.empty()) std::memcpy(v.data(), t.data.data(), v.size() * sizeof(float));
  return v;
}

void write_floats(ir::Tensor& t, const std::vector<float>& v) {
  t.data.resize(v.size() * sizeof(float));
  if (!v.empty()) std::memcpy(t.data.data(), v.data(), t.data.size());
}

// Folds y = x * scale[c] + shift[c] into the filter and bias of the conv/FC node that
// wrote x (channel c = its output channel). Returns false if that node cannot take it.
bool fold_into_producer(Context& ctx, int tensor, const std::vector<float>& scale,
                        const std::vector<float>& shift) {
  const int p = ctx.producer_through_reshape(tensor);
  if (p < 0) return false;
  ir::Node& n = ctx.graph.nodes[p];
  const bool depthwise = n.op == OpCode::DepthwiseConv2D;
  if (n.op != OpCode::Conv2D && !depthwise && n.op != OpCode::FullyConnected) return false;
  if (ops::fused_activation(n) != ir::Activation::none || n.inputs.size() < 3) return false;
  ir::Tensor& filter = ctx.graph.tensors[n.inputs[1]];
  if (!filter.constant || filter.type != DType::f32) return false;
  const auto channels = static_cast<int64_t>(scale.size());
  const int64_t out_channels = depthwise ? filter.shape.back() : filter.shape.front();
  if (out_channels != channels) return false;
  if (n.inputs[2] < 0)
    n.inputs[2] = ctx.ir_constant(filter.name + "/bias", {static_cast<int32_t>(channels)},
                                  std::vector<float>(scale.size(), 0.0f));
  ir::Tensor& filter_ref = ctx.graph.tensors[n.inputs[1]];  // ir_constant may have grown the vector
  ir::Tensor& bias = ctx.graph.tensors[n.inputs[2]];
  if (!bias.constant || bias.type != DType::f32 || bias.elements() != channels) return false;

  std::vector<float> w = read_floats(filter_ref);
  const int64_t per_channel = static_cast<int64_t>(w.size()) / channels;
  for (size_t i = 0; i < w.size(); ++i) {
    const int64_t c =
        depthwise ? static_cast<int64_t>(i) % channels : static_cast<int64_t>(i) / per_channel;
    w[i] *= scale[c];
  }
  write_floats(filter_ref, w);
  std::vector<float> b = read_floats(bias);
  for (int64_t c = 0; c < channels; ++c) b[c] = b[c] * scale[c] + shift[c];
  write_floats(bias, b);
  return true;
}

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

// A constant of the shape given by input 0 (a constant, typically computed from Shape)
// filled with the one value of attribute `value` (default float 0).
void convert_ConstantOfShape(Context& ctx) {
  const std::vector<int64_t> shape = ctx.ints_input(0, "shape");
  if (shape.size() > kMaxConstRank)
    ctx.unsupported(fmt::format("a rank-{} result (at most {})", shape.size(), kMaxConstRank));
  int64_t elements = 1;
  for (int64_t d : shape) {
    if (d < 0 || d > kMaxDim) ctx.fail(fmt::format("shape {} has a bad dim", shape_str(shape)));
    elements *= d;
    if (elements > kMaxElements) ctx.unsupported("a result above the element limit");
  }
  if (elements == 0) ctx.unsupported("an empty result");
  Constant fill;
  fill.f = {0.0f};
  if (const onnx::AttributeProto* a = ctx.attr("value")) {
    if (!a->has_t()) ctx.fail("attribute 'value' holds no tensor");
    fill = read_tensor(a->t(), ctx.where());
    if (fill.elements() != 1)
      ctx.fail(fmt::format("attribute 'value' has {} values; expected one", fill.elements()));
  }
  Constant c;
  c.shape = shape;
  c.is_float = fill.is_float;
  if (c.is_float)
    c.f.assign(static_cast<size_t>(elements), fill.f[0]);
  else
    c.i.assign(static_cast<size_t>(elements), fill.i[0]);
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

void convert_Identity(Context& ctx) { ctx.set_output(0, ctx.input(0)); }

// Before opset 7 BatchNormalization and Dropout ran in training mode unless is_test = 1
// (ONNX Changelog, BatchNormalization-6 and Dropout-6).
void require_is_test(Context& ctx) {
  if (ctx.opset < 7 && ctx.attr_int("is_test", 0) == 0)
    ctx.unsupported("training mode (is_test = 0; exporters set 1 for inference)");
}

void convert_Dropout(Context& ctx) {
  if (ctx.output_used(1)) ctx.unsupported("the mask output");
  require_is_test(ctx);
  if (ctx.opset >= 12 && ctx.has_input(2)) {
    const Constant& t = ctx.constant_input(2, "training_mode");
    if (t.elements() != 1 || (t.is_float ? t.f[0] != 0.0f : t.i[0] != 0))
      ctx.unsupported("training_mode = true");
  }
  ctx.set_output(0, ctx.input(0));
}

void convert_BatchNormalization(Context& ctx) {
  Value& x = ctx.input(0);
  if (x.shape.size() < 2)
    ctx.fail(fmt::format("input of shape {}; expected rank >= 2", shape_str(x.shape)));
  if (ctx.opset < 9 && ctx.attr_int("spatial", 1) != 1) ctx.unsupported("spatial = 0");
  require_is_test(ctx);
  if (ctx.attr_int("training_mode", 0) != 0) ctx.unsupported("training_mode = 1");
  for (size_t i = 1; i < 5; ++i)
    if (ctx.output_used(i)) ctx.unsupported("the running mean/variance outputs (training mode)");
  const int64_t c = x.shape[1];
  const char* roles[4] = {"scale", "bias B", "mean", "var"};
  std::vector<float> p[4];
  for (size_t i = 0; i < 4; ++i) {
    p[i] = ctx.float_input(i + 1, roles[i]);
    if (static_cast<int64_t>(p[i].size()) != c)
      ctx.fail(
          fmt::format("{} has {} values; the input has {} channels", roles[i], p[i].size(), c));
  }
  const float epsilon = ctx.attr_float("epsilon", 1e-5f);
  std::vector<float> scale(static_cast<size_t>(c)), shift(static_cast<size_t>(c));
  for (int64_t k = 0; k < c; ++k) {
    const double var = static_cast<double>(p[3][k]) + static_cast<double>(epsilon);
    if (!(var > 0.0))
      ctx.fail(fmt::format("channel {}: var + epsilon = {} is not positive", k, var));
    const double s = static_cast<double>(p[0][k]) / std::sqrt(var);
    scale[k] = static_cast<float>(s);
    shift[k] = static_cast<float>(static_cast<double>(p[1][k]) - static_cast<double>(p[2][k]) * s);
  }

  // Fold when x's only reader is this node and x is the fresh output of a conv/FC.
  const int reps = (x.onnx >= 0) + (x.nhwc >= 0) + (x.flat >= 0);
  const bool channels_last = x.nhwc >= 0 || (x.onnx >= 0 && x.shape.size() == 2);
  if (!x.is_constant() && reps == 1 && ctx.uses_of_input(0) == 1 && channels_last &&
      fold_into_producer(ctx, x.nhwc >= 0 ? x.nhwc : x.onnx, scale, shift)) {
    ctx.set_output(0, x);
    return;
  }
  Constant cs, cb;
  cs.shape.assign(x.shape.size() - 1, 1);
  cs.shape[0] = c;
  cb.shape = cs.shape;
  cs.f = scale;
  cb.f = shift;
  Value vs = ctx.constant_value(std::move(cs));
  Value vb = ctx.constant_value(std::move(cb));
  const std::string name = ctx.node->output(0);
  Value scaled = binary(ctx, OpCode::Mul, x, vs, name + "/scale", ops::MulAttrs{});
  ctx.set_output(0, binary(ctx, OpCode::Add, scaled, vb, name, ops::AddAttrs{}));
}
}  // namespace

const std::vector<ops::OnnxRead>& onnx_only_converters() {
  // {op type, converter, first opset implemented}: see ops::OnnxRead.
  static const std::vector<ops::OnnxRead> table = {
      {"BatchNormalization", convert_BatchNormalization, 6},
      {"Constant", convert_Constant, 1},
      {"ConstantOfShape", convert_ConstantOfShape, 9},
      {"Dropout", convert_Dropout, 6},
      {"GRU", convert_GRU, 7},
      {"Identity", convert_Identity, 1},
      {"Shape", convert_Shape, 1},
  };
  return table;
}

}  // namespace tinyforge::onnx_import
