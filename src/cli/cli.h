// The sluice command: flag parsing and output only; the work is in src/engine.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/project.h"
#include "pipeline/config.h"

namespace CLI {
class App;
}

namespace sluice::cli {

struct GlobalFlags {
  std::string config_path;      // -c/--config; empty = ./sluice.yaml or the embedded default
  std::string profile;          // --profile
  bool json = false;            // --json (commands that support it)
  int threads = 0;              // --threads (ingest, server): overrides the config's `threads`
  int64_t sample_rows = 20000;  // --sample-rows (infer, ingest --table): records inferred from
  // --delivery-wait (ingest): how long it loads its batches' database outputs
  // before leaving the rest pending for a server.
  std::string delivery_wait = "1m";
};

// Resolves the configuration: -c PATH, else ./sluice.yaml, else the embedded
// default project in ./.sluice/ (created on first use; a note goes to stderr).
Result<Config> ResolveConfig(const GlobalFlags& g);
Result<std::unique_ptr<Project>> OpenProject(const GlobalFlags& g);

// The spec file in `pipelines_dir` whose `pipeline:` is `name` (specs that do
// not parse are skipped: they are not the one asked for); NotFound lists the
// names there are.
Result<std::string> FindPipelineFile(const std::string& pipelines_dir, const std::string& name);

int CmdInit(const std::string& dir);
// Checks specs and prints every output's schema; files, names or the project's.
// `connect`: also reach every database output and check its table.
int CmdValidate(const GlobalFlags& g, const std::vector<std::string>& pipelines, bool connect);
// Runs pipeline tests (NAME.test.yaml): test files, pipeline files, names or the project's.
int CmdTest(const GlobalFlags& g, const std::vector<std::string>& pipelines);
int CmdInfer(const GlobalFlags& g, const std::string& file);
int CmdIngest(const GlobalFlags& g, const std::string& pipeline, const std::string& table,
              const std::vector<std::string>& files);
// `sluice server` flags beyond the global ones.
struct ServerFlags {
  std::string listen;  // overrides server.listen; empty = the config's
  bool no_http = false;
  bool reuse_port = false;
};
int CmdServer(const GlobalFlags& g, bool exit_when_idle, const ServerFlags& flags);
int CmdStatus(const GlobalFlags& g);
int CmdBatches(const GlobalFlags& g, const std::string& state, const std::string& pipeline,
               int64_t limit, int64_t before);
int CmdTables(const GlobalFlags& g);
// The lines under a batch for its database deliveries (all, or only those
// not delivered), and how to retry failed ones.
void PrintDeliveries(const std::vector<Delivery>& deliveries, int64_t batch_id, bool delivered_too);
int CmdReplay(const GlobalFlags& g, int64_t batch_id, bool latest_version);
// `since`: a date, a time or a duration back from now ("" = every batch);
// `window` 0 = the configured workers.
int CmdBackfill(const GlobalFlags& g, const std::string& pipeline, const std::string& since,
                bool latest_version, int window);
// `replay --delivery OUTPUT`: the batches' failed deliveries to OUTPUT (an
// output id as `batches --json` shows it, or "all") pending again, and a load
// task queued for each batch; nothing is processed again.
int CmdReplayDeliveries(const GlobalFlags& g, const std::vector<int64_t>& batch_ids,
                        const std::string& output);
// Verifies the catalog against the store (engine/check.h); 3 when problems remain.
int CmdCheck(const GlobalFlags& g, bool quick, bool repair);
// A new random API token: the token on stdout (shown once), and the
// `server.tokens` entry (its SHA-256) to put in sluice.yaml.
int CmdToken(const std::string& name, const std::string& role);

// `sluice convert IN OUT` (cmd_convert.cc); flags are documented in --help and README.md.
struct ConvertFlags {
  std::string input, output;
  std::string from, to;  // formats; empty = from the file name
  std::string schema_file;
  std::string pipeline_file;  // run this pipeline's schema + transform steps
  int threads = 0;            // 0 = hardware threads
  std::string compression;
  int compression_level = 0;  // 0 = the codec's default
  int64_t row_group_rows = 0;
  std::string delimiter, quote;
  bool no_header = false;
  std::vector<std::string> null_values;
  std::string bad_records;
  int64_t max_bad = 0;  // -1 = no limit
  bool check = false;   // decode and validate only: no OUT
  bool sync = false;    // fsync before the rename
  bool verbose = false;
  bool json = false;
  int64_t sample_rows = 20000;  // records the schema is inferred from (no --schema)
};
CLI::App* AddConvertCommand(CLI::App& app, ConvertFlags* flags);
int CmdConvert(const ConvertFlags& flags);

// Prints "sluice: <message>" to stderr and returns the exit code for it
// (2 for bad input/usage, 1 otherwise).
int Fail(const Status& st);

}  // namespace sluice::cli
