// `sluice test [PIPELINE...]`: runs pipeline unit tests (NAME.test.yaml beside
// NAME.yaml; format in engine/pipeline_tests.h and README.md).
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "engine/pipeline_tests.h"

namespace sluice::cli {

namespace {

namespace fs = std::filesystem;

// Every *.test.yaml / *.test.yml in the pipelines directory, sorted.
Result<std::vector<std::string>> ProjectTestFiles(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::NotFound(dir + ": pipelines directory does not exist");
  }
  std::vector<std::string> files;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (IsPipelineTestFile(it->path().filename().string()) && it->is_regular_file(ec)) {
      files.push_back(it->path().string());
    }
  }
  if (ec) return Status::IOError("cannot list " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

// An argument: a test file, a pipeline file, or a pipeline name in the project.
Result<std::string> ResolveTestFile(const GlobalFlags& g, const std::string& arg) {
  std::error_code ec;
  const std::string file_name = fs::path(arg).filename().string();
  if (IsPipelineTestFile(file_name)) {
    if (!fs::is_regular_file(arg, ec)) {
      return Status::NotFound("test file '" + arg + "' does not exist");
    }
    return arg;
  }
  std::string pipeline_file;
  if (fs::is_regular_file(arg, ec)) {
    pipeline_file = arg;
  } else {
    ASSIGN_OR_RETURN(Config config, ResolveConfig(g));
    ASSIGN_OR_RETURN(pipeline_file, FindPipelineFile(config.pipelines_dir, arg));
  }
  std::string test = TestFileForPipeline(pipeline_file);
  if (!fs::is_regular_file(test, ec)) {
    return Status::NotFound("pipeline " + pipeline_file + " has no test file (" + test + ")");
  }
  return test;
}

nlohmann::ordered_json CaseJson(const PipelineTestResult& r) {
  nlohmann::ordered_json j = {{"name", r.name},
                              {"file", r.file},
                              {"line", r.line},
                              {"status", r.error ? "error" : (r.passed ? "pass" : "fail")}};
  if (r.error) j["error"] = r.error->message();
  nlohmann::ordered_json outs = nlohmann::ordered_json::array();
  for (const OutputTestResult& o : r.outputs) {
    outs.push_back({{"key", o.key},
                    {"output", o.output},
                    {"passed", o.passed},
                    {"expected_rows", o.expected_rows},
                    {"actual_rows", o.actual_rows},
                    {"diff", o.diff},
                    {"first_difference", o.first_difference}});
  }
  j["outputs"] = std::move(outs);
  j["missing_bad_records"] = r.missing_bad;
  j["unexpected_bad_records"] = r.unexpected_bad;
  if (!r.passed && !r.error) j["diff"] = r.Diff();
  return j;
}

}  // namespace

int CmdTest(const GlobalFlags& g, const std::vector<std::string>& args) {
  std::vector<std::string> test_files;
  int errors = 0;
  nlohmann::ordered_json json_files = nlohmann::ordered_json::array();
  auto report_error = [&](const std::string& file, const Status& st) {
    ++errors;
    if (g.json) {
      json_files.push_back({{"file", file}, {"error", st.message()}});
    } else {
      std::fprintf(stderr, "sluice: %s\n", st.message().c_str());
    }
  };

  if (args.empty()) {
    auto config = ResolveConfig(g);
    if (!config.ok()) return Fail(config.status());
    auto files = ProjectTestFiles(config->pipelines_dir);
    if (!files.ok()) return Fail(files.status());
    test_files = std::move(*files);
    if (test_files.empty() && !g.json) {
      std::printf("no pipeline tests (*.test.yaml) in %s\n", config->pipelines_dir.c_str());
    }
  } else {
    for (const std::string& a : args) {
      auto f = ResolveTestFile(g, a);
      if (!f.ok()) {
        report_error(a, f.status());
        continue;
      }
      if (std::find(test_files.begin(), test_files.end(), *f) == test_files.end()) {
        test_files.push_back(*f);
      }
    }
  }

  int passed = 0, failed = 0;
  for (const std::string& path : test_files) {
    auto file = LoadPipelineTests(path);
    if (!file.ok()) {
      report_error(path, file.status());
      continue;
    }
    nlohmann::ordered_json cases = nlohmann::ordered_json::array();
    for (const PipelineTestCase& c : file->cases) {
      PipelineTestResult r = RunPipelineTest(*file, c);
      if (r.error) {
        ++errors;
      } else if (r.passed) {
        ++passed;
      } else {
        ++failed;
      }
      if (g.json) {
        cases.push_back(CaseJson(r));
        continue;
      }
      const char* word = r.error ? "ERROR" : (r.passed ? "PASS" : "FAIL");
      std::printf("%s %s: %s\n", word, file->spec.name.c_str(), r.name.c_str());
      if (!r.passed) {
        std::printf("  at %s:%d\n%s", r.file.c_str(), r.line, r.Diff().c_str());
      }
    }
    if (g.json) {
      json_files.push_back(
          {{"file", path}, {"pipeline", file->spec.name}, {"tests", std::move(cases)}});
    }
  }

  if (g.json) {
    nlohmann::ordered_json out = {{"files", std::move(json_files)},
                                  {"passed", passed},
                                  {"failed", failed},
                                  {"errors", errors}};
    std::printf("%s\n",
                out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
  } else {
    std::printf("%d passed, %d failed", passed, failed);
    if (errors > 0) std::printf(", %d error(s)", errors);
    std::printf("\n");
  }
  if (errors > 0) return 2;
  return failed > 0 ? 1 : 0;
}

}  // namespace sluice::cli
