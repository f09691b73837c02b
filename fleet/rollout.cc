#include "fleet/rollout.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>
#include <thread>

#include "fleet/service.h"
#include "ir/error.h"
#include "ota/package_writer.h"
#include "tinyforge/ota/package.h"

namespace tinyforge::fleet {
namespace {

// FNV-1a, 64-bit: a stable spread of device ids over the cohorts.
uint64_t fnv1a(const std::string& s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string format_value(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

}  // namespace

std::vector<HaltRule> parse_halt_rules(const std::string& text) {
  std::vector<HaltRule> rules;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    const size_t gt = part.find('>');
    HaltRule rule;
    rule.metric = part.substr(0, gt);
    if (gt == std::string::npos || (rule.metric != "error_rate" && rule.metric != "drift"))
      throw Error("--halt-on: `" + part + "` is not error_rate>X or drift>X");
    std::string value = part.substr(gt + 1);
    const bool percent = !value.empty() && value.back() == '%';
    if (percent) value.pop_back();
    try {
      size_t used = 0;
      rule.limit = std::stod(value, &used);
      if (used != value.size() || !(rule.limit >= 0)) throw 0;
    } catch (...) {
      throw Error("--halt-on: `" + part + "` needs a non-negative number after >");
    }
    if (percent) rule.limit /= 100;
    rules.push_back(rule);
  }
  if (rules.empty()) throw Error("--halt-on: give at least one rule, e.g. error_rate>1%");
  return rules;
}

std::vector<int> parse_percents(const std::string& text) {
  std::vector<int> out;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    int p = 0;
    try {
      size_t used = 0;
      p = std::stoi(part, &used);
      if (used != part.size()) throw 0;
    } catch (...) {
      throw Error("--percent: `" + part + "` is not a whole number");
    }
    if (p < 1 || p > 100 || (!out.empty() && p <= out.back()))
      throw Error("--percent: stages must increase within 1..100 (e.g. 5,25,100)");
    out.push_back(p);
  }
  if (out.empty() || out.back() != 100)
    throw Error("--percent: the last stage must be 100 (e.g. 5,25,100)");
  return out;
}

std::vector<std::string> rollout_order(std::vector<std::string> devices) {
  std::sort(devices.begin(), devices.end(), [](const std::string& a, const std::string& b) {
    const uint64_t ha = fnv1a(a), hb = fnv1a(b);
    return ha != hb ? ha < hb : a < b;
  });
  return devices;
}

ota::Manifest package_manifest(const std::vector<uint8_t>& package, const std::string& source) {
  uint32_t manifest_size = 0;
  ota::Manifest m{};
  if (ota::parse_package_header(package.data(), package.size(), &manifest_size) != Status::ok ||
      package.size() < ota::kPackageHeaderBytes + manifest_size ||
      ota::parse_manifest(package.data() + ota::kPackageHeaderBytes, manifest_size, &m) !=
          Status::ok)
    throw Error(source + ": not a readable OTA package (tinyforge inspect tells more)");
  return m;
}

std::string package_model(const std::vector<uint8_t>& package, const std::string& source) {
  const ota::Manifest m = package_manifest(package, source);
  return std::string(m.model_id) + " " + ota::semver_text(m.version);
}

RolloutResult run_rollout(
    Store& store, const RolloutPlan& plan,
    const std::function<bool(const std::string&, const std::vector<uint8_t>&)>& publish,
    const std::function<void(const std::string&)>& log) {
  const std::vector<std::string> order = rollout_order(plan.devices);
  store.audit(plan.actor, "rollout_start",
              plan.model + " to " + std::to_string(order.size()) + " devices");
  RolloutResult result;
  size_t updated = 0;
  for (size_t stage = 0; stage < plan.percents.size(); ++stage) {
    const size_t target = static_cast<size_t>(
        std::ceil(static_cast<double>(order.size()) * plan.percents[stage] / 100.0));
    const int64_t since = now_ms();
    for (; updated < target; ++updated) publish(update_topic(order[updated]), plan.package);
    const std::vector<std::string> cohort(order.begin(), order.begin() + updated);
    store.audit(plan.actor, "stage_start",
                "stage " + std::to_string(stage + 1) + ": " + std::to_string(updated) +
                    " devices (" + std::to_string(plan.percents[stage]) + "%)");
    log("stage " + std::to_string(stage + 1) + ": " + plan.model + " sent to " +
        std::to_string(updated) + " devices");

    // Watch until the cohort reports on the new model, a rule breaks, or time is up.
    std::string broken;
    Store::CohortHealth health;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(plan.watch_ms);
    for (;;) {
      health = store.cohort_health(cohort, plan.model, since);
      double drift = 0;
      const std::map<std::string, double> scores = store.drift();
      for (const std::string& d : cohort) {
        const auto s = scores.find(d);
        if (s != scores.end()) drift = std::max(drift, s->second);
      }
      const double rate =
          static_cast<double>(health.errors) / std::max<int64_t>(1, health.inferences);
      for (const HaltRule& rule : plan.halt_on) {
        const double value = rule.metric == "error_rate" ? rate : drift;
        if (value > rule.limit)
          broken = rule.metric + " " + format_value(value) + " > " + format_value(rule.limit);
      }
      const bool reported = static_cast<double>(health.reporting) >=
                            plan.min_reporting * static_cast<double>(cohort.size());
      if (!broken.empty() || reported || std::chrono::steady_clock::now() > deadline) {
        if (broken.empty() && !reported)
          broken = "only " + std::to_string(health.reporting) + " of " +
                   std::to_string(cohort.size()) + " devices report " + plan.model;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (!broken.empty()) {
      result.halted_stage = static_cast<int>(stage);
      result.reason = broken;
      store.audit(plan.actor, "halt", "stage " + std::to_string(stage + 1) + ": " + broken);
      log("halted at stage " + std::to_string(stage + 1) + ": " + broken);
      if (!plan.rollback_package.empty()) {
        int rolled = 0;
        for (const DeviceRow& d : store.devices()) {
          if (d.model != plan.model ||
              std::find(cohort.begin(), cohort.end(), d.device_id) == cohort.end())
            continue;
          publish(update_topic(d.device_id), plan.rollback_package);
          ++rolled;
        }
        store.audit(plan.actor, "rollback",
                    std::to_string(rolled) + " devices sent " +
                        package_model(plan.rollback_package, "the rollback package"));
      }
      return result;
    }
    store.audit(plan.actor, "stage_passed",
                "stage " + std::to_string(stage + 1) + ": " + std::to_string(health.reporting) +
                    " devices on " + plan.model + ", " + std::to_string(health.errors) +
                    " errors in " + std::to_string(health.inferences) + " inferences");
  }
  store.audit(plan.actor, "rollout_complete", plan.model);
  result.completed = true;
  return result;
}

}  // namespace tinyforge::fleet
