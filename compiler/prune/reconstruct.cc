#include "prune/reconstruct.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "ops/host_op.h"
#include "quantize/graph_probe.h"

namespace tinyforge::prune {
namespace {

// One weighted layer as a grouped convolution (ops::HostOp::weight_geometry): its input is
// cut into patches ("im2col"), one per output position and unit, patch entries in the
// weights' own order. A unit is a group: its out_per_group() output channels share the
// patch.
struct Layer {
  ir::WeightGeometry geo;
  int32_t k = 0, units = 1, per_unit = 0, out_channels = 0;
  int64_t positions = 0;

  explicit Layer(const ir::WeightGeometry& g)
      : geo(g),
        k(g.patch()),
        units(g.groups),
        per_unit(g.out_per_group()),
        out_channels(g.out_channels),
        positions(g.positions()) {}

  int32_t unit_of(int32_t oc) const { return oc / per_unit; }
  int64_t weight_index(int32_t oc, int32_t e) const { return geo.weight_index(oc, e); }

  void patch(const float* x, int64_t pos, int32_t unit, double* p) const {
    const int64_t b = pos / (int64_t{geo.oh} * geo.ow);
    const int32_t oy = static_cast<int32_t>((pos / geo.ow) % geo.oh);
    const int32_t ox = static_cast<int32_t>(pos % geo.ow);
    const int32_t first = unit * geo.group_in;
    for (int32_t y = 0; y < geo.kh; ++y)
      for (int32_t xk = 0; xk < geo.kw; ++xk) {
        const int32_t iy = oy * geo.stride_h - geo.pad_top + y * geo.dilation_h;
        const int32_t ix = ox * geo.stride_w - geo.pad_left + xk * geo.dilation_w;
        const bool inside = iy >= 0 && iy < geo.h && ix >= 0 && ix < geo.w;
        for (int32_t d = 0; d < geo.group_in; ++d) {
          const int32_t e = (y * geo.kw + xk) * geo.group_in + d;
          p[e] = inside ? x[((b * geo.h + iy) * geo.w + ix) * geo.c + first + d] : 0.0;
        }
      }
  }
};

Layer layer_of(const ir::Graph& g, size_t node) {
  const auto geometry = ops::host_op(g.nodes[node].op).weight_geometry;
  if (!geometry)
    throw tinyforge::Error(fmt::format("{}: this op has no weights to refit", g.node_label(node)));
  return Layer(geometry(g, node));
}

// Normal equations of one unit: G = sum p p^T, H[:, j] = sum p y_j over patches p
// extended by a constant 1 (the bias) at index k.
struct Normal {
  std::vector<double> g, h;
};

// Solves (A + lambda I) x = b for symmetric positive definite A (Cholesky, in place).
bool solve_spd(std::vector<double>& a, std::vector<double>& b, size_t n) {
  for (size_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (size_t k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0)) return false;
    d = std::sqrt(d);
    a[j * n + j] = d;
    for (size_t i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (size_t k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / d;
    }
  }
  for (size_t i = 0; i < n; ++i) {  // L y = b
    double s = b[i];
    for (size_t k = 0; k < i; ++k) s -= a[i * n + k] * b[k];
    b[i] = s / a[i * n + i];
  }
  for (size_t i = n; i-- > 0;) {  // L^T x = y
    double s = b[i];
    for (size_t k = i + 1; k < n; ++k) s -= a[k * n + i] * b[k];
    b[i] = s / a[i * n + i];
  }
  return true;
}

float value(const ir::Tensor& t, int64_t i) { return t.at<float>(i); }
void set_value(ir::Tensor& t, int64_t i, double v) {
  const float f = static_cast<float>(v);
  std::memcpy(t.data.data() + i * 4, &f, 4);
}

size_t slot_of(const quantize::GraphProbe& probe, int tensor) {
  const auto& list = probe.tensors();
  return static_cast<size_t>(std::find(list.begin(), list.end(), tensor) - list.begin());
}

// Ridge strengths tried (relative to the mean diagonal of the normal equations) when the
// caller lets the data choose, and the share of calibration cases held out to choose.
constexpr double kRidgeGrid[] = {1e-4, 1e-3, 1e-2, 1e-1, 1.0};
constexpr uint32_t kHoldOutEvery = 5;  // case c is held out when c % 5 == 4

void add(Normal& into, const Normal& from) {
  for (size_t i = 0; i < into.g.size(); ++i) into.g[i] += from.g[i];
  for (size_t i = 0; i < into.h.size(); ++i) into.h[i] += from.h[i];
}

class Refitter {
 public:
  Refitter(ir::Graph& pruned, const ir::Graph& dense, const quantize::CalibrationSet& data,
           double ridge, const std::vector<std::vector<int32_t>>& kept_channels)
      : pruned_(pruned),
        dense_(dense),
        data_(data),
        ridge_(ridge),
        kept_(kept_channels),
        dense_probe_(dense) {}

  struct Result {
    int channels = 0;
    double ridge = 0;
  };

  Result refit(size_t node) {
    const Layer l = layer_of(pruned_, node);
    const size_t dim = static_cast<size_t>(l.k) + 1;
    // Normal equations of the fitting cases and of the held-out ones, per unit.
    std::vector<Normal> fit(static_cast<size_t>(l.units)), held(static_cast<size_t>(l.units));
    for (std::vector<Normal>* set : {&fit, &held})
      for (Normal& u : *set) {
        u.g.assign(dim * dim, 0.0);
        u.h.assign(dim * static_cast<size_t>(l.per_unit), 0.0);
      }
    accumulate(node, l, fit, held);

    ensure_bias(node, l);
    ir::Tensor& w = weights(node);
    ir::Tensor& b = bias(node);
    const bool choose = ridge_ <= 0 && data_.cases >= kHoldOutEvery;
    Result r;
    r.ridge = ridge_ > 0 ? ridge_ : kRidgeGrid[1];
    if (choose) {
      double best = INFINITY;
      for (double ridge : kRidgeGrid) {
        const double e = held_out_error(l, w, b, fit, held, ridge);
        if (e < best) {
          best = e;
          r.ridge = ridge;
        }
      }
    }
    for (size_t u = 0; u < fit.size(); ++u) add(fit[u], held[u]);
    std::vector<double> x;
    std::vector<size_t> kept;
    for (int32_t oc = 0; oc < l.out_channels; ++oc) {
      if (!solve_channel(l, w, b, fit, oc, r.ridge, x, kept))
        continue;  // degenerate: keep as pruned
      for (size_t i = 0; i + 1 < kept.size(); ++i)
        set_value(w, l.weight_index(oc, static_cast<int32_t>(kept[i])), x[i]);
      set_value(b, oc, x.back());
      ++r.channels;
    }
    return r;
  }

 private:
  ir::Tensor& weights(size_t node) {
    return pruned_.tensors[static_cast<size_t>(pruned_.nodes[node].inputs[1])];
  }
  ir::Tensor& bias(size_t node) {
    return pruned_.tensors[static_cast<size_t>(pruned_.nodes[node].inputs[2])];
  }

  // Patches of the pruned model's input against targets of the dense layer, over every
  // calibration case (held-out cases into `held`).
  void accumulate(size_t node, const Layer& l, std::vector<Normal>& fit,
                  std::vector<Normal>& held) {
    const ir::Node& n = pruned_.nodes[node];
    const ir::Node& dn = dense_.nodes[node];
    const ir::Tensor& wd = dense_.tensors[static_cast<size_t>(dn.inputs[1])];
    const ir::Tensor* bd = dn.inputs.size() > 2 && dn.inputs[2] >= 0
                               ? &dense_.tensors[static_cast<size_t>(dn.inputs[2])]
                               : nullptr;
    const Layer ld = layer_of(dense_, node);  // differs from l after structured pruning
    const std::vector<int32_t>* kept =
        node < kept_.size() && !kept_[node].empty() ? &kept_[node] : nullptr;
    if (kept && kept->size() != static_cast<size_t>(l.out_channels))
      throw tinyforge::Error(fmt::format("{}: {} kept channels listed for {} output channels",
                                         pruned_.node_label(node), kept->size(), l.out_channels));
    const size_t dim = static_cast<size_t>(l.k) + 1;
    quantize::GraphProbe pruned_probe(pruned_);
    const size_t p_slot = slot_of(pruned_probe, n.inputs[0]);
    const size_t d_slot = slot_of(dense_probe_, dn.inputs[0]);
    const std::vector<uint32_t> bytes = quantize::input_tensor_bytes(dense_);
    std::vector<double> pp(dim), pd(static_cast<size_t>(ld.k));
    for (uint32_t c = 0; c < data_.cases; ++c) {
      std::vector<std::vector<uint8_t>> in;
      for (size_t i = 0; i < bytes.size(); ++i) {
        const uint8_t* begin = data_.inputs[i].data() + uint64_t{c} * bytes[i];
        in.emplace_back(begin, begin + bytes[i]);
      }
      const std::vector<float> xp = pruned_probe.run(in).at(p_slot);
      const std::vector<float> xd = dense_probe_.run(in).at(d_slot);
      std::vector<Normal>& into = c % kHoldOutEvery == kHoldOutEvery - 1 ? held : fit;
      for (int64_t pos = 0; pos < l.positions; ++pos)
        for (int32_t u = 0; u < l.units; ++u) {
          l.patch(xp.data(), pos, u, pp.data());
          pp[dim - 1] = 1.0;
          Normal& acc = into[static_cast<size_t>(u)];
          for (size_t i = 0; i < dim; ++i) {
            if (pp[i] == 0.0) continue;  // zero padding and ReLU zeros add nothing
            for (size_t j = i; j < dim; ++j) acc.g[i * dim + j] += pp[i] * pp[j];
          }
          int32_t dense_unit = -1;
          for (int32_t j = 0; j < l.per_unit; ++j) {
            const int32_t oc = u * l.per_unit + j;
            const int32_t doc = kept ? (*kept)[static_cast<size_t>(oc)] : oc;  // the dense channel
            if (ld.unit_of(doc) != dense_unit) {
              dense_unit = ld.unit_of(doc);
              ld.patch(xd.data(), pos, dense_unit, pd.data());
            }
            double y = bd ? value(*bd, doc) : 0.0;
            for (int32_t e = 0; e < ld.k; ++e)
              y += value(wd, ld.weight_index(doc, e)) * pd[static_cast<size_t>(e)];
            for (size_t i = 0; i < dim; ++i) acc.h[static_cast<size_t>(j) * dim + i] += pp[i] * y;
          }
        }
    }
  }

  void ensure_bias(size_t node, const Layer& l) {
    ir::Node& n = pruned_.nodes[node];
    if (n.inputs.size() < 3) n.inputs.resize(3, -1);
    if (n.inputs[2] >= 0) return;
    ir::Tensor b;
    b.name = pruned_.tensors[static_cast<size_t>(n.inputs[1])].name + "/bias";
    b.shape = {l.out_channels};
    b.constant = true;
    b.data.assign(static_cast<size_t>(l.out_channels) * 4, 0);
    n.inputs[2] = pruned_.add_tensor(std::move(b));
  }

  // Solves channel `oc` over its non-zero weights (in `w`) and bias (in `b`) from normal
  // equations `normal`: x = (G + lambda I)^-1 (h + lambda x0), lambda = ridge * mean
  // diagonal, x0 their current values. `kept` gets the patch entries solved for (the bias
  // last, as index k).
  static bool solve_channel(const Layer& l, const ir::Tensor& w, const ir::Tensor& b,
                            const std::vector<Normal>& normal, int32_t oc, double ridge,
                            std::vector<double>& x, std::vector<size_t>& kept) {
    const size_t dim = static_cast<size_t>(l.k) + 1;
    const int32_t j = oc % l.per_unit;
    const Normal& acc = normal[static_cast<size_t>(l.unit_of(oc))];
    kept.clear();
    std::vector<double> start;
    for (int32_t e = 0; e < l.k; ++e) {
      const float v = value(w, l.weight_index(oc, e));
      if (v == 0.0f) continue;
      kept.push_back(static_cast<size_t>(e));
      start.push_back(v);
    }
    kept.push_back(dim - 1);
    start.push_back(value(b, oc));
    const size_t m = kept.size();
    std::vector<double> a(m * m);
    x.assign(m, 0.0);
    double trace = 0;
    for (size_t r = 0; r < m; ++r) {
      for (size_t s = 0; s < m; ++s) {
        const size_t i = std::min(kept[r], kept[s]), jj = std::max(kept[r], kept[s]);
        a[r * m + s] = acc.g[i * dim + jj];
      }
      trace += a[r * m + r];
      x[r] = acc.h[static_cast<size_t>(j) * dim + kept[r]];
    }
    const double lambda = ridge * trace / static_cast<double>(m) + 1e-12;
    for (size_t r = 0; r < m; ++r) {
      a[r * m + r] += lambda;
      x[r] += lambda * start[r];
    }
    return solve_spd(a, x, m);
  }

  // Sum over channels of the held-out squared error (up to a constant) of the solution
  // fitted on `fit` with `ridge`: x'G_h x - 2 x'h_h.
  static double held_out_error(const Layer& l, const ir::Tensor& w, const ir::Tensor& b,
                               const std::vector<Normal>& fit, const std::vector<Normal>& held,
                               double ridge) {
    const size_t dim = static_cast<size_t>(l.k) + 1;
    double total = 0;
    std::vector<double> x;
    std::vector<size_t> kept;
    for (int32_t oc = 0; oc < l.out_channels; ++oc) {
      if (!solve_channel(l, w, b, fit, oc, ridge, x, kept)) continue;
      const Normal& h = held[static_cast<size_t>(l.unit_of(oc))];
      const int32_t j = oc % l.per_unit;
      for (size_t r = 0; r < kept.size(); ++r) {
        total -= 2 * x[r] * h.h[static_cast<size_t>(j) * dim + kept[r]];
        for (size_t s = 0; s < kept.size(); ++s) {
          const size_t i = std::min(kept[r], kept[s]), jj = std::max(kept[r], kept[s]);
          total += x[r] * h.g[i * dim + jj] * x[s];
        }
      }
    }
    return total;
  }

  ir::Graph& pruned_;
  const ir::Graph& dense_;
  const quantize::CalibrationSet& data_;
  double ridge_;
  const std::vector<std::vector<int32_t>>& kept_;
  quantize::GraphProbe dense_probe_;
};

}  // namespace

void reconstruct_pruned(ir::Graph& pruned, const ir::Graph& dense,
                        const quantize::CalibrationSet& data, double ridge,
                        const std::function<void(const std::string&)>& log,
                        const std::vector<std::vector<int32_t>>& kept_channels) {
  if (pruned.nodes.size() != dense.nodes.size())
    throw tinyforge::Error("reconstruction: the pruned and dense graphs differ in structure");
  for (size_t i = 0; i < dense.nodes.size(); ++i) {
    const ir::Node& n = pruned.nodes[i];
    if (n.op != dense.nodes[i].op)
      throw tinyforge::Error("reconstruction: the pruned and dense graphs differ in structure");
    if (!ops::has_weights(n.op)) continue;
    for (int t : {n.inputs.at(0), n.inputs.at(1), n.outputs.at(0)})
      if (pruned.tensors.at(static_cast<size_t>(t)).type != DType::f32)
        throw tinyforge::Error(
            fmt::format("{}: {}: reconstruction needs a float32 model (prune before "
                        "quantizing)",
                        pruned.source, pruned.node_label(i)));
    if (!pruned.tensors[static_cast<size_t>(n.inputs[1])].constant)
      throw tinyforge::Error(
          fmt::format("{}: {}: weights are not constant", pruned.source, pruned.node_label(i)));
  }
  Refitter refitter(pruned, dense, data, ridge, kept_channels);
  for (size_t i = 0; i < pruned.nodes.size(); ++i) {
    if (!ops::has_weights(pruned.nodes[i].op)) continue;
    const Refitter::Result r = refitter.refit(i);
    if (log)
      log(fmt::format("{}: refitted {} output channel(s), ridge {:g}", pruned.node_label(i),
                      r.channels, r.ridge));
  }
}

}  // namespace tinyforge::prune
