#include "engine/table_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "core/value_text.h"
#include "engine/table_cursor.h"
#include "format/parquet_reader.h"
#include "format/text_encoder.h"
#include "test_project.h"

namespace sluice {
namespace {

// `events`, partitioned by day, in row groups of 10 rows and files of at
// most 40 rows, so that a few hundred rows make many files and row groups.
constexpr char kReaderEventsSpec[] = R"(pipeline: events
source:
  pattern: "*.csv"
  format: csv
schema:
  id: int64 not null
  day: date
  cat: string
  amount: decimal(10,2)
outputs:
  - table: events
    partition_by: [day]
    row_group_rows: 10
    target_file_rows: 40
)";

// Rows that never pass the filter: the table is made, with no rows.
constexpr char kReaderEmptySpec[] = R"(pipeline: empty
source:
  pattern: "*.csv"
  format: csv
schema:
  id: int64 not null
  day: date
  cat: string
  amount: decimal(10,2)
transform:
  - filter: "id < 0"
outputs:
  - table: empty
)";

constexpr char kReaderOtherSpec[] = R"(pipeline: other
source:
  pattern: "*.csv"
  format: csv
schema:
  id: int64 not null
  day: date
  cat: string
  amount: decimal(10,2)
outputs:
  - table: other
)";

// `paged`: no partitions, row groups of 500 rows cut into pages of 37 rows
// (odd on purpose: page boundaries fall anywhere in a batch), files of at
// most 1100 rows, so that 2600 rows are 3 files, 6 row groups and about 75
// pages per column, each with its page index.
constexpr char kReaderPagedSpec[] = R"(pipeline: paged
source:
  pattern: "*.csv"
  format: csv
schema:
  id: int64 not null
  day: date
  cat: string
  amount: decimal(10,2)
outputs:
  - table: paged
    row_group_rows: 500
    page_rows: 37
    target_file_rows: 1100
)";

// `big`: the writer's defaults (row groups of 122,880 rows, pages of at most
// 20,000 rows), one file.
constexpr char kReaderBigSpec[] = R"(pipeline: big
source:
  pattern: "*.csv"
  format: csv
schema:
  id: int64 not null
  day: date
  cat: string
  amount: decimal(10,2)
outputs:
  - table: big
)";

std::string EventDay(int64_t id) {
  return FormatDate(DaysFromCivil(2024, 1, 1) + static_cast<int32_t>(id / 50));
}
std::string EventCat(int64_t id) { return "c" + std::to_string(id % 3); }

// Rows first..last: day advances every 50 ids, cat cycles c0..c2, amount = 1.5 * id.
std::string EventsCsv(int64_t first, int64_t last) {
  std::string s = "id,day,cat,amount\n";
  for (int64_t id = first; id <= last; ++id) {
    s += std::to_string(id) + "," + EventDay(id) + "," + EventCat(id) + "," +
         FormatDecimal(id * 150, 2) + "\n";
  }
  return s;
}

// A request, built a field at a time (designated initializers that leave
// fields out trip -Wmissing-field-initializers in GCC 12).
class RowsQuery {
 public:
  explicit RowsQuery(std::string table) { r_.table = std::move(table); }
  RowsQuery& Columns(std::vector<std::string> c) {
    r_.columns = std::move(c);
    return *this;
  }
  RowsQuery& Where(std::string w) {
    r_.where = std::move(w);
    return *this;
  }
  RowsQuery& Snapshot(int64_t s) {
    r_.snapshot = s;
    return *this;
  }
  RowsQuery& Limit(int64_t n) {
    r_.limit = n;
    return *this;
  }
  RowsQuery& Cursor(std::string c) {
    r_.cursor = std::move(c);
    return *this;
  }
  operator const TableReadRequest&() const { return r_; }  // NOLINT(google-explicit-constructor)

 private:
  TableReadRequest r_;
};

struct TableReadResult {
  std::vector<int64_t> ids;  // column "id" of every row, in order
  std::string cursor;
  TableReadStats stats;
  int64_t snapshot = 0;
  Schema schema;
};

class TableReaderTest : public testing::ProjectTest {
 protected:
  void SetUp() override {
    ProjectTest::SetUp();
    Open();
  }

  // Lands rows first..last for `pipeline` and commits them (one snapshot).
  void Commit(const std::string& pipeline, int64_t first, int64_t last) {
    const std::string name = "b" + std::to_string(++landed_) + ".csv";
    const int64_t id = LandAndRegister(pipeline, name, EventsCsv(first, last));
    ASSERT_GT(id, 0);
    auto r = ProcessBatch(Env(), id);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(*r, ProcessOutcome::kCommitted) << Batch(id).reason;
  }

  int64_t CurrentSnapshot(const std::string& table) {
    auto t = project_->catalog().GetTable(table);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? t->current_snapshot : 0;
  }

  Result<std::unique_ptr<TableReader>> OpenReader(const TableReadRequest& req,
                                                  const TableReaderOptions& options = {}) {
    return OpenTableReader(project_->catalog(), project_->store(), req, options);
  }

  // Reads everything the request returns; the id column must be among the
  // columns (or columns empty).
  TableReadResult Read(const TableReadRequest& req, const TableReaderOptions& options = {}) {
    TableReadResult out;
    auto reader = OpenReader(req, options);
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    if (!reader.ok()) return out;
    out.schema = (*reader)->schema();
    out.snapshot = (*reader)->snapshot();
    const int id_col = out.schema.FieldIndex("id");
    EXPECT_GE(id_col, 0);
    RecordBatch batch;
    while (true) {
      auto more = (*reader)->Next(&batch);
      EXPECT_TRUE(more.ok()) << more.status().ToString();
      if (!more.ok() || !*more) break;
      EXPECT_GT(batch.num_rows(), 0);
      EXPECT_EQ(batch.schema, out.schema);
      for (int64_t i = 0; i < batch.num_rows(); ++i) {
        out.ids.push_back(batch.columns[id_col].Value<int64_t>(i));
      }
    }
    EXPECT_EQ(batch.num_rows(), 0);
    out.cursor = (*reader)->next_cursor();
    out.stats = (*reader)->stats();
    return out;
  }

  // Every page of `req` with `limit`, following cursors.
  std::vector<int64_t> Paged(TableReadRequest req, int64_t limit, int* pages,
                             const std::function<void()>& between_pages = {}) {
    req.limit = limit;
    std::vector<int64_t> all;
    *pages = 0;
    while (true) {
      TableReadResult page = Read(req);
      ++*pages;
      EXPECT_LE(static_cast<int64_t>(page.ids.size()), limit);
      all.insert(all.end(), page.ids.begin(), page.ids.end());
      if (page.cursor.empty()) break;
      EXPECT_EQ(static_cast<int64_t>(page.ids.size()), limit) << "a short page with a cursor";
      req.cursor = page.cursor;
      if (between_pages) between_pages();
      if (*pages > 10000) {
        ADD_FAILURE() << "pagination does not end";
        break;
      }
    }
    return all;
  }

  std::string Write(const TableReadRequest& req, const std::string& format,
                    ThreadPool* pool = nullptr) {
    auto reader = OpenReader(req);
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    if (!reader.ok()) return "";
    std::string text;
    auto out = NewStringOutput(&text);
    Status st = WriteTableRows(**reader, format, *out, pool);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return text;
  }

  Status OpenError(const TableReadRequest& req) {
    auto r = OpenReader(req);
    return r.ok() ? Status::OK() : r.status();
  }

  // Two snapshots of `events`: ids 1..100 (days 01-01, 01-02, 01-03), then 101..150.
  void TwoSnapshots() {
    Deploy("events", kReaderEventsSpec);
    Commit("events", 1, 100);
    s1_ = CurrentSnapshot("events");
    Commit("events", 101, 150);
    s2_ = CurrentSnapshot("events");
    ASSERT_GT(s2_, s1_);
  }

  static std::vector<int64_t> Range(int64_t first, int64_t last) {
    std::vector<int64_t> v;
    for (int64_t i = first; i <= last; ++i) v.push_back(i);
    return v;
  }
  static std::vector<int64_t> Sorted(std::vector<int64_t> v) {
    std::sort(v.begin(), v.end());
    return v;
  }

  int landed_ = 0;
  int64_t s1_ = 0, s2_ = 0;
};

TEST_F(TableReaderTest, ReadsEveryRowOfTheCurrentSnapshot) {
  TwoSnapshots();
  TableReadResult r = Read(RowsQuery("events"));
  EXPECT_EQ(Sorted(r.ids), Range(1, 150));
  EXPECT_EQ(r.snapshot, s2_);
  EXPECT_EQ(r.cursor, "");
  EXPECT_EQ(r.schema.ToString(),
            "id: int64 not null\nday: date\ncat: string\namount: decimal(10,2)\n");
  // Per day: 49, 50 and 1 rows, then 49 and 1, in files of at most 40 rows.
  EXPECT_EQ(r.stats.files, 8);
  EXPECT_EQ(r.stats.files_read, r.stats.files);
  EXPECT_EQ(r.stats.files_skipped, 0);
  EXPECT_EQ(r.stats.row_groups_read, 17);  // files of 40, 9, 40, 10, 1, 40, 9, 1 rows
  EXPECT_EQ(r.stats.row_groups_skipped, 0);
  EXPECT_EQ(r.stats.rows_scanned, 150);
  EXPECT_EQ(r.stats.rows_returned, 150);

  // The order is stable: the same request reads the same sequence.
  EXPECT_EQ(Read(RowsQuery("events")).ids, r.ids);
  // A parallel decode gives the same rows.
  ThreadPool pool(2);
  TableReaderOptions small;
  small.batch_rows = 7;
  small.pool = &pool;
  EXPECT_EQ(Read(RowsQuery("events"), small).ids, r.ids);
}

TEST_F(TableReaderTest, ProjectsColumnsInTheRequestedOrder) {
  TwoSnapshots();
  auto reader = OpenReader(RowsQuery("events").Columns({"amount", "ID"}).Where("id <= 3"));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->schema().ToString(), "amount: decimal(10,2)\nid: int64 not null\n");
  RecordBatch b;
  std::vector<std::pair<int64_t, int64_t>> rows;
  while (true) {
    auto more = (*reader)->Next(&b);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    ASSERT_EQ(b.columns.size(), 2u);
    for (int64_t i = 0; i < b.num_rows(); ++i) {
      rows.emplace_back(b.columns[1].Value<int64_t>(i), b.columns[0].Value<int64_t>(i));
    }
  }
  std::sort(rows.begin(), rows.end());
  EXPECT_EQ(rows, (std::vector<std::pair<int64_t, int64_t>>{{1, 150}, {2, 300}, {3, 450}}));

  // A column used only by `where` is read but not returned.
  EXPECT_EQ(Write(RowsQuery("events").Columns({"cat"}).Where("id = 4"), "ndjson"),
            "{\"cat\":\"c1\"}\n");
}

TEST_F(TableReaderTest, FiltersRowsWithWhere) {
  TwoSnapshots();
  TableReadResult r = Read(RowsQuery("events").Where("cat = 'c1' AND amount > 30 OR id = 2"));
  std::vector<int64_t> want;
  for (int64_t id = 1; id <= 150; ++id) {
    if ((EventCat(id) == "c1" && id * 1.5 > 30) || id == 2) want.push_back(id);
  }
  EXPECT_EQ(Sorted(r.ids), want);
  EXPECT_EQ(r.stats.rows_returned, static_cast<int64_t>(want.size()));

  // Functions, IN, LIKE, NOT: the whole language.
  r = Read(RowsQuery("events").Where(
      "upper(cat) IN ('C0', 'C2') AND NOT (id % 10 <> 0) AND cat LIKE 'c%' AND day >= DATE "
      "'2024-01-02'"));
  want.clear();
  for (int64_t id = 50; id <= 150; ++id) {
    if (EventCat(id) != "c1" && id % 10 == 0) want.push_back(id);
  }
  EXPECT_EQ(Sorted(r.ids), want);

  // A row where the condition cannot be evaluated does not match.
  r = Read(RowsQuery("events").Where("100 / (id - 5) < 0"));
  EXPECT_EQ(Sorted(r.ids), Range(1, 4));
  EXPECT_EQ(r.stats.where_errors, 1);
}

TEST_F(TableReaderTest, PrunesRowGroupsByStatistics) {
  TwoSnapshots();
  const TableReadStats all = Read(RowsQuery("events")).stats;

  TableReadResult r = Read(RowsQuery("events").Where("id >= 21 AND id < 30"));
  EXPECT_EQ(Sorted(r.ids), Range(21, 29));
  // ids 21..29 are in one or two groups of 10; every other group is skipped
  // by its statistics (or its whole file by its partition: not here, all
  // those ids are on day 1).
  EXPECT_GE(r.stats.row_groups_read, 1);
  EXPECT_LE(r.stats.row_groups_read, 2);
  EXPECT_EQ(r.stats.files_read, all.files);
  EXPECT_EQ(r.stats.row_groups_read + r.stats.row_groups_skipped, all.row_groups_read);
  EXPECT_LE(r.stats.rows_scanned, 20);

  // BETWEEN, IN and a constant on the left prune the same way.
  r = Read(RowsQuery("events").Where("id BETWEEN 41 AND 43"));
  EXPECT_EQ(Sorted(r.ids), Range(41, 43));
  EXPECT_LE(r.stats.row_groups_read, 2);
  r = Read(RowsQuery("events").Where("id IN (61, 62, 63)"));
  EXPECT_EQ(Sorted(r.ids), Range(61, 63));
  EXPECT_LE(r.stats.row_groups_read, 2);
  r = Read(RowsQuery("events").Where("145 <= id"));
  EXPECT_EQ(Sorted(r.ids), Range(145, 150));
  EXPECT_LE(r.stats.row_groups_read, 2);
  // An int column against a decimal constant (the column is widened).
  r = Read(RowsQuery("events").Where("id > 148.5"));
  EXPECT_EQ(Sorted(r.ids), Range(149, 150));
  EXPECT_EQ(r.stats.row_groups_read, 2);
  // A string column.
  r = Read(RowsQuery("events").Where("cat = 'zzz'"));
  EXPECT_TRUE(r.ids.empty());
  EXPECT_EQ(r.stats.row_groups_read, 0);

  // An OR is not a range: every group is read.
  r = Read(RowsQuery("events").Where("id = 1 OR id = 150"));
  EXPECT_EQ(Sorted(r.ids), (std::vector<int64_t>{1, 150}));
  EXPECT_EQ(r.stats.row_groups_read, all.row_groups_read);
}

TEST_F(TableReaderTest, SkipsFilesByPartitionValues) {
  TwoSnapshots();
  const TableReadStats all = Read(RowsQuery("events")).stats;
  TableReadResult r = Read(RowsQuery("events").Where("day = '2024-01-03'"));
  EXPECT_EQ(Sorted(r.ids), Range(100, 149));
  EXPECT_GT(r.stats.files_skipped, 0);
  EXPECT_EQ(r.stats.files_read + r.stats.files_skipped, all.files);
  EXPECT_EQ(r.stats.rows_scanned, 50);

  // A timestamp constant against the date column, and a range of days.
  r = Read(RowsQuery("events").Where("day > TIMESTAMP '2024-01-03T12:00:00Z'"));
  EXPECT_EQ(Sorted(r.ids), Range(150, 150));
  r = Read(RowsQuery("events").Where("day BETWEEN '2024-01-01' AND '2024-01-02'"));
  EXPECT_EQ(Sorted(r.ids), Range(1, 99));
  EXPECT_GT(r.stats.files_skipped, 0);

  // A condition no row can meet reads nothing.
  for (const char* where : {"id > 5 AND id < 3", "id = NULL", "false", "day IN (NULL)"}) {
    r = Read(RowsQuery("events").Where(where));
    EXPECT_TRUE(r.ids.empty()) << where;
    EXPECT_EQ(r.stats.files_read, 0) << where;
  }
}

TEST_F(TableReaderTest, ReadsOneSnapshotOnly) {
  Deploy("events", kReaderEventsSpec);
  Commit("events", 1, 100);
  s1_ = CurrentSnapshot("events");
  // A reader opened now reads this snapshot even after another commit.
  auto early = OpenReader(RowsQuery("events"));
  ASSERT_TRUE(early.ok()) << early.status().ToString();
  Commit("events", 101, 150);
  s2_ = CurrentSnapshot("events");

  std::vector<int64_t> ids;
  RecordBatch b;
  while (true) {
    auto more = (*early)->Next(&b);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    for (int64_t i = 0; i < b.num_rows(); ++i) ids.push_back(b.columns[0].Value<int64_t>(i));
  }
  EXPECT_EQ(Sorted(ids), Range(1, 100));
  EXPECT_EQ((*early)->snapshot(), s1_);

  EXPECT_EQ(Sorted(Read(RowsQuery("events").Snapshot(s1_)).ids), Range(1, 100));
  EXPECT_EQ(Sorted(Read(RowsQuery("events").Snapshot(s2_)).ids), Range(1, 150));
  EXPECT_EQ(Sorted(Read(RowsQuery("events")).ids), Range(1, 150));
}

TEST_F(TableReaderTest, CursorPagesReturnEveryRowOnce) {
  TwoSnapshots();
  const std::vector<int64_t> whole = Read(RowsQuery("events")).ids;
  for (int64_t limit : {1, 7, 10, 40, 149, 150, 1000}) {
    int pages = 0;
    EXPECT_EQ(Paged(RowsQuery("events"), limit, &pages), whole) << limit;
    EXPECT_EQ(pages, (150 + limit - 1) / limit) << limit;
  }

  // With a filter: pages hold only matching rows, and the last page is never empty.
  const std::vector<int64_t> c2 = Read(RowsQuery("events").Where("cat = 'c2'")).ids;
  ASSERT_EQ(c2.size(), 50u);
  int pages = 0;
  EXPECT_EQ(Paged(RowsQuery("events").Where("cat = 'c2'"), 5, &pages), c2);
  EXPECT_EQ(pages, 10);
  EXPECT_EQ(Paged(RowsQuery("events").Columns({"id"}).Where("cat = 'c2'"), 50, &pages), c2);
  EXPECT_EQ(pages, 1);

  // Commits while paging do not change what the pages hold: the cursor
  // keeps its snapshot.
  int commits = 0;
  const std::vector<int64_t> paged = Paged(RowsQuery("events"), 33, &pages, [&] {
    if (commits++ < 2) Commit("events", 1000 + 10 * commits, 1005 + 10 * commits);
  });
  EXPECT_EQ(paged, whole);
  EXPECT_EQ(commits, 4);
  EXPECT_EQ(Read(RowsQuery("events")).ids.size(), 162u);
}

TEST_F(TableReaderTest, ACursorStartsWhereThePageEnded) {
  TwoSnapshots();
  TableReadResult first = Read(RowsQuery("events").Where("id >= 35").Limit(3));
  ASSERT_EQ(first.ids.size(), 3u);
  ASSERT_NE(first.cursor, "");
  // The next page, with another limit, skips the row groups before the
  // cursor's row without reading them.
  TableReadResult next = Read(RowsQuery("events").Where("id >= 35").Limit(2).Cursor(first.cursor));
  ASSERT_EQ(next.ids.size(), 2u);
  const std::vector<int64_t> whole = Read(RowsQuery("events").Where("id >= 35")).ids;
  EXPECT_EQ(next.ids, std::vector<int64_t>(whole.begin() + 3, whole.begin() + 5));
  EXPECT_LE(next.stats.row_groups_read, 2);
  EXPECT_EQ(next.snapshot, s2_);
}

TEST_F(TableReaderTest, ReportsEachProblemWithTheRequest) {
  TwoSnapshots();
  Deploy("other", kReaderOtherSpec);
  Commit("other", 1, 5);

  struct Case {
    TableReadRequest req;
    StatusCode code;
    std::vector<std::string> words;
  };
  const std::string cursor = Read(RowsQuery("events").Limit(3)).cursor;
  const std::string cursor_s1 = Read(RowsQuery("events").Snapshot(s1_).Limit(3)).cursor;
  const std::string other_cursor = Read(RowsQuery("other").Limit(1)).cursor;
  ASSERT_NE(cursor, "");
  ASSERT_NE(other_cursor, "");
  std::string tampered = cursor;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';

  const Case cases[] = {
      {RowsQuery("nope"), StatusCode::kNotFound, {"'nope'"}},
      {RowsQuery("events").Snapshot(9999), StatusCode::kNotFound, {"'events'", "9999"}},
      {RowsQuery("events").Columns({"id", "amout"}),
       StatusCode::kInvalidArgument,
       {"'amout'", "events", "amount"}},
      {RowsQuery("events").Columns({"id", "id"}), StatusCode::kInvalidArgument, {"twice"}},
      {RowsQuery("events").Where("amout > 1"),
       StatusCode::kInvalidArgument,
       {"where:1:1:", "amout", "^"}},
      {RowsQuery("events").Where("id >"), StatusCode::kInvalidArgument, {"where:1:5:"}},
      {RowsQuery("events").Where("id > 1 AND\n  cat = 3 +"),
       StatusCode::kInvalidArgument,
       {"where:2:"}},
      {RowsQuery("events").Where("id + 1"), StatusCode::kInvalidArgument, {"boolean", "int64"}},
      {RowsQuery("events").Where("id > 'x'"), StatusCode::kInvalidArgument, {"where:1:"}},
      {RowsQuery("events").Limit(-2), StatusCode::kInvalidArgument, {"limit"}},
      {RowsQuery("events").Cursor("not a cursor!"), StatusCode::kInvalidArgument, {"cursor"}},
      {RowsQuery("events").Cursor(tampered), StatusCode::kInvalidArgument, {"cursor"}},
      {RowsQuery("events").Cursor(cursor.substr(0, cursor.size() - 4)),
       StatusCode::kInvalidArgument,
       {"cursor"}},
      {RowsQuery("events").Cursor(other_cursor),
       StatusCode::kInvalidArgument,
       {"cursor", "'other'"}},
      {RowsQuery("events").Snapshot(s1_).Cursor(cursor),
       StatusCode::kInvalidArgument,
       {"cursor", "snapshot"}},
      {RowsQuery("events").Snapshot(s2_).Cursor(cursor_s1),
       StatusCode::kInvalidArgument,
       {"cursor", "snapshot"}},
      {RowsQuery("events").Where("id > 0").Cursor(cursor),
       StatusCode::kInvalidArgument,
       {"cursor", "another query"}},
      {RowsQuery("events").Columns({"id"}).Cursor(cursor),
       StatusCode::kInvalidArgument,
       {"cursor", "another query"}},
  };
  for (const Case& c : cases) {
    Status st = OpenError(c.req);
    SCOPED_TRACE(c.req.table + " where=" + c.req.where + " cursor=" + c.req.cursor);
    EXPECT_EQ(st.code(), c.code) << st.ToString();
    for (const std::string& w : c.words) {
      EXPECT_NE(st.message().find(w), std::string::npos) << w << " not in: " << st.message();
    }
  }
  // The cursor is fine with its own query, with or without its snapshot.
  EXPECT_TRUE(OpenError(RowsQuery("events").Cursor(cursor)).ok());
  EXPECT_TRUE(OpenError(RowsQuery("events").Snapshot(s2_).Cursor(cursor)).ok());
  EXPECT_TRUE(OpenError(RowsQuery("events").Snapshot(s1_).Cursor(cursor_s1)).ok());

  // An unknown format is refused before anything is written.
  auto reader = OpenReader(RowsQuery("events"));
  ASSERT_TRUE(reader.ok());
  std::string text;
  auto out = NewStringOutput(&text);
  Status st = WriteTableRows(**reader, "xml", *out);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("json, ndjson, csv, parquet"), std::string::npos) << st.ToString();
  EXPECT_EQ(text, "");
}

TEST_F(TableReaderTest, OlderFilesReadAddedColumnsAsNull) {
  Deploy("events", kReaderEventsSpec);
  Commit("events", 1, 10);
  s1_ = CurrentSnapshot("events");
  std::string v2 = kReaderEventsSpec;
  v2.replace(v2.find("  amount: decimal(10,2)\n"), 23, "  amount: decimal(10,2)\n  note: string\n");
  v2 += "schema_evolution: evolve\n";
  Deploy("events", v2);
  std::string csv = "id,day,cat,amount,note\n";
  for (int id = 11; id <= 20; ++id) {
    csv += std::to_string(id) + ",2024-01-01,c0,1.00," + (id % 2 == 0 ? "even" : "odd") + "\n";
  }
  const int64_t batch = LandAndRegister("events", "v2.csv", csv);
  ASSERT_GT(batch, 0);
  auto r = ProcessBatch(Env(), batch);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(*r, ProcessOutcome::kCommitted) << Batch(batch).reason;

  // The old snapshot in today's schema: the new column is NULL.
  EXPECT_EQ(
      Write(RowsQuery("events").Columns({"id", "note"}).Snapshot(s1_).Where("id <= 2"), "ndjson"),
      "{\"id\":1,\"note\":null}\n{\"id\":2,\"note\":null}\n");
  TableReadResult all = Read(RowsQuery("events"));
  EXPECT_EQ(Sorted(all.ids), Range(1, 20));
  EXPECT_EQ(all.schema.num_fields(), 5);
  // A range on the new column skips the files written before it existed.
  TableReadResult even = Read(RowsQuery("events").Where("note = 'even'"));
  EXPECT_EQ(Sorted(even.ids), (std::vector<int64_t>{12, 14, 16, 18, 20}));
  EXPECT_EQ(even.stats.files_skipped, all.stats.files - even.stats.files_read);
  EXPECT_GT(even.stats.files_skipped, 0);
  // IS NULL is no range: every file is read.
  TableReadResult nulls = Read(RowsQuery("events").Where("note IS NULL"));
  EXPECT_EQ(Sorted(nulls.ids), Range(1, 10));
  EXPECT_EQ(nulls.stats.files_skipped, 0);
}

TEST_F(TableReaderTest, MissingFileIsDataLoss) {
  TwoSnapshots();
  auto files = project_->catalog().ListFiles("events", 0);
  ASSERT_TRUE(files.ok());
  SLUICE_ASSERT_OK(project_->store().Delete(files->front().key));
  auto reader = OpenReader(RowsQuery("events"));
  ASSERT_TRUE(reader.ok());
  RecordBatch b;
  auto more = (*reader)->Next(&b);
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(more.status().message().find(files->front().key), std::string::npos)
      << more.status().ToString();
}

TEST_F(TableReaderTest, LimitZeroReadsNothing) {
  TwoSnapshots();
  TableReadResult r = Read(RowsQuery("events").Limit(0));
  EXPECT_TRUE(r.ids.empty());
  EXPECT_EQ(r.cursor, "");
  EXPECT_EQ(r.stats.files_read, 0);
  EXPECT_EQ(r.schema.num_fields(), 4);
  EXPECT_EQ(Write(RowsQuery("events").Limit(0), "csv"), "id,day,cat,amount\n");
  EXPECT_EQ(Write(RowsQuery("events").Limit(0), "json"), "[]\n");
}

TEST_F(TableReaderTest, EmptyTable) {
  Deploy("empty", kReaderEmptySpec);
  Commit("empty", 1, 10);
  TableReadResult r = Read(RowsQuery("empty"));
  EXPECT_TRUE(r.ids.empty());
  EXPECT_EQ(r.cursor, "");
  EXPECT_EQ(r.stats.rows_scanned, 0);
  EXPECT_EQ(Write(RowsQuery("empty"), "json"), "[]\n");
  EXPECT_EQ(Write(RowsQuery("empty"), "ndjson"), "");
  EXPECT_EQ(Write(RowsQuery("empty").Where("id > 3").Limit(5), "csv"), "id,day,cat,amount\n");
  const std::string parquet = Write(RowsQuery("empty"), "parquet");
  ASSERT_GE(parquet.size(), 8u);
  auto schema = InferParquetSchema(*NewStringInput(parquet));
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  EXPECT_EQ(schema->num_fields(), 4);
}

TEST_F(TableReaderTest, WritesEveryFormat) {
  TwoSnapshots();
  const TableReadRequest req = RowsQuery("events").Where("id <= 3 OR id = 150").Limit(4);
  EXPECT_EQ(Write(req, "json"),
            "[{\"id\":1,\"day\":\"2024-01-01\",\"cat\":\"c1\",\"amount\":1.50},"
            "{\"id\":2,\"day\":\"2024-01-01\",\"cat\":\"c2\",\"amount\":3.00},"
            "{\"id\":3,\"day\":\"2024-01-01\",\"cat\":\"c0\",\"amount\":4.50},"
            "{\"id\":150,\"day\":\"2024-01-04\",\"cat\":\"c0\",\"amount\":225.00}]\n");
  EXPECT_EQ(Write(req, "ndjson"),
            "{\"id\":1,\"day\":\"2024-01-01\",\"cat\":\"c1\",\"amount\":1.50}\n"
            "{\"id\":2,\"day\":\"2024-01-01\",\"cat\":\"c2\",\"amount\":3.00}\n"
            "{\"id\":3,\"day\":\"2024-01-01\",\"cat\":\"c0\",\"amount\":4.50}\n"
            "{\"id\":150,\"day\":\"2024-01-04\",\"cat\":\"c0\",\"amount\":225.00}\n");
  EXPECT_EQ(Write(req, "csv"),
            "id,day,cat,amount\n"
            "1,2024-01-01,c1,1.50\n"
            "2,2024-01-01,c2,3.00\n"
            "3,2024-01-01,c0,4.50\n"
            "150,2024-01-04,c0,225.00\n");

  const std::string parquet = Write(req, "parquet");
  ASSERT_GE(parquet.size(), 8u);
  EXPECT_EQ(parquet.substr(0, 4), "PAR1");
  DecoderOptions dopts;
  auto dec = NewParquetDecoder(NewStringInput(parquet, "rows.parquet"), dopts);
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  RecordBatch b;
  std::vector<BadRecord> bad;
  auto more = (*dec)->Next(&b, &bad);
  ASSERT_TRUE(more.ok() && *more);
  EXPECT_EQ(b.schema.ToString(),
            "id: int64 not null\nday: date\ncat: string\namount: decimal(10,2)\n");
  ASSERT_EQ(b.num_rows(), 4);
  EXPECT_EQ(b.columns[0].Value<int64_t>(3), 150);
  EXPECT_EQ(b.columns[2].GetString(1), "c2");
  EXPECT_EQ(b.columns[3].Value<int64_t>(2), 450);

  EXPECT_EQ(ParseRowsFormat("parquet").value(), RowsFormat::kParquet);
  EXPECT_EQ(RowsFormatContentType(RowsFormat::kNdjson), "application/x-ndjson");
}

// ---- the page index: cursors and where land on pages, not row groups ----------

// Every row of a multi-page, multi-row-group, multi-file table is reached by
// cursor paging, whatever the page size; the cursor's row is found through
// the page index.
TEST_F(TableReaderTest, CursorPagingReachesEveryRowThroughThePageIndex) {
  Deploy("paged", kReaderPagedSpec);
  Commit("paged", 1, 2600);
  const TableReadResult whole = Read(RowsQuery("paged"));
  ASSERT_EQ(whole.ids, Range(1, 2600));
  EXPECT_EQ(whole.stats.files, 3);
  EXPECT_EQ(whole.stats.row_groups_read, 7);  // files of 500 + 500 + 100, twice, and 400
  EXPECT_EQ(whole.stats.pages_skipped, 0);

  struct Case {
    std::string where;
    int64_t limit;
  };
  const Case cases[] = {{"", 1},
                        {"id >= 1050 AND id <= 1160", 1},
                        {"", 7},
                        {"", 100},
                        {"cat = 'c1'", 7},
                        {"id % 97 = 3", 1},
                        {"amount >= 1000 AND cat <> 'c0'", 100}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.where + " limit " + std::to_string(c.limit));
    const std::vector<int64_t> want = Read(RowsQuery("paged").Where(c.where)).ids;
    int pages = 0;
    EXPECT_EQ(Paged(RowsQuery("paged").Where(c.where), c.limit, &pages), want);
    EXPECT_EQ(pages,
              std::max<int64_t>(1, (static_cast<int64_t>(want.size()) + c.limit - 1) / c.limit));
  }

  // A page from the middle of a row group starts at the cursor's page: the
  // five pages before it (row 200 of the file's first group) are skipped in
  // each of the 4 columns, and a first batch (1,024 rows at least) reads no
  // further than the group's end.
  TableReadResult first = Read(RowsQuery("paged").Limit(1300));
  ASSERT_NE(first.cursor, "");
  TableReadResult next = Read(RowsQuery("paged").Limit(5).Cursor(first.cursor));
  EXPECT_EQ(next.ids, Range(1301, 1305));
  EXPECT_EQ(next.stats.pages_skipped, 4 * 5);
  EXPECT_EQ(next.stats.pages_read, 4 * 9);  // pages 5..13 of 14
  EXPECT_EQ(next.stats.rows_scanned, 500 - 200);
}

// Pruning pages by their min/max never changes the answer: many random
// predicates, each compared with a full scan filtered here.
TEST_F(TableReaderTest, WherePagePruningMatchesAFullScan) {
  Deploy("paged", kReaderPagedSpec);
  Commit("paged", 1, 2600);
  const std::vector<int64_t> whole = Read(RowsQuery("paged")).ids;
  ASSERT_EQ(whole.size(), 2600u);
  auto amount = [](int64_t id) { return id * 150; };  // cents
  auto cents = [](int64_t c) { return FormatDecimal(c, 2); };
  std::mt19937_64 rng(20240101);
  auto pick = [&](int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo + 1));
  };
  int64_t skipped = 0;
  for (int round = 0; round < 60; ++round) {
    std::string where;
    std::function<bool(int64_t)> match;
    const int64_t a = pick(-10, 2610), b = pick(a, a + pick(0, 400)), c = pick(1, 2600);
    switch (round % 8) {
      case 0:
        where = "id >= " + std::to_string(a) + " AND id <= " + std::to_string(b);
        match = [=](int64_t id) { return id >= a && id <= b; };
        break;
      case 1:
        where = "id = " + std::to_string(c);
        match = [=](int64_t id) { return id == c; };
        break;
      case 2: {
        const int64_t x = amount(a) - 75, y = amount(b) + 75;
        where = "amount BETWEEN " + cents(x) + " AND " + cents(y);
        match = [=](int64_t id) { return amount(id) >= x && amount(id) <= y; };
        break;
      }
      case 3: {
        const std::string cat = "c" + std::to_string(c % 3);
        where = "amount > " + cents(amount(a)) + " AND cat = '" + cat + "'";
        match = [=](int64_t id) { return amount(id) > amount(a) && EventCat(id) == cat; };
        break;
      }
      case 4:
        where = "id IN (" + std::to_string(a) + ", " + std::to_string(b) + ", " +
                std::to_string(c) + ")";
        match = [=](int64_t id) { return id == a || id == b || id == c; };
        break;
      case 5: {
        const std::string day = EventDay(c);
        where = "day = '" + day + "' AND id % 2 = 0";
        match = [=](int64_t id) { return EventDay(id) == day && id % 2 == 0; };
        break;
      }
      case 6:
        where = "id < " + std::to_string(a) + " OR id > " + std::to_string(b);
        match = [=](int64_t id) { return id < a || id > b; };
        break;
      default:
        where = std::to_string(b) + " > id AND id > " + std::to_string(a) + " AND cat >= 'c1'";
        match = [=](int64_t id) { return id < b && id > a && EventCat(id) >= "c1"; };
        break;
    }
    SCOPED_TRACE(where);
    std::vector<int64_t> want;
    for (int64_t id : whole) {
      if (match(id)) want.push_back(id);
    }
    const TableReadResult r = Read(RowsQuery("paged").Where(where));
    EXPECT_EQ(r.ids, want);
    skipped += r.stats.pages_skipped;
    if (round % 8 == 1) {
      // A point lookup reads one page of each column (two when a cursor's
      // look-ahead crosses into the next), not its row group.
      EXPECT_LE(r.stats.pages_read, 8);
    }
    if (round < 16) {
      int pages = 0;
      EXPECT_EQ(Paged(RowsQuery("paged").Where(where), 3, &pages), want);
    }
  }
  EXPECT_GT(skipped, 0);
}

// The acceptance case of the page index: a limit=100 read from the middle
// of a 1M-row file (one file, row groups of 122,880 rows) decompresses a
// few pages, where it used to decode the whole row group in every column.
TEST_F(TableReaderTest, LimitedReadFromTheMiddleOfALargeFileReadsFewPages) {
  Deploy("big", kReaderBigSpec);
  Commit("big", 1, 1000000);
  const int64_t snapshot = CurrentSnapshot("big");
  RowsQuery req("big");
  req.Limit(100);
  table_internal::TrCursor c;
  c.table = "big";
  c.snapshot = snapshot;
  c.file = 0;
  c.row = 560000;  // row 68,480 of row group 4: its page 3
  c.query = table_internal::TrQueryFingerprint(req);
  TableReadResult r = Read(RowsQuery("big").Limit(100).Cursor(table_internal::TrEncodeCursor(c)));
  EXPECT_EQ(r.ids, Range(560001, 560100));
  EXPECT_NE(r.cursor, "");
  // 4 columns, one page each (a second one only where the look-ahead for
  // the next page's cursor crosses a page boundary).
  EXPECT_LE(r.stats.pages_read, 8);
  EXPECT_EQ(r.stats.pages_skipped, 4 * 3);
  EXPECT_LE(r.stats.rows_scanned, 4096);
  EXPECT_EQ(r.stats.row_groups_read, 1);

  // The same with a where pruned to one page by the page index.
  r = Read(RowsQuery("big").Where("id >= 733333 AND id < 733433").Limit(100));
  EXPECT_EQ(r.ids, Range(733333, 733432));
  EXPECT_LE(r.stats.pages_read, 8);
  EXPECT_GT(r.stats.pages_skipped, 0);
  EXPECT_EQ(r.cursor, "");
}

TEST_F(TableReaderTest, JsonArrayIsOneDocumentOnAPool) {
  // Large batches are formatted in ranges on the pool: the separators
  // between ranges and batches must still make one valid array.
  Schema schema({{"n", DataType::Int64()}, {"s", DataType::String()}});
  ThreadPool pool(2);
  std::string text;
  auto enc = NewJsonEncoder(NewStringOutput(&text), schema, &pool);
  ASSERT_TRUE(enc.ok());
  int64_t next = 0;
  for (int64_t rows : {20000, 1, 9000, 0, 3}) {
    RecordBatch b = RecordBatch::Empty(schema);
    for (int64_t i = 0; i < rows; ++i) {
      b.columns[0].Append<int64_t>(next++);
      b.columns[1].AppendString("x\"" + std::to_string(i));
    }
    SLUICE_ASSERT_OK((*enc)->Write(b));
  }
  SLUICE_ASSERT_OK((*enc)->Finish());
  nlohmann::json doc = nlohmann::json::parse(text);
  ASSERT_TRUE(doc.is_array());
  ASSERT_EQ(static_cast<int64_t>(doc.size()), next);
  for (int64_t i = 0; i < next; ++i) ASSERT_EQ(doc[i]["n"].get<int64_t>(), i);
}

}  // namespace
}  // namespace sluice
