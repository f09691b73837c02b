// ONNX GRU (unrolled at import, onnx_gru.cc) and LSTM in every direction: models built
// with the protobuf classes are imported, planned and run on the device runtime, and Y and
// Y_h are compared with a double-precision reference written here from ONNX's definition
// (onnx/defs/rnn/defs.cc: the GRU and LSTM equations; "reverse" reads the sequence from
// its last step, "bidirectional" stacks a forward and a reverse direction on Y's direction
// axis). Several sizes, both GRU linear_before_reset values, layouts 0 and 1, with and
// without B and initial_h. Also what the importer and the quantizer refuse.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "export/tflite_writer.h"
#include "import/onnx/onnx_test_builder.h"
#include "import/tflite/import_tflite.h"
#include "ir/error.h"
#include "ops/gru.h"
#include "quantize/quantize_graph.h"

namespace tinyforge {
namespace {

using onnx_test::attr;
using onnx_test::ModelBuilder;
using onnx_test::random_floats;

struct RnnConfig {
  bool gru = true;
  int64_t steps = 3, batch = 2, features = 4, hidden = 5;
  std::string direction = "forward";
  int64_t layout = 0;
  int64_t linear_before_reset = 0;  // GRU
  bool bias = true;
  bool peephole = false;  // LSTM
  int initial_h = 0;      // GRU: 0 none, 1 constant, 2 run-time input
  uint32_t seed = 1;
  int64_t dirs() const { return direction == "bidirectional" ? 2 : 1; }
  int64_t gates() const { return gru ? 3 : 4; }
  std::string name() const {
    return (gru ? "GRU" : "LSTM") + (" " + direction) + " T" + std::to_string(steps) + " B" +
           std::to_string(batch) + " I" + std::to_string(features) + " H" + std::to_string(hidden) +
           " layout " + std::to_string(layout) + " lbr " + std::to_string(linear_before_reset) +
           (bias ? " bias" : "") + (peephole ? " peephole" : "") + " initial_h " +
           std::to_string(initial_h);
  }
};

struct RnnData {
  std::vector<float> x, w, r, b, p, h0;
};

RnnData rnn_data(const RnnConfig& c) {
  const auto n = [](int64_t v) { return static_cast<size_t>(v); };
  const int64_t d = c.dirs(), g = c.gates(), h = c.hidden;
  RnnData data;
  data.x = random_floats(n(c.steps * c.batch * c.features), c.seed, -2.0f, 2.0f);
  data.w = random_floats(n(d * g * h * c.features), c.seed + 1);
  data.r = random_floats(n(d * g * h * h), c.seed + 2);
  data.b = c.bias ? random_floats(n(d * 2 * g * h), c.seed + 3)
                  : std::vector<float>(n(d * 2 * g * h), 0.0f);
  if (c.peephole) data.p = random_floats(n(d * 3 * h), c.seed + 4);
  if (c.initial_h) data.h0 = random_floats(n(d * c.batch * h), c.seed + 5);
  return data;
}

double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

// Y [T,D,B,H] and Y_h [D,B,H] (layout 0 index order) from the definition, in double.
// x and h0 are in the model's layout.
struct Reference {
  std::vector<double> y, y_h;
};

Reference reference(const RnnConfig& c, const RnnData& data) {
  const int64_t T = c.steps, B = c.batch, I = c.features, H = c.hidden, D = c.dirs();
  const int64_t G = c.gates();
  const auto at = [](int64_t v) { return static_cast<size_t>(v); };
  const auto x = [&](int64_t t, int64_t b, int64_t i) {
    return static_cast<double>(c.layout ? data.x[at((b * T + t) * I + i)]
                                        : data.x[at((t * B + b) * I + i)]);
  };
  Reference out;
  out.y.assign(at(T * D * B * H), 0.0);
  out.y_h.assign(at(D * B * H), 0.0);
  for (int64_t d = 0; d < D; ++d) {
    const bool reverse = d == 1 || c.direction == "reverse";
    // Row `row` of gate block `gate` times the input / a hidden vector, plus bias `k`.
    const auto wx = [&](int64_t gate, int64_t j, int64_t t, int64_t b) {
      double s = 0;
      for (int64_t i = 0; i < I; ++i)
        s += static_cast<double>(data.w[at(((d * G + gate) * H + j) * I + i)]) * x(t, b, i);
      return s;
    };
    const auto rh = [&](int64_t gate, int64_t j, const std::vector<double>& v) {
      double s = 0;
      for (int64_t k = 0; k < H; ++k)
        s += static_cast<double>(data.r[at(((d * G + gate) * H + j) * H + k)]) * v[at(k)];
      return s;
    };
    const auto wb = [&](int64_t gate, int64_t j) {
      return static_cast<double>(data.b[at(d * 2 * G * H + gate * H + j)]);
    };
    const auto rb = [&](int64_t gate, int64_t j) {
      return static_cast<double>(data.b[at(d * 2 * G * H + (G + gate) * H + j)]);
    };
    for (int64_t b = 0; b < B; ++b) {
      std::vector<double> hs(at(H), 0.0), cs(at(H), 0.0);
      if (!data.h0.empty())
        for (int64_t j = 0; j < H; ++j) {
          const int64_t index = c.layout ? (b * D + d) * H + j : (d * B + b) * H + j;
          hs[at(j)] = data.h0[at(index)];
        }
      for (int64_t k = 0; k < T; ++k) {
        const int64_t t = reverse ? T - 1 - k : k;
        std::vector<double> next(at(H)), next_c(at(H));
        if (c.gru) {  // gates z, r, h
          std::vector<double> z(at(H)), r(at(H)), rh_prod(at(H));
          for (int64_t j = 0; j < H; ++j) {
            z[at(j)] = sigmoid(wx(0, j, t, b) + rh(0, j, hs) + wb(0, j) + rb(0, j));
            r[at(j)] = sigmoid(wx(1, j, t, b) + rh(1, j, hs) + wb(1, j) + rb(1, j));
            rh_prod[at(j)] = r[at(j)] * hs[at(j)];
          }
          for (int64_t j = 0; j < H; ++j) {
            const double candidate =
                c.linear_before_reset
                    ? std::tanh(wx(2, j, t, b) + wb(2, j) + r[at(j)] * (rh(2, j, hs) + rb(2, j)))
                    : std::tanh(wx(2, j, t, b) + rh(2, j, rh_prod) + rb(2, j) + wb(2, j));
            next[at(j)] = (1 - z[at(j)]) * candidate + z[at(j)] * hs[at(j)];
          }
        } else {  // gates i, o, f, c; peepholes i, o, f
          const auto peep = [&](int64_t k2, int64_t j, double v) {
            return data.p.empty() ? 0.0 : data.p[at((d * 3 + k2) * H + j)] * v;
          };
          for (int64_t j = 0; j < H; ++j) {
            const auto pre = [&](int64_t gate) {
              return wx(gate, j, t, b) + rh(gate, j, hs) + wb(gate, j) + rb(gate, j);
            };
            const double in = sigmoid(pre(0) + peep(0, j, cs[at(j)]));
            const double forget = sigmoid(pre(2) + peep(2, j, cs[at(j)]));
            const double cell = std::tanh(pre(3));
            next_c[at(j)] = forget * cs[at(j)] + in * cell;
            const double output = sigmoid(pre(1) + peep(1, j, next_c[at(j)]));
            next[at(j)] = output * std::tanh(next_c[at(j)]);
          }
          cs = next_c;
        }
        hs = next;
        for (int64_t j = 0; j < H; ++j) out.y[at(((t * D + d) * B + b) * H + j)] = hs[at(j)];
      }
      for (int64_t j = 0; j < H; ++j) out.y_h[at((d * B + b) * H + j)] = hs[at(j)];
    }
  }
  return out;
}

// The model: X (and a run-time initial_h) as inputs, the rest initializers; outputs Y, Y_h.
ModelBuilder rnn_model(const RnnConfig& c, const RnnData& data) {
  const int64_t T = c.steps, B = c.batch, I = c.features, H = c.hidden, D = c.dirs();
  const int64_t G = c.gates();
  ModelBuilder m(14);
  m.input("X", c.layout ? std::vector<int64_t>{B, T, I} : std::vector<int64_t>{T, B, I});
  const std::vector<int64_t> h0_shape =
      c.layout ? std::vector<int64_t>{B, D, H} : std::vector<int64_t>{D, B, H};
  if (c.initial_h == 2) m.input("initial_h", h0_shape);
  m.initializer("W", {D, G * H, I}, data.w);
  m.initializer("R", {D, G * H, H}, data.r);
  if (c.bias) m.initializer("B", {D, 2 * G * H}, data.b);
  if (c.initial_h == 1) m.initializer("initial_h", h0_shape, data.h0);
  if (!data.p.empty()) m.initializer("P", {D, 3 * H}, data.p);
  onnx::NodeProto& n = m.node(c.gru ? "GRU" : "LSTM", {}, {}, c.gru ? "gru" : "lstm");
  for (const char* in : {"X", "W", "R"}) n.add_input(in);
  n.add_input(c.bias ? "B" : "");
  n.add_input("");  // sequence_lens
  n.add_input(c.initial_h ? "initial_h" : "");
  if (!data.p.empty()) {
    n.add_input("");  // initial_c
    n.add_input("P");
  }
  n.add_output("Y");
  n.add_output("Y_h");
  attr(n, "hidden_size", H);
  attr(n, "direction", c.direction.c_str());
  if (c.layout) attr(n, "layout", c.layout);
  if (c.gru) attr(n, "linear_before_reset", c.linear_before_reset);
  m.output("Y");
  m.output("Y_h");
  return m;
}

// Y and Y_h from the device runtime match the reference within float32 rounding.
void expect_matches_reference(const RnnConfig& c) {
  SCOPED_TRACE(c.name());
  const RnnData data = rnn_data(c);
  const ir::Graph g = rnn_model(c, data).import();
  std::vector<std::vector<float>> inputs = {data.x};
  if (c.initial_h == 2) inputs.push_back(data.h0);
  const std::vector<std::vector<float>> got = onnx_test::run_graph(g, inputs);
  const Reference want = reference(c, data);
  ASSERT_EQ(got.size(), 2u);
  const int64_t T = c.steps, B = c.batch, H = c.hidden, D = c.dirs();
  ASSERT_EQ(got[0].size(), want.y.size());
  ASSERT_EQ(got[1].size(), want.y_h.size());
  double largest = 0;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t d = 0; d < D; ++d)
      for (int64_t b = 0; b < B; ++b)
        for (int64_t j = 0; j < H; ++j) {
          const double w = want.y[static_cast<size_t>(((t * D + d) * B + b) * H + j)];
          const int64_t k =
              c.layout ? ((b * T + t) * D + d) * H + j : ((t * D + d) * B + b) * H + j;
          ASSERT_NEAR(got[0][static_cast<size_t>(k)], w, 2e-5 * (1 + std::fabs(w)))
              << "Y t " << t << " direction " << d << " batch " << b << " unit " << j;
          largest = std::max(largest, std::fabs(w));
        }
  for (int64_t d = 0; d < D; ++d)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < H; ++j) {
        const double w = want.y_h[static_cast<size_t>((d * B + b) * H + j)];
        const int64_t k = c.layout ? (b * D + d) * H + j : (d * B + b) * H + j;
        ASSERT_NEAR(got[1][static_cast<size_t>(k)], w, 2e-5 * (1 + std::fabs(w)))
            << "Y_h direction " << d << " batch " << b << " unit " << j;
      }
  EXPECT_GT(largest, 0.05) << "outputs near zero: a weak test";
}

TEST(OnnxGru, EveryDirectionAndLinearBeforeResetMatchesTheDefinition) {
  const struct {
    int64_t steps, batch, features, hidden;
  } sizes[] = {{1, 1, 1, 1}, {3, 2, 4, 5}, {5, 3, 2, 7}, {6, 1, 6, 3}};
  uint32_t seed = 10;
  for (const auto& s : sizes)
    for (const char* direction : {"forward", "reverse", "bidirectional"})
      for (int64_t lbr : {0, 1}) {
        RnnConfig c;
        c.steps = s.steps;
        c.batch = s.batch;
        c.features = s.features;
        c.hidden = s.hidden;
        c.direction = direction;
        c.linear_before_reset = lbr;
        c.layout = seed % 2;
        c.bias = seed % 3 != 0;
        c.seed = seed++;
        expect_matches_reference(c);
      }
}

TEST(OnnxGru, InitialHiddenStateConstantOrRunTime) {
  for (int initial : {1, 2})
    for (const char* direction : {"forward", "bidirectional"})
      for (int64_t layout : {0, 1}) {
        RnnConfig c;
        c.direction = direction;
        c.layout = layout;
        c.initial_h = initial;
        c.linear_before_reset = layout;
        c.seed = 40 + static_cast<uint32_t>(initial * 4 + layout);
        expect_matches_reference(c);
      }
}

// The unrolled GRU is plain TFLite ops: exported, re-imported, it computes the same bytes.
TEST(OnnxGru, ExportsToTfliteAndRunsTheSame) {
  RnnConfig c;
  c.direction = "bidirectional";
  c.linear_before_reset = 1;
  c.layout = 1;
  c.initial_h = 2;
  const RnnData data = rnn_data(c);
  const ir::Graph g = rnn_model(c, data).import();
  const std::vector<uint8_t> bytes = tflite_export::write_tflite(g);
  const ir::Graph back = import_tflite(bytes.data(), bytes.size(), "gru.tflite");
  const std::vector<std::vector<float>> inputs = {data.x, data.h0};
  EXPECT_EQ(onnx_test::run_graph(back, inputs), onnx_test::run_graph(g, inputs));
}

TEST(OnnxLstm, ReverseAndBidirectionalMatchTheDefinition) {
  uint32_t seed = 60;
  for (const char* direction : {"forward", "reverse", "bidirectional"})
    for (int64_t layout : {0, 1})
      for (bool peephole : {false, true}) {
        RnnConfig c;
        c.gru = false;
        c.direction = direction;
        c.layout = layout;
        c.peephole = peephole;
        c.steps = 2 + seed % 4;
        c.batch = 1 + seed % 3;
        c.hidden = 3 + seed % 5;
        c.seed = seed++;
        expect_matches_reference(c);
      }
}

std::string import_error(const ModelBuilder& m) {
  try {
    m.import();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(OnnxGru, RefusesWhatItDoesNotImplementByName) {
  RnnConfig c;
  const RnnData data = rnn_data(c);
  {
    ModelBuilder m = rnn_model(c, data);
    onnx::AttributeProto* a = m.graph().mutable_node(0)->add_attribute();
    a->set_name("activations");
    a->set_type(onnx::AttributeProto::STRINGS);
    a->add_strings("Sigmoid");
    a->add_strings("Relu");
    const std::string e = import_error(m);
    EXPECT_NE(e.find("unsupported"), std::string::npos) << e;
    EXPECT_NE(e.find("'Relu'"), std::string::npos) << e;
  }
  {
    ModelBuilder m = rnn_model(c, data);
    attr(*m.graph().mutable_node(0), "clip", 3.0f);
    EXPECT_NE(import_error(m).find("unsupported: clip"), std::string::npos) << import_error(m);
  }
  {
    ModelBuilder m = rnn_model(c, data);
    m.initializer_i64("lengths", {c.batch}, {c.steps, c.steps - 1});
    m.graph().mutable_node(0)->set_input(4, "lengths");
    const std::string e = import_error(m);
    EXPECT_NE(e.find("sequence_lens 2 shorter than the sequence (3)"), std::string::npos) << e;
  }
  {
    ModelBuilder m = rnn_model(c, data);
    for (onnx::AttributeProto& a : *m.graph().mutable_node(0)->mutable_attribute())
      if (a.name() == "direction") a.set_s("sideways");
    EXPECT_NE(import_error(m).find("direction 'sideways'"), std::string::npos);
  }
  {  // all sequence_lens the full length is accepted
    ModelBuilder m = rnn_model(c, data);
    m.initializer_i64("lengths", {c.batch}, {c.steps, c.steps});
    m.graph().mutable_node(0)->set_input(4, "lengths");
    EXPECT_EQ(import_error(m), "");
  }
}

TEST(OnnxGru, TheQuantizerRefusesAGruByName) {
  RnnConfig c;
  c.direction = "bidirectional";
  const ir::Graph g = rnn_model(c, rnn_data(c)).import();
  size_t tagged = 0;
  for (const ir::Node& n : g.nodes) tagged += ops::is_gru_node(g, n);
  EXPECT_GT(tagged, 0u);
  try {
    quantize::quantize_graph(g, std::vector<quantize::TensorCalibration>(g.tensors.size()));
    FAIL() << "a GRU was quantized";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tinyforge has no int8 GRU"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace tinyforge
