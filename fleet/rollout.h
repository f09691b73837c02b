// `tinyforge fleet rollout`: a signed package goes out in cohorts (cumulative percentages of
// the fleet, devices in a fixed pseudo-random order), each stage watched through the
// telemetry the service stores; a stage whose devices break a halt rule stops the rollout
// and the devices already on the new model get the rollback package. Every step is written
// to the audit log (who, what, when).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "fleet/store.h"
#include "tinyforge/ota/package.h"

namespace tinyforge::fleet {

struct HaltRule {
  std::string metric;  // "error_rate" (errors per inference, failed updates included) or
                       // "drift" (largest drift score among the cohort's devices)
  double limit = 0;
};

// "error_rate>1%,drift>3": throws naming the part that is wrong.
std::vector<HaltRule> parse_halt_rules(const std::string& text);
// "5,25,100": increasing, 1..100, the last 100.
std::vector<int> parse_percents(const std::string& text);

// Devices in rollout order: sorted by a hash of the id, so cohorts mix the fleet but the
// order is the same on every run.
std::vector<std::string> rollout_order(std::vector<std::string> devices);

struct RolloutPlan {
  std::vector<uint8_t> package;           // the signed update
  std::vector<uint8_t> rollback_package;  // optional: what a halted cohort gets instead
  std::string model;                      // "model_id version" of the update
  std::vector<std::string> devices;       // the fleet
  std::vector<int> percents;
  std::vector<HaltRule> halt_on;
  int64_t watch_ms = 30000;    // per stage at most
  double min_reporting = 0.9;  // fraction of the cohort on the new model to pass early
  std::string actor;           // who runs it (audit)
};

struct RolloutResult {
  bool completed = false;
  int halted_stage = -1;  // 0-based
  std::string reason;     // why it halted
};

// Publishes with `publish(topic, bytes)`; reads the telemetry through `store` (its own
// connection); `log` gets one line per stage.
RolloutResult run_rollout(
    Store& store, const RolloutPlan& plan,
    const std::function<bool(const std::string&, const std::vector<uint8_t>&)>& publish,
    const std::function<void(const std::string&)>& log);

// A package's manifest, unverified (throws naming `source` when unreadable); its
// "model_id version".
ota::Manifest package_manifest(const std::vector<uint8_t>& package, const std::string& source);
std::string package_model(const std::vector<uint8_t>& package, const std::string& source);

}  // namespace tinyforge::fleet
