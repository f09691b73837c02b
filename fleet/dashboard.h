// The service's web dashboard: one static page (HTML + JS, no external resources) and the
// JSON API it reads -- served by cpp-httplib from the same database the ingest writes.
//   GET /                 the page
//   GET /api/summary      devices, records, devices by model version, refusals, alarms
//   GET /api/devices      every device with its counters and drift score
//   GET /api/trends       inferences, errors and latency quantiles per minute (?bucket_ms=)
//   GET /api/audit        the rollout audit log
#pragma once
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "fleet/store.h"

namespace httplib {
class Server;
}

namespace tinyforge::fleet {

struct AlarmLimits {
  double drift = 3.0;        // baseline standard deviations of a channel's mean
  double error_rate = 0.01;  // errors per inference of a device
};

// The API's documents, built from the store (also what the tests compare the page with).
nlohmann::json summary_json(Store& store, const AlarmLimits& limits);
nlohmann::json devices_json(Store& store);
nlohmann::json trends_json(Store& store, int64_t bucket_ms);
nlohmann::json audit_json(Store& store);

class Dashboard {
 public:
  // `store` is used only under `lock` (the store's connection is not shared across threads).
  Dashboard(Store& store, std::mutex& lock, const AlarmLimits& limits);
  ~Dashboard();
  int start(const std::string& host, int port);  // 0: any free port; returns the port
  void stop();

 private:
  Store& store_;
  std::mutex& lock_;
  AlarmLimits limits_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

const char* dashboard_page();  // dashboard_page.cc

}  // namespace tinyforge::fleet
