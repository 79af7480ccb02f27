// Runs SQL in DuckDB through tests/tools/duckdb_query.mjs (node + npm
// @duckdb/node-api) and returns the last statement's result as JSON. DuckDB is
// the independent Parquet implementation the reader and writer are checked
// against. Missing tools fail the test (CI must run these), never skip.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/io.h"

extern char** environ;

namespace sluice::duckdb {

struct QueryResult {
  std::vector<std::string> names;
  std::vector<std::string> types;
  nlohmann::json rows;
};

inline std::string FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return "";
  std::string p = path;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string candidate = p.substr(start, end - start) + "/" + name;
    if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

// Runs the statements in one in-memory DuckDB session; fails the test (and
// returns nullopt) on any error.
inline std::optional<QueryResult> Query(const std::vector<std::string>& sql) {
  const std::string script = std::string(SLUICE_SOURCE_DIR) + "/tests/tools/duckdb_query.mjs";
  const std::string module =
      std::string(SLUICE_SOURCE_DIR) + "/tests/node_modules/@duckdb/node-api";
  const std::string node = FindInPath("node");
  if (node.empty() || !std::filesystem::exists(module)) {
    ADD_FAILURE() << "node or " << module << " is missing: run scripts/install-deps.sh";
    return std::nullopt;
  }
  char err_path[] = "/tmp/sluice_duckdb_errXXXXXX";
  int err_fd = ::mkstemp(err_path);
  int out_pipe[2];
  if (err_fd < 0 || ::pipe(out_pipe) != 0) {
    ADD_FAILURE() << "cannot create pipe/temp file: " << std::strerror(errno);
    return std::nullopt;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
  std::vector<char*> argv = {const_cast<char*>(node.c_str()), const_cast<char*>(script.c_str())};
  for (const std::string& s : sql) argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, node.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  std::string out;
  if (rc == 0) {
    char buf[65536];
    ssize_t n;
    while ((n = ::read(out_pipe[0], buf, sizeof buf)) > 0) out.append(buf, n);
  }
  ::close(out_pipe[0]);
  int status = 0;
  if (rc == 0) ::waitpid(pid, &status, 0);
  ::close(err_fd);
  auto err = ReadFileToString(err_path);
  ::unlink(err_path);
  if (rc != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string all;
    for (const std::string& s : sql) all += s + ";\n";
    ADD_FAILURE() << "duckdb_query.mjs failed for SQL:\n" << all << (err.ok() ? *err : "");
    return std::nullopt;
  }
  nlohmann::json j = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.contains("rows")) {
    ADD_FAILURE() << "unparsable output: " << out.substr(0, 2000);
    return std::nullopt;
  }
  QueryResult r;
  for (const auto& c : j["columns"]) {
    r.names.push_back(c["name"]);
    r.types.push_back(c["type"]);
  }
  r.rows = j["rows"];
  return r;
}

}  // namespace sluice::duckdb
