// Test helper (header-only, used by *_test.cc only): builds small ONNX models with the
// protobuf classes, serializes them, and runs graphs through plan -> blob -> host runtime.
#pragma once
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

#include "emit/plan_writer.h"
#include "host/host_runner.h"
#include "import/onnx/import_onnx.h"
#include "plan/build_plan.h"

namespace tinyforge::onnx_test {

class ModelBuilder {
 public:
  explicit ModelBuilder(int opset = 13) {
    model_.set_ir_version(7);
    model_.set_producer_name("tinyforge-test");
    auto* o = model_.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    model_.mutable_graph()->set_name("test");
  }

  onnx::GraphProto& graph() { return *model_.mutable_graph(); }
  onnx::ModelProto& model() { return model_; }

  void input(const std::string& name, std::vector<int64_t> shape,
             int32_t elem_type = onnx::TensorProto::FLOAT) {
    value_info(graph().add_input(), name, shape, elem_type);
  }
  void output(const std::string& name, std::vector<int64_t> shape = {}) {
    value_info(graph().add_output(), name, shape);
  }

  void initializer(const std::string& name, std::vector<int64_t> shape,
                   const std::vector<float>& data) {
    onnx::TensorProto* t = graph().add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : shape) t->add_dims(d);
    t->set_raw_data(
        std::string(reinterpret_cast<const char*>(data.data()), data.size() * sizeof(float)));
  }
  void initializer_i64(const std::string& name, std::vector<int64_t> shape,
                       const std::vector<int64_t>& data) {
    onnx::TensorProto* t = graph().add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    for (int64_t d : shape) t->add_dims(d);
    for (int64_t v : data) t->add_int64_data(v);
  }

  onnx::NodeProto& node(const std::string& op, std::initializer_list<std::string> inputs,
                        std::initializer_list<std::string> outputs, const std::string& name = "") {
    onnx::NodeProto* n = graph().add_node();
    n->set_op_type(op);
    n->set_name(name.empty() ? op + "_" + std::to_string(graph().node_size()) : name);
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return *n;
  }

  std::string bytes() const { return model_.SerializeAsString(); }
  ir::Graph import() const {
    const std::string b = bytes();
    return import_onnx(reinterpret_cast<const uint8_t*>(b.data()), b.size(), "test.onnx");
  }

 private:
  static void value_info(onnx::ValueInfoProto* v, const std::string& name,
                         const std::vector<int64_t>& shape,
                         int32_t elem_type = onnx::TensorProto::FLOAT) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elem_type);
    if (shape.empty()) return;  // shape unknown (outputs: inferred by the importer)
    auto* s = tt->mutable_shape();
    for (int64_t d : shape) s->add_dim()->set_dim_value(d);
  }
  onnx::ModelProto model_;
};

inline void attr(onnx::NodeProto& n, const std::string& name, int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}
inline void attr(onnx::NodeProto& n, const std::string& name, float v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}
inline void attr(onnx::NodeProto& n, const std::string& name, const char* v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}
inline void attr(onnx::NodeProto& n, const std::string& name, std::vector<int64_t> v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

inline std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f,
                                        float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Runs a float graph on one case with the device runtime; returns each output's floats.
inline std::vector<std::vector<float>> run_graph(const ir::Graph& g,
                                                 const std::vector<std::vector<float>>& inputs) {
  const std::vector<uint8_t> blob = emit::write_plan_blob(plan::build_plan(g));
  host::HostRunner runner(blob, g.source);
  std::vector<std::vector<uint8_t>> raw;
  for (const auto& in : inputs) {
    raw.emplace_back(in.size() * sizeof(float));
    std::memcpy(raw.back().data(), in.data(), raw.back().size());
  }
  std::vector<std::vector<float>> out;
  for (const auto& o : runner.run(raw, 1)) {
    out.emplace_back(o.size() / sizeof(float));
    std::memcpy(out.back().data(), o.data(), o.size());
  }
  return out;
}

inline size_t count_ops(const ir::Graph& g, OpCode op) {
  size_t n = 0;
  for (const auto& node : g.nodes) n += node.op == op;
  return n;
}

}  // namespace tinyforge::onnx_test
