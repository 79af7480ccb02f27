#include "pipeline/config.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "core/log.h"
#include "pipeline/yaml_util.h"
#include "sql/pg_db.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string>& SettingKeys() {
  static const std::vector<std::string> keys = {
      "store_root",  "catalog",       "pipelines_dir", "workers",
      "threads",     "poll_interval", "lease",         "max_attempts",
      "s3_endpoint", "s3_region",     "loaders",       "max_loads_per_database",
      "exporters",   "server",        "alerts",
  };
  return keys;
}

std::vector<std::string> TopLevelKeys() {
  std::vector<std::string> keys = SettingKeys();
  keys.push_back("profiles");
  return keys;
}

std::string ResolvePath(const std::string& dir, const std::string& p) {
  fs::path path(p);
  if (path.is_relative()) path = fs::path(dir) / path;
  return path.lexically_normal().string();
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound(path + ": no such file");
    return Status::IOError(path + ": cannot open: " + std::strerror(err));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IOError(path + ": read failed");
  return ss.str();
}

// One setting after profile overrides: where it came from and its raw text.
struct Setting {
  int line = 1;
  YAML::Node value;
};

Result<std::string> ScalarSetting(const std::string& file, const std::string& key,
                                  const Setting& s) {
  if (s.value.IsNull()) return YamlError(file, s.line, key, "needs a value");
  if (!s.value.IsScalar()) {
    return YamlError(file, s.line, key, "expected a single value, not a list or mapping");
  }
  return InterpolateEnv(s.value.Scalar(), file + ":" + std::to_string(s.line) + ": " + key);
}

Result<int> IntSetting(const std::string& file, const std::string& key, const Setting& s) {
  ASSIGN_OR_RETURN(std::string text, ScalarSetting(file, key, s));
  int v = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size()) {
    return YamlError(file, s.line, key, "expected an integer, got '" + text + "'");
  }
  return v;
}

Result<std::chrono::milliseconds> DurationSetting(const std::string& file, const std::string& key,
                                                  const Setting& s) {
  ASSIGN_OR_RETURN(std::string text, ScalarSetting(file, key, s));
  auto d = ParseDuration(text);
  if (!d.ok()) return YamlError(file, s.line, key, d.status().message());
  if (d->count() <= 0) {
    return YamlError(file, s.line, key, "must be greater than zero, got '" + text + "'");
  }
  return *d;
}

bool IsHexSha256(const std::string& s) {
  if (s.size() != 64) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<ApiToken> ParseApiToken(const std::string& file, const YAML::Node& node, int index) {
  const std::string where = "server.tokens[" + std::to_string(index) + "]";
  ASSIGN_OR_RETURN(std::vector<YamlEntry> entries, YamlMapEntries(node, file, where));
  RETURN_IF_ERROR(YamlCheckKeys(entries, {"name", "role", "sha256", "tables"}, file, where));
  ApiToken t;
  const int line = YamlLine(node);
  for (const YamlEntry& e : entries) {
    const std::string key = where + "." + e.key;
    if (e.key == "tables") {
      ASSIGN_OR_RETURN(t.tables, YamlStringList(e.value, file, e.line, key));
      continue;
    }
    ASSIGN_OR_RETURN(std::string v, ScalarSetting(file, key, Setting{e.line, e.value}));
    if (e.key == "name") t.name = v;
    if (e.key == "role") t.role = v;
    if (e.key == "sha256") {
      for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      t.sha256 = v;
    }
  }
  if (t.name.empty()) return YamlError(file, line, where, "needs a `name`");
  if (t.role != "reader" && t.role != "ingester" && t.role != "admin") {
    return YamlError(file, line, where + ".role",
                     "must be reader, ingester or admin, got '" + t.role + "'");
  }
  if (!IsHexSha256(t.sha256)) {
    return YamlError(file, line, where + ".sha256",
                     "must be the 64 hex digits of the token's SHA-256 (`sluice token` prints "
                     "a new token with its hash); never put the token itself here");
  }
  return t;
}

Result<ServerConfig> ParseServerConfig(const std::string& file, const Setting& s) {
  ServerConfig c;
  c.line = s.line;
  ASSIGN_OR_RETURN(std::vector<YamlEntry> entries, YamlMapEntries(s.value, file, "server"));
  RETURN_IF_ERROR(YamlCheckKeys(entries,
                                {"listen", "tls_cert", "tls_key", "tokens", "max_body",
                                 "max_header", "max_requests", "rate", "burst"},
                                file, "server"));
  const std::string dir = fs::absolute(fs::path(file)).parent_path().string();
  for (const YamlEntry& e : entries) {
    const std::string key = "server." + e.key;
    const Setting setting{e.line, e.value};
    if (e.key == "tokens") {
      if (!e.value.IsNull() && !e.value.IsSequence()) {
        return YamlError(file, e.line, key, "expected a list of tokens");
      }
      for (size_t i = 0; e.value.IsSequence() && i < e.value.size(); ++i) {
        ASSIGN_OR_RETURN(ApiToken t, ParseApiToken(file, e.value[i], static_cast<int>(i)));
        for (const ApiToken& other : c.tokens) {
          if (other.name == t.name || other.sha256 == t.sha256) {
            return YamlError(file, e.line, key,
                             "two tokens share the name or hash of '" + t.name + "'");
          }
        }
        c.tokens.push_back(std::move(t));
      }
      continue;
    }
    if (e.key == "max_requests") {
      ASSIGN_OR_RETURN(c.max_requests, IntSetting(file, key, setting));
      if (c.max_requests < 1) return YamlError(file, e.line, key, "must be >= 1");
      continue;
    }
    ASSIGN_OR_RETURN(std::string v, ScalarSetting(file, key, setting));
    if (e.key == "listen") {
      c.listen = v;
    } else if (e.key == "tls_cert" || e.key == "tls_key") {
      (e.key == "tls_cert" ? c.tls_cert : c.tls_key) = v.empty() ? v : ResolvePath(dir, v);
    } else if (e.key == "max_body" || e.key == "max_header") {
      auto n = ParseByteSize(v);
      if (!n.ok()) return YamlError(file, e.line, key, n.status().message());
      (e.key == "max_body" ? c.max_body_bytes : c.max_header_bytes) = *n;
    } else if (e.key == "rate" || e.key == "burst") {
      double d = 0;
      auto r = std::from_chars(v.data(), v.data() + v.size(), d);
      if (r.ec != std::errc() || r.ptr != v.data() + v.size() || !std::isfinite(d) || d < 0) {
        return YamlError(file, e.line, key, "expected a number >= 0, got '" + v + "'");
      }
      (e.key == "rate" ? c.rate : c.burst) = d;
    }
  }
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    return YamlError(file, s.line, "server", "tls_cert and tls_key go together");
  }
  if (c.rate > 0 && c.burst < 1) {
    return YamlError(file, s.line, "server.burst", "must be >= 1 while `rate` limits requests");
  }
  return c;
}

Result<AlertsConfig> ParseAlertsConfig(const std::string& file, const Setting& s) {
  AlertsConfig c;
  ASSIGN_OR_RETURN(std::vector<YamlEntry> entries, YamlMapEntries(s.value, file, "alerts"));
  RETURN_IF_ERROR(YamlCheckKeys(entries, {"webhook", "authorization", "timeout"}, file, "alerts"));
  for (const YamlEntry& e : entries) {
    const std::string key = "alerts." + e.key;
    const Setting setting{e.line, e.value};
    if (e.key == "timeout") {
      ASSIGN_OR_RETURN(c.timeout, DurationSetting(file, key, setting));
      if (c.timeout.count() <= 0) return YamlError(file, e.line, key, "must be greater than zero");
      continue;
    }
    ASSIGN_OR_RETURN(std::string v, ScalarSetting(file, key, setting));
    if (e.key == "webhook") {
      if (!v.empty() && !v.starts_with("http://") && !v.starts_with("https://")) {
        return YamlError(file, e.line, key, "expected an http:// or https:// URL");
      }
      c.webhook = v;
    } else {
      c.authorization = v;
    }
  }
  return c;
}

}  // namespace

Status Config::Validate() const {
  if (workers < 0) {
    return Status::InvalidArgument("workers: must be >= 0 (0 = one per core), got " +
                                   std::to_string(workers));
  }
  if (threads < 0) {
    return Status::InvalidArgument("threads: must be >= 0 (0 = one per core), got " +
                                   std::to_string(threads));
  }
  if (poll_interval.count() <= 0) {
    return Status::InvalidArgument("poll_interval: must be greater than zero");
  }
  if (lease.count() <= 0) return Status::InvalidArgument("lease: must be greater than zero");
  if (max_attempts < 1) {
    return Status::InvalidArgument("max_attempts: must be >= 1, got " +
                                   std::to_string(max_attempts));
  }
  if (loaders < 0) {
    return Status::InvalidArgument("loaders: must be >= 0, got " + std::to_string(loaders));
  }
  if (exporters < 0) {
    return Status::InvalidArgument("exporters: must be >= 0, got " + std::to_string(exporters));
  }
  if (max_loads_per_database < 1) {
    return Status::InvalidArgument("max_loads_per_database: must be >= 1, got " +
                                   std::to_string(max_loads_per_database));
  }
  if (store_root.empty()) return Status::InvalidArgument("store_root: must not be empty");
  if (catalog_path.empty()) return Status::InvalidArgument("catalog: must not be empty");
  if (pipelines_dir.empty()) return Status::InvalidArgument("pipelines_dir: must not be empty");
  return Status::OK();
}

Config DefaultConfig(const std::string& dir) {
  Config c;
  std::error_code ec;
  fs::path abs = fs::absolute(dir.empty() ? "." : dir, ec);
  c.project_dir = abs.lexically_normal().string();
  // lexically_normal keeps a trailing separator ("/a/b/"); drop it for clean joins.
  while (c.project_dir.size() > 1 && c.project_dir.back() == '/') c.project_dir.pop_back();
  c.store_root = ResolvePath(c.project_dir, "store");
  c.catalog_path = ResolvePath(c.project_dir, "catalog.db");
  c.pipelines_dir = ResolvePath(c.project_dir, "pipelines");
  c.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return c;
}

Result<Config> LoadConfig(const std::string& path, const std::string& profile) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  ASSIGN_OR_RETURN(YAML::Node root, ParseYaml(text, path));
  ASSIGN_OR_RETURN(std::vector<YamlEntry> top, YamlMapEntries(root, path, ""));
  RETURN_IF_ERROR(YamlCheckKeys(top, TopLevelKeys(), path, ""));

  std::map<std::string, Setting> settings;
  const YamlEntry* profiles = nullptr;
  for (const auto& e : top) {
    if (e.key == "profiles") {
      profiles = &e;
    } else {
      settings[e.key] = {e.line, e.value};
    }
  }

  // Check every profile's keys, not only the selected one, so that a typo in
  // `prod` is caught while testing with `dev`.
  std::map<std::string, std::vector<YamlEntry>> profile_entries;
  std::vector<std::string> profile_names;
  if (profiles != nullptr) {
    ASSIGN_OR_RETURN(std::vector<YamlEntry> names,
                     YamlMapEntries(profiles->value, path, "profiles"));
    for (const auto& p : names) {
      std::string where = "profiles." + p.key;
      ASSIGN_OR_RETURN(std::vector<YamlEntry> entries, YamlMapEntries(p.value, path, where));
      RETURN_IF_ERROR(YamlCheckKeys(entries, SettingKeys(), path, where));
      profile_names.push_back(p.key);
      profile_entries[p.key] = std::move(entries);
    }
  }

  std::string selected = profile;
  std::string selected_from = "profile";
  if (selected.empty()) {
    const char* env = std::getenv("SLUICE_PROFILE");
    if (env != nullptr) selected = env;
    selected_from = "SLUICE_PROFILE";
  }
  if (!selected.empty()) {
    auto it = profile_entries.find(selected);
    if (it == profile_entries.end()) {
      std::string known;
      for (const auto& n : profile_names) known += (known.empty() ? "" : ", ") + n;
      std::string msg = "unknown profile '" + selected + "' (from " + selected_from + "); ";
      msg += known.empty() ? "this file defines no profiles" : "known profiles: " + known;
      return YamlError(path, profiles ? profiles->line : 1, "profiles", msg);
    }
    for (const auto& e : it->second) settings[e.key] = {e.line, e.value};
  }

  std::error_code ec;
  fs::path dir = fs::absolute(fs::path(path), ec).parent_path();
  Config c = DefaultConfig(dir.string());
  c.path = path;
  c.profile = selected;

  for (const auto& [key, s] : settings) {
    if (key == "s3_endpoint" || key == "s3_region") {
      ASSIGN_OR_RETURN(std::string v, ScalarSetting(path, key, s));
      (key == "s3_endpoint" ? c.s3_endpoint : c.s3_region) = v;
    } else if (key == "store_root" || key == "catalog" || key == "pipelines_dir") {
      ASSIGN_OR_RETURN(std::string v, ScalarSetting(path, key, s));
      if (v.empty()) return YamlError(path, s.line, key, "must not be empty");
      // A PostgreSQL catalog and an S3 store are URIs, not paths.
      const bool uri =
          (key == "catalog" && (v.starts_with("postgres://") || v.starts_with("postgresql://"))) ||
          (key == "store_root" && v.starts_with("s3://"));
      std::string resolved = uri ? v : ResolvePath(c.project_dir, v);
      if (key == "store_root") c.store_root = resolved;
      if (key == "catalog") c.catalog_path = resolved;
      if (key == "pipelines_dir") c.pipelines_dir = resolved;
    } else if (key == "workers") {
      ASSIGN_OR_RETURN(c.workers, IntSetting(path, key, s));
      if (c.workers < 0) {
        return YamlError(path, s.line, key,
                         "must be >= 0 (0 = one per core), got " + std::to_string(c.workers));
      }
    } else if (key == "threads") {
      ASSIGN_OR_RETURN(c.threads, IntSetting(path, key, s));
      if (c.threads < 0) {
        return YamlError(path, s.line, key,
                         "must be >= 0 (0 = one per core), got " + std::to_string(c.threads));
      }
    } else if (key == "max_attempts") {
      ASSIGN_OR_RETURN(c.max_attempts, IntSetting(path, key, s));
      if (c.max_attempts < 1) {
        return YamlError(path, s.line, key, "must be >= 1, got " + std::to_string(c.max_attempts));
      }
    } else if (key == "loaders") {
      ASSIGN_OR_RETURN(c.loaders, IntSetting(path, key, s));
      if (c.loaders < 0) {
        return YamlError(path, s.line, key, "must be >= 0, got " + std::to_string(c.loaders));
      }
    } else if (key == "exporters") {
      ASSIGN_OR_RETURN(c.exporters, IntSetting(path, key, s));
      if (c.exporters < 0) {
        return YamlError(path, s.line, key, "must be >= 0, got " + std::to_string(c.exporters));
      }
    } else if (key == "max_loads_per_database") {
      ASSIGN_OR_RETURN(c.max_loads_per_database, IntSetting(path, key, s));
      if (c.max_loads_per_database < 1) {
        return YamlError(path, s.line, key,
                         "must be >= 1, got " + std::to_string(c.max_loads_per_database));
      }
    } else if (key == "server") {
      ASSIGN_OR_RETURN(c.server, ParseServerConfig(path, s));
    } else if (key == "alerts") {
      ASSIGN_OR_RETURN(c.alerts, ParseAlertsConfig(path, s));
    } else if (key == "poll_interval") {
      ASSIGN_OR_RETURN(c.poll_interval, DurationSetting(path, key, s));
    } else if (key == "lease") {
      ASSIGN_OR_RETURN(c.lease, DurationSetting(path, key, s));
    }
  }
  RETURN_IF_ERROR(c.Validate().WithContext(path));
  if (c.workers == 0) c.workers = std::max(1u, std::thread::hardware_concurrency());
  if (c.threads == 0) c.threads = std::max(1u, std::thread::hardware_concurrency());
  return c;
}

std::string CatalogDisplay(const Config& config) { return Redact(config.catalog_path); }

}  // namespace sluice
