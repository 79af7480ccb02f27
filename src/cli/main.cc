// sluice: the command-line entry point. Flag parsing only.
#include <CLI/CLI.hpp>

#include <cstdlib>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "cli/cli.h"
#include "core/log.h"

int main(int argc, char** argv) {
#if defined(__GLIBC__)
  // Column buffers of a few MB are allocated and freed for every batch. By
  // default glibc maps each one afresh and unmaps it on free, so every batch
  // pays page faults for new zeroed pages (about 10% of CSV decoding). Keep
  // such blocks in the heap for reuse instead; memory stays bounded by the
  // peak, which the decoders and encoders bound.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
  using namespace sluice::cli;
  CLI::App app{"sluice: batch data ingestion engine (landing -> validate -> transform -> lake)"};
  app.require_subcommand(1);
  app.fallthrough();  // global flags may follow the subcommand
  app.set_version_flag("--version", "sluice " SLUICE_VERSION_STRING);
  GlobalFlags g;
  std::string log_level = "";
  app.add_option("-c,--config", g.config_path, "Project config (default ./sluice.yaml)");
  app.add_option("--profile", g.profile, "Config profile (default $SLUICE_PROFILE)");
  app.add_option("--log-level", log_level,
                 "trace|debug|info|warn|error (default info for "
                 "server, warn otherwise)");
  std::string log_format;
  app.add_option("--log-format", log_format,
                 "json|text: JSON lines (default for server) or text for people (default "
                 "otherwise); also $SLUICE_LOG_FORMAT")
      ->check(CLI::IsMember({"json", "text"}));

  std::string init_dir;
  auto* init = app.add_subcommand("init", "Create a new project directory");
  init->add_option("DIR", init_dir, "Directory to create")->required();

  std::vector<std::string> validate_args;
  auto* validate = app.add_subcommand(
      "validate", "Check pipeline specs (default: the project's) and print each output's schema");
  validate->add_option("PIPELINE", validate_args, "Pipeline files or names");
  validate->add_flag("--json", g.json, "Machine-readable output");
  bool validate_connect = false;
  validate->add_flag("--connect", validate_connect,
                     "Also connect to each database output and check its table (changes nothing)");

  std::vector<std::string> test_args;
  auto* test = app.add_subcommand("test", "Run pipeline unit tests (*.test.yaml beside the specs)");
  test->add_option("PIPELINE", test_args, "Pipeline files, test files or names (default: all)");
  test->add_flag("--json", g.json, "Machine-readable output");

  std::string infer_file;
  auto* infer = app.add_subcommand("infer", "Print a pipeline spec with the schema of a file");
  infer->add_option("FILE", infer_file, "CSV or NDJSON file (may be gzip/zstd)")->required();
  const char* kSampleHelp = "Records to infer the schema from (default 20000; more looks further)";
  infer->add_option("--sample-rows", g.sample_rows, kSampleHelp)->check(CLI::PositiveNumber);

  std::string pipeline, table;
  std::vector<std::string> files;
  auto* ingest = app.add_subcommand("ingest", "Register, process and commit files now");
  auto* popt = ingest->add_option("-p,--pipeline", pipeline, "Pipeline to run the files through");
  auto* topt = ingest->add_option("-t,--table", table,
                                  "Zero-config: infer the schema and load into lake table T");
  popt->excludes(topt);
  ingest->add_option("FILE", files, "Input files")->required();
  const char* kThreadsHelp = "Threads for decoding and encoding inside batches (default: config)";
  ingest->add_option("--threads", g.threads, kThreadsHelp)->check(CLI::PositiveNumber);
  ingest->add_option("--sample-rows", g.sample_rows, kSampleHelp)->check(CLI::PositiveNumber);
  ingest->add_option("--delivery-wait", g.delivery_wait,
                     "How long to load the batches into database outputs before leaving the rest "
                     "to a server's loaders (default 1m; 0s: leave them all)");

  bool exit_when_idle = false;
  auto* server = app.add_subcommand("server", "Run the embedded daemon until SIGTERM");
  server->add_flag("--exit-when-idle", exit_when_idle,
                   "Exit once the landing zone is empty and no work is queued");
  server->add_option("--threads", g.threads, kThreadsHelp)->check(CLI::PositiveNumber);
  ServerFlags server_flags;
  server->add_option("--listen", server_flags.listen,
                     "HOST:PORT of the HTTP API and dashboard (default: server.listen in "
                     "sluice.yaml, else 127.0.0.1:8080; port 0 = any free port). With "
                     "--exit-when-idle there is no listener unless this is given");
  server->add_flag("--no-http", server_flags.no_http, "Run without the HTTP listener");
  server->add_flag("--reuse-port", server_flags.reuse_port,
                   "Share the port with a newer process taking over (SO_REUSEPORT)");

  auto* status = app.add_subcommand("status", "Summary of pipelines, batches and tables");
  status->add_flag("--json", g.json, "Machine-readable output");

  std::string state_filter, pipeline_filter;
  int64_t limit = 0, before = 0;
  auto* batches = app.add_subcommand("batches", "List batches");
  batches->add_option("--state", state_filter,
                      "landed|queued|processing|committing|committed|failed|quarantined");
  batches->add_option("--pipeline", pipeline_filter, "Only this pipeline");
  batches->add_option("--limit", limit, "At most N (newest first; 0 = all)")
      ->check(CLI::NonNegativeNumber);
  batches->add_option("--before", before, "Only batches with an id below this (the next page)")
      ->check(CLI::NonNegativeNumber);
  batches->add_flag("--json", g.json, "Machine-readable output");

  auto* tables = app.add_subcommand("tables", "List lake tables and their files");
  tables->add_flag("--json", g.json, "Machine-readable output");

  std::vector<int64_t> replay_ids;
  bool latest = false;
  std::string replay_delivery;
  auto* replay = app.add_subcommand(
      "replay", "Process a batch again from its archived input, or retry its failed deliveries");
  replay->add_option("BATCH_ID", replay_ids, "Batch id (several with --delivery)")->required();
  auto* latest_opt = replay->add_flag(
      "--latest-version", latest, "Use the pipeline's active version instead of the pinned one");
  auto* delivery_opt =
      replay
          ->add_option("--delivery", replay_delivery,
                       "Retry the batch's failed delivery to OUTPUT (its id in batches --json, or "
                       "'all') from the staged rows, without processing the batch again")
          ->type_name("OUTPUT");
  delivery_opt->excludes(latest_opt);

  std::string backfill_pipeline, backfill_since;
  bool backfill_latest = false;
  int backfill_window = 0;
  auto* backfill = app.add_subcommand(
      "backfill",
      "Replay a pipeline's batches oldest first, a window at a time; resumes an interrupted run");
  backfill->add_option("-p,--pipeline", backfill_pipeline, "Pipeline name")->required();
  backfill->add_option("--since", backfill_since,
                       "Only batches registered since then: a date, a time or a duration (24h)");
  backfill->add_flag("--latest-version", backfill_latest,
                     "Replay with the pipeline's active version instead of each batch's own");
  backfill->add_option("--window", backfill_window, "Batches processed at once (default: workers)");

  bool check_quick = false, check_repair = false;
  std::string token_name = "ops";
  std::string token_role = "reader";
  auto* token = app.add_subcommand(
      "token", "Make a bearer token for the HTTP API; prints it and the line for sluice.yaml");
  token->add_option("--name", token_name, "Who will hold it (logs and metrics show this name)");
  token->add_option("--role", token_role, "reader, ingester or admin")
      ->check(CLI::IsMember({"reader", "ingester", "admin"}));
  auto* check = app.add_subcommand(
      "check", "Verify the catalog against the store (lake files, checksums, archives)");
  check->add_flag("--quick", check_quick, "Compare sizes only; do not read the files");
  check->add_flag("--repair", check_repair,
                  "Rebuild damaged committed batches from their archived inputs");
  check->add_flag("--json", g.json, "Machine-readable output");

  ConvertFlags convert_flags;
  auto* convert = AddConvertCommand(app, &convert_flags);

  CLI11_PARSE(app, argc, argv);

  if (const char* env = std::getenv("SLUICE_LOG"); log_level.empty() && env) log_level = env;
  if (log_level.empty()) log_level = server->parsed() ? "info" : "warn";
  if (const char* env = std::getenv("SLUICE_LOG_FORMAT"); log_format.empty() && env) {
    log_format = env;
  }
  if (log_format.empty()) log_format = server->parsed() ? "json" : "text";
  auto format = sluice::ParseLogFormat(log_format);
  if (!format.ok()) return Fail(format.status().WithContext("SLUICE_LOG_FORMAT"));
  sluice::ConfigureLogging(*format, log_level);

  if (init->parsed()) return CmdInit(init_dir);
  if (validate->parsed()) return CmdValidate(g, validate_args, validate_connect);
  if (test->parsed()) return CmdTest(g, test_args);
  if (infer->parsed()) return CmdInfer(g, infer_file);
  if (ingest->parsed()) {
    if (pipeline.empty() && table.empty()) {
      return Fail(sluice::Status::InvalidArgument("ingest needs --pipeline P or --table T"));
    }
    return CmdIngest(g, pipeline, table, files);
  }
  if (server->parsed()) return CmdServer(g, exit_when_idle, server_flags);
  if (status->parsed()) return CmdStatus(g);
  if (batches->parsed()) return CmdBatches(g, state_filter, pipeline_filter, limit, before);
  if (tables->parsed()) return CmdTables(g);
  if (backfill->parsed()) {
    return CmdBackfill(g, backfill_pipeline, backfill_since, backfill_latest, backfill_window);
  }
  if (replay->parsed()) {
    if (delivery_opt->count() > 0) return CmdReplayDeliveries(g, replay_ids, replay_delivery);
    if (replay_ids.size() != 1) {
      return Fail(sluice::Status::InvalidArgument(
          "replay processes one BATCH_ID at a time (several only with --delivery)"));
    }
    return CmdReplay(g, replay_ids.front(), latest);
  }
  if (check->parsed()) return CmdCheck(g, check_quick, check_repair);
  if (token->parsed()) return CmdToken(token_name, token_role);
  if (convert->parsed()) return CmdConvert(convert_flags);
  return 2;
}
