// Reference tables: the explicit open step, its cache and the identity each
// opened reference carries.
#include "transform/reference.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "core/hash.h"
#include "core/io.h"
#include "transform/operator.h"

namespace sluice {
// Named (the test binary is a unity build): helpers here do not meet other
// test files' helpers of the same name.
namespace reference_test {
namespace {

namespace fs = std::filesystem;

class RefDir {
 public:
  RefDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::path(::testing::TempDir()) /
            (std::string("sluice_ref_") + info->test_suite_name() + "_" + info->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~RefDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string Write(const std::string& name, const std::string& text) const {
    const fs::path p = path_ / name;
    std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
    return p.string();
  }

 private:
  fs::path path_;
};

ReferenceSource FileSource(const std::string& name, const std::string& path) {
  ReferenceSource s;
  s.name = name;
  s.path = path;
  s.format = FileFormat::kCsv;
  return s;
}

TEST(OpenReferences, OpensAFileWithTheHashOfItsContent) {
  RefDir dir;
  const std::string text = "id,name\n1,Ada\n2,Bob\n";
  const std::string path = dir.Write("customers.csv", text);
  ReferenceCache cache;
  auto refs = OpenReferences({FileSource("customers", path)}, ReferenceEnv{&cache, nullptr});
  ASSERT_TRUE(refs.ok()) << refs.status().ToString();
  auto table = refs->Find("customers");
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->rows().num_rows(), 2);
  EXPECT_EQ(refs->Find("suppliers"), nullptr);
  ASSERT_EQ(refs->Uses().size(), 1u);
  const ReferenceUse use = refs->Uses()[0];
  EXPECT_EQ(use.name, "customers");
  EXPECT_EQ(use.kind, ReferenceKind::kFile);
  EXPECT_EQ(use.content_sha256, Sha256Hex(text));
  EXPECT_EQ(use.file, path);
  EXPECT_TRUE(use.table.empty());
  EXPECT_EQ(use.snapshot_id, 0);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(OpenReferences, AnUnchangedFileIsLoadedOnce) {
  RefDir dir;
  const std::string path = dir.Write("customers.csv", "id,name\n1,Ada\n");
  ReferenceCache cache;
  auto a = OpenReferences({FileSource("customers", path)}, ReferenceEnv{&cache, nullptr});
  auto b = OpenReferences({FileSource("customers", path)}, ReferenceEnv{&cache, nullptr});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->Find("customers"), b->Find("customers"));
}

TEST(OpenReferences, AChangedFileGetsANewHash) {
  RefDir dir;
  const std::string path = dir.Write("customers.csv", "id,name\n1,Ada\n");
  ReferenceCache cache;
  auto before = OpenReferences({FileSource("customers", path)}, ReferenceEnv{&cache, nullptr});
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  const std::string changed = "id,name\n1,Ann\n";  // same size, other content
  dir.Write("customers.csv", changed);
  auto after = OpenReferences({FileSource("customers", path)}, ReferenceEnv{&cache, nullptr});
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_NE(before->Uses()[0].content_sha256, after->Uses()[0].content_sha256);
  EXPECT_EQ(after->Uses()[0].content_sha256, Sha256Hex(changed));
  // The run that opened the old copy keeps it.
  EXPECT_NE(before->Find("customers"), after->Find("customers"));
  EXPECT_EQ(before->Find("customers")->rows().columns[1].GetString(0), "Ada");
  EXPECT_EQ(after->Find("customers")->rows().columns[1].GetString(0), "Ann");
}

TEST(OpenReferences, CachesAreNotShared) {
  RefDir dir;
  const std::string path = dir.Write("customers.csv", "id,name\n1,Ada\n");
  ReferenceCache one, two;
  auto a = OpenReferences({FileSource("customers", path)}, ReferenceEnv{&one, nullptr});
  auto b = OpenReferences({FileSource("customers", path)}, ReferenceEnv{&two, nullptr});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->Find("customers"), b->Find("customers"));
  EXPECT_EQ(one.size(), 1u);
  EXPECT_EQ(two.size(), 1u);
  // Without a cache, nothing is kept between opens.
  auto c = OpenReferences({FileSource("customers", path)}, ReferenceEnv{});
  ASSERT_TRUE(c.ok());
  EXPECT_NE(c->Find("customers"), a->Find("customers"));
}

TEST(OpenReferences, AMissingFileNamesTheReferenceAndFile) {
  RefDir dir;
  const std::string path = dir.Write("x", "") + ".missing.csv";
  auto refs = OpenReferences({FileSource("customers", path)}, ReferenceEnv{});
  ASSERT_FALSE(refs.ok());
  EXPECT_EQ(refs.status().code(), StatusCode::kNotFound);
  EXPECT_NE(refs.status().message().find("reference customers: cannot read '" + path + "'"),
            std::string::npos)
      << refs.status().message();
}

TEST(OpenReferences, ABadRecordNamesTheReferenceFileAndLine) {
  RefDir dir;
  const std::string path = dir.Write("customers.csv", "id,name\n1,Ada\nx,Bob\n");
  ReferenceSource s = FileSource("customers", path);
  s.schema = Schema({{"id", DataType::Int64(), false}, {"name", DataType::String(), true}});
  auto refs = OpenReferences({s}, ReferenceEnv{});
  ASSERT_FALSE(refs.ok());
  EXPECT_EQ(refs.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refs.status().message().find("reference customers: " + path + ":3: id: "),
            std::string::npos)
      << refs.status().message();
}

TEST(OpenReferences, AnUnreadableFormatNamesTheReferenceAndFile) {
  RefDir dir;
  const std::string path = dir.Write("customers.parquet", "not parquet at all");
  ReferenceSource s = FileSource("customers", path);
  s.format = FileFormat::kParquet;
  auto refs = OpenReferences({s}, ReferenceEnv{});
  ASSERT_FALSE(refs.ok());
  EXPECT_NE(refs.status().message().find("reference customers"), std::string::npos)
      << refs.status().message();
  EXPECT_NE(refs.status().message().find(path), std::string::npos) << refs.status().message();
}

// A lake whose tables have snapshots but no files: the snapshot bookkeeping
// needs no Parquet data (tests/e2e/transform_test.mjs reads a real one).
class FakeLake final : public LakeTableProvider {
 public:
  Result<LakeTableSnapshot> Current(const std::string& table) override {
    ++reads;
    auto it = snapshots.find(table);
    if (it == snapshots.end()) return Status::NotFound("no table " + table);
    return it->second;
  }
  Result<std::unique_ptr<InputStream>> Open(const std::string& key) override {
    return Status::NotFound(key);
  }
  std::map<std::string, LakeTableSnapshot> snapshots;
  int reads = 0;
};

ReferenceSource LakeSource(const std::string& name, const std::string& table) {
  ReferenceSource s;
  s.name = name;
  s.table = table;
  s.schema = Schema({{"id", DataType::Int32(), false}});
  return s;
}

TEST(OpenReferences, ALakeTableNotesTheSnapshotItReads) {
  FakeLake lake;
  ReferenceCache cache;
  auto refs = OpenReferences({LakeSource("customers", "customers")}, ReferenceEnv{&cache, &lake});
  ASSERT_TRUE(refs.ok()) << refs.status().ToString();
  ReferenceUse use = refs->Uses()[0];
  EXPECT_EQ(use.kind, ReferenceKind::kLakeTable);
  EXPECT_EQ(use.table, "customers");
  EXPECT_EQ(use.snapshot_id, 0);  // no data yet
  EXPECT_TRUE(use.content_sha256.empty());
  EXPECT_EQ(lake.reads, 1);  // one read of the table's state per open

  lake.snapshots["customers"] = LakeTableSnapshot{7, Schema(), {}};
  refs = OpenReferences({LakeSource("customers", "customers")}, ReferenceEnv{&cache, &lake});
  ASSERT_TRUE(refs.ok()) << refs.status().ToString();
  EXPECT_EQ(refs->Uses()[0].snapshot_id, 7);
}

TEST(OpenReferences, ALakeTableWithoutAProjectNamesTheReference) {
  auto refs = OpenReferences({LakeSource("customers", "cust")}, ReferenceEnv{});
  ASSERT_FALSE(refs.ok());
  EXPECT_EQ(refs.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refs.status().message().find("reference customers (lake table cust)"),
            std::string::npos)
      << refs.status().message();
}

StepSpec LookupStep(const std::string& path) {
  StepSpec step;
  step.kind = "lookup";
  step.where = "p.yaml:9";
  step.args = {{"from", FileSource("customers", path).ToJson()}, {"on", {{"cust", "id"}}}};
  return step;
}

TEST(ReferenceBinding, AnUnopenedReferenceIsAnInternalError) {
  RefDir dir;
  const std::string path = dir.Write("customers.csv", "id,name\n1,Ada\n");
  const Schema input({{"cust", DataType::Int64(), true}});
  for (const bool with_others : {false, true}) {
    ResolvedReferences none;
    auto op = MakeOperator(LookupStep(path), with_others ? &none : nullptr);
    ASSERT_TRUE(op.ok()) << op.status().ToString();
    auto bound = (*op)->Bind(input);
    ASSERT_FALSE(bound.ok());
    EXPECT_EQ(bound.status().code(), StatusCode::kInternal);
    EXPECT_NE(bound.status().message().find(
                  "p.yaml:9: lookup: reference customers was not opened before binding"),
              std::string::npos)
        << bound.status().message();
  }
  // Opened first, the same step binds, and binding loads nothing itself.
  ReferenceCache cache;
  auto refs = OpenReferences({FileSource("customers", path)}, ReferenceEnv{&cache, nullptr});
  ASSERT_TRUE(refs.ok()) << refs.status().ToString();
  auto op = MakeOperator(LookupStep(path), &*refs);
  ASSERT_TRUE(op.ok()) << op.status().ToString();
  fs::remove(path);
  auto bound = (*op)->Bind(input);
  ASSERT_TRUE(bound.ok()) << bound.status().ToString();
  EXPECT_EQ(bound->ToString(), "cust: int64\nname: string\n");
}

TEST(ReferenceBinding, StepsNameTheReferencesTheyRead) {
  EXPECT_EQ(StepReferences(LookupStep("/x.csv")), std::vector<std::string>{"customers"});
  StepSpec sql;
  sql.kind = "sql";
  sql.args = {{"query", "SELECT * FROM input JOIN suppliers s ON cust = s.id"},
              {"references", nlohmann::json::object()}};
  EXPECT_EQ(StepReferences(sql), std::vector<std::string>{"suppliers"});
  sql.args = "SELECT * FROM input WHERE id > 1";
  EXPECT_TRUE(StepReferences(sql).empty());
  StepSpec filter;
  filter.kind = "filter";
  filter.args = "id > 1";
  EXPECT_TRUE(StepReferences(filter).empty());
}

}  // namespace
}  // namespace reference_test
}  // namespace sluice
