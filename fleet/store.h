// The fleet's database: one schema, applied by numbered migrations, and every statement
// the service, the rollout and the dashboard run -- the same SQL on SQLite and PostgreSQL.
// Records arrive already decoded (telemetry::decode_record); the store decides whether a
// record is new for its device ((boot_count, sequence) above the last stored one) and keeps
// counts of everything refused, by reason.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "fleet/database.h"
#include "tinyforge/telemetry.h"

namespace tinyforge::fleet {

constexpr int kSchemaVersion = 2;  // migrations 1..kSchemaVersion (store.cc)

struct Received {
  telemetry::Record record;
  int64_t received_ms = 0;  // when the service took it off the broker
};

struct DeviceRow {
  std::string device_id;
  std::string model;  // "model_id version", "" before any model
  int64_t boot_count = 0, sequence = 0;
  int64_t update_count = 0, rollback_count = 0, dropped_records = 0;
  int64_t inferences = 0, errors = 0;  // over every stored window
  int64_t last_seen_ms = 0;
};

struct TrendPoint {
  int64_t start_ms = 0;
  int64_t inferences = 0, errors = 0;
  int64_t latency_p50_cycles = 0, latency_p99_cycles = 0;  // bucket upper bounds
};

struct AuditEntry {
  int64_t at_ms = 0;
  std::string actor, action, detail;
};

class Store {
 public:
  // Brings the schema up to kSchemaVersion (each migration in its own transaction).
  explicit Store(Database& db);

  int schema_version();
  Database& database() { return db_; }

  // Stores the records that are newer than their device's last (in one transaction) and
  // returns, per record, whether it was stored; older ones count as "stale_sequence".
  std::vector<bool> add_records(const std::vector<Received>& batch);
  void count_rejection(const std::string& reason, int64_t n = 1);
  std::map<std::string, int64_t> rejections();

  std::vector<DeviceRow> devices();
  std::map<std::string, int64_t> devices_by_model();  // "model_id version" -> devices
  std::vector<TrendPoint> trends(int64_t bucket_ms, int64_t since_ms);
  int64_t record_count();

  // Input statistics of a model version at compile time (a telemetry record of
  // `tinyforge fleet baseline`), which drift() compares devices with.
  void set_baseline(const telemetry::Record& baseline);
  // Per device on a model with a baseline: the largest shift of a channel's mean over its
  // stored windows of that model, in baseline standard deviations (docs/telemetry.md).
  std::map<std::string, double> drift();

  void audit(const std::string& actor, const std::string& action, const std::string& detail);
  std::vector<AuditEntry> audit_log();

  // Cumulative totals of a set of devices since `since_ms` (rollout watching).
  struct CohortHealth {
    int64_t reporting = 0;               // devices with a record since since_ms on model_id/version
    int64_t inferences = 0, errors = 0;  // errors include failed updates
  };
  CohortHealth cohort_health(const std::vector<std::string>& devices, const std::string& model,
                             int64_t since_ms);

 private:
  void migrate();
  Database& db_;
  std::map<std::string, std::pair<int64_t, int64_t>> last_;  // device -> (boot, sequence)
};

std::string model_label(const telemetry::Record& r);  // "kws 1.2.3", "" without a model
int64_t now_ms();

}  // namespace tinyforge::fleet
