// GET /v1/tables/{table}/rows: the rows of one committed snapshot, projected,
// filtered (`where`, the pipeline expression language), paged by an opaque
// cursor, as json | ndjson | csv | parquet (engine/table_reader.h).
//
// json is an envelope streamed as it is read, ending with the next page's
// cursor: {"table", "snapshot", "columns", "rows": [...], "next_cursor", "next"}.
// The other formats carry the cursor in the `Sluice-Next-Cursor` header, so
// a page of them (a request with a limit) is encoded first, in memory up to
// 4 MiB and in an unlinked temporary file past that, then sent; with
// limit=all (an extract) they stream as they are read, with no cursor.
#include <cstdio>
#include <memory>

#include "core/value_text.h"
#include "engine/table_reader.h"
#include "server/api.h"

namespace sluice::server {

namespace {

using nlohmann::json;

constexpr int64_t kDefaultLimit = 1000;

// Collects an encoded page: memory first, a temporary file past kInMemory.
class PageBuffer final : public OutputStream {
 public:
  ~PageBuffer() override {
    if (file_ != nullptr) std::fclose(file_);
  }
  Status Write(const void* data, size_t n) override {
    if (file_ == nullptr && mem_.size() + n > kInMemory) {
      file_ = std::tmpfile();
      if (file_ == nullptr) return Status::IOError("no temporary file for a page of rows");
      if (std::fwrite(mem_.data(), 1, mem_.size(), file_) != mem_.size()) {
        return Status::IOError("writing a page of rows to a temporary file failed");
      }
      std::string().swap(mem_);
    }
    if (file_ != nullptr) {
      if (std::fwrite(data, 1, n, file_) != n) {
        return Status::IOError("writing a page of rows to a temporary file failed");
      }
    } else {
      mem_.append(static_cast<const char*>(data), n);
    }
    size_ += static_cast<int64_t>(n);
    return Status::OK();
  }
  int64_t Tell() const override { return size_; }
  Status Close() override { return Status::OK(); }
  void Abort() override {}
  // Sends what was collected to `out`.
  Status CopyTo(OutputStream& out) {
    if (file_ == nullptr) return out.Write(mem_);
    std::rewind(file_);
    std::string buf(1 << 20, '\0');
    while (size_t n = std::fread(buf.data(), 1, buf.size(), file_)) {
      RETURN_IF_ERROR(out.Write(buf.data(), n));
    }
    return std::ferror(file_) ? Status::IOError("reading a page of rows back failed")
                              : Status::OK();
  }

 private:
  static constexpr size_t kInMemory = 4 << 20;
  std::string mem_;
  std::FILE* file_ = nullptr;
  int64_t size_ = 0;
};

std::vector<std::string> SplitColumns(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string c(TrimBlanks(std::string_view(text).substr(start, end - start)));
    if (!c.empty()) out.push_back(std::move(c));
    start = end + 1;
  }
  return out;
}

// Percent-encodes a query value.
std::string QueryEscape(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

void Rows(ApiContext& ctx, HttpRequest& req, HttpResponse& res) {
  const std::string& table = req.params[0];
  if (!req.principal.MayRead(table)) {
    return res.Error(403, "forbidden",
                     "token '" + req.principal.name + "' may not read table '" + table + "'");
  }
  TableReadRequest r;
  r.table = table;
  if (auto c = req.Query("columns")) r.columns = SplitColumns(*c);
  r.where = req.Query("where").value_or("");
  r.cursor = req.Query("cursor").value_or("");
  auto snapshot = QueryInt(req, "snapshot", 0, 1, INT64_MAX);
  if (!snapshot.ok()) return res.Fail(snapshot.status());
  r.snapshot = *snapshot;
  const std::string limit_text = req.Query("limit").value_or("");
  if (limit_text == "all") {
    r.limit = -1;
  } else {
    auto limit = QueryInt(req, "limit", kDefaultLimit, 0, 1'000'000);
    if (!limit.ok()) {
      return res.Error(400, "bad_request",
                       "query parameter 'limit' must be an integer from 0 to 1000000, or 'all'; "
                       "got '" +
                           limit_text + "'");
    }
    r.limit = *limit;
  }
  const std::string format = req.Query("format").value_or("json");
  auto parsed_format = ParseRowsFormat(format);
  if (!parsed_format.ok()) return res.Fail(parsed_format.status());
  auto opened = OpenTableReader(ctx.project->catalog(), ctx.project->store(), r);
  if (!opened.ok()) return res.Fail(opened.status());
  std::shared_ptr<TableReader> reader = std::move(*opened);
  res.SetHeader("Sluice-Snapshot", std::to_string(reader->snapshot()));
  res.content_type = std::string(RowsFormatContentType(*parsed_format));
  if (*parsed_format == RowsFormat::kJson) {
    json columns = json::array();
    for (const Field& f : reader->schema().fields()) {
      columns.push_back({{"name", f.name}, {"type", f.type.ToString()}});
    }
    json head{{"table", table}, {"snapshot", reader->snapshot()}, {"columns", columns}};
    std::string prefix = head.dump();
    prefix.pop_back();  // the closing brace: rows and the cursor follow
    prefix += ",\"rows\":";
    // The next page's address keeps every parameter but the cursor.
    std::string base = "/v1/tables/" + table + "/rows?format=json";
    for (const char* k : {"columns", "where", "limit", "snapshot"}) {
      if (auto v = req.Query(k)) base += std::string("&") + k + "=" + QueryEscape(*v);
    }
    res.stream = [reader, prefix, base](OutputStream& out) -> Status {
      RETURN_IF_ERROR(out.Write(prefix));
      RETURN_IF_ERROR(WriteTableRows(*reader, "json", out));
      const std::string& cursor = reader->next_cursor();
      json tail{{"next_cursor", cursor.empty() ? json(nullptr) : json(cursor)},
                {"next", cursor.empty() ? json(nullptr) : json(base + "&cursor=" + cursor)}};
      std::string t = tail.dump();
      t[0] = ',';
      return out.Write(t + "\n");
    };
    return;
  }
  if (r.limit < 0) {
    res.stream = [reader, format](OutputStream& out) {
      return WriteTableRows(*reader, format, out);
    };
    return;
  }
  auto page = std::make_shared<PageBuffer>();
  if (Status st = WriteTableRows(*reader, format, *page); !st.ok()) return res.Fail(st);
  if (!reader->next_cursor().empty()) res.SetHeader("Sluice-Next-Cursor", reader->next_cursor());
  res.stream = [page](OutputStream& out) { return page->CopyTo(out); };
}

}  // namespace

void AddRowsRoutes(Router& router, ApiContext& ctx) {
  router.Add({"GET", "/v1/tables/{table}/rows", Role::kReader,
              [&ctx](HttpRequest& req, HttpResponse& res) { Rows(ctx, req, res); }});
}

}  // namespace sluice::server
