// The store's suite, run against both engines: SQLite in a temp file and a throwaway
// PostgreSQL server (skipped, or failed in strict mode, when postgresql-15 is missing).
#include "fleet/store.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>

#include "fleet/sim_device.h"
#include "fleet_servers.h"
#include "ir/error.h"
#include "shared_data.h"

namespace tinyforge::fleet {
namespace {

using telemetry::Record;

// A record of `device` with `n` inputs (2 channels) shifted by `shift`, latencies of
// `cycles` and `errors` bad_shape errors.
Record make_record(const std::string& device, uint32_t boot, uint32_t sequence,
                   const char* model = "kws", int32_t shift = 0, uint32_t cycles = 1000,
                   uint32_t errors = 0) {
  telemetry::Collector c;
  EXPECT_EQ(c.init(device.c_str(), boot, 0, 0), Status::ok);
  ota::ImageInfo image{};
  image.valid = true;
  std::strcpy(image.model_id, model);
  image.version = {1, 0, 0};
  c.set_model(image);
  std::mt19937 rng(boot * 100 + sequence);
  std::vector<int8_t> data(16);
  TensorView in{};
  in.type = DType::i8;
  in.rank = 2;
  in.dims[0] = 8;
  in.dims[1] = 2;
  in.dims[2] = in.dims[3] = 1;
  in.data = data.data();
  for (int n = 0; n < 10; ++n) {
    synthetic_input(rng, shift, in);
    c.observe_input(in);
    c.observe_result(Status::ok, TensorView{}, cycles);
  }
  for (uint32_t e = 0; e < errors; ++e) c.observe_result(Status::bad_shape, TensorView{}, 0);
  Record r = c.current();
  r.sequence = sequence;
  return r;
}

Received at(const Record& r, int64_t ms) { return Received{r, ms}; }

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  // One PostgreSQL server for the suite (initdb takes seconds), a new database per test.
  static void TearDownTestSuite() { postgres_.reset(); }

  void SetUp() override {
    if (GetParam() == "sqlite") {
      folder_ = testing::temp_folder("sqlite");
      std::filesystem::create_directories(folder_);
      where_ = (folder_ / "fleet.db").string();
    } else {
      if (!testing::have_postgres())
        TINYFORGE_SKIP_MISSING("PostgreSQL 15 server binaries not found in "
                               << testing::kPostgresBin << " (Debian postgresql-15)");
      if (!postgres_) postgres_ = std::make_unique<testing::PostgresServer>();
      if (!postgres_->ok())
        TINYFORGE_SKIP_MISSING("could not start a throwaway PostgreSQL (" << postgres_->log()
                                                                          << ")");
      static int next = 0;
      const std::string name = "fleet_test_" + std::to_string(++next);
      open_database(postgres_->url("postgres"))->exec("CREATE DATABASE " + name);
      where_ = postgres_->url(name);
    }
    db_ = open_database(where_);
    store_ = std::make_unique<Store>(*db_);
  }
  void TearDown() override {
    store_.reset();
    db_.reset();
    if (!folder_.empty()) std::filesystem::remove_all(folder_.parent_path());
  }
  std::unique_ptr<Database> reopen() { return open_database(where_); }

  std::filesystem::path folder_;
  std::string where_;
  static std::unique_ptr<testing::PostgresServer> postgres_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreTest, MigratesOnceAndRefusesANewerSchema) {
  EXPECT_EQ(store_->schema_version(), kSchemaVersion);
  EXPECT_EQ(db_->engine(), GetParam() == "sqlite" ? "sqlite" : "postgresql");
  // An older database (version 1: no baselines, no audit) is brought up to date.
  db_->exec("DROP TABLE baselines");
  db_->exec("DROP TABLE audit");
  db_->exec("UPDATE schema_version SET version = 1");
  auto again = reopen();
  Store upgraded(*again);
  EXPECT_EQ(upgraded.schema_version(), kSchemaVersion);
  upgraded.audit("me", "test", "the audit table is back");
  EXPECT_EQ(upgraded.audit_log().size(), 1u);
  db_->exec("UPDATE schema_version SET version = 99");
  auto newer = reopen();
  EXPECT_THROW(Store refused(*newer), Error);
}

TEST_P(StoreTest, StoresNewRecordsAndCountsStaleOnes) {
  const std::vector<bool> first =
      store_->add_records({at(make_record("a", 1, 0), 1000), at(make_record("a", 1, 1), 1001),
                           at(make_record("a", 1, 1), 1002),  // the same record again
                           at(make_record("b", 1, 5), 1003), at(make_record("a", 1, 0), 1004)});
  EXPECT_EQ(first, (std::vector<bool>{true, true, false, true, false}));
  // A new boot restarts the sequence; an older boot stays refused, also for a new
  // Store (the last key comes from the database, not only from memory).
  auto other = reopen();
  Store fresh(*other);
  EXPECT_EQ(fresh.add_records({at(make_record("a", 2, 0), 2000), at(make_record("a", 1, 7), 2001)}),
            (std::vector<bool>{true, false}));
  EXPECT_EQ(fresh.rejections().at("stale_sequence"), 3);
  fresh.count_rejection("malformed_record", 2);
  fresh.count_rejection("malformed_record");
  EXPECT_EQ(fresh.rejections().at("malformed_record"), 3);
  EXPECT_EQ(fresh.record_count(), 4);
  const std::vector<DeviceRow> devices = fresh.devices();
  ASSERT_EQ(devices.size(), 2u);
  EXPECT_EQ(devices[0].device_id, "a");
  EXPECT_EQ(devices[0].boot_count, 2);
  EXPECT_EQ(devices[0].sequence, 0);
  EXPECT_EQ(devices[0].inferences, 30);  // three stored windows of 10
  EXPECT_EQ(devices[0].last_seen_ms, 2000);
  EXPECT_EQ(devices[0].model, "kws 1.0.0");
}

TEST_P(StoreTest, CountsDevicesByModelAndTrends) {
  store_->add_records({at(make_record("a", 1, 0, "kws", 0, 100), 60000),
                       at(make_record("b", 1, 0, "kws", 0, 5000, 2), 61000),
                       at(make_record("c", 1, 0, "vww"), 125000)});
  EXPECT_EQ(store_->devices_by_model(),
            (std::map<std::string, int64_t>{{"kws 1.0.0", 2}, {"vww 1.0.0", 1}}));
  const std::vector<TrendPoint> t = store_->trends(60000, 0);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].start_ms, 60000);
  EXPECT_EQ(t[0].inferences, 22);
  EXPECT_EQ(t[0].errors, 2);
  // 10 latencies in bucket 6 (100 cycles: [64, 128)) and 10 in bucket 12 (5000).
  EXPECT_EQ(t[0].latency_p50_cycles, 127);
  EXPECT_EQ(t[0].latency_p99_cycles, 8191);
  EXPECT_EQ(t[1].start_ms, 120000);
}

TEST_P(StoreTest, DriftIsTheMeanShiftInBaselineDeviations) {
  Record baseline = make_record("baseline", 0, 0);
  store_->set_baseline(baseline);
  const Record same = make_record("steady", 1, 0);
  const Record shifted = make_record("drifting", 1, 0, "kws", 60);
  store_->add_records({at(same, 1), at(shifted, 2), at(make_record("other", 1, 0, "vww"), 3)});
  const std::map<std::string, double> drift = store_->drift();
  EXPECT_EQ(drift.count("other"), 0u);  // no baseline for its model
  // The expected score, from the records' own sums.
  auto score = [&](const Record& r) {
    double worst = 0;
    for (int c = 0; c < 2; ++c) {
      const auto& b = baseline.channels[c];
      const double mean_b = double(b.sum) / b.count;
      const double sd = std::sqrt(double(b.sum_sq) / b.count - mean_b * mean_b);
      const double mean = double(r.channels[c].sum) / r.channels[c].count;
      worst = std::max(worst, std::fabs(mean - mean_b) / std::max(1.0, sd));
    }
    return worst;
  };
  EXPECT_NEAR(drift.at("steady"), score(same), 1e-9);
  EXPECT_NEAR(drift.at("drifting"), score(shifted), 1e-9);
  EXPECT_GT(drift.at("drifting"), 1.5);
  EXPECT_LT(drift.at("steady"), 1.0);
}

TEST_P(StoreTest, CohortHealthCountsOnlyTheCohortSinceTheStart) {
  store_->add_records({at(make_record("a", 1, 0, "new", 0, 100, 1), 5000),
                       at(make_record("b", 1, 0, "old", 0, 100, 3), 5000),
                       at(make_record("c", 1, 0, "new", 0, 100, 7), 5000),
                       at(make_record("a", 1, 1, "old", 0, 100, 9), 1000)});
  const Store::CohortHealth h = store_->cohort_health({"a", "b"}, "new 1.0.0", 2000);
  EXPECT_EQ(h.reporting, 1);  // a on the new model; c is not in the cohort
  EXPECT_EQ(h.errors, 4);
  EXPECT_EQ(h.inferences, 24);
}

std::unique_ptr<testing::PostgresServer> StoreTest::postgres_;

INSTANTIATE_TEST_SUITE_P(Engines, StoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tinyforge::fleet
