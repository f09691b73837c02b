// Parameter struct of every op: the same type the compiler fills, the plan blob stores
// (byte for byte, little-endian) and the kernel reads in place from flash. Only fixed-width
// fields, 4-byte aligned, so the layout is identical on x86-64 and Cortex-M.
//
// Quantized arithmetic follows the TFLite quantization specification
// (https://www.tensorflow.org/lite/performance/quantization_spec): "offset" fields hold
// what TFLite's reference kernels call input_offset (= -zero_point) and output_offset
// (= +zero_point); a "shift" is TFLite's signed exponent (positive = left shift).
// Fields for the other dtype are ignored (int8 kernels ignore f_*, float kernels ignore
// the integer fields).
#pragma once
#include <cstdint>
#include <type_traits>

namespace tinyforge {

// Inputs: 0 input [N,H,W,IC]; 1 filter [OC,KH,KW,IC/groups]; 2 bias [OC] (i32 for int8,
// f32 for float) or kNoTensor; int8 only: 3 multiplier [OC] i32; 4 shift [OC] i32.
// Output: [N,OH,OW,OC]. groups = IC / filter's last dim.
// The 16x8 twins (Conv2DInt16, DepthwiseConv2DInt16, FullyConnectedInt16) take the params
// of their op with int16 input and output (zero points 0, so both offsets 0; act_min and
// act_max an int16 range), int8 filter, and every input: bias [OC] i32 (TFLite's int64
// bias, whose values fit), multiplier and shift.
struct Conv2DParams {
  int16_t stride_h, stride_w;
  int16_t dilation_h, dilation_w;
  int16_t pad_top, pad_left;   // bottom/right padding follows from the output shape
  int32_t input_offset;        // -input zero point
  int32_t output_offset;       // +output zero point
  int32_t act_min, act_max;    // int8 clamp (fused activation folded in)
  float f_act_min, f_act_max;  // float clamp
};

// Inputs as Conv2D, filter [1,KH,KW,OC] with OC = IC * depth_multiplier.
struct DepthwiseConv2DParams {
  int16_t stride_h, stride_w;
  int16_t dilation_h, dilation_w;
  int16_t pad_top, pad_left;
  int32_t depth_multiplier;
  int32_t input_offset;
  int32_t output_offset;
  int32_t act_min, act_max;
  float f_act_min, f_act_max;
};

// Inputs: 0 input (any shape, rows of IN elements); 1 filter [OUT,IN]; 2 bias [OUT] or
// kNoTensor; int8 only: 3 multiplier [OUT] i32; 4 shift [OUT] i32 (per-tensor
// quantization is expanded to OUT equal entries by the compiler). Output [rows,OUT].
struct FullyConnectedParams {
  int32_t input_offset;
  int32_t output_offset;
  int32_t act_min, act_max;
  float f_act_min, f_act_max;
};

// AveragePool2D and MaxPool2D. Input [N,H,W,C] -> output [N,OH,OW,C], same quantization.
struct Pool2DParams {
  int16_t stride_h, stride_w;
  int16_t filter_h, filter_w;
  int16_t pad_top, pad_left;
  int32_t act_min, act_max;
  float f_act_min, f_act_max;
};

// Inputs 0 and 1 broadcast (numpy rules, up to rank 4) to the output shape.
// int8 follows TFLite's reference Add: both inputs are shifted left by left_shift, rescaled
// to a common scale, added, then rescaled to the output.
struct AddParams {
  int32_t left_shift;
  int32_t input1_offset, input1_multiplier, input1_shift;
  int32_t input2_offset, input2_multiplier, input2_shift;
  int32_t output_offset, output_multiplier, output_shift;
  int32_t act_min, act_max;
  float f_act_min, f_act_max;
};
// Sub and SquaredDifference (appended ops) use AddParams too; their int8 arithmetic is
// TFLite's reference Sub (as Add with the rescaled inputs subtracted, left_shift 20) and
// SquaredDifference (left_shift 7; the difference of the rescaled inputs squared, then
// rescaled to the output; act_min/act_max the int8 range, f_act_* unused). Every shift is
// <= 0 (multipliers below one, as TFLite's QuantizeMultiplierSmallerThanOneExp gives).

// Output has the input's bytes under a new shape. The planner usually aliases output and
// input (in-place), making the kernel a no-op.
struct ReshapeParams {
  uint32_t reserved;
};

// Softmax over the last dimension. int8 -> int8 (output scale 1/256, zero point -128)
// with TFLite's fixed-point exp: input_multiplier/input_left_shift/diff_min as TFLite's
// PreprocessSoftmaxScaling gives them for beta * input_scale. float: beta.
// int16 -> int16 (TFLite's 16x8 SoftmaxInt16; zero points 0, output scale 1/32768): inputs
// 1 and 2 are the exp table on [-10, 0] and the 1 / (1 + x) table on [0, 1], 513 int16 each,
// made by the compiler; input_multiplier/input_left_shift quantize beta * input_scale /
// (10 / 65535); diff_min unused.
struct SoftmaxParams {
  int32_t input_multiplier;
  int32_t input_left_shift;
  int32_t diff_min;
  float beta;
};

// float -> int8: out = clamp(round(in / scale) + zero_point).
// int8 -> int8 (requantize): out = clamp(MultiplyByQuantizedMultiplier(in - input_zero_point,
// multiplier, shift) + zero_point).
struct QuantizeParams {
  float scale;
  int32_t zero_point;
  int32_t input_zero_point;
  int32_t multiplier, shift;
};

// int8 -> float: out = scale * (in - zero_point).
struct DequantizeParams {
  float scale;
  int32_t zero_point;
};

// ---- ops added for the ONNX path (appended; see ops.def) ------------------------------

// Inputs 0 and 1 broadcast (numpy rules, up to rank 4) to the output shape.
// int8 (TFLite reference_integer_ops::Mul): out = clamp(MultiplyByQuantizedMultiplier(
// (in0 + input1_offset) * (in1 + input2_offset), output_multiplier, output_shift)
// + output_offset, act_min, act_max).
struct MulParams {
  int32_t input1_offset, input2_offset;
  int32_t output_offset, output_multiplier, output_shift;
  int32_t act_min, act_max;
  float f_act_min, f_act_max;
};

// Elementwise 1 / (1 + exp(-x)), same shape. The int8 fields are those of TFLite's
// reference_integer_ops::Logistic (output scale 1/256, zero point -128); float ignores them.
// int16 (TFLite's 16x8, output scale 1/32768, zero points 0): only input_multiplier and
// input_left_shift, rescaling x to units of 1 / (3 * 4096) (kernels/reference/sigmoid_family.h).
struct LogisticParams {
  int32_t input_zero_point, input_range_radius, input_multiplier, input_left_shift;
};

// Elementwise tanh, same shape. int8 fields as TFLite's reference_integer_ops::Tanh
// (output scale 1/128, zero point 0); float ignores them. int16 as LogisticParams' int16
// (output scale 1/32768, zero points 0; only input_multiplier and input_left_shift).
struct TanhParams {
  int32_t input_zero_point, input_range_radius, input_multiplier, input_left_shift;
};

// Elementwise clamp to [min, max] (ONNX Relu/Clip, TFLite RELU/RELU6/RELU_N1_TO_1 when not
// fused into the producer). float: min(max(x, f_min), f_max) (bounds may be infinite).
// int8 (TFLite quantized ReluX): out = clamp(MultiplyByQuantizedMultiplier(in + input_offset,
// output_multiplier, output_shift) + output_offset, act_min, act_max).
struct ClampParams {
  int32_t input_offset, output_offset;
  int32_t output_multiplier, output_shift;
  int32_t act_min, act_max;
  float f_min, f_max;
};

// Inputs (1..8, equal dims except `axis`) joined along `axis`. Any dtype; int8 inputs
// share the output's quantization (as TFLite requires), so bytes are copied.
struct ConcatenationParams {
  int32_t axis;
};

// Output dim i = input dim perm[i]; entries at and past the rank are the identity. Any dtype.
struct TransposeParams {
  int32_t perm[4];
};

// Constant padding: output dim i = before[i] + input dim i + after[i] (entries past the
// rank are 0). Border value f_value (float32) or q_value (int8, already quantized).
struct PadParams {
  int32_t before[4], after[4];
  float f_value;
  int32_t q_value;
};

// ---- Armv7E-M DSP twins (appended, see ops.def) -----------------------------------------
// Selected offline by the compiler for cores with the DSP extension (`--target cortex-m4`,
// m7, m33); compiled everywhere (portable C without the extension) and bit-exact with the
// reference kernels. Their constant operands are packed offline: layouts, the per-channel
// record and the scratch twins are in tinyforge/packed.h.

// How the int8 output stage rescales (chosen per op by the compiler, which knows every
// channel's multiplier and shift):
enum class RequantMode : int32_t {
  exact = 0,  // TFLite's MultiplyByQuantizedMultiplier, any multiplier and shift
  fast = 1,   // SMMULR form; the compiler proved it gives the same bytes (tinyforge/packed.h)
};

enum class ConvDspKernel : int32_t {
  pointwise = 1,  // 1x1 filter, stride 1, no padding: a GEMM over pixels (no im2col)
  im2col = 2,     // any geometry: patches gathered into the scratch buffer
};

// Inputs: 0 input [N,H,W,IC] i8; 1 filter words i32 [ceil(OC/2), 2*ceil(K/4)] with
// K = filter_h*filter_w*IC (packed.h); 2 channel records i32 [OC, 4]. Output [N,OH,OW,OC].
struct Conv2DDspParams {
  int16_t stride_h, stride_w;
  int16_t dilation_h, dilation_w;
  int16_t pad_top, pad_left;
  int16_t filter_h, filter_w;
  int32_t kernel;         // ConvDspKernel
  int32_t requant;        // RequantMode of the conv's own output stage
  int32_t input_offset;   // -input zero point, added to every input value
  int32_t output_offset;  // +output zero point (RequantMode::exact; fast folds it)
  int32_t act_min, act_max;
  int32_t run_groups;  // dual-channel run length, >= kDualChunkGroups (packed.h)
};

enum class DepthwiseDspKernel : int32_t {
  generic = 1,  // any filter size, stride, dilation
  k3x3 = 2,     // 3x3, dilation 1: unrolled taps
};

// Depth multiplier 1. Inputs: 0 input [N,H,W,C] i8; 1 filter pairs i32 [ceil(C/4),
// filter_h*filter_w*2] (packed.h); 2 channel records i32 [C, 4]. Output [N,OH,OW,C].
struct DepthwiseConv2DDspParams {
  int16_t stride_h, stride_w;
  int16_t dilation_h, dilation_w;
  int16_t pad_top, pad_left;
  int16_t filter_h, filter_w;
  int32_t kernel;  // DepthwiseDspKernel
  int32_t requant;
  int32_t input_offset, output_offset;
  int32_t act_min, act_max;
};

// Inputs: 0 input (rows of K elements) i8; 1 filter words i32 [ceil(UNITS/6), 6*ceil(K/4)]
// (packed.h); 2 channel records i32 [ceil(UNITS/6)*6, 4] whose bias already holds
// input_offset * sum(weights) (records past UNITS: padding, never stored). Output [rows, UNITS].
struct FullyConnectedDspParams {
  int32_t requant;
  int32_t output_offset;
  int32_t act_min, act_max;
  int32_t run_groups;  // dual-channel run length, >= kDualChunkGroups (packed.h)
};

// A pruned int8 FullyConnected: only the nonzero weights are stored. Inputs: 0 input (rows
// of K elements) i8; 1 weights i8 [N], the nonzero weights row by row; 2 column steps u8
// [N]: each entry first advances the column by its step (a row starts at column 0), so an
// entry reads input column = sum of its row's steps so far; a zero weight with step 255
// bridges a longer gap, and zero entries with step 0 pad each row to a multiple of four
// entries; 3 row records i32 [UNITS, 4] (SparseRow, packed.h). Output
// [rows, UNITS], TFLite's output stage (exact requantization), as FullyConnected.
struct FullyConnectedSparseParams {
  int32_t output_offset;
  int32_t act_min, act_max;
};

// Same-shape int8 Add by lookup: inputs 0 and 1 (equal shapes), 2 table i32
// [kAddTableWords] (packed.h) holding both inputs' rescaled values and the output stage.
struct AddDspParams {
  int32_t requant;
  int32_t output_offset;
  int32_t act_min, act_max;
};

enum class ChainAdd : int32_t {
  none = 0,
  input_first = 1,   // output = AddDsp(chain input, second conv's output)
  input_second = 2,  // output = AddDsp(second conv's output, chain input)
};

// Two Conv2DDsp run strip-wise, row by row (MCUNetV2's patch-based inference, by rows): the
// first conv's output, the middle tensor [1, mid_h, mid_w, mid_c], is never whole in
// memory; only the rows the second conv's next output row reads are kept. Optionally that
// row is added (AddDsp) to the same row of the chain's input: a residual block, whose
// output may overwrite the input in place. The same arithmetic as the separate ops in
// another order of rows: bit-exact. Batch 1.
// Inputs: 0 input [1,H,W,C] i8; 1 filter words i32 [n]: the first conv's (Conv2DDsp's
// layout, [ceil(mid_c/2), 2*ceil(K1/4)]), then the second's; 2 records i32 [n]: the first
// conv's channel records [mid_c, 4], the second's [OC, 4], then (with an add) the AddDsp
// table [kAddTableWords]. Three inputs, as the conv's: images keep their small op views.
// Output [1,OH,OW,OC]. Scratch (conv_chain_dsp_scratch_bytes): the kept middle rows, one
// output row of the second conv (with an add), then the convs' patches.
struct ConvChainDspParams {
  Conv2DDspParams first, second;
  AddDspParams add;
  int32_t add_input;  // ChainAdd
  int32_t mid_h, mid_w, mid_c;
};

// Elementwise maximum / minimum of two inputs with numpy broadcasting up to rank 4 (TFLite
// MAXIMUM / MINIMUM). Inputs: in0, in1. int8: both inputs and the output share one scale
// and zero point, so the kernel compares stored values; no fields are needed.
struct MaximumMinimumParams {
  uint32_t reserved;
};

// Elementwise x > 0 ? x : alpha * x, same shape (TFLite LEAKY_RELU, ONNX LeakyRelu). int8
// (TFLite reference QuantizeLeakyRelu): v = in + input_offset; out = clamp(output_offset +
// MultiplyByQuantizedMultiplier(v, v >= 0 ? identity : alpha multiplier and shift)) to int8,
// identity = s_in / s_out, alpha = s_in * alpha / s_out. int16 (TFLite's 16x8): the same
// fields and arithmetic clamped to int16, zero points 0. float: f_alpha.
struct LeakyReluParams {
  int32_t input_offset, output_offset;
  int32_t identity_multiplier, identity_shift;
  int32_t alpha_multiplier, alpha_shift;
  float f_alpha;
};

// Mean / Sum / ReduceMax over the input dims whose bit is set in axes_mask (rank <= 4;
// TFLite MEAN, SUM and REDUCE_MAX, ONNX ReduceMean and ReduceMax). ReduceMax uses only
// axes_mask and `mode` float_values: int8 input and output share one quantization, so it
// compares stored values. The output holds the kept dims in order (reduced dims dropped or
// kept as 1: only the element count is checked). `mode` is the arithmetic TFLite Micro's
// reduce kernel picks (see kernels/reference/reduce.cc); float uses float_values.
enum class ReduceMode : int32_t {
  float_values = 0,     // float32: sum (and / count)
  mean_spatial = 1,     // int8 Mean, 4-D, axes {1, 2}, keep_dims: multiplier, shift
  mean_same_quant = 2,  // int8 Mean, input and output quantized alike: sum / count
  requantize = 3,       // int8 Mean or Sum otherwise, in float: scale, bias
};
struct ReduceParams {
  int32_t axes_mask;  // bit d: input dim d is reduced
  int32_t mode;       // ReduceMode
  int32_t input_zero_point, output_zero_point;
  int32_t multiplier, shift;
  float scale, bias;
};

// out[i0..i3] = in[start_d + i_d * stride_d], i_d < count_d (TFLite STRIDED_SLICE and SLICE
// with constant operands, ONNX Slice); entries past the input rank are start 0, stride 1,
// count 1. Any dtype; int8 input and output share one quantization (bytes are copied).
struct StridedSliceParams {
  int32_t start[4], stride[4], count[4];
};

// Split: the input cut along `axis` into the outputs (1..8) in order, each equal to the input
// outside the axis; their extents along it sum to the input's (TFLite SPLIT and SPLIT_V).
// Unpack: the input cut into its dims[axis] slices along `axis`, each output the input's
// shape without that dim (TFLite UNPACK). Any dtype; int8 outputs share the input's scale and
// zero point (as TFLite requires), so bytes are copied. Pack, the inverse of Unpack, uses
// ConcatenationParams: inputs of one shape stacked along the output's `axis` (TFLite PACK).
struct SplitParams {
  int32_t axis;
};

// Resize of an NHWC input (rank 4) to the output's height and width, batch and channels kept
// (TFLite RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR; the arithmetic of TFLite's reference
// kernels, see kernels/reference/resize.cc). Flags 0 or 1, not both set. Nearest copies
// elements of any dtype; bilinear is float32, or int8 in 10-bit fixed point. int8 input and
// output share one quantization.
struct ResizeParams {
  int32_t align_corners;
  int32_t half_pixel_centers;
};

// Elementwise x * relu6(x + 3) / 6, same element count (TFLite HARD_SWISH). int8 (TFLite's
// reference integer HardSwish, see kernels/reference/hard_swish.cc): Q15 multipliers in
// 0..32767 from the input scale / 128 to the output scale (exponent -15..0) and to the
// "reluish" scale 3 / 32768 (exponent -15..15). float: no fields used.
struct HardSwishParams {
  int32_t input_zero_point, output_zero_point;
  int32_t output_multiplier, output_exponent;
  int32_t reluish_multiplier, reluish_exponent;
};

// One elementwise math function of the input, same element count (TFLite EXP, LOG, SQRT,
// RSQRT, ABS, NEG, ELU; ONNX Exp, Log, Sqrt, Reciprocal, Abs, Elu, Selu, Softplus). float:
// `function` (a UnaryFunction), the Elu family as f_gamma * (x > 0 ? x : f_alpha * expm1(x)).
// int8: out = table[(uint8_t)in], the 256 outputs the compiler computed offline with
// TFLite's arithmetic for the op (its lookup table or its integer path, see
// compiler/ops/unary_math.cc); `function` is then only informative.
// int16 (TFLite's 16x8: zero points 0), by `function`: EXP, LOG, RSQRT read input 1, the
// 513-entry int16 table the compiler made as TFLite's LUTPopulate<int16_t>, interpolated as
// its LUTLookup; ABS is |x| times multiplier/shift (s_in / s_out; multiplier 0 when the
// scales are equal: no rescale); SQRT is int(sqrt(input_scale * x) / output_scale) in float.
enum class UnaryFunction : int32_t {
  exp = 0,
  log = 1,
  sqrt = 2,
  rsqrt = 3,
  abs = 4,
  neg = 5,
  elu = 6,
  reciprocal = 7,
  softplus = 8,
};
constexpr int32_t kNumUnaryFunctions = 9;
struct UnaryMathParams {
  int32_t function;
  float f_alpha, f_gamma;
  int8_t table[256];
  int32_t multiplier, shift;        // int16 ABS
  float input_scale, output_scale;  // int16 SQRT
};

// Elementwise in0 / in1 with numpy broadcasting up to rank 4, then the fused activation's
// clamp (TFLite DIV, ONNX Div). float: f_act_min/f_act_max. int8 (TFLite's reference
// DivElementwise): a = in0 + input1_offset, b = in1 + input2_offset (b != 0, signs moved to
// a), a * (1 / b) with a per-element 31-bit reciprocal of b, then output_multiplier/
// output_shift (s0 / (s1 * s_out)), output_offset and the clamp to act_min..act_max.
// int16 (TFLite's DivElementwise<int16_t>, 16x8 zero points 0): the same fields and
// arithmetic, offsets 0, the clamp in int16.
struct DivParams {
  float f_act_min, f_act_max;
  int32_t input1_offset, input2_offset;
  int32_t output_offset, output_multiplier, output_shift;
  int32_t act_min, act_max;
};

// Elementwise x >= 0 ? x : alpha * x with alpha (input 1) broadcast against x (numpy rules up
// to rank 4; TFLite PRELU, ONNX PRelu). int8 (TFLite's reference BroadcastPrelu4DSlow):
// v = x + input_offset; out = clamp(output_offset + (v >= 0 ? MultiplyByQuantizedMultiplier(v,
// multiplier_1, shift_1) : MultiplyByQuantizedMultiplier(v * (alpha + alpha_offset),
// multiplier_2, shift_2))) to int8, multiplier 1 = s_in / s_out, 2 = s_in * s_alpha / s_out.
// int16 (tflite-micro's 16x8): int16 x and output with zero points 0, int8 alpha, the same
// fields and arithmetic clamped to int16. float: no fields used.
struct PreluParams {
  int32_t input_offset, alpha_offset, output_offset;
  int32_t multiplier_1, shift_1, multiplier_2, shift_2;
};

// Padding with the input's own values (TFLite MIRROR_PAD, ONNX Pad in reflect or edge mode):
// output dim i = before[i] + input dim i + after[i] (rank <= 4; entries past the rank 0).
// Output coordinate o reads input coordinate v = o - before[i] folded into [0, n): reflect
// (TFLite REFLECT, ONNX reflect) mirrors about the edge element (-v, 2(n - 1) - v; pads
// <= n - 1), symmetric (TFLite SYMMETRIC) mirrors with it (-v - 1, 2n - 1 - v; pads <= n),
// edge (ONNX edge) repeats it. float32 or int8; int8 input and output share one quantization.
enum class MirrorPadMode : int32_t { reflect = 0, symmetric = 1, edge = 2 };
struct MirrorPadParams {
  int32_t before[4], after[4];
  int32_t mode;
};

// out[o, i, k] = data[o, indices[i], k] along `axis` (TFLite GATHER with batch_dims 0, ONNX
// Gather): input 0 the data (float32 or int8), input 1 int32 indices; the output's dims are
// the data's before `axis`, the indices', the data's after it (rank <= 4 each). int8 data and
// output share one quantization (bytes are copied). The compiler checks constant indices;
// an index outside [0, data dim) (a damaged plan) gives a slice of zero bytes.
struct GatherParams {
  int32_t axis;
};

// Transposed convolution (TFLite TRANSPOSE_CONV, ONNX ConvTranspose with group 1 and
// dilation 1): input element (iy, ix) adds input x filter[oc, ky, kx, ic] to output
// (iy * stride_h - pad_top + ky, ix * stride_w - pad_left + kx); contributions outside the
// output are dropped, then bias, requantization and clamp as Conv2D. Inputs as Conv2D:
// 0 input [N,H,W,IC]; 1 filter [OC,KH,KW,IC]; 2 bias [OC] (i32 / f32) or kNoTensor; int8
// only: 3 multiplier [OC] i32; 4 shift [OC] i32. Output [N,OH,OW,OC], any OH, OW.
struct TransposeConvParams {
  int16_t stride_h, stride_w;
  int16_t pad_top, pad_left;
  int32_t input_offset;        // -input zero point
  int32_t output_offset;       // +output zero point
  int32_t act_min, act_max;    // int8 clamp (fused activation folded in)
  float f_act_min, f_act_max;  // float clamp
};

// SVDF (TFLite's builtin, TFLM's kernel): inputs input [B,IN], weights_feature [F,IN],
// weights_time [F,M], optional bias [F/rank], activation state [B,F*M] (a Storage::state
// tensor the op shifts and updates every invocation); output [B,F/rank]. float32 throughout,
// or int8 input, weights_feature and output with int16 weights_time and state (state zero
// point 0) and an int32 bias of scale state x weights_time.
struct SvdfParams {
  int32_t rank;                               // filters summed per output unit
  int32_t input_offset;                       // -input zero point
  int32_t output_offset;                      // +output zero point
  int32_t feature_multiplier, feature_shift;  // input x weights_feature / state scale
  int32_t output_multiplier, output_shift;    // state x weights_time / output scale
  int32_t act_min, act_max;                   // int8 clamp (fused activation folded in)
  float f_act_min, f_act_max;                 // float clamp
};

// ArgMax / ArgMin (TFLite ARG_MAX / ARG_MIN, ONNX ArgMax / ArgMin): input 0 float32 or int8
// (any quantization: a positive scale keeps the order of the stored values), output int32 with
// the input's dims but `axis` (removed, or kept as 1: same elements, same order). Each output
// is the index along `axis` of the first largest (smallest) value, as TFLite's strict compare;
// select_last_index 1 (ONNX only) takes the last instead. NaN never replaces a value.
struct ArgMinMaxParams {
  int32_t axis;
  int32_t select_last_index;
};

// Cast (TFLite CAST, ONNX Cast): input 0 and the output of any two of float32, int8, int16,
// int32, same element count; quantization ignored. Float to integer truncates toward zero,
// saturating (NaN: 0); integer to a narrower integer keeps the low bits; integer to float
// rounds to nearest (kernels/reference/cast.cc).
struct CastParams {
  uint32_t reserved;
};

// TFLM's signal library (signal/src/*.cc, signal/micro/kernels/*.cc), custom ops whose
// options are a FlexBuffer map. SignalWindow: input int16 [..., N] (frames of N samples),
// weights int16 [N] (a constant); out = (in * w) >> shift saturated to int16.
struct SignalWindowParams {
  int32_t shift;  // 0..31
};

// SignalEnergy: input int16 [2N] (N complex bins, real then imaginary), output uint32 [N]:
// re^2 + im^2 for bins in [start_index, end_index), 0 for the others.
struct SignalEnergyParams {
  int32_t start_index, end_index;  // 0 <= start <= end <= N
};

// SignalFilterBank: inputs energies uint32 [K], weights and unweights int16 [W], channel
// frequency starts, weight starts and widths int16 [C+1] (constants); output uint64 [C]: the
// triangular filters' 64-bit sums (channel 0 of the C+1 is the first filter's left half).
struct SignalFilterBankParams {
  int32_t num_channels;  // C
};

// SignalFilterBankSquareRoot: inputs uint64 [C] and scale_bits int32 [1]; output uint32 [C],
// sqrt(x) rounded, shifted right by scale_bits (0 when it is outside 0..31).
struct SignalFilterBankSquareRootParams {
  uint32_t reserved;
};

// SignalFilterBankLog: input uint32 [C], output int16 [C]: ln(x << input_correction_bits)
// times output_scale (a uint32 product in Q16), at most 32767; 0 for a shifted 0 or 1.
struct SignalFilterBankLogParams {
  int32_t input_correction_bits;  // 0..31
  int32_t output_scale;
};

// SignalFftAutoScale: input int16 [N]; outputs int16 [N], the input shifted left by
// scale_bits (wrapping in int16), and scale_bits int32 [] = max(0, 15 - MSB(max |input|)).
struct SignalFftAutoScaleParams {
  uint32_t reserved;
};

// SignalRfft (int16): inputs frames int16 [..., L] (L <= fft_length, zero-padded), the
// compiler's kissfft twiddles int16 [fft_length] (fft_length / 2 complex values) and real-FFT
// twiddles int16 [fft_length / 2]; output int16 [..., fft_length + 2]: fft_length / 2 + 1
// complex bins (real, imaginary), kissfft's FIXED_POINT=16 scaling. Scratch: 2 x fft_length
// int16 (the samples in pairs and their complex FFT).
struct SignalRfftParams {
  int32_t fft_length;  // a power of two, 4..kMaxFrontendFft
};

// SignalFilterBankSpectralSubtraction: input uint32 [C], input 1 the noise estimate uint32 [C]
// (Storage::state, kept between invocations); outputs uint32 [C] the input minus the estimate,
// at least min_signal_remaining of it, and uint32 [C] the updated estimate. Even channels
// smooth with smoothing / one_minus_smoothing, odd ones with the alternates, all in Q of
// spectral_subtraction_bits; the estimate carries smoothing_bits more fraction bits than the
// input. clamping 1: an estimate above the scaled input is lowered to it.
struct SignalFilterBankSpectralSubtractionParams {
  int32_t num_channels;  // C
  uint32_t smoothing, one_minus_smoothing;
  uint32_t alternate_smoothing, alternate_one_minus_smoothing;
  uint32_t min_signal_remaining;
  int32_t smoothing_bits;             // 0..31
  int32_t spectral_subtraction_bits;  // 0..31
  int32_t clamping;                   // 0 or 1
};

// SignalPcan (per-channel amplitude normalization): inputs uint32 [C] the channels, uint32 [C]
// the noise estimate and int16 [kPcanLutSize] the gain curve (a constant: TFLM's op
// generator computes it, the device only reads it); output uint32 [C]: the channel times the
// gain of its noise estimate, shifted right by snr_shift and shrunk (x^2/4 below 2, x - 1
// above, 6 fraction bits).
struct SignalPcanParams {
  int32_t snr_shift;  // 0..31
};

// SignalDelay: input int16 [..., F] (rows of F samples, each row one stream), input 1 the
// row's last delay_length samples int16 [..., delay_length] (Storage::state, zero at init);
// output int16 [..., F]: each row's stream delayed by delay_length samples.
struct SignalDelayParams {
  int32_t delay_length;  // >= 1
};

// LSTM over a sequence (TFLite UNIDIRECTIONAL_SEQUENCE_LSTM, ONNX LSTM forward), gates packed
// by the compiler. Inputs: 0 input [T,B,IN] (time_major) or [B,T,IN]; 1 input and 2 recurrent
// weights [G*H,IN], [G*H,OUT], rows by gate: input, forget, cell, output (G = 4), or without
// the input gate forget, cell, output (G = 3, CIFG: input = 1 - forget); 3 biases [G*H], then
// the projection's [OUT]; 4 peepholes [P*H] (input, forget, output; P = G - 1) or kNoTensor;
// 5 projection [OUT,H] or kNoTensor; 6 output state [B,OUT], 7 cell state [B,H] (state tensors
// updated every step). Output [T,B,OUT] or [B,T,OUT]. float32: scratch H floats. TFLM's integer
// LSTM: int8 or int16 input, output state and output, int8 weights, int32 biases, int16 cell
// state, G = 4, OUT = H, 4 the int32 table of tinyforge/lstm_quant.h, 5 none; scratch H values.
enum class LstmActivation : int32_t { none = 0, relu = 1, relu_n1_to_1 = 2, relu6 = 3, tanh = 4 };
struct LstmParams {
  int32_t time_major;  // 1: input [T,B,IN], 0: [B,T,IN]
  int32_t activation;  // LstmActivation (TFLite's codes) of the cell gate and the cell output
  float cell_clip;     // |cell state| bound, 0: none
  float proj_clip;     // |projected output| bound, 0: none
  int32_t zero_state;  // 1: both states start from zero every invocation (ONNX), 0: kept
};

// LogSoftmax over the last dimension (TFLite LOG_SOFTMAX, whose beta is 1). float32:
// x - max - log(sum(exp(x - max))), no params. int8 -> int8 (output scale 16/256, zero
// point 127) with TFLite's fixed-point exp and log: the row differences are rescaled into
// Q5.26 by input_multiplier / input_left_shift (> 0), and diff_min is the most negative
// difference that rescales without overflow (PreprocessLogSoftmaxScalingExp and
// CalculateInputRadius for input_scale); reverse_scaling_divisor / reverse_scaling_left_shift
// (<= 0) undo that rescaling, to find the differences whose output is the lowest code.
struct LogSoftmaxParams {
  int32_t input_multiplier;
  int32_t input_left_shift;
  int32_t reverse_scaling_divisor;
  int32_t reverse_scaling_left_shift;
  int32_t diff_min;
};

#define OP(name, params, min_in, max_in, n_out)                                       \
  static_assert(std::is_trivially_copyable<params>::value && sizeof(params) % 4 == 0, \
                #params " must be a 4-byte-multiple POD");
#include "tinyforge/ops.def"
#undef OP

}  // namespace tinyforge
