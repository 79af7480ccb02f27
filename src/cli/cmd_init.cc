#include <cstdio>
#include <filesystem>

#include "cli/cli.h"
#include "core/io.h"

namespace sluice::cli {

namespace {

constexpr const char* kConfig = R"(# sluice project configuration. Paths are relative to this file.
store_root: ./store            # landing/, archive/, staging/, lake/, quarantine/
catalog: ./store/catalog.db    # SQLite catalog (WAL)
pipelines_dir: ./pipelines     # one YAML spec per pipeline
workers: 2                     # worker threads (0 = one per core)
poll_interval: 1s              # how often the server scans landing/
lease: 30s                     # a crashed worker's task returns after this
max_attempts: 5                # attempts per batch (incl. crashed ones) before it fails

profiles:
  dev:
    workers: 1
)";

constexpr const char* kPipeline =
    R"(# An example pipeline. Drop CSV files into store/landing/example/ and run
# `sluice server`, or run `sluice ingest --pipeline example FILE`.
pipeline: example
source:
  pattern: "*.csv*"
  format: csv
  csv: { header: true, delimiter: "," }
schema:
  id: int64 not null
  name: string
  amount: decimal(12,2)
  created_at: timestamp
on_bad_record: quarantine
max_bad_ratio: 0.05
transform:
  - dedupe: { key: [id], keep: last }
outputs:
  - table: example
)";

// Unit tests for the example pipeline: `sluice test` runs them in memory.
constexpr const char* kPipelineTest =
    R"(# Unit tests for example.yaml: run them with `sluice test`. Each test feeds
# rows through the real decoder and transform (no project data is touched) and
# checks the rows an output receives and the records it rejects.
tests:
  - name: the last version of an id wins
    input:   # rows as mappings (or input_csv: | with a header line)
      - { id: 1, name: Ada, amount: "12.50", created_at: "2026-11-01 10:00:00" }
      - { id: 2, name: Grace, amount: "7.00" }
      - { id: 1, name: Ada, amount: "13.00", created_at: "2026-11-01 11:00:00" }
    expect:  # per output; only the columns listed are compared
      example:
        - { id: 2, name: Grace, amount: "7.00", created_at: null }
        - { id: 1, amount: "13.00", created_at: "2026-11-01T11:00:00Z" }

  - name: rows that do not fit the schema are rejected
    input_csv: |
      id,name,amount,created_at
      3,Linus,abc,
      ,Ken,1.00,
      4,Barbara,2.5,2026-11-02T08:30:00Z
    expect:
      example:
        - { id: 4, amount: "2.50" }
    expect_bad:   # line: the line of the CSV text (header = line 1)
      - { line: 2, field: amount, reason: "cannot parse 'abc'" }
      - { line: 3, field: id, reason: "null in not-null field" }
)";

}  // namespace

int CmdInit(const std::string& dir) {
  namespace fs = std::filesystem;
  if (fs::exists(fs::path(dir) / "sluice.yaml")) {
    return Fail(Status::AlreadyExists(dir + "/sluice.yaml already exists"));
  }
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "pipelines", ec);
  fs::create_directories(fs::path(dir) / "store" / "landing" / "example", ec);
  if (ec) return Fail(Status::IOError("cannot create '" + dir + "': " + ec.message()));
  Status st = WriteFileAtomic((fs::path(dir) / "sluice.yaml").string(), kConfig);
  if (st.ok())
    st = WriteFileAtomic((fs::path(dir) / "pipelines" / "example.yaml").string(), kPipeline);
  if (st.ok()) {
    st = WriteFileAtomic((fs::path(dir) / "pipelines" / "example.test.yaml").string(),
                         kPipelineTest);
  }
  if (!st.ok()) return Fail(st);
  std::printf(
      "created project in %s\n  %s/sluice.yaml\n  %s/pipelines/example.yaml\n"
      "  %s/pipelines/example.test.yaml\n"
      "next: cd %s && sluice validate && sluice test && sluice server\n",
      dir.c_str(), dir.c_str(), dir.c_str(), dir.c_str(), dir.c_str());
  return 0;
}

}  // namespace sluice::cli
