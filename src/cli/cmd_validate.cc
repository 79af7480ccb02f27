// sluice validate [PIPELINE...]: parses, resolves and type-checks pipeline
// specs (every step against the declared schema, every output's own steps,
// routes and partitioning) and prints the schema each output receives. Every
// spec is checked, not just up to the first error; any error exits 2, with
// FILE:LINE[:COL] in its message (expressions point a caret at the problem).
//
// Arguments are pipeline files, or pipeline names looked up in the project's
// pipelines directory; without arguments, the whole project (sluice.yaml and
// every spec, including duplicate pipeline names).
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <map>

#include "cli/cli.h"
#include "pipeline/spec.h"
#include "sink/pg_loader.h"
#include "sink/postgres_output.h"
#include "sink/sink.h"
#include "sql/pg_db.h"

namespace sluice::cli {
namespace {

namespace fs = std::filesystem;

std::string OutputName(const SinkSpec& s) {
  auto sink = MakeSink(s);
  return sink.ok() ? (*sink)->Describe() : s.kind;
}

nlohmann::ordered_json SchemaJson(const Schema& schema) {
  return nlohmann::ordered_json::parse(schema.ToJson());
}

void PrintSchema(const Schema& schema, const char* indent) {
  size_t width = 0;
  for (const auto& f : schema.fields()) width = std::max(width, f.name.size());
  for (const auto& f : schema.fields()) {
    std::printf("%s%-*s  %s%s\n", indent, static_cast<int>(width), f.name.c_str(),
                f.type.ToString().c_str(), f.nullable ? "" : " not null");
  }
}

void PrintSpec(const PipelineSpec& s) {
  std::printf("pipeline %s (%s): ok, %zu step(s), %zu output(s)\n", s.name.c_str(), s.file.c_str(),
              s.transform.size(), s.outputs.size());
  std::printf("  input:\n");
  PrintSchema(s.schema, "    ");
  for (size_t i = 0; i < s.outputs.size(); ++i) {
    const OutputSteps& o = s.output_steps[i];
    std::string extra;
    if (!o.route.empty()) extra += ", route " + o.route;
    if (!o.transform.empty()) extra += ", " + std::to_string(o.transform.size()) + " own step(s)";
    std::printf("  output %s%s:\n", OutputName(s.outputs[i]).c_str(), extra.c_str());
    PrintSchema(o.schema, "    ");
  }
}

nlohmann::ordered_json SpecJson(const PipelineSpec& s) {
  nlohmann::ordered_json outs = nlohmann::ordered_json::array();
  for (size_t i = 0; i < s.outputs.size(); ++i) {
    const OutputSteps& o = s.output_steps[i];
    outs.push_back(
        {{"output", OutputName(s.outputs[i])},
         {"route", o.route.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(o.route)},
         {"steps", o.transform.size()},
         {"schema", SchemaJson(o.schema)}});
  }
  return {{"pipeline", s.name},
          {"file", s.file},
          {"ok", true},
          {"steps", s.transform.size()},
          {"input", SchemaJson(s.schema)},
          {"outputs", outs}};
}

// `validate --connect`: each postgres output's database reached and its
// table checked (nothing created). Returns one result per output, in order;
// outputs of other kinds get none.
struct ConnectCheck {
  size_t output = 0;
  std::string target;
  Status status;
  std::string message;
};

std::vector<ConnectCheck> CheckConnections(const PipelineSpec& s) {
  std::vector<ConnectCheck> out;
  for (size_t i = 0; i < s.outputs.size(); ++i) {
    if (s.outputs[i].kind != "postgres") continue;
    ConnectCheck c;
    c.output = i;
    auto options = ParsePostgresOutputOptions(s.outputs[i].args, s.outputs[i].where);
    if (!options.ok()) {
      c.status = options.status();
      out.push_back(std::move(c));
      continue;
    }
    c.target = options->Describe();
    PgDb::Options po;
    po.connect_timeout_s = 5;
    po.application_name = "sluice validate";
    auto db = PgDb::Open(options->dsn, po);
    if (!db.ok()) {
      c.status = db.status();
    } else {
      auto checked = CheckPostgresTable(**db, *options, s.output_steps[i].schema);
      if (checked.ok()) {
        c.message = *checked;
      } else {
        c.status = checked.status();
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

int CmdValidate(const GlobalFlags& g, const std::vector<std::string>& pipelines, bool connect) {
  std::vector<std::string> files;
  std::string pipelines_dir;
  bool whole_project = pipelines.empty();
  bool need_project = whole_project;
  for (const auto& p : pipelines) need_project = need_project || !fs::is_regular_file(p);
  if (need_project) {
    auto config = ResolveConfig(g);
    if (!config.ok()) return Fail(config.status());
    pipelines_dir = config->pipelines_dir;
    if (whole_project && !g.json) {
      std::printf("config %s: ok\n",
                  config->path.empty() ? "(embedded default)" : config->path.c_str());
    }
  }
  if (whole_project) {
    auto list = ListPipelineFiles(pipelines_dir);
    if (!list.ok()) return Fail(list.status());
    files = *list;
    if (files.empty() && !g.json) std::printf("no pipelines in %s\n", pipelines_dir.c_str());
  } else {
    for (const auto& p : pipelines) {
      if (fs::is_regular_file(p)) {
        files.push_back(p);
        continue;
      }
      auto found = FindPipelineFile(pipelines_dir, p);
      if (!found.ok()) return Fail(found.status());
      files.push_back(*found);
    }
  }

  int errors = 0;
  std::map<std::string, std::string> names;  // pipeline name -> file
  nlohmann::ordered_json report = nlohmann::ordered_json::array();
  for (const auto& file : files) {
    auto spec = LoadPipelineFile(file);
    if (spec.ok() && whole_project) {
      auto [it, fresh] = names.emplace(spec->name, spec->file);
      if (!fresh) {
        spec = Status::InvalidArgument(file + ": duplicate pipeline name '" + spec->name +
                                       "' (also in " + it->second + ")");
      }
    }
    if (!spec.ok()) {
      ++errors;
      if (g.json) {
        report.push_back({{"file", file}, {"ok", false}, {"error", spec.status().message()}});
      } else {
        std::fprintf(stderr, "sluice: %s\n", spec.status().message().c_str());
      }
      continue;
    }
    nlohmann::ordered_json entry = SpecJson(*spec);
    if (!g.json) PrintSpec(*spec);
    if (connect) {
      bool reached = true;
      for (const ConnectCheck& c : CheckConnections(*spec)) {
        const std::string name = c.target.empty() ? OutputName(spec->outputs[c.output]) : c.target;
        entry["outputs"][c.output]["connect"] = {
            {"ok", c.status.ok()}, {"message", c.status.ok() ? c.message : c.status.message()}};
        if (!c.status.ok()) {
          reached = false;
          if (!g.json) {
            // The loader's messages often name the output already.
            const std::string& why = c.status.message();
            const bool named = why.rfind(name + ": ", 0) == 0;
            std::fprintf(stderr, "sluice: %s: %s\n", spec->file.c_str(),
                         (named ? why : "output " + name + ": " + why).c_str());
          }
        } else if (!g.json) {
          std::printf("  output %s: connected; %s\n", name.c_str(), c.message.c_str());
        }
      }
      if (!reached) {
        ++errors;
        entry["ok"] = false;
      }
    }
    if (g.json) report.push_back(std::move(entry));
  }
  if (g.json) {
    std::printf("%s\n", report.dump(2).c_str());
  } else if (errors > 0) {
    std::fprintf(stderr, "sluice: %d of %zu pipeline spec(s) have errors\n", errors, files.size());
  }
  return errors > 0 ? 2 : 0;
}

}  // namespace sluice::cli
