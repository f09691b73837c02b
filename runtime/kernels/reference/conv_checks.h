// Shape checks shared by the conv-family kernels (conv, depthwise conv, fully connected,
// pooling). They read only dtype, rank and dims, never data, so check_<Op> can use them
// during plan validation.
//
// Geometry of a sliding window (conv, depthwise conv, pooling) along one spatial axis, as
// TFLite lays it out: output position o reads input positions o*stride - pad_before +
// k*dilation for k in [0, filter); taps outside [0, in) are skipped (zero padding for
// convs, excluded from the window for pools).
//
// window_fits() is what check_<Op> uses to accept an output size: it holds for every
// output size TFLite's SAME and VALID rules (and ONNX explicit pads smaller than the
// effective filter) produce, and it guarantees that every window overlaps the input, so an
// average pool never divides by zero. Pure integer logic, no data access.
#pragma once
#include <cstdint>

#include "kernels/reference/output_stage.h"
#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge::checks {

// Bounds that keep every index computation of the kernels inside int32.
constexpr int64_t kMaxExtent = int64_t{1} << 28;

// The op's own window parameters are sane (bad_params otherwise).
inline bool window_params_ok(int32_t stride, int32_t dilation, int32_t pad_before) {
  return stride >= 1 && dilation >= 1 && pad_before >= 0;
}

// `out` is a possible output extent for this input, filter and padding (bad_shape
// otherwise). Assumes window_params_ok.
inline bool window_fits(int32_t in, int32_t filter, int32_t stride, int32_t dilation,
                        int32_t pad_before, int32_t out) {
  if (in < 1 || filter < 1 || out < 1 || in > kMaxExtent || out > kMaxExtent) return false;
  if (!window_params_ok(stride, dilation, pad_before)) return false;
  const int64_t effective = (int64_t{filter} - 1) * dilation + 1;
  if (effective > kMaxExtent) return false;
  // Padding as wide as the effective filter would create windows lying entirely in padding.
  if (pad_before > effective - 1) return false;
  // The last window starts inside the input (TFLite's SAME never pads more than that).
  const int64_t last_start = (int64_t{out} - 1) * stride;
  if (last_start > int64_t{in} + pad_before - 1) return false;
  // And the output covers at least what the unpadded (VALID) sweep would produce.
  const int64_t span = int64_t{in} + pad_before - effective;
  // 0 <= span < in <= 2^28 here: a 32-bit division, no 64-bit library call in every image.
  if (span >= 0 && out < static_cast<int32_t>(span) / stride + 1) return false;
  return true;
}

// The view has exactly `rank` dims, each at least 1.
inline bool has_positive_dims(const TensorView& v, uint8_t rank) {
  if (v.rank != rank || rank > kMaxRank) return false;
  for (uint8_t i = 0; i < rank; ++i)
    if (v.dims[i] < 1) return false;
  return true;
}

// A per-output-channel vector (bias, multiplier, shift): `channels` elements of `type`.
inline bool is_channel_vector(const TensorView& v, DType type, int32_t channels) {
  return view::is_valid(v, type) && view::element_count(v) == channels;
}

// An optional input the plan left out (kNoTensor): the executor and the validator hand the
// kernel a value-initialized view, whose dtype 0 is not a valid DType.
inline bool is_absent(const TensorView& v) { return dtype_size(v.type) == 0; }

// Input 0 (data), 1 (weights) and output 0 of a conv-family op share one dtype, int8 or
// float32, and are well-formed views; returns that dtype through `type`.
inline Status check_data_types(const KernelIO& io, DType* type) {
  if (io.num_inputs < 3 || io.num_outputs != 1) return Status::bad_params;
  const DType t = io.in[0].type;
  if (t != DType::i8 && t != DType::f32) return Status::bad_params;
  if (!view::is_valid(io.in[0], t) || !view::is_valid(io.in[1], t) || !view::is_valid(io.out[0], t))
    return Status::bad_params;
  *type = t;
  return Status::ok;
}

// Input 0, weights and output 0 are 4-D views with positive dims (the NHWC windowed ops).
inline bool has_windowed_dims(const KernelIO& io) {
  return has_positive_dims(io.in[0], 4) && has_positive_dims(io.in[1], 4) &&
         has_positive_dims(io.out[0], 4);
}

// check_data_types, then has_windowed_dims (conv, depthwise conv, transposed conv).
inline Status check_windowed_views(const KernelIO& io, DType* type) {
  const Status typed = check_data_types(io, type);
  if (typed != Status::ok) return typed;
  return has_windowed_dims(io) ? Status::ok : Status::bad_shape;
}

// The 16x8 twins: input 0 and output 0 int16, weights int8 (TFLite's 16x8 scheme), all five
// inputs present, one output.
inline Status check_int16x8_types(const KernelIO& io) {
  if (io.num_inputs != 5 || io.num_outputs != 1) return Status::bad_params;
  if (!view::is_valid(io.in[0], DType::i16) || !view::is_valid(io.in[1], DType::i8) ||
      !view::is_valid(io.out[0], DType::i16))
    return Status::bad_params;
  return Status::ok;
}

// Inputs 2..4 of a 16x8 twin (bias, multiplier, shift: int32, one per output channel) and
// its output stage: zero points 0 (offsets 0) and a clamp range inside int16.
template <typename Params>
Status check_int16x8_channels(const Params& p, const KernelIO& io, int32_t channels) {
  for (int i = 2; i < 5; ++i)
    if (!is_channel_vector(io.in[i], DType::i32, channels)) return Status::bad_shape;
  if (p.input_offset != 0 || p.output_offset != 0 || !stage::int16_range_ok(p.act_min, p.act_max))
    return Status::bad_params;
  return Status::ok;
}

// Inputs 2..4 of conv, depthwise conv and fully connected (optional bias; for int8 also
// multiplier and shift, one entry per output channel) and the params of the output stage.
template <typename Params>
Status check_channel_inputs(const Params& p, const KernelIO& io, DType type, int32_t channels) {
  const bool is_int8 = type == DType::i8;
  const TensorView& bias = io.in[2];
  if (!is_absent(bias) && !is_channel_vector(bias, is_int8 ? DType::i32 : DType::f32, channels))
    return Status::bad_shape;
  if (!is_int8)
    return stage::float_stage_ok(p.f_act_min, p.f_act_max) ? Status::ok : Status::bad_params;
  if (io.num_inputs != 5) return Status::bad_params;
  if (!is_channel_vector(io.in[3], DType::i32, channels) ||
      !is_channel_vector(io.in[4], DType::i32, channels))
    return Status::bad_shape;
  if (!stage::int8_stage_ok(p.input_offset, p.output_offset, p.act_min, p.act_max))
    return Status::bad_params;
  return Status::ok;
}

}  // namespace tinyforge::checks
