// ONNX GRU (onnx/defs/rnn/defs.cc, opsets 7 and 14), float32, unrolled over the sequence
// into existing ops instead of a Gru op of its own. Why: the unrolled form is the GRU's own
// equations, op for op, on kernels that exist for every target (reference, DSP twins, AOT)
// and export to TFLite as they are (TFLite has no GRU builtin); the compute is the same (the input
// projection of all steps is one FullyConnected, each step two recurrent FullyConnected of [B,H] by
// [*,H] and six elementwise passes over [B,H]); what grows with the sequence length T is the plan
// (about 14 nodes a step), so a GRU over hundreds of steps is better served by an op of its own. A
// new op row would also have no TFLite form for the round-trip, kernel-table and coverage tests to
// go through.
//
// Definition (gates z, r, h in the order of W [D,3H,I], R [D,3H,H], B [D,6H] = Wb, Rb):
//   z  = sigmoid(Xt Wz^T + Ht-1 Rz^T + Wbz + Rbz)
//   r  = sigmoid(Xt Wr^T + Ht-1 Rr^T + Wbr + Rbr)
//   h~ = tanh(Xt Wh^T + (r . Ht-1) Rh^T + Rbh + Wbh)      linear_before_reset 0
//   h~ = tanh(Xt Wh^T + r . (Ht-1 Rh^T + Rbh) + Wbh)      linear_before_reset 1
//   Ht = (1 - z) . h~ + z . Ht-1, computed as h~ + z . (Ht-1 - h~)
// Directions as LSTM's: "reverse" runs from the last step to the first, "bidirectional"
// runs both with their own W, R, B, initial_h slices; Y [T,D,B,H] (layout 0) or [B,T,D,H]
// (layout 1) holds each direction's Ht at time t, Y_h [D,B,H] / [B,D,H] the last one
// computed. Supported: optional B, initial_h (constant or run-time), sequence_lens equal to
// T everywhere, activations Sigmoid and Tanh (the defaults). Refused by name: other
// activations, clip, shorter sequence_lens. No int8 form: the nodes carry ops::kGruNodeTag
// and the quantizer refuses them (ops/gru.h).
#include <fmt/format.h>

#include "import/onnx/onnx_convert.h"
#include "import/onnx/onnx_recurrent.h"
#include "ops/add.h"
#include "ops/fully_connected.h"
#include "ops/gru.h"
#include "ops/mul.h"
#include "ops/strided_slice.h"
#include "ops/sub_squared_difference.h"

namespace tinyforge::onnx_import {

Directions rnn_directions(Context& ctx) {
  const std::string direction = ctx.attr_string("direction", "forward");
  Directions d;
  if (direction == "reverse") {
    d.first_reverse = true;
  } else if (direction == "bidirectional") {
    d.count = 2;
  } else if (direction != "forward") {
    ctx.fail(fmt::format("direction '{}'; expected forward, reverse or bidirectional", direction));
  }
  return d;
}

int reverse_axis(Context& ctx, int tensor, int axis, const std::string& name) {
  const std::vector<int32_t> shape = ctx.shape_of(tensor);  // a copy: emit adds tensors
  std::vector<int64_t> first(shape.size(), 0), step(shape.size(), 1),
      count(shape.begin(), shape.end());
  first[static_cast<size_t>(axis)] = shape[static_cast<size_t>(axis)] - 1;
  step[static_cast<size_t>(axis)] = -1;
  return ctx.emit(OpCode::StridedSlice, {tensor}, shape, ops::strided_slice_of(first, step, count),
                  name);
}

namespace {

// Columns [first, first + count) of the 2-D IR tensor `t`'s rows [row, row + rows).
int columns(Context& ctx, int t, int64_t row, int64_t rows, int64_t first, int64_t count,
            const std::string& name) {
  return ctx.emit(OpCode::StridedSlice, {t}, ctx.ir_shape({rows, count}),
                  ops::strided_slice_of({row, first}, {1, 1}, {rows, count}), name);
}

}  // namespace

std::vector<float> block(const std::vector<float>& v, size_t index, size_t size) {
  return std::vector<float>(v.begin() + static_cast<std::ptrdiff_t>(index * size),
                            v.begin() + static_cast<std::ptrdiff_t>((index + 1) * size));
}

void expect_float(Context& ctx, const Constant& c, const char* role, const Shape& shape) {
  if (c.shape != shape || !c.is_float)
    ctx.fail(fmt::format("{} has shape {}; expected float {}", role, shape_str(c.shape),
                         shape_str(shape)));
}

RecurrentInputs read_recurrent_inputs(Context& ctx, const Directions& dirs, int64_t gates) {
  RecurrentInputs in;
  in.layout = ctx.attr_int("layout", 0);
  if (in.layout != 0 && in.layout != 1)
    ctx.fail(fmt::format("layout {}; expected 0 or 1", in.layout));
  in.x = &ctx.input(0);
  if (in.x->shape.size() != 3)
    ctx.fail(fmt::format("X has shape {}; expected rank 3", shape_str(in.x->shape)));
  in.steps = in.x->shape[in.layout ? 1 : 0];
  in.batch = in.x->shape[in.layout ? 0 : 1];
  in.features = in.x->shape[2];
  in.dirs = dirs.count;
  in.w = ctx.constant_input(1, "W");
  in.r = ctx.constant_input(2, "R");
  in.hidden = ctx.attr_int("hidden_size", in.r.shape.size() == 3 ? in.r.shape[2] : 0);
  if (in.hidden < 1 || in.hidden > kMaxDim) ctx.fail(fmt::format("hidden_size {}", in.hidden));
  expect_float(ctx, in.w, "W", {in.dirs, gates * in.hidden, in.features});
  expect_float(ctx, in.r, "R", {in.dirs, gates * in.hidden, in.hidden});
  in.bias.assign(static_cast<size_t>(in.dirs * 2 * gates * in.hidden), 0.0f);
  if (ctx.has_input(3)) {
    const Constant& b = ctx.constant_input(3, "B");
    expect_float(ctx, b, "B", {in.dirs, 2 * gates * in.hidden});
    in.bias = b.f;
  }
  if (ctx.has_input(4))
    for (int64_t length : ctx.ints_input(4, "sequence_lens"))
      if (length != in.steps)
        ctx.unsupported(
            fmt::format("sequence_lens {} shorter than the sequence ({})", length, in.steps));
  return in;
}

void convert_GRU(Context& ctx) {
  const Directions dirs = rnn_directions(ctx);
  const int64_t lbr = ctx.attr_int("linear_before_reset", 0);
  if (lbr != 0 && lbr != 1) ctx.fail(fmt::format("linear_before_reset {}; expected 0 or 1", lbr));
  if (ctx.attr("clip") != nullptr) ctx.unsupported("clip (the gates' inputs bounded)");
  if (const onnx::AttributeProto* acts = ctx.attr("activations")) {
    if (acts->strings_size() != 2 * dirs.count)
      ctx.fail(fmt::format("{} activations; expected {}", acts->strings_size(), 2 * dirs.count));
    for (int k = 0; k < acts->strings_size(); ++k) {
      const std::string& want = k % 2 == 0 ? "Sigmoid" : "Tanh";
      if (acts->strings(k) != want)
        ctx.unsupported(fmt::format("activation '{}' (activations {}); only Sigmoid and Tanh",
                                    acts->strings(k), k));
    }
  }
  const RecurrentInputs in = read_recurrent_inputs(ctx, dirs, 3);
  const int64_t layout = in.layout, steps = in.steps, batch = in.batch, features = in.features;
  const int64_t dirs_n = in.dirs, hidden = in.hidden;
  const Constant &w = in.w, &r = in.r;
  const std::vector<float>& bias = in.bias;
  Value& x = *in.x;
  int initial = -1;  // initial_h in ONNX layout: [D,B,H] (layout 0) or [B,D,H]
  if (ctx.has_input(5)) {
    Value& h0 = ctx.input(5);
    const Shape want = in.state_shape();
    if (h0.shape != want)
      ctx.fail(
          fmt::format("initial_h has shape {}; expected {}", shape_str(h0.shape), shape_str(want)));
    initial = ctx.as_onnx(h0, ctx.node->input(5));
  }
  const std::string name =
      clean_name(ctx.node->name().empty() ? "gru" : ctx.node->name()) + ops::kGruNodeTag;
  const auto h = static_cast<size_t>(hidden);
  const auto dims = [&](int64_t rows, int64_t cols) { return ctx.ir_shape({rows, cols}); };
  // X as [T*B, I], time-major.
  int sequence = ctx.as_onnx(x, ctx.node->input(0));
  if (layout) sequence = ctx.transpose(sequence, {1, 0, 2}, name + "/time_major");
  sequence = ctx.reshape(sequence, dims(steps * batch, features), name + "/rows");
  std::vector<int> ys, last;
  for (int d = 0; d < dirs.count; ++d) {
    const auto dd = static_cast<size_t>(d);
    const std::string base = dirs.count == 2 ? name + (d ? "/backward" : "/forward") : name;
    // The input projection of every step at once, with the biases that add outside the
    // reset gate (Rbh only when it is applied before the reset, linear_before_reset 0).
    std::vector<float> xw_bias;
    for (size_t g = 0; g < 3; ++g) {
      const std::vector<float> wb = block(bias, dd * 6 + g, h);
      const std::vector<float> rb = block(bias, dd * 6 + 3 + g, h);
      for (size_t j = 0; j < h; ++j) xw_bias.push_back(wb[j] + (g < 2 || !lbr ? rb[j] : 0.0f));
    }
    const int xw = ctx.emit(
        OpCode::FullyConnected,
        {sequence,
         ctx.ir_constant(base + "/w", dims(3 * hidden, features),
                         block(w.f, dd, 3 * h * static_cast<size_t>(features))),
         ctx.ir_constant(base + "/w_bias", ctx.ir_shape({3 * hidden}), xw_bias)},
        dims(steps * batch, 3 * hidden), ops::FullyConnectedAttrs{}, base + "/input_projection");
    const std::vector<float> rd = block(r.f, dd, 3 * h * h);
    const int r_zr = ctx.ir_constant(base + "/r_zr", dims(2 * hidden, hidden),
                                     std::vector<float>(rd.begin(), rd.begin() + 2 * h * h));
    const int r_h = ctx.ir_constant(base + "/r_h", dims(hidden, hidden),
                                    std::vector<float>(rd.begin() + 2 * h * h, rd.end()));
    const int rb_h = lbr ? ctx.ir_constant(base + "/r_h_bias", ctx.ir_shape({hidden}),
                                           block(bias, dd * 6 + 5, h))
                         : -1;
    int state;
    if (initial >= 0) {
      const std::vector<int64_t> first =
          layout ? std::vector<int64_t>{0, d, 0} : std::vector<int64_t>{d, 0, 0};
      const Shape one = layout ? Shape{batch, 1, hidden} : Shape{1, batch, hidden};
      state = ctx.emit(OpCode::StridedSlice, {initial}, ctx.ir_shape(one),
                       ops::strided_slice_of(first, {1, 1, 1}, one), base + "/initial_h");
      state = ctx.reshape(state, dims(batch, hidden), base + "/initial_h_rows");
    } else {
      state = ctx.ir_constant(base + "/zero_h", dims(batch, hidden),
                              std::vector<float>(static_cast<size_t>(batch) * h, 0.0f));
    }
    std::vector<int> outputs(static_cast<size_t>(steps), -1);
    for (int64_t k = 0; k < steps; ++k) {
      const int64_t t = dirs.reverse(d) ? steps - 1 - k : k;
      const std::string at = fmt::format("{}/step{}/", base, t);
      const auto bh = dims(batch, hidden), bh2 = dims(batch, 2 * hidden);
      const int x_zr = columns(ctx, xw, t * batch, batch, 0, 2 * hidden, at + "x_zr");
      const int x_h = columns(ctx, xw, t * batch, batch, 2 * hidden, hidden, at + "x_h");
      const int h_zr = ctx.emit(OpCode::FullyConnected, {state, r_zr, -1}, bh2,
                                ops::FullyConnectedAttrs{}, at + "h_zr");
      const int sum_zr =
          ctx.emit(OpCode::Add, {x_zr, h_zr}, bh2, ops::AddAttrs{}, at + "zr_preactivation");
      const int zr = ctx.emit(OpCode::Logistic, {sum_zr}, bh2, ir::Params{}, at + "zr");
      const int z = columns(ctx, zr, 0, batch, 0, hidden, at + "z");
      const int reset = columns(ctx, zr, 0, batch, hidden, hidden, at + "r");
      int h_h;
      if (lbr) {
        const int linear = ctx.emit(OpCode::FullyConnected, {state, r_h, rb_h}, bh,
                                    ops::FullyConnectedAttrs{}, at + "h_linear");
        h_h = ctx.emit(OpCode::Mul, {reset, linear}, bh, ops::MulAttrs{}, at + "h_h");
      } else {
        const int gated = ctx.emit(OpCode::Mul, {reset, state}, bh, ops::MulAttrs{}, at + "r_h");
        h_h = ctx.emit(OpCode::FullyConnected, {gated, r_h, -1}, bh, ops::FullyConnectedAttrs{},
                       at + "h_h");
      }
      const int sum_h =
          ctx.emit(OpCode::Add, {x_h, h_h}, bh, ops::AddAttrs{}, at + "h_preactivation");
      const int candidate = ctx.emit(OpCode::Tanh, {sum_h}, bh, ir::Params{}, at + "candidate");
      const int change =
          ctx.emit(OpCode::Sub, {state, candidate}, bh, ops::SubOptions{}, at + "change");
      const int kept = ctx.emit(OpCode::Mul, {z, change}, bh, ops::MulAttrs{}, at + "kept");
      state = ctx.emit(OpCode::Add, {candidate, kept}, bh, ops::AddAttrs{}, at + "h");
      outputs[static_cast<size_t>(t)] = state;
    }
    if (ctx.output_used(0)) {
      const int y = concatenate(ctx, outputs, 0, base + "/y");  // [T*B, H]
      ys.push_back(ctx.reshape(y, ctx.ir_shape({steps, 1, batch, hidden}), base + "/y_steps"));
    }
    if (ctx.output_used(1))
      last.push_back(ctx.reshape(state, ctx.ir_shape({1, batch, hidden}), base + "/y_h"));
  }
  if (ctx.output_used(0)) {
    int y = concatenate(ctx, ys, 1, name + "/y_directions");  // [T,D,B,H]
    Value out;
    out.shape = Shape{steps, dirs_n, batch, hidden};
    if (layout) {
      y = ctx.transpose(y, {2, 0, 1, 3}, name + "/y_batch_major");
      out.shape = Shape{batch, steps, dirs_n, hidden};
    }
    out.onnx = ctx.reshape(y, ctx.ir_shape(out.shape), ctx.node->output(0));
    ctx.set_output(0, std::move(out));
  }
  if (ctx.output_used(1)) {
    int y_h = concatenate(ctx, last, 0, name + "/y_h_directions");  // [D,B,H]
    Value out;
    out.shape = Shape{dirs_n, batch, hidden};
    if (layout) {
      y_h = ctx.transpose(y_h, {1, 0, 2}, name + "/y_h_batch_major");
      out.shape = Shape{batch, dirs_n, hidden};
    }
    out.onnx = ctx.reshape(y_h, ctx.ir_shape(out.shape), ctx.node->output(1));
    ctx.set_output(1, std::move(out));
  }
}

}  // namespace tinyforge::onnx_import
