// Conv (1-D and 2-D; grouped and depthwise) and BatchNormalization (folded into the producing
// Conv/Gemm when it is that op's only reader, else a per-channel Mul + Add).
#include "ops/conv.h"

#include <fmt/format.h>

#include <cmath>

#include "import/onnx/converters.h"
#include "import/onnx/onnx_window.h"
#include "ops/add.h"
#include "ops/host_op.h"
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

}  // namespace

void convert_Conv(Context& ctx) {
  Value& x = ctx.input(0);
  const bool one_d = x.shape.size() == 3;  // [N,C,L]: a 2-D conv with H = 1
  if (x.shape.size() != 4 && !one_d)
    ctx.unsupported(
        fmt::format("input of shape {}; only 1-D [N,C,L] and 2-D [N,C,H,W] convolution is imported",
                    shape_str(x.shape)));
  if (x.is_constant()) ctx.unsupported("convolution of a constant input");
  const Constant& wc = ctx.constant_input(1, "weights W");
  if (!wc.is_float || wc.shape.size() != x.shape.size())
    ctx.fail(fmt::format("weights W must be a float [M,C/group,{}] tensor; got {}",
                         one_d ? "k" : "kH,kW", shape_str(wc.shape)));
  const std::vector<float> wdata = wc.f;
  const int64_t n = x.shape[0], c = x.shape[1], h = one_d ? 1 : x.shape[2], w = x.shape.back();
  const int64_t m = wc.shape[0], cg = wc.shape[1], kh = one_d ? 1 : wc.shape[2],
                kw = wc.shape.back();
  const int64_t group = ctx.attr_int("group", 1);
  if (group < 1 || c % group != 0 || m % group != 0 || cg * group != c || m < 1)
    ctx.fail(fmt::format("group {} does not fit input channels {}, weights {}", group, c,
                         shape_str(wc.shape)));
  const std::vector<int64_t> kernel_shape = ctx.attr_ints("kernel_shape");
  const std::vector<int64_t> spatial(wc.shape.begin() + 2, wc.shape.end());
  if (!kernel_shape.empty() && kernel_shape != spatial)
    ctx.fail(fmt::format("kernel_shape {} differs from the weights {}", shape_str(kernel_shape),
                         shape_str(wc.shape)));
  std::vector<float> bias(static_cast<size_t>(m), 0.0f);
  if (ctx.has_input(2)) {
    const Constant& bc = ctx.constant_input(2, "bias B");
    if (!bc.is_float || bc.elements() != m)
      ctx.fail(fmt::format("bias B has shape {}; expected [{}]", shape_str(bc.shape), m));
    bias = bc.f;
  }
  const Window2D win = read_window(ctx, h, w, kh, kw, false, true, one_d);

  const std::string name = ctx.node->output(0);
  int in = ctx.as_nhwc(x, ctx.node->input(0));
  if (one_d) in = ctx.reshape(in, ctx.ir_shape({n, 1, w, c}), name + "/2d_in");
  const bool depthwise = group > 1 && group == c && cg == 1;
  std::vector<float> filter(wdata.size());
  std::vector<int32_t> filter_shape;
  if (depthwise) {  // [M,1,kH,kW] -> [1,kH,kW,M]
    for (int64_t o = 0; o < m; ++o)
      for (int64_t y = 0; y < kh; ++y)
        for (int64_t z = 0; z < kw; ++z)
          filter[(y * kw + z) * m + o] = wdata[(o * kh + y) * kw + z];
    filter_shape = ctx.ir_shape({1, kh, kw, m});
  } else {  // [M,Cg,kH,kW] -> [M,kH,kW,Cg]
    for (int64_t o = 0; o < m; ++o)
      for (int64_t ch = 0; ch < cg; ++ch)
        for (int64_t y = 0; y < kh; ++y)
          for (int64_t z = 0; z < kw; ++z)
            filter[((o * kh + y) * kw + z) * cg + ch] = wdata[((o * cg + ch) * kh + y) * kw + z];
    filter_shape = ctx.ir_shape({m, kh, kw, cg});
  }
  const int filter_t = ctx.ir_constant(name + "/filter", filter_shape, filter);
  const int bias_t = ctx.ir_constant(name + "/bias", ctx.ir_shape({m}), bias);

  ops::ConvAttrs a;
  a.window.stride_h = static_cast<int>(win.stride_h);
  a.window.stride_w = static_cast<int>(win.stride_w);
  a.window.dilation_h = static_cast<int>(win.dilation_h);
  a.window.dilation_w = static_cast<int>(win.dilation_w);
  a.window.padding = ir::Padding::explicit_pads;
  a.window.pad_top = static_cast<int>(win.pad_top);
  a.window.pad_left = static_cast<int>(win.pad_left);
  a.window.pad_bottom = static_cast<int>(win.pad_bottom);
  a.window.pad_right = static_cast<int>(win.pad_right);
  a.depth_multiplier = depthwise ? static_cast<int>(m / c) : 1;
  Value out;
  out.shape = one_d ? Shape{n, m, win.out_w} : Shape{n, m, win.out_h, win.out_w};
  out.nhwc = ctx.emit(depthwise ? OpCode::DepthwiseConv2D : OpCode::Conv2D, {in, filter_t, bias_t},
                      ctx.ir_shape({n, win.out_h, win.out_w, m}), a, one_d ? name + "/2d" : name);
  if (one_d) out.nhwc = ctx.reshape(out.nhwc, ctx.ir_shape({n, win.out_w, m}), name);
  ctx.set_output(0, std::move(out));
}

void convert_BatchNormalization(Context& ctx) {
  Value& x = ctx.input(0);
  if (x.shape.size() < 2)
    ctx.fail(fmt::format("input of shape {}; expected rank >= 2", shape_str(x.shape)));
  if (ctx.opset < 9 && ctx.attr_int("spatial", 1) != 1) ctx.unsupported("spatial = 0");
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

}  // namespace tinyforge::onnx_import
