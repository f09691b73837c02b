// Svdf over multi-step sequences against TFLite's published arithmetic, written here as a
// memory of the last M feature activations per filter (TFLM svdf_common.cc: the feature
// matmul into the newest frame, each filter's frames dotted with its time weights, `rank`
// filters summed per unit with the bias; int8: the two effective scales formed in float,
// the int16 state saturated, the output requantized and clamped). The models go through
// the TFLite writer and reader, the plan and the device runtime; the state must carry over
// from one invocation to the next and restart from zero after reset_state(). Also the
// invariants the reader refuses.
#include "ops/svdf.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <deque>
#include <memory>
#include <random>

#include "emit/aot_cpp.h"
#include "emit/plan_writer.h"
#include "emit/validated_plan.h"
#include "export/tflite_writer.h"
#include "import/tflite/import_tflite.h"
#include "ir/error.h"
#include "plan/build_plan.h"
#include "plan/pack_dsp.h"
#include "plan/quant_math.h"
#include "tinyforge/runtime.h"

namespace tinyforge {
namespace {

struct Shape {
  int32_t batch, input_size, units, rank, memory;
  int32_t filters() const { return units * rank; }
};

template <typename T>
std::vector<uint8_t> to_bytes(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}
template <typename T>
std::vector<T> from_bytes(const std::vector<uint8_t>& b) {
  std::vector<T> v(b.size() / sizeof(T));
  std::memcpy(v.data(), b.data(), b.size());
  return v;
}

template <typename T>
std::vector<T> random_values(size_t n, double lo, double hi, std::mt19937& rng) {
  std::vector<T> v(n);
  for (T& x : v) {
    const double r = std::uniform_real_distribution<double>(lo, hi)(rng);
    x = static_cast<T>(std::is_integral_v<T> ? std::round(r) : r);
  }
  return v;
}

ir::Tensor tensor(const std::string& name, DType type, std::vector<int32_t> shape, float scale,
                  int32_t zero_point) {
  ir::Tensor t;
  t.name = name;
  t.type = type;
  t.shape = std::move(shape);
  if (scale > 0) t.quant = {{scale}, {zero_point}, 0};
  return t;
}

template <typename T>
ir::Tensor constant(const std::string& name, DType type, std::vector<int32_t> shape,
                    const std::vector<T>& values, float scale) {
  ir::Tensor t = tensor(name, type, std::move(shape), scale, 0);
  t.constant = true;
  t.data = to_bytes(values);
  return t;
}

// The weights and quantization of one test layer.
struct Layer {
  Shape s;
  bool int8 = false, with_bias = true;
  ir::Activation act = ir::Activation::none;
  std::vector<float> wf_f, wt_f, bias_f;
  std::vector<int8_t> wf_q;
  std::vector<int16_t> wt_q;
  std::vector<int32_t> bias_q;
  float in_scale = 0.05f, wf_scale = 0.01f, state_scale = 0.02f, wt_scale = 0.001f;
  float out_scale = 0.03f;
  int32_t in_zp = -7, out_zp = 4;
};

Layer make_layer(const Shape& s, bool int8, bool with_bias, ir::Activation act, uint32_t seed) {
  std::mt19937 rng(seed);
  Layer l;
  l.s = s;
  l.int8 = int8;
  l.with_bias = with_bias;
  l.act = act;
  const size_t f = static_cast<size_t>(s.filters());
  l.wf_f = random_values<float>(f * s.input_size, -1, 1, rng);
  l.wt_f = random_values<float>(f * s.memory, -1, 1, rng);
  l.bias_f = random_values<float>(static_cast<size_t>(s.units), -0.5, 0.5, rng);
  l.wf_q = random_values<int8_t>(f * s.input_size, -127, 127, rng);
  l.wt_q = random_values<int16_t>(f * s.memory, -32767, 32767, rng);
  l.bias_q = random_values<int32_t>(static_cast<size_t>(s.units), -40000, 40000, rng);
  return l;
}

ir::Graph graph(const Layer& l) {
  const Shape& s = l.s;
  ir::Graph g;
  g.source = "svdf";
  const DType act_type = l.int8 ? DType::i8 : DType::f32;
  const float q = l.int8 ? 1.0f : 0.0f;  // scales only on the int8 form
  const int x = g.add_tensor(
      tensor("x", act_type, {s.batch, s.input_size}, q * l.in_scale, l.int8 ? l.in_zp : 0));
  const std::vector<int32_t> wf_shape{s.filters(), s.input_size}, wt_shape{s.filters(), s.memory};
  const int wf = l.int8 ? g.add_tensor(constant("wf", DType::i8, wf_shape, l.wf_q, l.wf_scale))
                        : g.add_tensor(constant("wf", DType::f32, wf_shape, l.wf_f, 0));
  const int wt = l.int8 ? g.add_tensor(constant("wt", DType::i16, wt_shape, l.wt_q, l.wt_scale))
                        : g.add_tensor(constant("wt", DType::f32, wt_shape, l.wt_f, 0));
  int bias = -1;
  if (l.with_bias)
    bias = l.int8 ? g.add_tensor(constant("bias", DType::i32, {s.units}, l.bias_q,
                                          l.state_scale * l.wt_scale))
                  : g.add_tensor(constant("bias", DType::f32, {s.units}, l.bias_f, 0));
  ir::Tensor state = tensor("state", l.int8 ? DType::i16 : DType::f32,
                            {s.batch, s.filters() * s.memory}, q * l.state_scale, 0);
  state.variable = true;
  const int st = g.add_tensor(std::move(state));
  const int y = g.add_tensor(
      tensor("y", act_type, {s.batch, s.units}, q * l.out_scale, l.int8 ? l.out_zp : 0));
  ops::SvdfAttrs a;
  a.rank = s.rank;
  a.activation = l.act;
  g.nodes.push_back(ir::Node{OpCode::Svdf, {x, wf, wt, bias, st}, {y}, a, "svdf"});
  g.inputs = {x};
  g.outputs = {y};
  g.check();
  return g;
}

// The reference: per batch and filter, the last M feature activations, oldest first.
template <typename State>
struct Memory {
  std::vector<std::deque<State>> frames;
  Memory(const Shape& s)
      : frames(static_cast<size_t>(s.batch * s.filters()),
               std::deque<State>(static_cast<size_t>(s.memory), State{0})) {}
  void push(size_t b_f, State v) {
    frames[b_f].pop_front();
    frames[b_f].push_back(v);
  }
};

std::vector<float> reference_float(const Layer& l, Memory<float>& mem,
                                   const std::vector<float>& x) {
  const Shape& s = l.s;
  std::vector<float> out;
  const plan::FloatRange r = plan::activation_range_float(l.act);
  for (int32_t b = 0; b < s.batch; ++b) {
    for (int32_t f = 0; f < s.filters(); ++f) {
      float dot = 0.0f;
      for (int32_t k = 0; k < s.input_size; ++k)
        dot += l.wf_f[f * s.input_size + k] * x[b * s.input_size + k];
      mem.push(static_cast<size_t>(b * s.filters() + f), dot);
    }
    for (int32_t u = 0; u < s.units; ++u) {
      float v = l.with_bias ? l.bias_f[u] : 0.0f;
      for (int32_t f = u * s.rank; f < (u + 1) * s.rank; ++f) {
        float time = 0.0f;
        const auto& frames = mem.frames[static_cast<size_t>(b * s.filters() + f)];
        for (int32_t m = 0; m < s.memory; ++m) time += l.wt_f[f * s.memory + m] * frames[m];
        v += time;
      }
      out.push_back(std::min(std::max(v, r.min), r.max));
    }
  }
  return out;
}

std::vector<int8_t> reference_int8(const Layer& l, Memory<int16_t>& mem,
                                   const std::vector<int8_t>& x) {
  const Shape& s = l.s;
  const double e1 = static_cast<double>(l.in_scale * l.wf_scale / l.state_scale);
  const double e2 = static_cast<double>(l.state_scale * l.wt_scale / l.out_scale);
  const plan::QuantizedMultiplier m1 = plan::quantize_multiplier(e1);
  const plan::QuantizedMultiplier m2 = plan::quantize_multiplier(e2);
  const plan::ClampRange r = plan::activation_range_int8(l.act, l.out_scale, l.out_zp);
  std::vector<int8_t> out;
  for (int32_t b = 0; b < s.batch; ++b) {
    for (int32_t f = 0; f < s.filters(); ++f) {
      int64_t dot = 0;
      for (int32_t k = 0; k < s.input_size; ++k)
        dot += int64_t{l.wf_q[f * s.input_size + k]} * (x[b * s.input_size + k] - l.in_zp);
      const int32_t v = plan::multiply_by_quantized_multiplier(static_cast<int32_t>(dot),
                                                               m1.multiplier, m1.shift);
      mem.push(static_cast<size_t>(b * s.filters() + f),
               static_cast<int16_t>(std::clamp(v, -32768, 32767)));
    }
    for (int32_t u = 0; u < s.units; ++u) {
      int64_t acc = l.with_bias ? l.bias_q[u] : 0;
      for (int32_t f = u * s.rank; f < (u + 1) * s.rank; ++f) {
        const auto& frames = mem.frames[static_cast<size_t>(b * s.filters() + f)];
        for (int32_t m = 0; m < s.memory; ++m) acc += int64_t{l.wt_q[f * s.memory + m]} * frames[m];
      }
      // The test's weights keep the sums inside int32, where TFLM's arithmetic is defined.
      EXPECT_EQ(acc, static_cast<int32_t>(acc));
      const int32_t v = plan::multiply_by_quantized_multiplier(static_cast<int32_t>(acc),
                                                               m2.multiplier, m2.shift);
      out.push_back(static_cast<int8_t>(std::clamp(v + l.out_zp, r.min, r.max)));
    }
  }
  return out;
}

// Imports the layer's model from its TFLite bytes and runs `steps` invocations.
class Device {
 public:
  explicit Device(const ir::Graph& g) {
    const std::vector<uint8_t> model = tflite_export::write_tflite(g);
    plan_ = std::make_unique<emit::ValidatedPlan>(
        emit::write_plan_blob(plan::build_plan(import_tflite(model.data(), model.size(), "svdf"))),
        "svdf");
    arena_.resize(Runtime::region_size(plan_->data(), 0) / 4 + 1);
    const Status st = rt_.init(plan_->data(), plan_->size(),
                               reinterpret_cast<uint8_t*>(arena_.data()), arena_.size() * 4);
    EXPECT_EQ(st, Status::ok);
  }
  std::vector<uint8_t> step(const std::vector<uint8_t>& input) {
    const TensorView in = rt_.input(0), out = rt_.output(0);
    std::memcpy(in.data, input.data(), input.size());
    EXPECT_EQ(rt_.invoke(), Status::ok);
    const auto* o = static_cast<const uint8_t*>(out.data);
    return {o, o + out.bytes};
  }
  Runtime& runtime() { return rt_; }

 private:
  std::unique_ptr<emit::ValidatedPlan> plan_;
  std::vector<uint32_t> arena_;
  Runtime rt_;
};

const Shape kShapes[] = {
    {1, 5, 3, 2, 4},    // rank 2
    {2, 7, 4, 1, 6},    // batch 2, rank 1
    {1, 16, 2, 3, 10},  // longer memory than steps at first
};

TEST(Svdf, Float32SequenceMatchesTfliteArithmeticBitForBit) {
  for (const Shape& s : kShapes)
    for (bool with_bias : {true, false})
      for (ir::Activation act : {ir::Activation::none, ir::Activation::relu}) {
        const Layer l = make_layer(s, false, with_bias, act, 11);
        Device device(graph(l));
        std::mt19937 rng(3);
        for (int pass = 0; pass < 2; ++pass) {
          Memory<float> mem(s);
          for (int step = 0; step < 14; ++step) {
            const std::vector<float> x =
                random_values<float>(static_cast<size_t>(s.batch * s.input_size), -2, 2, rng);
            EXPECT_EQ(device.step(to_bytes(x)), to_bytes(reference_float(l, mem, x)))
                << "memory " << s.memory << " rank " << s.rank << " step " << step << " pass "
                << pass;
          }
          device.runtime().reset_state();  // the second pass starts a new sequence
        }
      }
}

TEST(Svdf, Int8SequenceMatchesTflmIntegerReference) {
  for (const Shape& s : kShapes)
    for (bool with_bias : {true, false})
      for (ir::Activation act : {ir::Activation::none, ir::Activation::relu}) {
        const Layer l = make_layer(s, true, with_bias, act, 12);
        Device device(graph(l));
        std::mt19937 rng(4);
        for (int pass = 0; pass < 2; ++pass) {
          Memory<int16_t> mem(s);
          for (int step = 0; step < 14; ++step) {
            // Random inputs, then the extremes (saturating the int16 state).
            std::vector<int8_t> x =
                random_values<int8_t>(static_cast<size_t>(s.batch * s.input_size), -128, 127, rng);
            if (step % 5 == 3)
              std::fill(x.begin(), x.end(), static_cast<int8_t>(step % 2 ? 127 : -128));
            EXPECT_EQ(device.step(to_bytes(x)), to_bytes(reference_int8(l, mem, x)))
                << "memory " << s.memory << " rank " << s.rank << " step " << step << " pass "
                << pass;
          }
          device.runtime().reset_state();
        }
      }
}

TEST(Svdf, StateIsOneBufferOfItsOwnThatNoActivationShares) {
  const Layer l = make_layer(kShapes[0], false, true, ir::Activation::none, 1);
  const plan::Plan p = plan::build_plan(graph(l));
  int states = 0;
  for (const plan::PlanTensor& t : p.tensors) {
    if (t.storage != Storage::state) continue;
    ++states;
    for (const plan::PlanTensor& other : p.tensors)
      if (&other != &t && other.storage == Storage::arena)
        EXPECT_TRUE(other.arena_offset + other.bytes() <= t.arena_offset ||
                    t.arena_offset + t.bytes() <= other.arena_offset)
            << other.name << " overlaps the state";
  }
  EXPECT_EQ(states, 1);
}

// The blob with tensor `t`'s storage byte replaced and the checksum redone.
std::vector<uint8_t> with_storage(std::vector<uint8_t> blob, uint32_t t, Storage storage) {
  PlanHeader h;
  std::memcpy(&h, blob.data(), sizeof h);
  blob[h.tensors_offset + t * sizeof(TensorRecord) + offsetof(TensorRecord, storage)] =
      static_cast<uint8_t>(storage);
  h.checksum = plan_checksum(blob.data(), h.total_size);
  std::memcpy(blob.data(), &h, sizeof h);
  return blob;
}

Status validated(const std::vector<uint8_t>& blob) {
  std::vector<uint32_t> aligned((blob.size() + 3) / 4);
  std::memcpy(aligned.data(), blob.data(), blob.size());
  return validate_plan(reinterpret_cast<const uint8_t*>(aligned.data()),
                       static_cast<uint32_t>(blob.size()));
}

TEST(Svdf, ValidatorKeepsStateToTheStateInput) {
  const Layer l = make_layer(kShapes[0], false, true, ir::Activation::none, 1);
  const plan::Plan p = plan::build_plan(graph(l));
  const std::vector<uint8_t> blob = emit::write_plan_blob(p);
  ASSERT_EQ(validated(blob), Status::ok);
  const uint16_t state = p.ops[0].inputs[4], input = p.ops[0].inputs[0];
  // The state input as a plain activation: a kernel would keep nothing, or write a constant.
  EXPECT_EQ(validated(with_storage(blob, state, Storage::arena)), Status::bad_params);
  EXPECT_NE(validated(with_storage(blob, state, Storage::constant)), Status::ok);
  // A state tensor anywhere else (here the op's input 0, also the model input).
  EXPECT_EQ(validated(with_storage(blob, input, Storage::state)), Status::bad_params);
}

TEST(Svdf, AheadOfTimeCppZeroesTheStateOnReset) {
  const Layer l = make_layer(kShapes[1], true, true, ir::Activation::none, 1);
  const plan::Plan p = plan::build_plan(graph(l));
  const std::string cpp = emit::emit_aot_cpp(emit::write_plan_blob(p));
  const plan::PlanTensor& state = p.tensors[p.ops[0].inputs[4]];
  EXPECT_NE(cpp.find("eval_Svdf("), std::string::npos);
  EXPECT_NE(cpp.find(fmt::format("void reset_state() {{\n  std::memset(g_arena + {}, 0, {});",
                                 state.arena_offset, state.bytes())),
            std::string::npos);
}

std::string import_error(ir::Graph g) {
  try {
    const std::vector<uint8_t> model = tflite_export::write_tflite(g);
    import_tflite(model.data(), model.size(), "svdf");
  } catch (const tinyforge::Error& e) {
    return e.what();
  }
  return "";
}

TEST(Svdf, ReaderRefusesWhatTheKernelDoesNotRun) {
  const Layer l = make_layer(kShapes[0], true, true, ir::Activation::none, 1);
  ir::Graph not_variable = graph(l);
  not_variable.tensors[4].variable = false;
  not_variable.inputs.push_back(4);  // a model input instead: TFLite's stateless misuse
  EXPECT_NE(import_error(not_variable).find("expected a variable tensor"), std::string::npos);

  ir::Graph bad_bias = graph(l);
  bad_bias.tensors[3].quant.scale[0] *= 2;
  EXPECT_NE(import_error(bad_bias).find("expected state x time weights scale"), std::string::npos);

  ir::Graph int8_state = graph(l);
  int8_state.tensors[4].type = DType::i8;
  EXPECT_NE(import_error(int8_state).find("int8 activation state"), std::string::npos);

  ir::Graph bad_shape = graph(l);
  bad_shape.tensors[4].shape[1] += 1;
  EXPECT_NE(import_error(bad_shape).find("batch, filters x memory"), std::string::npos);
}

}  // namespace
}  // namespace tinyforge
