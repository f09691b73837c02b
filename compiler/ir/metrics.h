// Model size and work figures from the Graph IR, as `tinyforge inspect` reports them.
//
// MACs (multiply-accumulates of one inference), per node:
//   Conv2D           N*OH*OW*OC * KH*KW*(IC/groups)   (filter [OC,KH,KW,IC/groups])
//   DepthwiseConv2D  N*OH*OW*OC * KH*KW               (one input channel per output)
//   FullyConnected   rows*OUT*IN                       (rows = input elements / IN)
//   everything else  0: pools, Add, Softmax, (de)quantize do comparisons, adds or
//                    lookups, not multiply-accumulates (the usual convention, e.g. the
//                    MLPerf Tiny / TFLM figures in ../shared/anchors).
// Params: elements of the constant tensors a node reads (weights, biases, constant
// operands); weight bytes: their size in bytes. A constant read by several nodes counts
// once in the totals. Totals saturate at INT64_MAX rather than overflow.
#pragma once
#include <cstdint>
#include <vector>

#include "ir/graph.h"

namespace tinyforge::ir {

struct NodeMetrics {
  int64_t macs = 0;
  int64_t params = 0;
  int64_t weight_bytes = 0;
};

struct GraphMetrics {
  std::vector<NodeMetrics> nodes;  // one per graph node, same order
  int64_t macs = 0;
  int64_t params = 0;
  int64_t weight_bytes = 0;
};

// Precondition: graph.check() passed (indices in range).
NodeMetrics node_metrics(const Graph& graph, size_t node_index);
GraphMetrics graph_metrics(const Graph& graph);

}  // namespace tinyforge::ir
