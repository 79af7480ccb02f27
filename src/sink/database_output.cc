#include "sink/database_output.h"

#include "sink/pg_loader.h"
#include "sink/sink_args.h"
#include "sink/sqlite_loader.h"

namespace sluice {

Result<DeliveryLimits> ParseDeliveryLimits(const SinkArgs& a, bool concurrency) {
  DeliveryLimits o;
  if (concurrency) {
    ASSIGN_OR_RETURN(std::optional<int64_t> n, a.PositiveInt("max_concurrency"));
    if (n) {
      if (*n > 64) return a.Error("max_concurrency", "at most 64 loads at once");
      o.max_concurrency = *n;
    }
  }
  ASSIGN_OR_RETURN(o.max_rows_per_second, a.PositiveInt("max_rows_per_second"));
  ASSIGN_OR_RETURN(o.max_bytes_per_second, a.PositiveInt("max_bytes_per_second"));
  ASSIGN_OR_RETURN(std::optional<int64_t> hw_rows, a.PositiveInt("high_water_rows"));
  ASSIGN_OR_RETURN(std::optional<int64_t> hw_bytes, a.PositiveInt("high_water_bytes"));
  ASSIGN_OR_RETURN(std::optional<int64_t> lw_rows, a.PositiveInt("low_water_rows"));
  ASSIGN_OR_RETURN(std::optional<int64_t> lw_bytes, a.PositiveInt("low_water_bytes"));
  if (hw_rows) o.high_water_rows = *hw_rows;
  if (hw_bytes) o.high_water_bytes = *hw_bytes;
  o.low_water_rows = lw_rows ? *lw_rows : o.high_water_rows / 2;
  o.low_water_bytes = lw_bytes ? *lw_bytes : o.high_water_bytes / 2;
  if (o.low_water_rows >= o.high_water_rows) {
    return a.Error("low_water_rows",
                   "must be below high_water_rows (" + std::to_string(o.high_water_rows) + ")");
  }
  if (o.low_water_bytes >= o.high_water_bytes) {
    return a.Error("low_water_bytes",
                   "must be below high_water_bytes (" + std::to_string(o.high_water_bytes) + ")");
  }
  return o;
}

bool IsDatabaseOutputKind(std::string_view kind) { return kind == "postgres" || kind == "sqlite"; }

Result<std::unique_ptr<DatabaseOutput>> ParseDatabaseOutput(std::string_view kind,
                                                            const nlohmann::json& args,
                                                            const std::string& where,
                                                            const std::string& project_dir) {
  if (kind == "postgres") return NewPostgresDatabaseOutput(args, where);
  if (kind == "sqlite") return NewSqliteDatabaseOutput(args, where, project_dir);
  return Status::InvalidArgument((where.empty() ? "" : where + ": ") + "output kind '" +
                                 std::string(kind) + "' is not a database output");
}

}  // namespace sluice
