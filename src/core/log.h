// Logging: how sluice's spdlog lines look, what they say about the batch at
// hand, and what they never say (secrets).
//
// Formats (ConfigureLogging): JSON lines, one object per line, the default of
// `sluice server`:
//   {"ts":"2026-12-07T20:55:39.123Z","level":"info","msg":"...","batch_id":12,
//    "attempt":2,"pipeline":"orders","version":3}
// and text for people (every other command, or --log-format text):
//   2026-12-07T21:55:39.123 info ... batch_id=12 attempt=2 pipeline=orders version=3
// `ts` is UTC with milliseconds; the text time is local, as before. The
// context fields appear only when set.
//
// Context: a thread's LogContext names the batch its lines are about (id,
// processing attempt, pipeline, version: the catalog's pipeline version id).
// A ScopedLogContext sets it for a scope and restores the one before at its
// end; AddToLogContext fills in what the scope learns later (the attempt,
// once started), up to the end of the innermost guard. The context is per
// thread: work handed to another thread carries none.
//
// Secrets: both formatters pass every message through Redact, a last line of
// defence behind the code that already prints connection strings redacted
// (CatalogDisplay, RedactDsn, DatabaseOutput::DatabaseDisplay).
#pragma once

#include <spdlog/fwd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace sluice {

enum class LogFormat { kJson, kText };

// "json" or "text"; kInvalidArgument otherwise.
Result<LogFormat> ParseLogFormat(std::string_view name);

// Sets the default logger's level ("trace", "debug", "info", "warn",
// "error", "critical", "off"; spdlog's names) and formatter. The logger is
// spdlog's default (stdout).
void ConfigureLogging(LogFormat format, const std::string& level);

// The formatters ConfigureLogging installs (for tests and other loggers).
std::unique_ptr<spdlog::formatter> NewJsonLogFormatter();
std::unique_ptr<spdlog::formatter> NewTextLogFormatter();

// What the calling thread's log lines are about; a zero or empty field is
// not set and not printed.
struct LogContext {
  int64_t batch_id = 0;
  int attempt = 0;            // the batch's processing attempt (the catalog's fencing token)
  std::string pipeline = {};  // "= {}": designated initializers may leave it out (-Wextra)
  int64_t version = 0;        // the pipeline version id, as `sluice status` shows it

  bool empty() const { return batch_id == 0 && attempt == 0 && pipeline.empty() && version == 0; }
};

// The calling thread's context (empty outside every ScopedLogContext).
const LogContext& CurrentLogContext();

// Sets the calling thread's context until the end of the scope, then
// restores the previous one (guards nest).
class ScopedLogContext {
 public:
  explicit ScopedLogContext(LogContext context);
  ~ScopedLogContext();
  ScopedLogContext(const ScopedLogContext&) = delete;
  ScopedLogContext& operator=(const ScopedLogContext&) = delete;

 private:
  LogContext previous_;
};

// Sets the fields `more` sets (non-zero, non-empty) in the calling thread's
// current context, for the rest of the innermost ScopedLogContext's scope.
// Outside every guard it does nothing, so nothing outlives a scope.
void AddToLogContext(const LogContext& more);

// `text` without the secrets it may hold:
//   - the password of a URI's userinfo, any scheme
//     (postgresql://user:pw@host/db -> postgresql://user:***@host/db);
//   - the value of a key=value pair (libpq's `password = 'x y'`, a URI
//     query's `&password=x`, `AWS_SECRET_ACCESS_KEY=x`) or of a JSON member
//     ("password":"x") whose key ends in password, passwd, secret,
//     secret_key, secret_access_key, token, api_key, apikey or private_key
//     (any case, '-' as '_');
//   - the credentials of an `Authorization:` header and of `Bearer x`.
// The value becomes `***`; quotes around it stay.
std::string Redact(std::string_view text);

}  // namespace sluice
