// The fleet's SQL connection: SQLite (a file, the default) or PostgreSQL (a libpq URL),
// behind one small interface so the store runs the very same statements on both.
// Statements use `?` placeholders; every parameter and every cell travels as text (or
// NULL), which both engines convert to the column's type.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tinyforge::fleet {

using Cell = std::optional<std::string>;  // nullopt: SQL NULL
using Row = std::vector<Cell>;

class Database {
 public:
  virtual ~Database() = default;
  // Runs one statement; throws tinyforge::Error naming the statement and the engine's error.
  virtual std::vector<Row> query(const std::string& sql, const std::vector<Cell>& params) = 0;
  virtual std::string engine() const = 0;  // "sqlite" or "postgresql"

  void exec(const std::string& sql, const std::vector<Cell>& params = {}) { query(sql, params); }
};

// `where` is a SQLite file path, or a postgres:// / postgresql:// URL.
std::unique_ptr<Database> open_database(const std::string& where);

// Cells as numbers (throws tinyforge::Error on NULL or non-numbers).
int64_t as_int(const Cell& cell);
double as_double(const Cell& cell);

// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
template <typename Body>
void in_transaction(Database& db, Body&& body) {
  db.exec("BEGIN");
  try {
    body();
  } catch (...) {
    db.exec("ROLLBACK");
    throw;
  }
  db.exec("COMMIT");
}

}  // namespace tinyforge::fleet
