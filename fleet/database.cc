#include "fleet/database.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <cstdlib>

#include "ir/error.h"

namespace tinyforge::fleet {
namespace {

class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK) {
      const std::string why = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw Error(path + ": cannot open the SQLite database: " + why +
                  " (check the path and its folder's permissions)");
    }
    sqlite3_busy_timeout(db_, 5000);
    // WAL: the dashboard reads while the ingest writes; synchronous=FULL keeps a committed
    // record through a power cut or kill -9 (the ack to the device follows the commit).
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
  }
  ~SqliteDatabase() override { sqlite3_close(db_); }

  std::vector<Row> query(const std::string& sql, const std::vector<Cell>& params) override {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) fail(sql);
    for (size_t i = 0; i < params.size(); ++i) {
      const int at = static_cast<int>(i) + 1;
      const int rc =
          params[i] ? sqlite3_bind_text(statement, at, params[i]->c_str(), -1, SQLITE_TRANSIENT)
                    : sqlite3_bind_null(statement, at);
      if (rc != SQLITE_OK) fail(sql, statement);
    }
    std::vector<Row> rows;
    for (;;) {
      const int rc = sqlite3_step(statement);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) fail(sql, statement);
      Row row;
      for (int c = 0; c < sqlite3_column_count(statement); ++c) {
        const unsigned char* text = sqlite3_column_text(statement, c);
        row.push_back(text == nullptr ? Cell{} : Cell{reinterpret_cast<const char*>(text)});
      }
      rows.push_back(std::move(row));
    }
    sqlite3_finalize(statement);
    return rows;
  }

  std::string engine() const override { return "sqlite"; }

 private:
  [[noreturn]] void fail(const std::string& sql, sqlite3_stmt* statement = nullptr) {
    const std::string why = sqlite3_errmsg(db_);
    sqlite3_finalize(statement);
    throw Error("sqlite: " + why + " in: " + sql);
  }
  sqlite3* db_ = nullptr;
};

// `?` -> `$1`, `$2`, ... (our statements have no `?` inside string literals).
std::string numbered_placeholders(const std::string& sql) {
  std::string out;
  int n = 0;
  for (char c : sql) {
    if (c == '?')
      out += "$" + std::to_string(++n);
    else
      out += c;
  }
  return out;
}

class PostgresDatabase final : public Database {
 public:
  explicit PostgresDatabase(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) {
      const std::string why = PQerrorMessage(conn_);
      PQfinish(conn_);
      throw Error(url + ": cannot connect to PostgreSQL: " + trimmed(why) +
                  " (is the server running and the URL right?)");
    }
    exec("SET client_min_messages TO WARNING");
  }
  ~PostgresDatabase() override { PQfinish(conn_); }

  std::vector<Row> query(const std::string& sql, const std::vector<Cell>& params) override {
    std::vector<const char*> values;
    for (const Cell& p : params) values.push_back(p ? p->c_str() : nullptr);
    PGresult* result =
        PQexecParams(conn_, numbered_placeholders(sql).c_str(), static_cast<int>(values.size()),
                     nullptr, values.data(), nullptr, nullptr, 0);
    const ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      const std::string why = trimmed(PQresultErrorMessage(result));
      PQclear(result);
      throw Error("postgresql: " + why + " in: " + sql);
    }
    std::vector<Row> rows;
    for (int r = 0; r < PQntuples(result); ++r) {
      Row row;
      for (int c = 0; c < PQnfields(result); ++c)
        row.push_back(PQgetisnull(result, r, c) ? Cell{} : Cell{PQgetvalue(result, r, c)});
      rows.push_back(std::move(row));
    }
    PQclear(result);
    return rows;
  }

  std::string engine() const override { return "postgresql"; }

 private:
  static std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }
  PGconn* conn_;
};

}  // namespace

std::unique_ptr<Database> open_database(const std::string& where) {
  if (where.rfind("postgres://", 0) == 0 || where.rfind("postgresql://", 0) == 0)
    return std::make_unique<PostgresDatabase>(where);
  return std::make_unique<SqliteDatabase>(where);
}

int64_t as_int(const Cell& cell) {
  if (!cell) throw Error("database: NULL where a number was expected");
  char* end = nullptr;
  const long long v = std::strtoll(cell->c_str(), &end, 10);
  if (end == cell->c_str() || *end != 0) throw Error("database: not an integer: " + *cell);
  return v;
}

double as_double(const Cell& cell) {
  if (!cell) throw Error("database: NULL where a number was expected");
  char* end = nullptr;
  const double v = std::strtod(cell->c_str(), &end);
  if (end == cell->c_str() || *end != 0) throw Error("database: not a number: " + *cell);
  return v;
}

}  // namespace tinyforge::fleet
