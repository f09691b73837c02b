// The default pass pipeline run by `compile` between import and planning.
#include "passes/passes.h"

namespace tinyforge::passes {

int run_default_passes(ir::Graph& g, const PassLog& log) {
  constexpr int kMaxRounds = 8;  // each round shrinks the graph; a cap guards against ping-pong
  int total = 0;
  for (int round = 0; round < kMaxRounds; ++round) {
    int changes = fold_constants(g, log);
    changes += eliminate_identities(g, log);
    changes += fuse_activations(g, log);
    changes += remove_dead_nodes(g, log);
    total += changes;
    if (changes == 0) break;
  }
  g.check();
  return total;
}

}  // namespace tinyforge::passes
