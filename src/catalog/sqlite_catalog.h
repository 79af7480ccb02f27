// SqliteCatalog options: OpenSqliteCatalog (catalog.h) with a clock and
// connection settings that tests and tools can override.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "catalog/catalog.h"
#include "catalog/sqlite_db.h"

namespace sluice {

struct SqliteCatalogOptions {
  // Source of every timestamp the catalog writes (microseconds since the
  // epoch); NowMicros() when empty.
  std::function<int64_t()> now_us;
  SqliteDb::Options db;
};

Result<std::unique_ptr<Catalog>> OpenSqliteCatalog(const std::string& path,
                                                   const SqliteCatalogOptions& options);

}  // namespace sluice
