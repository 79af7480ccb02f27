// sluice.yaml: the project configuration.
//
//   store_root: ./store          # ObjectStore root (landing/, lake/, ...), or
//                                # s3://bucket/prefix (S3-compatible storage)
//   s3_endpoint: http://host:port  # S3 endpoint (empty: AWS_ENDPOINT_URL, else AWS)
//   s3_region: us-east-1         # (empty: AWS_REGION / AWS_DEFAULT_REGION)
//   catalog: ./store/catalog.db  # SQLite catalog path, or a postgres:// URI
//   pipelines_dir: ./pipelines   # *.yaml pipeline specs
//   workers: 2                   # batches processed at once (0 = number of cores)
//   threads: 0                   # decode/encode threads shared by them (0 = number of cores)
//   poll_interval: 1s            # landing poll period (ms, s, m suffixes)
//   lease: 30s                   # task lease; a dead worker's task returns after this
//   max_attempts: 5              # processing attempts before a batch stays failed
//   loaders: 2                   # deliveries to databases loaded at once (0 = none
//                                #   in this process: another host loads)
//   max_loads_per_database: 4    # loads into one database at once, all outputs
//   alerts:                      # deadline and freshness alerts (pipeline
//     webhook: https://hooks.example/sluice  #   `deadline`, `expect_every`) are
//     authorization: "Bearer ${HOOK_TOKEN}"  #   POSTed here as JSON, retried
//     timeout: 5s                            #   with backoff, never blocking
//   exporters: 1                 # exports (POST /v1/exports) written at once by
//                                #   `sluice server` (0 = none here: another host)
//   server:                      # the HTTP service of `sluice server` (docs/api.md)
//     listen: 127.0.0.1:8080     # host:port (port 0: any free port); a non-loopback
//                                #   host needs `tokens`
//     tls_cert: cert.pem         # serve HTTPS with this certificate chain and key
//     tls_key: key.pem
//     tokens:                    # bearer tokens, stored as SHA-256 (`sluice token`)
//       - { name: ops, role: admin, sha256: 5e88...42 }
//       - { name: bi, role: reader, sha256: 1f2d...9a, tables: [orders] }
//     max_body: 64GiB            # largest request body (uploads, deploys)
//     max_header: 16KiB          # request line + headers
//     max_requests: 64           # requests served at once (more: 503)
//     rate: 100                  # requests per second per token (0 = no limit)
//     burst: 200                 # requests a token may make at once
//   profiles:                    # named overrides, chosen with --profile / SLUICE_PROFILE
//     dev: { workers: 1 }
//
// Values may use ${VAR} and ${VAR:-default}; an unset VAR without default is an
// error. Relative paths resolve against the directory holding sluice.yaml.
// Unknown keys are rejected; every error names the file, line and key.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/config_text.h"  // InterpolateEnv, ParseDuration
#include "core/status.h"

namespace sluice {

// A bearer token of the HTTP API. Only its SHA-256 is kept; tokens are
// random (`sluice token` makes 256-bit ones), so no slow hash is needed.
struct ApiToken {
  std::string name;    // who holds it (logged and in metrics; never the token)
  std::string role;    // reader (data, status) < ingester (+ uploads) < admin (everything)
  std::string sha256;  // lower-case hex SHA-256 of the token text
  // Tables a reader or ingester may read rows of and export; empty = all.
  // An admin reads every table.
  std::vector<std::string> tables;
};

struct ServerConfig {
  std::string listen = "127.0.0.1:8080";
  std::string tls_cert;  // absolute; empty = plain HTTP
  std::string tls_key;
  std::vector<ApiToken> tokens;  // empty: no authentication (loopback only)
  int64_t max_body_bytes = int64_t{64} << 30;
  int64_t max_header_bytes = 16 << 10;
  int max_requests = 64;
  double rate = 100;  // per token and second; 0 = unlimited
  double burst = 200;
  int line = 0;  // where `server:` is in the file (0: not there), for errors about it
};

// Where deadline and freshness alerts go besides logs and metrics
// (architecture 8.3).
struct AlertsConfig {
  std::string webhook;                      // http(s):// URL; empty = none
  std::string authorization;                // Authorization header value, if any
  std::chrono::milliseconds timeout{5000};  // per call
};

struct Config {
  std::string path;         // the sluice.yaml read (empty for the built-in default)
  std::string project_dir;  // its directory (absolute)
  std::string profile;      // selected profile, empty if none
  std::string store_root;   // absolute path, or an s3:// URI
  // The S3 store's endpoint and region; credentials come from the
  // environment or the shared credentials file (ResolveS3Config).
  std::string s3_endpoint;
  std::string s3_region;
  std::string catalog_path;   // absolute path, or a postgres:// URI (may hold a password:
                              // print catalog_display() instead)
  std::string pipelines_dir;  // absolute
  int workers = 2;
  // Threads that decode and encode inside batches (shared by all workers);
  // 0 in the file means one per core, resolved when loading.
  int threads = 0;
  std::chrono::milliseconds poll_interval{1000};
  std::chrono::milliseconds lease{30000};
  int max_attempts = 5;
  int loaders = 2;
  int max_loads_per_database = 4;
  int exporters = 1;
  ServerConfig server;
  AlertsConfig alerts;

  Status Validate() const;
};

// Reads and validates `path` with the given profile ("" = none; falls back to
// $SLUICE_PROFILE).
Result<Config> LoadConfig(const std::string& path, const std::string& profile);
// The embedded default project rooted at `dir` (store at dir/store, catalog at
// dir/catalog.db, pipelines at dir/pipelines).
Config DefaultConfig(const std::string& dir);

// Where the catalog is, safe to print or record: the path, or the URI
// without its password.
std::string CatalogDisplay(const Config& config);

}  // namespace sluice
