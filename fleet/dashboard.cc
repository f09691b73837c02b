#include "fleet/dashboard.h"

#include <httplib.h>

#include "ir/error.h"

namespace tinyforge::fleet {

using nlohmann::json;

json devices_json(Store& store) {
  const std::map<std::string, double> drift = store.drift();
  json out = json::array();
  for (const DeviceRow& d : store.devices()) {
    const auto score = drift.find(d.device_id);
    out.push_back({{"device_id", d.device_id},
                   {"model", d.model},
                   {"boot_count", d.boot_count},
                   {"sequence", d.sequence},
                   {"update_count", d.update_count},
                   {"rollback_count", d.rollback_count},
                   {"dropped_records", d.dropped_records},
                   {"inferences", d.inferences},
                   {"errors", d.errors},
                   {"last_seen_ms", d.last_seen_ms},
                   {"drift", score == drift.end() ? json() : json(score->second)}});
  }
  return out;
}

json summary_json(Store& store, const AlarmLimits& limits) {
  json alarms = json::array();
  const json devices = devices_json(store);
  for (const json& d : devices) {
    const std::string id = d["device_id"];
    if (!d["drift"].is_null() && d["drift"].get<double>() > limits.drift)
      alarms.push_back({{"device_id", id}, {"kind", "drift"}, {"value", d["drift"]}});
    const double inferences = std::max<double>(1, d["inferences"].get<double>());
    const double rate = d["errors"].get<double>() / inferences;
    if (rate > limits.error_rate)
      alarms.push_back({{"device_id", id}, {"kind", "error_rate"}, {"value", rate}});
    if (d["rollback_count"].get<int64_t>() > 0)
      alarms.push_back({{"device_id", id}, {"kind", "rollback"}, {"value", d["rollback_count"]}});
  }
  json by_model = json::object();
  for (const auto& [model, n] : store.devices_by_model())
    by_model[model.empty() ? "(no model)" : model] = n;
  json refused = json::object();
  int64_t refused_total = 0;
  for (const auto& [reason, n] : store.rejections()) {
    refused[reason] = n;
    refused_total += n;
  }
  return {{"devices", devices.size()},
          {"records", store.record_count()},
          {"by_model", by_model},
          {"refused", refused},
          {"refused_total", refused_total},
          {"alarms", alarms},
          {"engine", store.database().engine()}};
}

json trends_json(Store& store, int64_t bucket_ms) {
  json out = json::array();
  for (const TrendPoint& p : store.trends(bucket_ms, now_ms() - 24 * 3600 * 1000))
    out.push_back({{"start_ms", p.start_ms},
                   {"inferences", p.inferences},
                   {"errors", p.errors},
                   {"latency_p50", p.latency_p50_cycles},
                   {"latency_p99", p.latency_p99_cycles}});
  return out;
}

json audit_json(Store& store) {
  json out = json::array();
  for (const AuditEntry& e : store.audit_log())
    out.push_back(
        {{"at_ms", e.at_ms}, {"actor", e.actor}, {"action", e.action}, {"detail", e.detail}});
  return out;
}

Dashboard::Dashboard(Store& store, std::mutex& lock, const AlarmLimits& limits)
    : store_(store), lock_(lock), limits_(limits), server_(std::make_unique<httplib::Server>()) {
  auto api = [this](const std::string& path, std::function<json(const httplib::Request&)> make) {
    server_->Get(path, [this, make](const httplib::Request& request, httplib::Response& response) {
      try {
        std::lock_guard<std::mutex> hold(lock_);
        response.set_content(make(request).dump(), "application/json");
      } catch (const std::exception& e) {
        response.status = 500;
        response.set_content(json({{"error", e.what()}}).dump(), "application/json");
      }
    });
  };
  api("/api/summary", [this](const httplib::Request&) { return summary_json(store_, limits_); });
  api("/api/devices", [this](const httplib::Request&) { return devices_json(store_); });
  api("/api/audit", [this](const httplib::Request&) { return audit_json(store_); });
  api("/api/trends", [this](const httplib::Request& request) {
    int64_t bucket = 60000;
    if (request.has_param("bucket_ms")) bucket = std::stoll(request.get_param_value("bucket_ms"));
    return trends_json(store_, bucket);
  });
  server_->Get("/", [](const httplib::Request&, httplib::Response& response) {
    response.set_content(dashboard_page(), "text/html; charset=utf-8");
  });
}

Dashboard::~Dashboard() { stop(); }

int Dashboard::start(const std::string& host, int port) {
  const int bound =
      port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (bound <= 0)
    throw Error(host + ":" + std::to_string(port) +
                ": cannot listen for the dashboard (port in use? give another --http)");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return bound;
}

void Dashboard::stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace tinyforge::fleet
