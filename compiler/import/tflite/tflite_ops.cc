// TFLite builtin operator -> ir::Node: the importer's op mapping, the inverse of
// export/tflite_ops_writer.cc (every builtin the writer writes is read here). Adding an op
// means one case in map_operator plus its map_* function here.
//
// Facts used (option fields and defaults, output-size arithmetic, optional inputs marked
// -1, effective opcode = max(deprecated_builtin_code, builtin_code)) are from
// tensorflow/lite/schema/schema.fbs and TFLite's padding rules (kernels/padding.h):
//   SAME:  out = ceil(in / stride)
//   VALID: out = ceil((in - effective_filter + 1) / stride),
//          effective_filter = (filter - 1) * dilation + 1.
#include <algorithm>
#include <climits>
#include <cmath>

#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"

namespace tinyforge::tflite_import {

std::string supported_builtins() {
  std::string list =
      "CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D, ADD, "
      "RESHAPE, SOFTMAX, QUANTIZE, DEQUANTIZE";
  for (uint16_t i = 0; i < kNumOps; ++i)
    for (const ops::TfliteRead& r : ops::host_op(static_cast<OpCode>(i)).tflite_reads)
      list += std::string(", ") + r.name;
  return list;
}

std::string builtin_name(int32_t code) {
  const char* name = tfl::EnumNameBuiltinOperator(static_cast<tfl::BuiltinOperator>(code));
  return (name && *name) ? std::string(name) : fmt::format("BUILTIN_{}", code);
}

namespace {

// A float op given int8 weights (weight-only quantization): dequantize the constant once,
// real = scale * (q - zero_point), per channel along the quantization axis.
void dequantize_weights(OpMapper& m, ir::Tensor& w, const std::string& label) {
  if (!w.constant)
    m.fail(
        fmt::format("{} is int8 but not constant while the op is float32; expected float32 "
                    "weights or int8 constant (weight-only quantized) weights",
                    label));
  const int64_t n = w.elements();
  const size_t channels = w.quant.scale.size();
  int64_t inner = 1;  // elements per step along the quantization axis
  for (size_t d = static_cast<size_t>(w.quant.axis) + 1; d < w.shape.size(); ++d)
    inner *= w.shape[d];
  std::vector<uint8_t> data(static_cast<size_t>(n) * 4);
  for (int64_t i = 0; i < n; ++i) {
    const size_t c =
        channels == 1 ? 0 : static_cast<size_t>((i / inner) % static_cast<int64_t>(channels));
    const float v = w.quant.scale[c] * static_cast<float>(w.at<int8_t>(i) - w.quant.zero_point[c]);
    std::memcpy(data.data() + i * 4, &v, 4);
  }
  w.data = std::move(data);
  w.type = DType::f32;
  w.quant = ir::Quant{};
}

// The int8 kernels add the int32 bias to the accumulator of input x weight products, so
// they assume bias scale = input scale x weight scale (per channel) and bias zero point 0.
// A file whose bias scale differs would run with a silently shifted bias: refused, with
// TFLite's own tolerance (kernels/kernel_util.cc, GetQuantizedConvolutionMultipler:
// |input scale x weight scale - bias scale| / output scale <= 0.02). A bias without
// quantization parameters is taken to have the product scale.
void check_bias_scale(OpMapper& m, const ir::Tensor& in, const ir::Tensor& w,
                      const ir::Tensor& bias) {
  if (!bias.quant.present()) return;
  const size_t channels = static_cast<size_t>(bias.elements());
  const size_t n = bias.quant.scale.size();
  if (n != 1 && n != channels)
    m.fail(fmt::format("{} has {} scales; expected 1 or {}", m.in_label(2), n, channels));
  for (int32_t zp : bias.quant.zero_point)
    if (zp != 0) m.fail(fmt::format("{} has zero point {}; expected 0", m.in_label(2), zp));
  const double in_scale = in.quant.scale.at(0);
  const double out_scale = m.output().quant.scale.at(0);
  for (size_t c = 0; c < std::max(n, w.quant.scale.size()); ++c) {
    const double product = in_scale * w.quant.scale[w.quant.scale.size() == 1 ? 0 : c];
    const double bias_scale = bias.quant.scale[n == 1 ? 0 : c];
    if (std::abs(product - bias_scale) / out_scale > 0.02)
      m.fail(fmt::format("{} has scale {} for channel {}; expected input scale x weight scale "
                         "= {} (the int8 kernels assume it)",
                         m.in_label(2), bias_scale, c, product));
  }
}

// Weights of conv/depthwise/FC: filter and optional bias dtypes follow the input's.
void check_weights(OpMapper& m, const ir::Tensor& in, size_t channel_axis, int32_t channels) {
  ir::Tensor& w = m.input(1);
  if (in.type == DType::f32 && w.type == DType::i8) dequantize_weights(m, w, m.in_label(1));
  m.require_type(w, m.in_label(1), in.type);
  if (w.type == DType::i8) {
    const size_t n = w.quant.scale.size();
    if (n != 1 &&
        !(n == static_cast<size_t>(channels) && static_cast<size_t>(w.quant.axis) == channel_axis))
      m.fail(fmt::format("{} has {} scales along dimension {}; expected 1 or {} along dimension {}",
                         m.in_label(1), n, w.quant.axis, channels, channel_axis));
    for (int32_t zp : w.quant.zero_point)
      if (zp != 0)
        m.fail(fmt::format("{} has zero point {}; expected 0 (symmetric int8 weights)",
                           m.in_label(1), zp));
  }
  const int b = m.input_index(2, /*optional=*/true);
  if (b >= 0) {
    const ir::Tensor& bias = m.input(2);
    m.require_type(bias, m.in_label(2), in.type == DType::i8 ? DType::i32 : DType::f32);
    m.require_shape(bias, m.in_label(2), {channels});
    if (in.type == DType::i8) check_bias_scale(m, in, w, bias);
  }
}

// Conv2DOptions and DepthwiseConv2DOptions share these fields (schema.fbs); the depthwise
// depth_multiplier is redundant and derived from the shapes instead.
template <typename ConvOptions>
void read_conv_options(const OpMapper& m, const ConvOptions& o, ir::Attrs& a) {
  a.padding = m.padding(o.padding());
  a.stride_h = m.window(o.stride_h(), "stride_h");
  a.stride_w = m.window(o.stride_w(), "stride_w");
  a.dilation_h = m.window(o.dilation_h_factor(), "dilation_h_factor");
  a.dilation_w = m.window(o.dilation_w_factor(), "dilation_w_factor");
  a.activation = m.activation(o.fused_activation_function());
}

ir::Node map_conv(OpMapper& m) {
  m.require_arity(2, 3);
  const auto* o =
      m.options(m.op().builtin_options_as_Conv2DOptions(), tfl::BuiltinOptions::Conv2DOptions);
  if (!o) m.fail("Conv2DOptions missing; expected strides and padding");
  ir::Node n{OpCode::Conv2D, {}, {}, {}, {}};
  read_conv_options(m, *o, n.attrs);

  const ir::Tensor& in = m.input(0);
  m.require_rank(in, m.in_label(0), 4);
  const ir::Tensor& out = m.output();
  m.require_activation_types(in, out);
  {
    const ir::Tensor& w = m.input(1);
    m.require_rank(w, m.in_label(1), 4);
    const int32_t ic = in.shape[3], oc = w.shape[0], filter_ic = w.shape[3];
    if (ic % filter_ic != 0)
      m.fail(
          fmt::format("{} has {} input channels, not a multiple of the filter's {}; expected "
                      "a whole number of groups",
                      m.in_label(0), ic, filter_ic));
    const int32_t groups = ic / filter_ic;
    if (oc % groups != 0)
      m.fail(fmt::format("{} has {} output channels for {} groups; expected a multiple",
                         m.in_label(1), oc, groups));
    n.attrs.filter_h = w.shape[1];
    n.attrs.filter_w = w.shape[2];
  }
  const int32_t oc = m.input(1).shape[0];
  check_weights(m, in, 0, oc);
  const int32_t oh = m.out_extent(in.shape[1], n.attrs.filter_h, n.attrs.stride_h,
                                  n.attrs.dilation_h, n.attrs.padding, "height");
  const int32_t ow = m.out_extent(in.shape[2], n.attrs.filter_w, n.attrs.stride_w,
                                  n.attrs.dilation_w, n.attrs.padding, "width");
  m.require_shape(out, m.out_label(), {in.shape[0], oh, ow, oc});
  return n;
}

ir::Node map_depthwise(OpMapper& m) {
  m.require_arity(2, 3);
  const auto* o = m.options(m.op().builtin_options_as_DepthwiseConv2DOptions(),
                            tfl::BuiltinOptions::DepthwiseConv2DOptions);
  if (!o) m.fail("DepthwiseConv2DOptions missing; expected strides and padding");
  ir::Node n{OpCode::DepthwiseConv2D, {}, {}, {}, {}};
  read_conv_options(m, *o, n.attrs);

  const ir::Tensor& in = m.input(0);
  m.require_rank(in, m.in_label(0), 4);
  const ir::Tensor& out = m.output();
  m.require_activation_types(in, out);
  const ir::Tensor& w = m.input(1);
  m.require_rank(w, m.in_label(1), 4);
  if (w.shape[0] != 1)
    m.fail(fmt::format("{} has shape {}; expected [1,KH,KW,OC]", m.in_label(1),
                       shape_string(w.shape)));
  const int32_t ic = in.shape[3], oc = w.shape[3];
  // The options' depth_multiplier is redundant (schema.fbs): derive it from the shapes.
  if (oc % ic != 0)
    m.fail(fmt::format("{} has {} channels for {} input channels; expected a multiple",
                       m.in_label(1), oc, ic));
  n.attrs.depth_multiplier = oc / ic;
  n.attrs.filter_h = w.shape[1];
  n.attrs.filter_w = w.shape[2];
  check_weights(m, in, 3, oc);
  const int32_t oh = m.out_extent(in.shape[1], n.attrs.filter_h, n.attrs.stride_h,
                                  n.attrs.dilation_h, n.attrs.padding, "height");
  const int32_t ow = m.out_extent(in.shape[2], n.attrs.filter_w, n.attrs.stride_w,
                                  n.attrs.dilation_w, n.attrs.padding, "width");
  m.require_shape(out, m.out_label(), {in.shape[0], oh, ow, oc});
  return n;
}

ir::Node map_fully_connected(OpMapper& m) {
  m.require_arity(2, 3);
  const auto* o = m.options(m.op().builtin_options_as_FullyConnectedOptions(),
                            tfl::BuiltinOptions::FullyConnectedOptions);
  ir::Node n{OpCode::FullyConnected, {}, {}, {}, {}};
  bool keep_num_dims = false;
  if (o) {
    n.attrs.activation = m.activation(o->fused_activation_function());
    if (o->weights_format() != tfl::FullyConnectedOptionsWeightsFormat::DEFAULT)
      m.fail(fmt::format("weights_format {} is not supported; expected DEFAULT (0)",
                         static_cast<int>(o->weights_format())));
    keep_num_dims = o->keep_num_dims();
  }
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  m.require_activation_types(in, out);
  const ir::Tensor& w = m.input(1);
  m.require_rank(w, m.in_label(1), 2);
  const int32_t units = w.shape[0], depth = w.shape[1];
  if (in.shape.empty() || in.elements() % depth != 0)
    m.fail(fmt::format("{} has shape {}; expected a whole number of rows of {} elements",
                       m.in_label(0), shape_string(in.shape), depth));
  const int64_t rows = in.elements() / depth;
  check_weights(m, in, 0, units);
  if (keep_num_dims) {
    std::vector<int32_t> expected = in.shape;
    expected.back() = units;
    m.require_shape(out, m.out_label(), expected);
  } else if (out.shape.empty() || out.shape.back() != units || out.elements() != rows * units) {
    m.fail(fmt::format("{} has shape {}; expected {} rows of {} units ([{},{}])", m.out_label(),
                       shape_string(out.shape), rows, units, rows, units));
  }
  return n;
}

ir::Node map_pool(OpMapper& m, OpCode op) {
  m.require_arity(1, 1);
  const auto* o =
      m.options(m.op().builtin_options_as_Pool2DOptions(), tfl::BuiltinOptions::Pool2DOptions);
  if (!o) m.fail("Pool2DOptions missing; expected filter size, strides and padding");
  ir::Node n{op, {}, {}, {}, {}};
  n.attrs.padding = m.padding(o->padding());
  n.attrs.stride_h = m.window(o->stride_h(), "stride_h");
  n.attrs.stride_w = m.window(o->stride_w(), "stride_w");
  n.attrs.filter_h = m.window(o->filter_height(), "filter_height");
  n.attrs.filter_w = m.window(o->filter_width(), "filter_width");
  n.attrs.activation = m.activation(o->fused_activation_function());
  const ir::Tensor& in = m.input(0);
  m.require_rank(in, m.in_label(0), 4);
  const ir::Tensor& out = m.output();
  m.require_activation_types(in, out);
  m.require_same_quant(in, m.in_label(0), out, m.out_label());
  const int32_t oh =
      m.out_extent(in.shape[1], n.attrs.filter_h, n.attrs.stride_h, 1, n.attrs.padding, "height");
  const int32_t ow =
      m.out_extent(in.shape[2], n.attrs.filter_w, n.attrs.stride_w, 1, n.attrs.padding, "width");
  m.require_shape(out, m.out_label(), {in.shape[0], oh, ow, in.shape[3]});
  return n;
}

ir::Node map_add(OpMapper& m) {
  m.require_arity(2, 2);
  const auto* o =
      m.options(m.op().builtin_options_as_AddOptions(), tfl::BuiltinOptions::AddOptions);
  ir::Node n{OpCode::Add, {}, {}, {}, {}};
  if (o) n.attrs.activation = m.activation(o->fused_activation_function());
  require_binary_operands(m);
  return n;
}

// TFLite's RESHAPE takes its new shape from the constant shape operand (or, without one,
// the options' new_shape), -1 standing for the one dimension inferred; we take the output
// tensor's shape. The two must agree, or the model would run with another shape than
// TFLite gives it.
void check_new_shape(OpMapper& m, const ir::Tensor& out) {
  std::vector<int32_t> shape;
  std::string what;
  if (m.input_index(1, /*optional=*/true) >= 0 && m.input(1).constant) {
    const ir::Tensor& t = m.input(1);
    m.require_type(t, m.in_label(1), DType::i32);
    for (int64_t i = 0; i < t.elements(); ++i) shape.push_back(t.at<int32_t>(i));
    what = m.in_label(1);
  } else {
    const auto* o =
        m.options(m.op().builtin_options_as_ReshapeOptions(), tfl::BuiltinOptions::ReshapeOptions);
    if (!o || !o->new_shape()) return;  // nothing but the output tensor says the shape
    shape.assign(o->new_shape()->begin(), o->new_shape()->end());
    what = "ReshapeOptions new_shape";
  }
  bool agrees = shape.size() == out.shape.size();
  int inferred = 0;
  for (size_t i = 0; agrees && i < shape.size(); ++i) {
    if (shape[i] == -1) ++inferred;
    else agrees = shape[i] == out.shape[i];
  }
  if (!agrees || inferred > 1)
    m.fail(fmt::format("{} is {} but {} has shape {}; expected them to agree (-1 at most once)",
                       what, shape_string(shape), m.out_label(), shape_string(out.shape)));
}

ir::Node map_reshape(OpMapper& m) {
  m.require_arity(1, 2);
  m.input_index(1, /*optional=*/true);  // the new shape; the output tensor's shape rules
  ir::Node n{OpCode::Reshape, {}, {}, {}, {}};
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  m.require_type(out, m.out_label(), in.type);
  if (in.elements() != out.elements())
    m.fail(
        fmt::format("{} has shape {} ({} elements) but {} has shape {}; expected the same "
                    "number of elements",
                    m.in_label(0), shape_string(in.shape), in.elements(), m.out_label(),
                    shape_string(out.shape)));
  m.require_per_tensor(in, m.in_label(0));
  m.require_same_quant(in, m.in_label(0), out, m.out_label());
  check_new_shape(m, out);
  return n;
}

ir::Node map_softmax(OpMapper& m) {
  m.require_arity(1, 1);
  const auto* o =
      m.options(m.op().builtin_options_as_SoftmaxOptions(), tfl::BuiltinOptions::SoftmaxOptions);
  if (!o) m.fail("SoftmaxOptions missing; expected beta");
  ir::Node n{OpCode::Softmax, {}, {}, {}, {}};
  n.attrs.beta = o->beta();
  if (!std::isfinite(n.attrs.beta) || n.attrs.beta <= 0.0f)
    m.fail(fmt::format("beta is {}; expected a finite value > 0", n.attrs.beta));
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  m.require_activation_types(in, out);
  if (in.shape.empty()) m.fail(fmt::format("{} is a scalar; expected rank >= 1", m.in_label(0)));
  m.require_shape(out, m.out_label(), in.shape);
  // TFLite's int8 softmax writes probabilities with scale 1/256 and zero point -128.
  if (out.type == DType::i8 &&
      (out.quant.scale[0] != 1.0f / 256 || out.quant.zero_point[0] != -128))
    m.fail(fmt::format("{} has scale {} and zero point {}; expected 1/256 and -128", m.out_label(),
                       out.quant.scale[0], out.quant.zero_point[0]));
  return n;
}

ir::Node map_quantize(OpMapper& m) {
  m.require_arity(1, 1);
  ir::Node n{OpCode::Quantize, {}, {}, {}, {}};
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  if (in.type != DType::f32 && in.type != DType::i8)
    m.fail(fmt::format("{} is {}; expected float32 or int8", m.in_label(0), dtype_name(in.type)));
  m.require_type(out, m.out_label(), DType::i8);
  m.require_per_tensor(in, m.in_label(0));
  m.require_per_tensor(out, m.out_label());
  m.require_shape(out, m.out_label(), in.shape);
  return n;
}

ir::Node map_dequantize(OpMapper& m) {
  m.require_arity(1, 1);
  ir::Node n{OpCode::Dequantize, {}, {}, {}, {}};
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  m.require_type(in, m.in_label(0), DType::i8);
  m.require_type(out, m.out_label(), DType::f32);
  m.require_per_tensor(in, m.in_label(0));
  m.require_shape(out, m.out_label(), in.shape);
  return n;
}


}  // namespace

ir::Node map_operator(Reader& reader, int op_index) {
  const auto* ops = reader.subgraph().operators();
  const tfl::Operator& op = *ops->Get(static_cast<flatbuffers::uoffset_t>(op_index));
  const auto* codes = reader.model().operator_codes();
  const uint32_t num_codes = codes ? codes->size() : 0;
  if (op.opcode_index() >= num_codes)
    reader.fail(
        fmt::format("op {}: opcode_index {} is past the end of the model's {} operator "
                    "codes",
                    op_index, op.opcode_index(), num_codes));
  const tfl::OperatorCode& code = *codes->Get(op.opcode_index());
  // Old files only set the byte-sized deprecated field; newer ones set both (schema.fbs).
  const int32_t builtin = std::max(static_cast<int32_t>(code.deprecated_builtin_code()),
                                   static_cast<int32_t>(code.builtin_code()));
  const std::string name = builtin_name(builtin);
  if (!op.inputs() || !op.outputs())
    reader.fail(
        fmt::format("op {} ({}): inputs or outputs missing; expected both lists", op_index, name));
  if (static_cast<tfl::BuiltinOperator>(builtin) == tfl::BuiltinOperator::CUSTOM)
    reader.fail(fmt::format("op {} is custom op '{}'; expected a builtin op ({})", op_index,
                            code.custom_code() ? printable(code.custom_code()->str(), 60) : "",
                            supported_builtins()));

  OpMapper m(reader, op_index, op, name);
  ir::Node node;
  switch (static_cast<tfl::BuiltinOperator>(builtin)) {
    case tfl::BuiltinOperator::CONV_2D:
      node = map_conv(m);
      break;
    case tfl::BuiltinOperator::DEPTHWISE_CONV_2D:
      node = map_depthwise(m);
      break;
    case tfl::BuiltinOperator::FULLY_CONNECTED:
      node = map_fully_connected(m);
      break;
    case tfl::BuiltinOperator::AVERAGE_POOL_2D:
      node = map_pool(m, OpCode::AveragePool2D);
      break;
    case tfl::BuiltinOperator::MAX_POOL_2D:
      node = map_pool(m, OpCode::MaxPool2D);
      break;
    case tfl::BuiltinOperator::ADD:
      node = map_add(m);
      break;
    case tfl::BuiltinOperator::RESHAPE:
      node = map_reshape(m);
      break;
    case tfl::BuiltinOperator::SOFTMAX:
      node = map_softmax(m);
      break;
    case tfl::BuiltinOperator::QUANTIZE:
      node = map_quantize(m);
      break;
    case tfl::BuiltinOperator::DEQUANTIZE:
      node = map_dequantize(m);
      break;
    default: {
      const ops::TfliteRead* read = ops::find_tflite_read(builtin);
      if (!read)
        reader.fail(fmt::format("op {} is {}, which is not supported; expected one of: {}",
                                op_index, name, supported_builtins()));
      node = read->read(m);
    }
  }
  // A host op's read function that lists the inputs itself (constant operands held in its
  // params, e.g. MEAN's axis) keeps those.
  if (!node.inputs.empty()) {
    node.outputs.push_back(m.output_index());
    return node;
  }
  // Inputs the IR keeps: RESHAPE drops its shape operand, the rest keep all (bias -1 allowed).
  // Conv, depthwise and FC always get 3 inputs, -1 for an absent bias.
  size_t kept = m.num_inputs();
  // Reshape, Transpose and Pad hold their constant operands as attributes.
  if (node.op == OpCode::Reshape || node.op == OpCode::Transpose || node.op == OpCode::Pad)
    kept = 1;
  const bool has_bias = node.op == OpCode::Conv2D || node.op == OpCode::DepthwiseConv2D ||
                        node.op == OpCode::FullyConnected;
  if (has_bias) kept = 3;
  for (size_t i = 0; i < kept; ++i)
    node.inputs.push_back(m.input_index(i, /*optional=*/has_bias && i == 2));
  node.outputs.push_back(m.output_index());
  return node;
}

}  // namespace tinyforge::tflite_import
