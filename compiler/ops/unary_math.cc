// UnaryMath: everything the compiler knows about it, in one file.
//
// Semantics: one elementwise function (UnaryFunction): TFLite EXP (47), LOG (73), SQRT (75),
// RSQRT (76), ABS (101), NEG (59), ELU (111); ONNX Exp, Log, Sqrt, Reciprocal, Abs, Elu,
// Selu, Softplus. float: the function (runtime/kernels/reference/unary_math.cc).
// int8: the kernel reads a 256-entry table built here, one output per input byte, with the
// arithmetic TFLite's int8 kernel uses for the op:
//  - EXP, LOG, ELU (and NEG, Reciprocal, Softplus, Selu, which TFLite has no int8 kernel
//    for): TFLite's lookup table from float, LUTPopulate (kernels/internal/common.h; the
//    same loop as tflite-micro's elu.cc PopulateLookupTable): x = s_in * (q - zp_in) in
//    float, y = f(x) in float, out = round(y * (1 / s_out)) + zp_out clamped (LOG of x <= 0
//    gives the output's lowest real value, as TFLite's LogLUTPrepare; exp.cc, elementwise.cc
//    LOG and activations.cc ELU build theirs this way);
//  - SQRT: TFLite's SqrtEvalQuantized (kernels/elementwise.cc): truncation, not rounding,
//    out = int(sqrt(x) / s_out) + zp_out;
//  - ABS: TFLite's AbsEvalQuantized: |q - zp_in| + zp_out, through
//    MultiplyByQuantizedMultiplier(QuantizeMultiplier(s_in / s_out)) when the scales differ;
//  - RSQRT: TFLite's RsqrtEvalQuantizedInt8: v = q - zp_in; v == 0 gives 127; else
//    GetInvSqrtQuantizedMultiplierExp(v) (kernels/internal/common.h: five Newton-Raphson
//    steps in Q3.28) applied to 1 with 20 extra bits, then the output multiplier
//    QuantizeMultiplier(1 / (sqrt(s_in) * s_out)) with 20 bits less.
// Where TFLite stops with an error (SQRT / RSQRT of an input below the zero point) the table
// holds the value of 0 instead. Invariants, checked at import and lowering: ABS's rescale
// exponent in -31..23, RSQRT's output exponent - 20 in -31..0 (the shifts stay in int32).
// int16 (TFLite's 16x8 scheme; zero points 0, checked at import and lowering), where TFLite
// has an int16 kernel (TFLite Micro has only ABS's):
//  - EXP, LOG, RSQRT: TFLite's int16 lookup table (exp.cc Prepare; elementwise.cc
//    LogLUTPrepare and the RSQRT branch of GenericPrepare): LUTPopulate<int16_t> of exp, of
//    log (x <= 0 gives -32768 * s_out) and of 1 / sqrt(x) (x <= 0 gives 32767 * s_out),
//    made here as a constant input the kernel interpolates (LUTLookup);
//  - ABS: AbsEvalQuantized<int16_t>: |x|, through MultiplyByQuantizedMultiplier
//    (QuantizeMultiplier(s_in / s_out)) when the scales differ; its exponent must be in
//    -31..15 (|x| <= 2^15 shifted stays in int32);
//  - SQRT: SqrtEvalQuantized<int16_t>: the kernel computes int(sqrt(s_in * x) / s_out).
// NEG and ELU have no int16 kernel in TFLite or TFLite Micro (neg.cc: float32, int32, int64;
// activations.cc EluEval and micro elu.cc: float32 and int8), nor has any of ONNX's
// functions: refused by name. 16x8 nodes are not exported.
// Quantized from its calibrated output range; channels pass through for pruning.
#include "ops/unary_math.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "export/tflite_builder.h"
#include "import/onnx/onnx_convert.h"
#include "import/tflite/op_mapper.h"
#include "kernels/reference/fixed_point.h"
#include "kernels/reference/unary_functions.h"
#include "ops/conv.h"
#include "ops/host_op.h"
#include "ops/mul.h"
#include "plan/lower_checks.h"
#include "plan/lut_int16.h"
#include "plan/quant_math.h"

namespace tinyforge {

namespace ops {

const char* unary_function_name(UnaryFunction f) {
  switch (f) {
    case UnaryFunction::exp:
      return "exp";
    case UnaryFunction::log:
      return "log";
    case UnaryFunction::sqrt:
      return "sqrt";
    case UnaryFunction::rsqrt:
      return "rsqrt";
    case UnaryFunction::abs:
      return "abs";
    case UnaryFunction::neg:
      return "neg";
    case UnaryFunction::elu:
      return "elu";
    case UnaryFunction::reciprocal:
      return "reciprocal";
    case UnaryFunction::softplus:
      return "softplus";
  }
  return "?";
}

}  // namespace ops

namespace {

using tflite_import::OpMapper;
using Table = std::array<int8_t, 256>;

struct Quant {
  float scale;
  int32_t zero_point;
};

// The table, or why the int8 arithmetic cannot run these quantizations.
struct Int8Table {
  Table table{};
  std::string problem;
};

int8_t saturate(int32_t v) { return static_cast<int8_t>(std::clamp(v, -128, 127)); }

// The function in float as TFLite's lookup tables evaluate it: LOG of x <= 0 is the
// output's lowest real value (LogLUTPrepare), ELU is exp(x) - 1 (activations.cc EluPrepare).
float lut_function(const ops::UnaryMathAttrs& a, float x, float output_min) {
  if (a.function == UnaryFunction::log && x <= 0.0f) return output_min;
  if (a.function == UnaryFunction::elu)
    return a.gamma * (x < 0.0f ? a.alpha * (std::exp(x) - 1.0f) : x);
  return unary::apply(a.function, x, a.alpha, a.gamma);
}

// TFLite's LUTPopulate: dequantize, the function in float, round(y * (1 / s_out)) + zp_out.
Table table_from_float(const ops::UnaryMathAttrs& a, Quant in, Quant out) {
  Table t{};
  const float inverse_scale = 1.0f / out.scale;
  const float output_min = static_cast<float>(-128 - out.zero_point) * out.scale;
  for (int32_t q = -128; q <= 127; ++q) {
    const float x = in.scale * static_cast<float>(q - in.zero_point);
    const float rescaled = std::round(lut_function(a, x, output_min) * inverse_scale);
    const float y = rescaled + static_cast<float>(out.zero_point);
    t[static_cast<uint8_t>(q)] = static_cast<int8_t>(std::clamp(y, -128.0f, 127.0f));
  }
  return t;
}

// TFLite's SqrtEvalQuantized: the quotient truncated toward zero (clamped first so the
// conversion to int stays defined; anything beyond +-1000 saturates the same way).
Table sqrt_table(Quant in, Quant out) {
  Table t{};
  for (int32_t q = -128; q <= 127; ++q) {
    const float x = std::max(0.0f, in.scale * static_cast<float>(q - in.zero_point));
    const float quotient = std::clamp(std::sqrt(x) / out.scale, -1000.0f, 1000.0f);
    t[static_cast<uint8_t>(q)] = saturate(static_cast<int32_t>(quotient) + out.zero_point);
  }
  return t;
}

Int8Table abs_table(Quant in, Quant out) {
  Int8Table r;
  const plan::QuantizedMultiplier m =
      plan::quantize_multiplier(static_cast<double>(in.scale / out.scale));
  if (in.scale != out.scale && (m.shift < -31 || m.shift > 23)) {
    r.problem = fmt::format("input scale {} / output scale {} has exponent {}; expected -31..23",
                            in.scale, out.scale, m.shift);
    return r;
  }
  for (int32_t q = -128; q <= 127; ++q) {
    const int32_t v = std::abs(q - in.zero_point);
    const int32_t scaled = in.scale == out.scale
                               ? v
                               : fixed::multiply_by_quantized_multiplier(v, m.multiplier, m.shift);
    r.table[static_cast<uint8_t>(q)] = saturate(scaled + out.zero_point);
  }
  return r;
}

// gemmlowp's fixed-point product: Q(a) * Q(b) has the sum of their integer bits.
int32_t mul(int32_t a, int32_t b) { return fixed::saturating_rounding_doubling_high_mul(a, b); }

// TFLite's GetInvSqrtQuantizedMultiplierExp with reverse_shift -1, for input >= 0:
// 1 / sqrt(input) = multiplier * 2^(shift - 31).
plan::QuantizedMultiplier inverse_sqrt(int32_t input) {
  if (input <= 1) return {INT32_MAX, 0};
  int output_shift = 11;
  while (input >= (1 << 29)) {
    input /= 4;
    ++output_shift;
  }
  const int left_shift_bit_pairs =
      (fixed::count_leading_zeros(static_cast<uint32_t>(input)) - 1) / 2 - 1;
  output_shift -= left_shift_bit_pairs;
  input <<= 2 * left_shift_bit_pairs;
  // Newton-Raphson x <- 3/2 x - input/2 x^3 from x = 1, in Q3.28 (3 integer bits).
  const int32_t half_input = fixed::rounding_divide_by_pot(input >> 1, 1);
  constexpr int32_t kThreeHalves = (1 << 28) + (1 << 27);
  int32_t x = 1 << 28;
  for (int i = 0; i < 5; ++i) {
    const int32_t x3 = fixed::rescale(mul(mul(x, x), x), 9, 3);
    x = fixed::rescale(fixed::wrapping_sub(mul(kThreeHalves, x), mul(half_input, x3)), 6, 3);
  }
  constexpr int32_t kHalfSqrt2 = 1518500250;  // sqrt(2) / 2 in Q0.31
  int32_t multiplier = mul(x, kHalfSqrt2);
  if (output_shift < 0) {
    multiplier = static_cast<int32_t>(static_cast<uint32_t>(multiplier) << -output_shift);
    output_shift = 0;
  }
  return {multiplier, -output_shift};
}

Int8Table rsqrt_table(Quant in, Quant out) {
  Int8Table r;
  constexpr int kExtraBits = 20;  // TFLite's kShift: keeps the intermediate an integer
  const double real = 1.0 / static_cast<double>(std::sqrt(in.scale) * out.scale);
  const plan::QuantizedMultiplier m = plan::quantize_multiplier(real);
  if (m.shift - kExtraBits < -31 || m.shift - kExtraBits > 0) {
    r.problem = fmt::format(
        "1 / (sqrt(input scale {}) * output scale {}) has exponent {}; expected -11..20", in.scale,
        out.scale, m.shift);
    return r;
  }
  for (int32_t q = -128; q <= 127; ++q) {
    const int32_t v = q - in.zero_point;
    int32_t y = 127;
    if (v > 0) {
      const plan::QuantizedMultiplier inv = inverse_sqrt(v);
      const int32_t data =
          fixed::multiply_by_quantized_multiplier(1, inv.multiplier, inv.shift + kExtraBits);
      y = fixed::multiply_by_quantized_multiplier(data, m.multiplier, m.shift - kExtraBits) +
          out.zero_point;
    }
    r.table[static_cast<uint8_t>(q)] = saturate(y);
  }
  return r;
}

// Why TFLite's int16 arithmetic cannot run the function at these quantizations (empty when
// it can): no int16 kernel, or ABS's rescale exponent outside -31..15.
std::string int16_problem(UnaryFunction f, Quant in, Quant out) {
  switch (f) {
    case UnaryFunction::exp:
    case UnaryFunction::log:
    case UnaryFunction::rsqrt:
    case UnaryFunction::sqrt:
      return {};
    case UnaryFunction::abs: {
      const plan::QuantizedMultiplier m =
          plan::quantize_multiplier(static_cast<double>(in.scale / out.scale));
      if (in.scale != out.scale && (m.shift < -31 || m.shift > 15))
        return fmt::format(
            "int16 input scale {} / output scale {} has exponent {}; expected -31..15", in.scale,
            out.scale, m.shift);
      return {};
    }
    default:  // NEG, ELU (the importer names them first) and ONNX's functions
      return fmt::format("TFLite and TFLite Micro have no int16 kernel for {}",
                         ops::unary_function_name(f));
  }
}

// The function TFLite's Prepare tabulates for the int16 EXP, LOG and RSQRT, in float.
std::function<float(float)> int16_table_function(UnaryFunction f, float output_scale) {
  switch (f) {
    case UnaryFunction::log: {
      const float output_min = -32768.0f * output_scale;  // LogLUTPrepare, zero point 0
      return [output_min](float x) { return x <= 0.0f ? output_min : std::log(x); };
    }
    case UnaryFunction::rsqrt: {
      const float output_max = 32767.0f * output_scale;  // int16 max * s_out
      return [output_max](float x) { return x <= 0.0f ? output_max : 1.0f / std::sqrt(x); };
    }
    default:
      return [](float x) { return std::exp(x); };
  }
}

Int8Table int8_table(const ops::UnaryMathAttrs& a, Quant in, Quant out) {
  switch (a.function) {
    case UnaryFunction::abs:
      return abs_table(in, out);
    case UnaryFunction::rsqrt:
      return rsqrt_table(in, out);
    case UnaryFunction::sqrt:
      return {sqrt_table(in, out), {}};
    default:
      return {table_from_float(a, in, out), {}};
  }
}

Quant quant_of(const ir::Tensor& t) {
  return {t.quant.scale.at(0),
          t.quant.zero_point.empty() ? 0 : static_cast<int32_t>(t.quant.zero_point[0])};
}

template <UnaryFunction F>
ir::Node read_tflite(OpMapper& m) {
  m.require_arity(1, 1);
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  m.require_activation_types(in, out, /*int16=*/true);
  m.require_shape(out, m.out_label(), in.shape);
  const ops::UnaryMathAttrs attrs{F, 1.0f, 1.0f};
  if (in.type == DType::i16) m.require_int16_zero_points(in, out);
  if (in.type != DType::f32 && in.quant.scale.at(0) > 0 && out.quant.scale.at(0) > 0) {
    const std::string why = in.type == DType::i16
                                ? int16_problem(F, quant_of(in), quant_of(out))
                                : int8_table(attrs, quant_of(in), quant_of(out)).problem;
    if (!why.empty()) m.unsupported(why);
  }
  ir::Node n{OpCode::UnaryMath, {}, {}, {}, {}};
  n.params = attrs;
  return n;
}

// The TFLite builtin of a function, NONE for the ONNX-only ones.
tfl::BuiltinOperator builtin_of(UnaryFunction f) {
  using B = tfl::BuiltinOperator;
  switch (f) {
    case UnaryFunction::exp:
      return B::EXP;
    case UnaryFunction::log:
      return B::LOG;
    case UnaryFunction::sqrt:
      return B::SQRT;
    case UnaryFunction::rsqrt:
      return B::RSQRT;
    case UnaryFunction::abs:
      return B::ABS;
    case UnaryFunction::neg:
      return B::NEG;
    case UnaryFunction::elu:
      return B::ELU;
    default:
      return B::CUSTOM;
  }
}

void write_tflite(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  const ir::Node& n = b.graph().nodes[node];
  const auto& a = n.params.get<ops::UnaryMathAttrs>();
  refuse_int16x8(b, node);
  const tfl::BuiltinOperator builtin = builtin_of(a.function);
  if (builtin == tfl::BuiltinOperator::CUSTOM || a.alpha != 1.0f || a.gamma != 1.0f)
    refuse(b, node,
           fmt::format("{} (alpha {}, gamma {}) has no TFLite builtin",
                       ops::unary_function_name(a.function), a.alpha, a.gamma));
  b.add_operator(builtin, is_int8(b, node) ? 2 : 1, io_of(b, n.inputs), io_of(b, n.outputs));
}

}  // namespace

namespace plan {

namespace {

// The int16 form: ABS's multiplier, SQRT's scales, or the table of EXP, LOG and RSQRT as a
// second input.
LoweredOp lower_int16(ir::Graph& g, size_t node, UnaryMathParams& p) {
  using namespace lowering;
  const int in = g.nodes[node].inputs[0], out = g.nodes[node].outputs[0];
  const auto f = static_cast<UnaryFunction>(p.function);
  const Q qi = per_tensor(g, node, in, "input"), qo = per_tensor(g, node, out, "output");
  if (qi.zero_point != 0 || qo.zero_point != 0)
    refuse(g, node, "int16 input or output has a zero point; expected 0 (TFLite's 16x8)");
  const std::string why = int16_problem(f, {qi.scale, 0}, {qo.scale, 0});
  if (!why.empty()) refuse(g, node, why);
  if (f == UnaryFunction::abs) {
    if (qi.scale != qo.scale) {  // else multiplier 0: TFLite's needs_rescale false
      const QuantizedMultiplier m = quantize_multiplier(static_cast<double>(qi.scale / qo.scale));
      p.multiplier = m.multiplier;
      p.shift = m.shift;
    }
    return lowered(p, {in});
  }
  if (f == UnaryFunction::sqrt) {
    p.input_scale = qi.scale;
    p.output_scale = qo.scale;
    return lowered(p, {in});
  }
  const std::vector<int16_t> lut =
      lut_int16(int16_table_function(f, qo.scale), qi.scale, 0, qo.scale);
  const int table = add_lut_int16(
      g, fmt::format("{}/{}_table", g.tensors[out].name, ops::unary_function_name(f)), lut);
  return lowered(p, {in, table});
}

}  // namespace

LoweredOp lower_UnaryMath(ir::Graph& g, size_t node) {
  using namespace lowering;
  const ir::Node& n = checked(g, node, 1, 1, 1, /*int16=*/true);
  if (!same_elements(g, n)) refuse(g, node, "input and output sizes differ");
  const auto& a = n.params.get<ops::UnaryMathAttrs>();
  UnaryMathParams p{};
  p.function = static_cast<int32_t>(a.function);
  p.f_alpha = a.alpha;
  p.f_gamma = a.gamma;
  if (g.tensors[n.outputs[0]].type == DType::i16) return lower_int16(g, node, p);
  if (g.tensors[n.outputs[0]].type == DType::i8) {
    const Q qi = per_tensor(g, node, n.inputs[0], "input"),
            qo = per_tensor(g, node, n.outputs[0], "output");
    const Int8Table t = int8_table(a, {qi.scale, qi.zero_point}, {qo.scale, qo.zero_point});
    if (!t.problem.empty()) refuse(g, node, t.problem);
    std::memcpy(p.table, t.table.data(), sizeof p.table);
  }
  return lowered(p, {n.inputs[0]});
}

}  // namespace plan

// ONNX import: the ONNX op types that become this op.
namespace onnx_import {
namespace {

void convert(Context& ctx, const ops::UnaryMathAttrs& a) {
  Value& x = ctx.input(0);
  if (fold_unary(ctx, x, [a](float v) { return unary::apply(a.function, v, a.alpha, a.gamma); }))
    return;
  ctx.set_output(0, unary(ctx, OpCode::UnaryMath, x, a, ctx.node->output(0)));
}

template <UnaryFunction F>
void convert_plain(Context& ctx) {
  convert(ctx, {F, 1.0f, 1.0f});
}

float finite_attr(Context& ctx, const char* name, float fallback) {
  const float v = ctx.attr_float(name, fallback);
  if (!std::isfinite(v)) ctx.fail(fmt::format("{} is {}; expected a finite value", name, v));
  return v;
}

void convert_Elu(Context& ctx) {
  convert(ctx, {UnaryFunction::elu, finite_attr(ctx, "alpha", 1.0f), 1.0f});
}

// ONNX Selu's defaults (the operator's documented attribute values).
void convert_Selu(Context& ctx) {
  convert(ctx, {UnaryFunction::elu, finite_attr(ctx, "alpha", 1.67326319217681884765625f),
                finite_attr(ctx, "gamma", 1.05070102214813232421875f)});
}

// LRN (ONNX spec): y = x / (bias + alpha / size * S)^beta, S the sum of x^2 over channels
// [c - floor((size - 1) / 2), c + ceil((size - 1) / 2)] within [0, C). Composed of existing
// ops: the square (Mul), bias + alpha / size * S (a 1x1 Conv2D with a band of alpha / size
// weights and the bias), the power as exp(-beta * log(.)) (UnaryMath), the product (Mul).
void convert_LRN(Context& ctx) {
  constexpr int64_t kMaxChannels = 1024;  // the band filter holds C * C weights
  Value& x = ctx.input(0);
  if (x.shape.size() != 4)
    ctx.unsupported(fmt::format("input of shape {}; expected [N,C,H,W]", shape_str(x.shape)));
  const int64_t channels = x.shape[1];
  if (channels > kMaxChannels)
    ctx.unsupported(fmt::format("{} channels; expected at most {}", channels, kMaxChannels));
  const int64_t size = ctx.attr_int("size", 0);
  if (size < 1) ctx.fail(fmt::format("size is {}; expected at least 1", size));
  const float alpha = finite_attr(ctx, "alpha", 1e-4f), beta = finite_attr(ctx, "beta", 0.75f);
  const float bias = finite_attr(ctx, "bias", 1.0f);
  const std::string name = ctx.node->output(0);
  std::vector<float> band(static_cast<size_t>(channels * channels), 0.0f);
  for (int64_t o = 0; o < channels; ++o)
    for (int64_t i = std::max<int64_t>(0, o - (size - 1) / 2);
         i <= std::min(channels - 1, o + size / 2); ++i)
      band[static_cast<size_t>(o * channels + i)] = alpha / static_cast<float>(size);
  const int in = ctx.as_nhwc(x, name + "/nhwc");
  const std::vector<int32_t> shape = ctx.shape_of(in);
  const int square = ctx.emit(OpCode::Mul, {in, in}, shape, ops::MulAttrs{}, name + "/square");
  const int filter =
      ctx.ir_constant(name + "/band", ctx.ir_shape({channels, 1, 1, channels}), band);
  const int bias_t = ctx.ir_constant(name + "/bias", ctx.ir_shape({channels}),
                                     std::vector<float>(static_cast<size_t>(channels), bias));
  Value base;
  base.shape = x.shape;
  base.nhwc =
      ctx.emit(OpCode::Conv2D, {square, filter, bias_t}, shape, ops::ConvAttrs{}, name + "/base");
  Value log =
      unary(ctx, OpCode::UnaryMath, base, ops::UnaryMathAttrs{UnaryFunction::log}, name + "/log");
  Value minus_beta = ctx.scalar_value(-beta);
  Value scaled = binary(ctx, OpCode::Mul, log, minus_beta, name + "/scaled", ops::MulAttrs{});
  Value power = unary(ctx, OpCode::UnaryMath, scaled, ops::UnaryMathAttrs{UnaryFunction::exp},
                      name + "/power");
  ctx.set_output(0, binary(ctx, OpCode::Mul, x, power, name, ops::MulAttrs{}));
}

}  // namespace
}  // namespace onnx_import

namespace ops {
namespace {

void describe(const ir::Node& n, nlohmann::json& out) {
  const auto& a = n.params.get<UnaryMathAttrs>();
  out["function"] = unary_function_name(a.function);
  if (a.function == UnaryFunction::elu) {
    out["alpha"] = a.alpha;
    out["gamma"] = a.gamma;
  }
}

}  // namespace

const HostOp& host_op_UnaryMath() {
  using B = tfl::BuiltinOperator;
  using F = UnaryFunction;
  using namespace onnx_import;
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::calibrated, 0.0f, 0, -1, false, ir::ChannelRule::elementwise},
      {{static_cast<int32_t>(B::EXP), "EXP", read_tflite<F::exp>},
       {static_cast<int32_t>(B::LOG), "LOG", read_tflite<F::log>},
       {static_cast<int32_t>(B::SQRT), "SQRT", read_tflite<F::sqrt>},
       {static_cast<int32_t>(B::RSQRT), "RSQRT", read_tflite<F::rsqrt>},
       {static_cast<int32_t>(B::ABS), "ABS", read_tflite<F::abs>},
       {static_cast<int32_t>(B::NEG), "NEG", read_tflite<F::neg>},
       {static_cast<int32_t>(B::ELU), "ELU", read_tflite<F::elu>}},
      {{"Exp", convert_plain<F::exp>, 6},
       {"Log", convert_plain<F::log>, 6},
       {"Sqrt", convert_plain<F::sqrt>, 6},
       {"Reciprocal", convert_plain<F::reciprocal>, 6},
       {"Abs", convert_plain<F::abs>, 6},
       {"Elu", convert_Elu, 6},
       {"Selu", convert_Selu, 6},
       {"Softplus", convert_plain<F::softplus>, 1},
       {"LRN", convert_LRN, 1}},
      write_tflite,
      /*fused_activation=*/nullptr,
      /*copies_input=*/nullptr,
      /*blocks_channels=*/nullptr,
      describe};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
