// IR node -> TFLite operator(s): each op's host file under compiler/ops/ writes its own
// (ops::host_op(op).write_tflite); here the padding rule the windowed ops share.
//
// Facts used: padding rules of tensorflow/lite/kernels/padding.h (SAME: out =
// ceil(in / stride), pad_before = max(0, (out - 1) * stride + effective - in) / 2; VALID:
// out = (in - effective) / stride + 1, no padding).
#include <algorithm>

#include "export/tflite_builder.h"
#include "ops/host_op.h"

namespace tinyforge::tflite_export {
namespace {

struct AxisShape {
  int32_t in, filter, stride, dilation, pad_before, out;
};

bool same_matches(const AxisShape& a) {
  const int64_t effective = int64_t{a.filter - 1} * a.dilation + 1;
  const int64_t out = (int64_t{a.in} + a.stride - 1) / a.stride;
  const int64_t pad = std::max<int64_t>(0, (out - 1) * a.stride + effective - a.in) / 2;
  return out == a.out && pad == a.pad_before;
}
bool valid_matches(const AxisShape& a) {
  const int64_t effective = int64_t{a.filter - 1} * a.dilation + 1;
  return a.pad_before == 0 && a.in >= effective && (a.in - effective) / a.stride + 1 == a.out;
}

}  // namespace

WindowPadding window_padding(const ModelBuilder& b, size_t node, const ops::WindowAttrs& a,
                             int32_t filter_h, int32_t filter_w, int dilation_h, int dilation_w) {
  if (a.padding == ir::Padding::same) return {tfl::Padding::SAME, false};
  if (a.padding == ir::Padding::valid) return {tfl::Padding::VALID, false};
  const auto& in = in_tensor(b, node, 0).shape;
  const auto& out = out_tensor(b, node).shape;
  const AxisShape h{in[1], filter_h, a.stride_h, dilation_h, a.pad_top, out[1]};
  const AxisShape w{in[2], filter_w, a.stride_w, dilation_w, a.pad_left, out[2]};
  if (same_matches(h) && same_matches(w)) return {tfl::Padding::SAME, false};
  if (valid_matches(h) && valid_matches(w)) return {tfl::Padding::VALID, false};
  return {tfl::Padding::VALID, true};
}

void write_node(ModelBuilder& b, size_t node) {
  if (const auto write = ops::host_op(b.graph().nodes[node].op).write_tflite) return write(b, node);
  refuse(b, node, "no TFLite operator for this op");
}

}  // namespace tinyforge::tflite_export
