#include "pipeline/config.h"

#include <gtest/gtest.h>

#include <thread>

#include "test_dir.h"

namespace sluice {
namespace {

using testing::ScopedEnv;
using testing::TempDir;

bool StartsWith(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

TEST(Config, ReadsEveryKeyAndResolvesPathsAgainstTheFile) {
  TempDir dir;
  ScopedEnv no_profile("SLUICE_PROFILE", nullptr);
  std::string path = dir.Write("proj/sluice.yaml",
                               "store_root: ./data/store\n"
                               "catalog: /abs/catalog.db\n"
                               "pipelines_dir: specs\n"
                               "workers: 3\n"
                               "threads: 5\n"
                               "poll_interval: 250ms\n"
                               "lease: 2m\n"
                               "max_attempts: 7\n");
  auto c = LoadConfig(path, "");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::string proj = dir.path() + "/proj";
  EXPECT_EQ(c->path, path);
  EXPECT_EQ(c->project_dir, proj);
  EXPECT_EQ(c->profile, "");
  EXPECT_EQ(c->store_root, proj + "/data/store");
  EXPECT_EQ(c->catalog_path, "/abs/catalog.db");
  EXPECT_EQ(c->pipelines_dir, proj + "/specs");
  EXPECT_EQ(c->workers, 3);
  EXPECT_EQ(c->threads, 5);
  EXPECT_EQ(c->poll_interval.count(), 250);
  EXPECT_EQ(c->lease.count(), 120000);
  EXPECT_EQ(c->max_attempts, 7);
}

TEST(Config, ServerBlockWithTokensPerProfile) {
  TempDir dir;
  ScopedEnv no_profile("SLUICE_PROFILE", nullptr);
  std::string path =
      dir.Write("proj/sluice.yaml",
                "server:\n"
                "  listen: 0.0.0.0:9000\n"
                "  tls_cert: certs/c.pem\n"
                "  tls_key: certs/k.pem\n"
                "  max_body: 1GiB\n"
                "  max_header: 8KiB\n"
                "  max_requests: 10\n"
                "  rate: 5\n"
                "  burst: 10\n"
                "  tokens:\n"
                "    - { name: ops, role: admin, sha256: "
                "5E884898DA28047151D0E56F8DC6292773603D0D6AABBDD62A11EF721D1542D8 }\n"
                "    - name: bi\n"
                "      role: reader\n"
                "      sha256: 1111111111111111111111111111111111111111111111111111111111111111\n"
                "      tables: [orders]\n"
                "profiles:\n"
                "  dev:\n"
                "    server: { listen: 127.0.0.1:0 }\n");
  auto c = LoadConfig(path, "");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server.listen, "0.0.0.0:9000");
  EXPECT_EQ(c->server.tls_cert, dir.path() + "/proj/certs/c.pem");
  EXPECT_EQ(c->server.max_body_bytes, int64_t{1} << 30);
  EXPECT_EQ(c->server.max_header_bytes, 8 << 10);
  EXPECT_EQ(c->server.max_requests, 10);
  EXPECT_EQ(c->server.rate, 5);
  EXPECT_EQ(c->server.burst, 10);
  ASSERT_EQ(c->server.tokens.size(), 2u);
  EXPECT_EQ(c->server.tokens[0].name, "ops");
  EXPECT_EQ(c->server.tokens[0].sha256,
            "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8");
  EXPECT_EQ(c->server.tokens[1].tables, std::vector<std::string>{"orders"});
  // A profile replaces the whole block: dev has no tokens.
  auto dev = LoadConfig(path, "dev");
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  EXPECT_EQ(dev->server.listen, "127.0.0.1:0");
  EXPECT_TRUE(dev->server.tokens.empty());
}

TEST(Config, ServerBlockErrorsNameTheKeyAndNeverAcceptAPlainToken) {
  TempDir dir;
  ScopedEnv no_profile("SLUICE_PROFILE", nullptr);
  struct Case {
    std::string yaml;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {"server: { bogus: 1 }\n", "server"},
      {"server: { tokens: [ { name: a, role: root, sha256: SHA } ] }\n",
       "server.tokens[0].role: must be reader, ingester or admin"},
      {"server: { tokens: [ { name: a, role: admin, sha256: slc_plaintexttoken } ] }\n",
       "server.tokens[0].sha256: must be the 64 hex digits"},
      {"server: { tokens: [ { role: admin, sha256: SHA } ] }\n", "needs a `name`"},
      {"server: { tokens: [ { name: a, role: admin, sha256: SHA }, { name: a, role: reader, "
       "sha256: SHA } ] }\n",
       "two tokens share"},
      {"server: { max_body: 12XB }\n", "server.max_body: unknown size unit"},
      {"server: { rate: -1 }\n", "server.rate: expected a number >= 0"},
      {"server: { tls_cert: c.pem }\n", "tls_cert and tls_key go together"},
      {"server: { max_requests: 0 }\n", "server.max_requests: must be >= 1"},
  };
  for (const Case& k : cases) {
    std::string yaml = k.yaml;
    for (size_t at; (at = yaml.find("SHA")) != std::string::npos;)
      yaml.replace(at, 3, "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8");
    std::string path = dir.Write("e/sluice.yaml", yaml);
    auto c = LoadConfig(path, "");
    ASSERT_FALSE(c.ok()) << yaml;
    EXPECT_NE(c.status().message().find(k.expect), std::string::npos)
        << yaml << " -> " << c.status().ToString();
    EXPECT_NE(c.status().message().find("sluice.yaml:1"), std::string::npos)
        << c.status().ToString();
  }
}

TEST(Config, SharedBackendsAreUrisAndThePasswordIsNeverShown) {
  TempDir dir;
  ScopedEnv no_profile("SLUICE_PROFILE", nullptr);
  ScopedEnv password("PGPASS_FOR_TEST", "s3cret");
  std::string path = dir.Write("sluice.yaml",
                               "store_root: s3://lake-bucket/prod/v1\n"
                               "s3_endpoint: http://127.0.0.1:9000\n"
                               "s3_region: eu-west-1\n"
                               "catalog: postgresql://sluice:${PGPASS_FOR_TEST}@db:5432/cat\n"
                               "profiles:\n"
                               "  dev: { s3_region: us-east-1 }\n");
  auto c = LoadConfig(path, "");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->store_root, "s3://lake-bucket/prod/v1");  // not resolved as a path
  EXPECT_EQ(c->s3_endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(c->s3_region, "eu-west-1");
  EXPECT_EQ(c->catalog_path, "postgresql://sluice:s3cret@db:5432/cat");
  EXPECT_EQ(CatalogDisplay(*c), "postgresql://sluice:***@db:5432/cat");
  auto dev = LoadConfig(path, "dev");
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  EXPECT_EQ(dev->s3_region, "us-east-1");
}

TEST(Config, EmptyFileGivesTheDefaultProject) {
  TempDir dir;
  ScopedEnv no_profile("SLUICE_PROFILE", nullptr);
  std::string path = dir.Write("sluice.yaml", "# nothing\n");
  auto c = LoadConfig(path, "");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Config d = DefaultConfig(dir.path());
  EXPECT_EQ(c->store_root, d.store_root);
  EXPECT_EQ(c->catalog_path, d.catalog_path);
  EXPECT_EQ(c->pipelines_dir, d.pipelines_dir);
  EXPECT_EQ(c->workers, d.workers);
  EXPECT_EQ(c->poll_interval, d.poll_interval);
  EXPECT_EQ(c->lease, d.lease);
  EXPECT_EQ(c->max_attempts, d.max_attempts);
}

TEST(Config, DefaultConfigLayout) {
  Config d = DefaultConfig("/srv/proj/");
  EXPECT_EQ(d.path, "");
  EXPECT_EQ(d.project_dir, "/srv/proj");
  EXPECT_EQ(d.store_root, "/srv/proj/store");
  EXPECT_EQ(d.catalog_path, "/srv/proj/catalog.db");
  EXPECT_EQ(d.pipelines_dir, "/srv/proj/pipelines");
  EXPECT_EQ(d.workers, 2);
  EXPECT_EQ(d.poll_interval.count(), 1000);
  EXPECT_EQ(d.lease.count(), 30000);
  EXPECT_EQ(d.max_attempts, 5);
  EXPECT_TRUE(d.Validate().ok());
  Config rel = DefaultConfig("relative/dir");
  EXPECT_EQ(rel.project_dir[0], '/');
}

const char* kProfiles =
    "workers: 4\n"
    "lease: 10s\n"
    "profiles:\n"
    "  dev:\n"
    "    workers: 1\n"
    "    store_root: dev-store\n"
    "  prod: { workers: 16, max_attempts: 9 }\n";

TEST(Config, ProfilesOverrideTopLevelKeys) {
  TempDir dir;
  ScopedEnv no_profile("SLUICE_PROFILE", nullptr);
  std::string path = dir.Write("sluice.yaml", kProfiles);
  struct Case {
    const char* profile;
    int workers;
    int max_attempts;
    std::string store;
  };
  const Case kCases[] = {
      {"", 4, 5, dir.path() + "/store"},
      {"dev", 1, 5, dir.path() + "/dev-store"},
      {"prod", 16, 9, dir.path() + "/store"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.profile);
    auto cfg = LoadConfig(path, c.profile);
    ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
    EXPECT_EQ(cfg->profile, c.profile);
    EXPECT_EQ(cfg->workers, c.workers);
    EXPECT_EQ(cfg->max_attempts, c.max_attempts);
    EXPECT_EQ(cfg->store_root, c.store);
    EXPECT_EQ(cfg->lease.count(), 10000);  // not overridden anywhere
  }
}

TEST(Config, ProfileFromEnvironmentAndArgumentWins) {
  TempDir dir;
  std::string path = dir.Write("sluice.yaml", kProfiles);
  ScopedEnv env("SLUICE_PROFILE", "prod");
  auto from_env = LoadConfig(path, "");
  ASSERT_TRUE(from_env.ok()) << from_env.status().ToString();
  EXPECT_EQ(from_env->profile, "prod");
  EXPECT_EQ(from_env->workers, 16);
  auto from_arg = LoadConfig(path, "dev");
  ASSERT_TRUE(from_arg.ok());
  EXPECT_EQ(from_arg->profile, "dev");
  EXPECT_EQ(from_arg->workers, 1);
}

TEST(Config, UnknownProfileListsTheKnownOnes) {
  TempDir dir;
  ScopedEnv no_profile("SLUICE_PROFILE", nullptr);
  std::string path = dir.Write("sluice.yaml", kProfiles);
  auto c = LoadConfig(path, "staging");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(), path +
                                      ":3: profiles: unknown profile 'staging' (from profile); "
                                      "known profiles: dev, prod");

  ScopedEnv env("SLUICE_PROFILE", "qa");
  std::string bare = dir.Write("bare.yaml", "workers: 1\n");
  auto b = LoadConfig(bare, "");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(), bare +
                                      ":1: profiles: unknown profile 'qa' (from SLUICE_PROFILE); "
                                      "this file defines no profiles");
}

TEST(Config, EnvironmentInterpolation) {
  TempDir dir;
  ScopedEnv no_profile("SLUICE_PROFILE", nullptr);
  ScopedEnv root("H4_ROOT", "/mnt/lake");
  ScopedEnv unset("H4_UNSET", nullptr);
  std::string path = dir.Write("sluice.yaml",
                               "store_root: ${H4_ROOT}/store\n"
                               "workers: ${H4_UNSET:-6}\n"
                               "lease: ${H4_UNSET:-45}s\n");
  auto c = LoadConfig(path, "");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->store_root, "/mnt/lake/store");
  EXPECT_EQ(c->workers, 6);
  EXPECT_EQ(c->lease.count(), 45000);

  std::string bad = dir.Write("bad.yaml", "workers: 2\ncatalog: ${H4_UNSET}/c.db\n");
  auto b = LoadConfig(bad, "");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(),
            bad +
                ":2: catalog: environment variable H4_UNSET is not set (write "
                "${H4_UNSET:-default} to give a default)");
}

TEST(Config, OnlyTheSelectedProfileIsInterpolated) {
  TempDir dir;
  ScopedEnv no_profile("SLUICE_PROFILE", nullptr);
  ScopedEnv unset("H4_PROD_ROOT", nullptr);
  std::string path = dir.Write("sluice.yaml",
                               "profiles:\n"
                               "  dev: { workers: 1 }\n"
                               "  prod: { store_root: \"${H4_PROD_ROOT}\" }\n");
  EXPECT_TRUE(LoadConfig(path, "dev").ok());
  auto p = LoadConfig(path, "prod");
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(StartsWith(p.status().message(), path + ":3: store_root: environment variable "
                                                      "H4_PROD_ROOT is not set"))
      << p.status().message();
}

TEST(Config, ErrorsNameFileLineAndKey) {
  struct Case {
    const char* text;
    const char* message;  // after "PATH:"
  };
  const Case kCases[] = {
      {"workers: 2\nworkrs: 3\n", "2: workrs: unknown key (did you mean 'workers'?)"},
      {"zzz: 1\n",
       "1: zzz: unknown key (known keys: store_root, catalog, pipelines_dir, workers, threads, "
       "poll_interval, lease, max_attempts, s3_endpoint, s3_region, loaders, "
       "max_loads_per_database, exporters, server, alerts, profiles)"},
      {"exporters: -1\n", "1: exporters: must be >= 0, got -1"},
      {"alerts:\n  webhook: ftp://hooks\n",
       "2: alerts.webhook: expected an http:// or https:// URL"},
      {"alerts:\n  timeout: 0s\n", "2: alerts.timeout: must be greater than zero"},
      {"alerts:\n  hook: http://x\n", "2: alerts.hook: unknown key"},
      {"profiles:\n  dev:\n    leas: 5s\n",
       "3: profiles.dev.leas: unknown key (did you mean 'lease'?)"},
      {"workers: -1\n", "1: workers: must be >= 0 (0 = one per core), got -1"},
      {"threads: -3\n", "1: threads: must be >= 0 (0 = one per core), got -3"},
      {"workers: many\n", "1: workers: expected an integer, got 'many'"},
      {"workers: [1]\n", "1: workers: expected a single value, not a list or mapping"},
      {"max_attempts: 0\n", "1: max_attempts: must be >= 1, got 0"},
      {"loaders: -1\n", "1: loaders: must be >= 0, got -1"},
      {"max_loads_per_database: 0\n", "1: max_loads_per_database: must be >= 1, got 0"},
      {"lease:\n", "1: lease: needs a value"},
      {"lease: 0s\n", "1: lease: must be greater than zero, got '0s'"},
      {"\n\npoll_interval: 5 parsecs\n",
       "3: poll_interval: invalid duration unit ' parsecs' in '5 parsecs' (use ms, s, m or h)"},
      {"store_root: ''\n", "1: store_root: must not be empty"},
      {"workers: 1\nworkers: 2\n", "2: workers: duplicate key"},
      {"workers: [1,\n", "2: invalid YAML: "},
      {"- a\n- b\n", "1: expected a mapping, got a list"},
      {"profiles: [dev]\n", "1: profiles: expected a mapping, got a list"},
  };
  TempDir dir;
  ScopedEnv no_profile("SLUICE_PROFILE", nullptr);
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.text);
    std::string path = dir.Write("sluice.yaml", c.text);
    auto r = LoadConfig(path, "");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(StartsWith(r.status().message(), path + ":" + c.message)) << r.status().message();
  }
}

TEST(Config, MissingFileIsNotFound) {
  TempDir dir;
  auto r = LoadConfig(dir.path() + "/nope.yaml", "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("nope.yaml"), std::string::npos);
}

TEST(Config, ZeroWorkersMeansOnePerCore) {
  TempDir dir;
  ScopedEnv no_profile("SLUICE_PROFILE", nullptr);
  auto c = LoadConfig(dir.Write("sluice.yaml", "workers: 0\n"), "");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->workers, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

TEST(Config, ValidateChecksEveryField) {
  struct Case {
    void (*mutate)(Config*);
    const char* message;
  };
  const Case kCases[] = {
      {[](Config* c) { c->workers = -2; }, "workers: must be >= 0"},
      {[](Config* c) { c->threads = -1; }, "threads: must be >= 0"},
      {[](Config* c) { c->poll_interval = std::chrono::milliseconds(0); },
       "poll_interval: must be greater than zero"},
      {[](Config* c) { c->lease = std::chrono::milliseconds(-1); },
       "lease: must be greater than zero"},
      {[](Config* c) { c->max_attempts = 0; }, "max_attempts: must be >= 1"},
      {[](Config* c) { c->store_root.clear(); }, "store_root: must not be empty"},
      {[](Config* c) { c->catalog_path.clear(); }, "catalog: must not be empty"},
      {[](Config* c) { c->pipelines_dir.clear(); }, "pipelines_dir: must not be empty"},
  };
  for (const auto& c : kCases) {
    Config cfg = DefaultConfig("/p");
    c.mutate(&cfg);
    Status st = cfg.Validate();
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << c.message;
    EXPECT_TRUE(StartsWith(st.message(), c.message)) << st.message();
  }
}

TEST(ParseDuration, Table) {
  const std::pair<const char*, int64_t> kGood[] = {
      {"250ms", 250}, {"2s", 2000},  {"5m", 300000},   {"1h", 3600000}, {"3", 3000},
      {"1.5s", 1500}, {"0.25", 250}, {" 10s ", 10000}, {"0s", 0},       {"90m", 5400000},
  };
  for (auto [text, ms] : kGood) {
    auto d = ParseDuration(text);
    ASSERT_TRUE(d.ok()) << text << ": " << d.status().ToString();
    EXPECT_EQ(d->count(), ms) << text;
  }
  for (const char* bad : {"", "s", "-1s", "10x", "1d", "ms5", "1.2.3s", "1e3", "5 m"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
}

TEST(InterpolateEnv, Table) {
  ScopedEnv a("H4_A", "alpha");
  ScopedEnv empty("H4_EMPTY", "");
  ScopedEnv unset("H4_NONE", nullptr);
  const std::pair<const char*, const char*> kGood[] = {
      {"plain", "plain"},
      {"${H4_A}", "alpha"},
      {"x-${H4_A}-${H4_A}", "x-alpha-alpha"},
      {"${H4_NONE:-fallback}", "fallback"},
      {"${H4_NONE:-}", ""},
      {"${H4_EMPTY:-used}", "used"},
      {"${H4_EMPTY}", ""},
      {"${H4_A:-unused}", "alpha"},
      {"cost $5", "cost $5"},
      {"$${H4_A}", "${H4_A}"},
      {"${H4_NONE:-a:b}", "a:b"},
  };
  for (auto [in, out] : kGood) {
    auto r = InterpolateEnv(in, "f:1: k");
    ASSERT_TRUE(r.ok()) << in << ": " << r.status().ToString();
    EXPECT_EQ(*r, out) << in;
  }
  const std::pair<const char*, const char*> kBad[] = {
      {"${H4_NONE}", "f:1: k: environment variable H4_NONE is not set"},
      {"${H4_A", "f:1: k: unterminated '${'"},
      {"${}", "f:1: k: malformed variable reference '${}'"},
      {"${1X}", "f:1: k: malformed variable reference '${1X}'"},
      {"${A B}", "f:1: k: malformed variable reference"},
  };
  for (auto [in, msg] : kBad) {
    auto r = InterpolateEnv(in, "f:1: k");
    ASSERT_FALSE(r.ok()) << in;
    EXPECT_TRUE(StartsWith(r.status().message(), msg)) << r.status().message();
  }
}

}  // namespace
}  // namespace sluice
