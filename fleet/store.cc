#include "fleet/store.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>
#include <sstream>

#include "ir/error.h"
#include "ota/package_writer.h"
#include "tinyforge/status.h"

namespace tinyforge::fleet {
namespace {

using telemetry::ChannelStats;
using telemetry::Record;

// Migration n brings the schema from version n - 1 to n. Types and statements are the
// common subset of SQLite and PostgreSQL; append, never edit, once released.
const std::vector<std::vector<std::string>>& migrations() {
  static const std::vector<std::vector<std::string>> steps = {
      {
          "CREATE TABLE devices (device_id TEXT PRIMARY KEY, model TEXT NOT NULL, "
          "boot_count BIGINT NOT NULL, sequence BIGINT NOT NULL, update_count BIGINT NOT NULL, "
          "rollback_count BIGINT NOT NULL, dropped_records BIGINT NOT NULL, "
          "inferences BIGINT NOT NULL, errors BIGINT NOT NULL, last_seen_ms BIGINT NOT NULL)",
          "CREATE TABLE records (device_id TEXT NOT NULL, boot_count BIGINT NOT NULL, "
          "sequence BIGINT NOT NULL, received_ms BIGINT NOT NULL, model TEXT NOT NULL, "
          "inferences BIGINT NOT NULL, errors BIGINT NOT NULL, latency TEXT NOT NULL, "
          "error_kinds TEXT NOT NULL, classes TEXT NOT NULL, channels TEXT NOT NULL, "
          "PRIMARY KEY (device_id, boot_count, sequence))",
          "CREATE INDEX records_by_time ON records (received_ms)",
          "CREATE TABLE rejections (reason TEXT PRIMARY KEY, count BIGINT NOT NULL)",
      },
      {
          "CREATE TABLE baselines (model TEXT PRIMARY KEY, channels TEXT NOT NULL)",
          "CREATE TABLE audit (at_ms BIGINT NOT NULL, actor TEXT NOT NULL, "
          "action TEXT NOT NULL, detail TEXT NOT NULL)",
      },
  };
  return steps;
}

std::string num(int64_t v) { return std::to_string(v); }

template <typename T, size_t N>
std::string join(const T (&values)[N], size_t count = N) {
  std::string out;
  for (size_t i = 0; i < count; ++i) out += (i ? "," : "") + std::to_string(values[i]);
  return out;
}

std::vector<int64_t> split_ints(const std::string& text, char separator) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, separator))
    if (!item.empty()) out.push_back(std::stoll(item));
  return out;
}

// "count,saturated,min,max,sum,sum_sq;..." for the record's channels.
std::string channels_text(const Record& r) {
  std::string out;
  for (uint32_t c = 0; c < r.num_channels; ++c) {
    const ChannelStats& s = r.channels[c];
    out += (c ? ";" : "") + num(s.count) + "," + num(s.saturated) + "," + num(s.min) + "," +
           num(s.max) + "," + num(s.sum) + "," + std::to_string(s.sum_sq);
  }
  return out;
}

// Channel sums as doubles: windows of one model add up.
struct Moments {
  double count = 0, sum = 0, sum_sq = 0;
};

void add_channels(const std::string& text, std::vector<Moments>* out) {
  std::stringstream in(text);
  std::string channel;
  for (size_t c = 0; std::getline(in, channel, ';'); ++c) {
    const std::vector<int64_t> v = split_ints(channel, ',');
    if (v.size() != 6) throw Error("database: malformed channel statistics: " + channel);
    if (out->size() <= c) out->resize(c + 1);
    (*out)[c].count += static_cast<double>(v[0]);
    (*out)[c].sum += static_cast<double>(v[4]);
    (*out)[c].sum_sq += static_cast<double>(static_cast<uint64_t>(v[5]));
  }
}

int64_t error_total(const Record& r) {
  int64_t total = 0;
  for (uint16_t e : r.errors) total += e;
  return total;
}

// The upper bound (cycles) of the bucket holding the q-quantile of the histogram.
int64_t quantile_cycles(const std::vector<int64_t>& histogram, double q) {
  int64_t total = 0;
  for (int64_t n : histogram) total += n;
  if (total == 0) return 0;
  int64_t seen = 0;
  for (size_t b = 0; b < histogram.size(); ++b) {
    seen += histogram[b];
    if (static_cast<double>(seen) >= q * static_cast<double>(total)) return (int64_t{2} << b) - 1;
  }
  return 0;
}

}  // namespace

std::string model_label(const Record& r) {
  if (r.model_id[0] == 0) return "";
  return std::string(r.model_id) + " " +
         ota::semver_text({r.version[0], r.version[1], r.version[2]});
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Store::Store(Database& db) : db_(db) { migrate(); }

void Store::migrate() {
  db_.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  if (db_.query("SELECT version FROM schema_version", {}).empty())
    db_.exec("INSERT INTO schema_version (version) VALUES (0)");
  const int from = schema_version();
  if (from > kSchemaVersion)
    throw Error("database schema version " + std::to_string(from) +
                " is newer than this tinyforge reads (" + std::to_string(kSchemaVersion) +
                "; upgrade tinyforge)");
  for (int step = from; step < kSchemaVersion; ++step) {
    in_transaction(db_, [&] {
      for (const std::string& sql : migrations()[step]) db_.exec(sql);
      db_.exec("UPDATE schema_version SET version = ?", {num(step + 1)});
    });
  }
}

int Store::schema_version() {
  return static_cast<int>(as_int(db_.query("SELECT version FROM schema_version", {})[0][0]));
}

std::vector<bool> Store::add_records(const std::vector<Received>& batch) {
  std::vector<bool> stored(batch.size(), false);
  int64_t stale = 0;
  std::map<std::string, std::pair<int64_t, int64_t>> last = last_;
  in_transaction(db_, [&] {
    for (size_t i = 0; i < batch.size(); ++i) {
      const Record& r = batch[i].record;
      const std::string id = r.device_id;
      auto known = last.find(id);
      if (known == last.end()) {
        const std::vector<Row> rows =
            db_.query("SELECT boot_count, sequence FROM devices WHERE device_id = ?", {id});
        const std::pair<int64_t, int64_t> none{-1, -1};
        known =
            last.emplace(id, rows.empty() ? none
                                          : std::make_pair(as_int(rows[0][0]), as_int(rows[0][1])))
                .first;
      }
      const std::pair<int64_t, int64_t> key{r.boot_count, r.sequence};
      if (key <= known->second) {  // a replay, a retransmission or a reset counter
        ++stale;
        continue;
      }
      known->second = key;
      const int64_t errors = error_total(r);
      db_.exec(
          "INSERT INTO records (device_id, boot_count, sequence, received_ms, model, "
          "inferences, errors, latency, error_kinds, classes, channels) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {id, num(r.boot_count), num(r.sequence), num(batch[i].received_ms), model_label(r),
           num(r.inference_count), num(errors), join(r.latency), join(r.errors),
           join(r.classes, r.num_classes), channels_text(r)});
      db_.exec(
          "INSERT INTO devices (device_id, model, boot_count, sequence, update_count, "
          "rollback_count, dropped_records, inferences, errors, last_seen_ms) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET "
          "model = excluded.model, boot_count = excluded.boot_count, "
          "sequence = excluded.sequence, update_count = excluded.update_count, "
          "rollback_count = excluded.rollback_count, "
          "dropped_records = excluded.dropped_records, "
          "inferences = devices.inferences + excluded.inferences, "
          "errors = devices.errors + excluded.errors, last_seen_ms = excluded.last_seen_ms",
          {id, model_label(r), num(r.boot_count), num(r.sequence), num(r.update_count),
           num(r.rollback_count), num(r.dropped_records), num(r.inference_count), num(errors),
           num(batch[i].received_ms)});
      stored[i] = true;
    }
    if (stale > 0) count_rejection("stale_sequence", stale);
  });
  last_ = std::move(last);  // only once committed
  return stored;
}

void Store::count_rejection(const std::string& reason, int64_t n) {
  db_.exec(
      "INSERT INTO rejections (reason, count) VALUES (?, ?) ON CONFLICT (reason) DO UPDATE "
      "SET count = rejections.count + excluded.count",
      {reason, num(n)});
}

std::map<std::string, int64_t> Store::rejections() {
  std::map<std::string, int64_t> out;
  for (const Row& row : db_.query("SELECT reason, count FROM rejections", {}))
    out[*row[0]] = as_int(row[1]);
  return out;
}

std::vector<DeviceRow> Store::devices() {
  std::vector<DeviceRow> out;
  for (const Row& row : db_.query(
           "SELECT device_id, model, boot_count, sequence, update_count, rollback_count, "
           "dropped_records, inferences, errors, last_seen_ms FROM devices ORDER BY device_id",
           {})) {
    DeviceRow d;
    d.device_id = *row[0];
    d.model = *row[1];
    d.boot_count = as_int(row[2]);
    d.sequence = as_int(row[3]);
    d.update_count = as_int(row[4]);
    d.rollback_count = as_int(row[5]);
    d.dropped_records = as_int(row[6]);
    d.inferences = as_int(row[7]);
    d.errors = as_int(row[8]);
    d.last_seen_ms = as_int(row[9]);
    out.push_back(d);
  }
  return out;
}

std::map<std::string, int64_t> Store::devices_by_model() {
  std::map<std::string, int64_t> out;
  for (const Row& row :
       db_.query("SELECT model, COUNT(*) FROM devices GROUP BY model ORDER BY model", {}))
    out[*row[0]] = as_int(row[1]);
  return out;
}

int64_t Store::record_count() {
  return as_int(db_.query("SELECT COUNT(*) FROM records", {})[0][0]);
}

std::vector<TrendPoint> Store::trends(int64_t bucket_ms, int64_t since_ms) {
  if (bucket_ms <= 0) throw Error("trends: the bucket must be positive");
  std::map<int64_t, std::pair<TrendPoint, std::vector<int64_t>>> buckets;
  for (const Row& row : db_.query("SELECT received_ms, inferences, errors, latency FROM records "
                                  "WHERE received_ms >= ? ORDER BY received_ms",
                                  {num(since_ms)})) {
    const int64_t start = as_int(row[0]) / bucket_ms * bucket_ms;
    auto& [point, histogram] = buckets[start];
    point.start_ms = start;
    point.inferences += as_int(row[1]);
    point.errors += as_int(row[2]);
    const std::vector<int64_t> latency = split_ints(*row[3], ',');
    histogram.resize(std::max(histogram.size(), latency.size()));
    for (size_t b = 0; b < latency.size(); ++b) histogram[b] += latency[b];
  }
  std::vector<TrendPoint> out;
  for (auto& [start, entry] : buckets) {
    entry.first.latency_p50_cycles = quantile_cycles(entry.second, 0.5);
    entry.first.latency_p99_cycles = quantile_cycles(entry.second, 0.99);
    out.push_back(entry.first);
  }
  return out;
}

void Store::set_baseline(const Record& baseline) {
  if (baseline.model_id[0] == 0 || baseline.num_channels == 0)
    throw Error("baseline: no model or no int8/uint8 input statistics in it");
  db_.exec(
      "INSERT INTO baselines (model, channels) VALUES (?, ?) ON CONFLICT (model) DO UPDATE "
      "SET channels = excluded.channels",
      {model_label(baseline), channels_text(baseline)});
}

std::map<std::string, double> Store::drift() {
  std::map<std::string, std::vector<Moments>> baselines;
  for (const Row& row : db_.query("SELECT model, channels FROM baselines", {}))
    add_channels(*row[1], &baselines[*row[0]]);
  std::map<std::string, std::vector<Moments>> devices;
  std::map<std::string, std::string> device_model;
  for (const Row& row :
       db_.query("SELECT r.device_id, r.model, r.channels FROM records r JOIN devices d "
                 "ON d.device_id = r.device_id AND d.model = r.model "
                 "WHERE r.model IN (SELECT model FROM baselines)",
                 {})) {
    add_channels(*row[2], &devices[*row[0]]);
    device_model[*row[0]] = *row[1];
  }
  std::map<std::string, double> out;
  for (const auto& [device, seen] : devices) {
    const std::vector<Moments>& base = baselines[device_model[device]];
    double score = 0;
    for (size_t c = 0; c < std::min(seen.size(), base.size()); ++c) {
      if (seen[c].count == 0 || base[c].count == 0) continue;
      const double mean = seen[c].sum / seen[c].count;
      const double base_mean = base[c].sum / base[c].count;
      const double base_var = base[c].sum_sq / base[c].count - base_mean * base_mean;
      // At least one quantization step, so a constant baseline channel does not divide by 0.
      const double spread = std::max(1.0, std::sqrt(std::max(0.0, base_var)));
      score = std::max(score, std::fabs(mean - base_mean) / spread);
    }
    out[device] = score;
  }
  return out;
}

void Store::audit(const std::string& actor, const std::string& action, const std::string& detail) {
  db_.exec("INSERT INTO audit (at_ms, actor, action, detail) VALUES (?, ?, ?, ?)",
           {num(now_ms()), actor, action, detail});
}

std::vector<AuditEntry> Store::audit_log() {
  std::vector<AuditEntry> out;
  for (const Row& row :
       db_.query("SELECT at_ms, actor, action, detail FROM audit ORDER BY at_ms", {}))
    out.push_back({as_int(row[0]), *row[1], *row[2], *row[3]});
  return out;
}

Store::CohortHealth Store::cohort_health(const std::vector<std::string>& devices,
                                         const std::string& model, int64_t since_ms) {
  const std::set<std::string> cohort(devices.begin(), devices.end());
  CohortHealth health;
  std::set<std::string> on_model;
  for (const Row& row :
       db_.query("SELECT device_id, model, inferences, errors FROM records WHERE received_ms >= ?",
                 {num(since_ms)})) {
    if (cohort.count(*row[0]) == 0) continue;
    if (*row[1] == model) on_model.insert(*row[0]);
    health.inferences += as_int(row[2]);
    health.errors += as_int(row[3]);
  }
  health.reporting = static_cast<int64_t>(on_model.size());
  return health;
}

}  // namespace tinyforge::fleet
