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

#include "tflite_reader.h"

namespace tinyforge::tflite_import {

const char* supported_builtins() {
  return "CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D, ADD, "
         "RESHAPE, SOFTMAX, QUANTIZE, DEQUANTIZE, MUL, LOGISTIC, TANH, RELU, RELU6, "
         "RELU_N1_TO_1, RELU_0_TO_1, CONCATENATION, TRANSPOSE, PAD, PADV2";
}

std::string builtin_name(int32_t code) {
  const char* name = tfl::EnumNameBuiltinOperator(static_cast<tfl::BuiltinOperator>(code));
  return (name && *name) ? std::string(name) : fmt::format("BUILTIN_{}", code);
}

namespace {

// One operator being mapped: its inputs/outputs and checks that name it in messages.
class OpMapper {
 public:
  OpMapper(Reader& reader, int index, const tfl::Operator& op, std::string builtin)
      : reader_(reader), index_(index), op_(op), builtin_(std::move(builtin)) {}

  [[noreturn]] void fail(const std::string& what) const {
    reader_.fail(fmt::format("op {} ({}): {}", index_, builtin_, what));
  }

  const tfl::Operator& op() const { return op_; }
  size_t num_inputs() const { return op_.inputs() ? op_.inputs()->size() : 0; }

  // Checks counts: inputs in [min_in, max_in], exactly one output.
  void require_arity(size_t min_in, size_t max_in) const {
    const size_t n = num_inputs();
    if (n < min_in || n > max_in) {
      if (min_in == max_in) fail(fmt::format("has {} inputs; expected {}", n, min_in));
      fail(fmt::format("has {} inputs; expected {} to {}", n, min_in, max_in));
    }
    const size_t outs = op_.outputs() ? op_.outputs()->size() : 0;
    if (outs != 1) fail(fmt::format("has {} outputs; expected 1", outs));
  }

  // TFLite tensor index of input i; -1 only where `optional`.
  int input_index(size_t i, bool optional = false) const {
    const int t = i < num_inputs() ? op_.inputs()->Get(static_cast<flatbuffers::uoffset_t>(i)) : -1;
    if (t == -1 && optional) return -1;
    check_index(t, fmt::format("input {}", i));
    return t;
  }
  int output_index() const {
    const int t = op_.outputs()->Get(0);
    check_index(t, "output 0");
    return t;
  }
  ir::Tensor& input(size_t i) { return reader_.tensor(input_index(i)); }
  ir::Tensor& output() { return reader_.tensor(output_index()); }

  std::string in_label(size_t i) const {
    return fmt::format("input {} ({})", i, reader_.tensor_label(input_index(i)));
  }
  std::string out_label() const {
    return fmt::format("output ({})", reader_.tensor_label(output_index()));
  }

  void require_rank(const ir::Tensor& t, const std::string& label, size_t rank) const {
    if (t.shape.size() != rank)
      fail(fmt::format("{} has shape {}; expected rank {}", label, shape_string(t.shape), rank));
  }
  void require_type(const ir::Tensor& t, const std::string& label, DType type) const {
    if (t.type != type)
      fail(fmt::format("{} is {}; expected {}", label, dtype_name(t.type), dtype_name(type)));
  }
  void require_shape(const ir::Tensor& t, const std::string& label,
                     const std::vector<int32_t>& shape) const {
    if (t.shape != shape)
      fail(fmt::format("{} has shape {}; expected {}", label, shape_string(t.shape),
                       shape_string(shape)));
  }
  // int8 activations carry one scale and zero point.
  void require_per_tensor(const ir::Tensor& t, const std::string& label) const {
    if (t.type == DType::i8 && t.quant.scale.size() != 1)
      fail(fmt::format("{} has {} scales; expected per-tensor quantization (1 scale)", label,
                       t.quant.scale.size()));
  }
  // f32 in -> f32 out; i8 in -> i8 out, both per-tensor quantized.
  void require_activation_types(const ir::Tensor& in, const ir::Tensor& out) const {
    if (in.type != DType::f32 && in.type != DType::i8)
      fail(fmt::format("{} is {}; expected float32 or int8", in_label(0), dtype_name(in.type)));
    require_type(out, out_label(), in.type);
    require_per_tensor(in, in_label(0));
    require_per_tensor(out, out_label());
  }
  void require_same_quant(const ir::Tensor& a, const std::string& la, const ir::Tensor& b,
                          const std::string& lb) const {
    if (a.type != DType::i8) return;
    if (a.quant.scale != b.quant.scale || a.quant.zero_point != b.quant.zero_point)
      fail(
          fmt::format("{} (scale {}, zero point {}) and {} (scale {}, zero point {}) differ; "
                      "expected the same quantization",
                      la, a.quant.scale.at(0), a.quant.zero_point.at(0), lb, b.quant.scale.at(0),
                      b.quant.zero_point.at(0)));
  }

  // The op's typed options, or nullptr when absent; options of another op's type are an error.
  template <typename Options>
  const Options* options(const Options* typed, tfl::BuiltinOptions expected) const {
    const tfl::BuiltinOptions type = op_.builtin_options_type();
    if (type != tfl::BuiltinOptions::NONE && type != expected) {
      const char* got = tfl::EnumNameBuiltinOptions(type);
      fail(fmt::format("builtin_options are {}; expected {}",
                       (got && *got) ? got : fmt::format("type {}", static_cast<int>(type)).c_str(),
                       tfl::EnumNameBuiltinOptions(expected)));
    }
    return typed;
  }

  ir::Activation activation(tfl::ActivationFunctionType a) const {
    switch (a) {
      case tfl::ActivationFunctionType::NONE:
        return ir::Activation::none;
      case tfl::ActivationFunctionType::RELU:
        return ir::Activation::relu;
      case tfl::ActivationFunctionType::RELU_N1_TO_1:
        return ir::Activation::relu_n1_to_1;
      case tfl::ActivationFunctionType::RELU6:
        return ir::Activation::relu6;
      default:
        break;
    }
    fail(
        fmt::format("fused activation {} is not supported; expected NONE, RELU, "
                    "RELU_N1_TO_1 or RELU6",
                    static_cast<int>(a)));
  }
  ir::Padding padding(tfl::Padding p) const {
    if (p == tfl::Padding::SAME) return ir::Padding::same;
    if (p == tfl::Padding::VALID) return ir::Padding::valid;
    fail(fmt::format("padding {} is unknown; expected SAME (0) or VALID (1)", static_cast<int>(p)));
  }
  int window(int value, const char* what) const {
    if (value < 1 || value > kMaxWindow)
      fail(fmt::format("{} is {}; expected 1..{}", what, value, kMaxWindow));
    return value;
  }

  // Output extent of a windowed op along one axis (TFLite padding rules, see top).
  int32_t out_extent(int32_t in, int filter, int stride, int dilation, ir::Padding pad,
                     const char* axis) const {
    const int64_t effective = int64_t{filter - 1} * dilation + 1;
    if (pad == ir::Padding::same) return static_cast<int32_t>((int64_t{in} + stride - 1) / stride);
    if (effective > in)
      fail(
          fmt::format("{} window {} (filter {} dilation {}) is larger than the input's {}; "
                      "expected VALID padding to fit",
                      axis, effective, filter, dilation, in));
    return static_cast<int32_t>((int64_t{in} - effective + stride) / stride);
  }

 private:
  void check_index(int t, const std::string& what) const {
    if (t < 0 || t >= reader_.num_tensors())
      fail(fmt::format("{} is tensor {}; expected 0..{}", what, t, reader_.num_tensors() - 1));
  }

  Reader& reader_;
  int index_;
  const tfl::Operator& op_;
  std::string builtin_;
};

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
  }
}

ir::Node map_conv(OpMapper& m) {
  m.require_arity(2, 3);
  const auto* o =
      m.options(m.op().builtin_options_as_Conv2DOptions(), tfl::BuiltinOptions::Conv2DOptions);
  if (!o) m.fail("Conv2DOptions missing; expected strides and padding");
  ir::Node n{OpCode::Conv2D, {}, {}, {}, {}};
  n.attrs.padding = m.padding(o->padding());
  n.attrs.stride_h = m.window(o->stride_h(), "stride_h");
  n.attrs.stride_w = m.window(o->stride_w(), "stride_w");
  n.attrs.dilation_h = m.window(o->dilation_h_factor(), "dilation_h_factor");
  n.attrs.dilation_w = m.window(o->dilation_w_factor(), "dilation_w_factor");
  n.attrs.activation = m.activation(o->fused_activation_function());

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
  n.attrs.padding = m.padding(o->padding());
  n.attrs.stride_h = m.window(o->stride_h(), "stride_h");
  n.attrs.stride_w = m.window(o->stride_w(), "stride_w");
  n.attrs.dilation_h = m.window(o->dilation_h_factor(), "dilation_h_factor");
  n.attrs.dilation_w = m.window(o->dilation_w_factor(), "dilation_w_factor");
  n.attrs.activation = m.activation(o->fused_activation_function());

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

void require_broadcast(OpMapper& m, const ir::Tensor& a, const ir::Tensor& b,
                       const ir::Tensor& out);

ir::Node map_add(OpMapper& m) {
  m.require_arity(2, 2);
  const auto* o =
      m.options(m.op().builtin_options_as_AddOptions(), tfl::BuiltinOptions::AddOptions);
  ir::Node n{OpCode::Add, {}, {}, {}, {}};
  if (o) n.attrs.activation = m.activation(o->fused_activation_function());
  const ir::Tensor& a = m.input(0);
  const ir::Tensor& b = m.input(1);
  const ir::Tensor& out = m.output();
  m.require_activation_types(a, out);
  m.require_type(b, m.in_label(1), a.type);
  m.require_per_tensor(b, m.in_label(1));
  require_broadcast(m, a, b, out);
  return n;
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


// Elementwise binary with numpy broadcasting (ADD, MUL): trailing dims equal or 1.
void require_broadcast(OpMapper& m, const ir::Tensor& a, const ir::Tensor& b,
                       const ir::Tensor& out) {
  const size_t rank = std::max(a.shape.size(), b.shape.size());
  std::vector<int32_t> expected(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int32_t da = i < rank - a.shape.size() ? 1 : a.shape[i - (rank - a.shape.size())];
    const int32_t db = i < rank - b.shape.size() ? 1 : b.shape[i - (rank - b.shape.size())];
    if (da != db && da != 1 && db != 1)
      m.fail(fmt::format("input shapes {} and {} do not broadcast; expected equal dims or 1",
                         shape_string(a.shape), shape_string(b.shape)));
    expected[i] = std::max(da, db);
  }
  m.require_shape(out, m.out_label(), expected);
}

ir::Node map_mul(OpMapper& m) {
  m.require_arity(2, 2);
  const auto* o =
      m.options(m.op().builtin_options_as_MulOptions(), tfl::BuiltinOptions::MulOptions);
  ir::Node n{OpCode::Mul, {}, {}, {}, {}};
  if (o) n.attrs.activation = m.activation(o->fused_activation_function());
  const ir::Tensor& a = m.input(0);
  const ir::Tensor& b = m.input(1);
  const ir::Tensor& out = m.output();
  m.require_activation_types(a, out);
  m.require_type(b, m.in_label(1), a.type);
  m.require_per_tensor(b, m.in_label(1));
  require_broadcast(m, a, b, out);
  return n;
}

// LOGISTIC, TANH: same shape in and out; the int8 output scale is checked by lowering.
ir::Node map_unary(OpMapper& m, OpCode op) {
  m.require_arity(1, 1);
  ir::Node n{op, {}, {}, {}, {}};
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  m.require_activation_types(in, out);
  m.require_shape(out, m.out_label(), in.shape);
  return n;
}

// RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1: a clamp to fixed real bounds.
ir::Node map_relu(OpMapper& m, float lo, float hi) {
  ir::Node n = map_unary(m, OpCode::Clamp);
  n.attrs.clamp_min = lo;
  n.attrs.clamp_max = hi;
  return n;
}

ir::Node map_concatenation(OpMapper& m) {
  m.require_arity(1, kMaxOpInputs);
  const auto* o = m.options(m.op().builtin_options_as_ConcatenationOptions(),
                            tfl::BuiltinOptions::ConcatenationOptions);
  if (!o) m.fail("ConcatenationOptions missing; expected an axis");
  if (o->fused_activation_function() != tfl::ActivationFunctionType::NONE)
    m.fail("fused activation on CONCATENATION is not supported; expected NONE");
  ir::Node n{OpCode::Concatenation, {}, {}, {}, {}};
  const ir::Tensor& out = m.output();
  const int rank = static_cast<int>(out.shape.size());
  const int axis = o->axis() < 0 ? o->axis() + rank : o->axis();
  if (axis < 0 || axis >= rank)
    m.fail(fmt::format("axis {} is out of range for {} of rank {}", o->axis(), m.out_label(), rank));
  n.attrs.axis = axis;
  int64_t total = 0;
  for (size_t i = 0; i < m.num_inputs(); ++i) {
    const ir::Tensor& in = m.input(i);
    m.require_activation_types(in, out);
    m.require_same_quant(in, m.in_label(i), out, m.out_label());
    std::vector<int32_t> expected = out.shape;
    if (in.shape.size() == out.shape.size()) expected[axis] = in.shape[axis];
    m.require_shape(in, m.in_label(i), expected);
    total += in.shape[axis];
  }
  if (total != out.shape[axis])
    m.fail(fmt::format("{} has {} along axis {}; expected the inputs' sum {}", m.out_label(),
                       out.shape[axis], axis, total));
  return n;
}

// The int32 values of a constant operand (perm, paddings) of the expected element count.
std::vector<int32_t> constant_ints(OpMapper& m, size_t i, int64_t count) {
  const ir::Tensor& t = m.input(i);
  if (!t.constant) m.fail(fmt::format("{} is not constant; expected constant data", m.in_label(i)));
  m.require_type(t, m.in_label(i), DType::i32);
  if (t.elements() != count)
    m.fail(fmt::format("{} has {} elements; expected {}", m.in_label(i), t.elements(), count));
  std::vector<int32_t> v(static_cast<size_t>(count));
  for (int64_t k = 0; k < count; ++k) v[static_cast<size_t>(k)] = t.at<int32_t>(k);
  return v;
}

ir::Node map_transpose(OpMapper& m) {
  m.require_arity(2, 2);
  ir::Node n{OpCode::Transpose, {}, {}, {}, {}};
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  m.require_activation_types(in, out);
  m.require_same_quant(in, m.in_label(0), out, m.out_label());
  const size_t rank = in.shape.size();
  n.attrs.perm = constant_ints(m, 1, static_cast<int64_t>(rank));
  std::vector<int32_t> expected(rank);
  std::vector<char> seen(rank, 0);
  for (size_t d = 0; d < rank; ++d) {
    const int32_t p = n.attrs.perm[d];
    if (p < 0 || static_cast<size_t>(p) >= rank || seen[static_cast<size_t>(p)]++)
      m.fail(fmt::format("perm {} is not a permutation of 0..{}", shape_string(n.attrs.perm),
                         rank - 1));
    expected[d] = in.shape[static_cast<size_t>(p)];
  }
  m.require_shape(out, m.out_label(), expected);
  return n;
}

// PAD (border 0, the zero point for int8) and PADV2 (border from a one-element tensor).
ir::Node map_pad(OpMapper& m, bool v2) {
  m.require_arity(2, v2 ? 3 : 2);
  ir::Node n{OpCode::Pad, {}, {}, {}, {}};
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  m.require_activation_types(in, out);
  m.require_same_quant(in, m.in_label(0), out, m.out_label());
  const size_t rank = in.shape.size();
  const std::vector<int32_t> pairs = constant_ints(m, 1, 2 * static_cast<int64_t>(rank));
  std::vector<int32_t> expected(rank);
  n.attrs.pads.resize(2 * rank);
  for (size_t d = 0; d < rank; ++d) {
    const int32_t before = pairs[2 * d], after = pairs[2 * d + 1];
    if (before < 0 || after < 0 || before > kMaxWindow || after > kMaxWindow)
      m.fail(fmt::format("paddings of dimension {} are ({}, {}); expected 0..{}", d, before, after,
                         kMaxWindow));
    n.attrs.pads[d] = before;
    n.attrs.pads[rank + d] = after;
    const int64_t padded = int64_t{in.shape[d]} + before + after;
    if (padded > INT32_MAX) m.fail(fmt::format("padded dimension {} is {}; too large", d, padded));
    expected[d] = static_cast<int32_t>(padded);
  }
  m.require_shape(out, m.out_label(), expected);
  if (m.input_index(2, /*optional=*/true) >= 0) {
    const ir::Tensor& value = m.input(2);
    if (!value.constant || value.elements() != 1)
      m.fail(fmt::format("{} has {} elements{}; expected one constant value", m.in_label(2),
                         value.elements(), value.constant ? "" : " and is not constant"));
    m.require_type(value, m.in_label(2), in.type);
    if (in.type == DType::i8) {
      // The border is stored in the input's quantization; real = s * (q - zp).
      n.attrs.pad_value = in.quant.scale[0] * static_cast<float>(value.at<int8_t>(0) -
                                                                 in.quant.zero_point[0]);
    } else {
      n.attrs.pad_value = value.at<float>(0);
    }
  }
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
    case tfl::BuiltinOperator::MUL:
      node = map_mul(m);
      break;
    case tfl::BuiltinOperator::LOGISTIC:
      node = map_unary(m, OpCode::Logistic);
      break;
    case tfl::BuiltinOperator::TANH:
      node = map_unary(m, OpCode::Tanh);
      break;
    case tfl::BuiltinOperator::RELU:
      node = map_relu(m, 0.0f, HUGE_VALF);
      break;
    case tfl::BuiltinOperator::RELU6:
      node = map_relu(m, 0.0f, 6.0f);
      break;
    case tfl::BuiltinOperator::RELU_N1_TO_1:
      node = map_relu(m, -1.0f, 1.0f);
      break;
    case tfl::BuiltinOperator::RELU_0_TO_1:
      node = map_relu(m, 0.0f, 1.0f);
      break;
    case tfl::BuiltinOperator::CONCATENATION:
      node = map_concatenation(m);
      break;
    case tfl::BuiltinOperator::TRANSPOSE:
      node = map_transpose(m);
      break;
    case tfl::BuiltinOperator::PAD:
      node = map_pad(m, /*v2=*/false);
      break;
    case tfl::BuiltinOperator::PADV2:
      node = map_pad(m, /*v2=*/true);
      break;
    default:
      reader.fail(fmt::format("op {} is {}, which is not supported; expected one of: {}", op_index,
                              name, supported_builtins()));
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
