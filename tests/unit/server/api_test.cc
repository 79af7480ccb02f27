// Contract tests of the HTTP API: a real Service on a loopback port over a
// real project, driven by an HTTP client. Every error case answers with its
// status and the JSON error body.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "../engine/test_project.h"
#include "core/hash.h"
#include "engine/exporter.h"
#include "server/api.h"
#include "server/assets.h"
#include "server/auth.h"
#include "server/service.h"

namespace sluice::server {
namespace {

using nlohmann::json;
using sluice::testing::ProjectTest;

constexpr const char* kSpec = R"(pipeline: orders
source:
  pattern: "*.csv"
  format: csv
schema:
  id: int64 not null
  amount: float64
on_bad_record: quarantine
max_bad_ratio: 0.5
outputs:
  - table: orders
)";

struct Reply {
  int status = 0;
  json body;
  std::string text;
  httplib::Headers headers;
};

class ApiTest : public ProjectTest {
 protected:
  // Tokens: one per role, plus a reader of `orders` only.
  void SetUp() override {
    ProjectTest::SetUp();
    config_.server.listen = "127.0.0.1:0";
  }
  void TearDown() override {
    if (service_) service_->Stop();
  }

  void AddToken(const std::string& name, const std::string& role,
                std::vector<std::string> tables = {}) {
    const std::string token = "tok-" + name;
    config_.server.tokens.push_back(ApiToken{name, role, Sha256Hex(token), std::move(tables)});
  }

  void Start() {
    Open();
    Deploy("orders", kSpec);
    ServiceOptions so;
    so.config = config_.server;
    so.draining = &draining_;
    so.version = "test";
    auto s = Service::Start(*project_, so);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    service_ = std::move(*s);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", service_->port());
    client_->set_read_timeout(30, 0);
  }

  static Reply ToReply(const httplib::Result& r) {
    Reply out;
    if (!r) {
      out.status = -1;
      return out;
    }
    out.status = r->status;
    out.text = r->body;
    out.headers = r->headers;
    out.body = json::parse(r->body, nullptr, false);
    return out;
  }

  httplib::Headers Auth(const std::string& who) {
    if (who.empty()) return {};
    return {{"Authorization", "Bearer tok-" + who}};
  }

  Reply Get(const std::string& path, const std::string& who = "") {
    return ToReply(client_->Get(path.c_str(), Auth(who)));
  }
  Reply Post(const std::string& path, const std::string& body, const std::string& who = "") {
    return ToReply(client_->Post(path.c_str(), Auth(who), body, "application/yaml"));
  }
  Reply Put(const std::string& path, const std::string& body, const std::string& who = "") {
    return ToReply(client_->Put(path.c_str(), Auth(who), body, "text/csv"));
  }

  // The error body every refusal has.
  static void ExpectError(const Reply& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.text;
    ASSERT_TRUE(r.body.is_object()) << r.text;
    ASSERT_TRUE(r.body.contains("error")) << r.text;
    EXPECT_EQ(r.body["error"]["status"], status) << r.text;
    EXPECT_EQ(r.body["error"]["code"], code) << r.text;
    EXPECT_FALSE(r.body["error"]["message"].get<std::string>().empty());
  }

  // Processes every queued batch, as a worker would.
  void ProcessQueued() {
    auto queued = project_->catalog().ListBatches(BatchState::kQueued, "", 0);
    ASSERT_TRUE(queued.ok()) << queued.status().ToString();
    for (const BatchInfo& b : *queued) {
      auto outcome = ProcessBatch(Env(), b.id);
      ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
    }
  }

  int64_t BatchCount() {
    auto b = project_->catalog().ListBatches(std::nullopt, "", 0);
    return b.ok() ? static_cast<int64_t>(b->size()) : -1;
  }

  std::atomic<bool> draining_{false};
  std::unique_ptr<Service> service_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ApiTest, HealthAndReadiness) {
  Start();
  Reply h = Get("/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body["status"], "ok");
  Reply r = Get("/readyz");
  EXPECT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["status"], "ready");
  ASSERT_EQ(r.body["checks"].size(), 3u);
  for (const json& c : r.body["checks"]) EXPECT_TRUE(c["ok"].get<bool>()) << c.dump();
  // Answers are never compressed, whatever the client accepts (the library
  // would use brotli at its slowest level).
  auto plain = client_->Get("/v1/status", {{"Accept-Encoding", "br, gzip"}});
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 200);
  EXPECT_FALSE(plain->has_header("Content-Encoding"))
      << plain->get_header_value("Content-Encoding");
  EXPECT_FALSE(json::parse(plain->body)["tables"].is_null());
  // Draining: not ready, so that a balancer stops sending work.
  draining_ = true;
  r = Get("/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_TRUE(r.body["draining"].get<bool>());
}

TEST_F(ApiTest, UnknownRoutesAndMethodsAreJsonErrors) {
  Start();
  ExpectError(Get("/v1/nothing"), 404, "not_found");
  Reply r = ToReply(client_->Delete("/v1/batches"));
  ExpectError(r, 405, "method_not_allowed");
  EXPECT_EQ(r.headers.find("Allow")->second, "GET");
  ExpectError(Get("/v1/batches/abc"), 400, "bad_request");
  ExpectError(Get("/v1/batches/999"), 404, "not_found");
  ExpectError(Get("/v1/batches?state=bogus"), 400, "bad_request");
  ExpectError(Get("/v1/batches?limit=0"), 400, "bad_request");
  ExpectError(Get("/v1/batches?limit=x"), 400, "bad_request");
  ExpectError(Get("/v1/tables/nope"), 404, "not_found");
  ExpectError(Get("/v1/pipelines/nope"), 404, "not_found");
  ExpectError(Get("/v1/pipelines/Bad-Name"), 400, "bad_request");
  Reply spec = Get("/v1/openapi.json");
  EXPECT_EQ(spec.status, 200);
  EXPECT_EQ(spec.body["openapi"].get<std::string>().substr(0, 2), "3.");
}

TEST_F(ApiTest, TokensRolesAndTheirErrors) {
  AddToken("r", "reader");
  AddToken("i", "ingester");
  AddToken("a", "admin");
  config_.server.listen = "127.0.0.1:0";
  Start();
  // Public routes need no token.
  EXPECT_EQ(Get("/healthz").status, 200);
  Reply none = Get("/v1/batches");
  ExpectError(none, 401, "missing_token");
  EXPECT_NE(none.headers.find("WWW-Authenticate"), none.headers.end());
  ExpectError(ToReply(client_->Get("/v1/batches", {{"Authorization", "Bearer nope"}})), 401,
              "invalid_token");
  ExpectError(ToReply(client_->Get("/v1/batches", {{"Authorization", "Basic abc"}})), 401,
              "invalid_token");
  EXPECT_EQ(Get("/v1/batches", "r").status, 200);
  // A reader may not upload, an ingester may not deploy.
  Reply up = Put("/v1/landing/orders/a.csv", "id,amount\n1,2\n", "r");
  ExpectError(up, 403, "forbidden");
  EXPECT_EQ(up.body["error"]["needs"], "ingester");
  EXPECT_EQ(BatchCount(), 0);
  EXPECT_EQ(Put("/v1/landing/orders/a.csv", "id,amount\n1,2\n", "i").status, 201);
  ExpectError(Post("/v1/pipelines/orders/versions", kSpec, "i"), 403, "forbidden");
  EXPECT_EQ(Post("/v1/pipelines/orders/versions", kSpec, "a").status, 200);  // unchanged
  // The token never appears in an answer.
  EXPECT_EQ(up.text.find("tok-r"), std::string::npos);
}

TEST_F(ApiTest, ATokenLimitedToTablesReadsOnlyThose) {
  AddToken("bi", "reader", {"other"});
  AddToken("a", "admin");
  Start();
  ASSERT_EQ(Put("/v1/landing/orders/a.csv", "id,amount\n1,2\n", "a").status, 201);
  ProcessQueued();
  ExpectError(Get("/v1/tables/orders", "bi"), 403, "forbidden");
  ExpectError(Get("/v1/tables/orders/files", "bi"), 403, "forbidden");
  Reply list = Get("/v1/tables", "bi");
  EXPECT_EQ(list.status, 200);
  EXPECT_TRUE(list.body["tables"].empty()) << list.text;
  EXPECT_EQ(Get("/v1/tables/orders", "a").status, 200);
}

TEST_F(ApiTest, RateLimitAnswers429WithRetryAfter) {
  AddToken("r", "reader");
  config_.server.rate = 0.5;
  config_.server.burst = 2;
  Start();
  EXPECT_EQ(Get("/v1/batches", "r").status, 200);
  EXPECT_EQ(Get("/v1/batches", "r").status, 200);
  Reply r = Get("/v1/batches", "r");
  ExpectError(r, 429, "rate_limited");
  ASSERT_NE(r.headers.find("Retry-After"), r.headers.end());
  EXPECT_EQ(r.headers.find("Retry-After")->second, "2");
  // Public routes are not counted.
  EXPECT_EQ(Get("/healthz").status, 200);
}

TEST_F(ApiTest, HeaderAndBodyLimits) {
  config_.server.max_header_bytes = 2048;
  config_.server.max_body_bytes = 1024;
  Start();
  ExpectError(ToReply(client_->Get("/v1/batches", {{"X-Big", std::string(3000, 'x')}})), 431,
              "headers_too_large");
  // Many small headers count too.
  httplib::Headers many;
  for (int i = 0; i < 100; ++i) many.emplace("X-H" + std::to_string(i), std::string(30, 'y'));
  ExpectError(ToReply(client_->Get("/v1/batches", many)), 431, "headers_too_large");
  // A body past the limit, with a Content-Length or chunked: 413, nothing registered.
  const std::string big = "id,amount\n" + std::string(2000, '1') + ",2\n";
  ExpectError(Put("/v1/landing/orders/big.csv", big), 413, "body_too_large");
  httplib::Client chunked("127.0.0.1", service_->port());
  auto r = chunked.Put(
      "/v1/landing/orders/big2.csv",
      [&big](size_t offset, httplib::DataSink& sink) {
        if (offset < big.size()) {
          sink.write(big.data() + offset, std::min<size_t>(100, big.size() - offset));
        } else {
          sink.done();
        }
        return true;
      },
      "text/csv");
  ExpectError(ToReply(r), 413, "body_too_large");
  EXPECT_EQ(BatchCount(), 0);
  // Under the limit: fine.
  EXPECT_EQ(Put("/v1/landing/orders/small.csv", "id,amount\n1,2\n").status, 201);
}

TEST_F(ApiTest, UploadsAreIdempotentAndNamesAreChecked) {
  Start();
  const std::string csv = "id,amount\n1,2.5\n2,3.5\n";
  Reply first = Put("/v1/landing/orders/day1/a.csv", csv);
  ASSERT_EQ(first.status, 201) << first.text;
  EXPECT_EQ(first.body["outcome"], "new");
  EXPECT_EQ(first.body["sha256"], Sha256Hex(csv));
  EXPECT_EQ(first.body["bytes"], csv.size());
  const int64_t id = first.body["batch_id"];
  EXPECT_EQ(first.headers.find("Location")->second, "/v1/batches/" + std::to_string(id));
  // The same upload again, and the same bytes under another name: one batch.
  Reply again = Put("/v1/landing/orders/day1/a.csv", csv);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body["outcome"], "same_upload");
  EXPECT_EQ(again.body["batch_id"], id);
  Reply other = Put("/v1/landing/orders/b.csv", csv);
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(other.body["outcome"], "duplicate_content");
  EXPECT_EQ(other.body["batch_id"], id);
  EXPECT_EQ(BatchCount(), 1);
  // Only one archive copy: the duplicate's was removed.
  auto archived = project_->store().List("archive/orders/");
  ASSERT_TRUE(archived.ok());
  int copies = 0;
  for (const auto& o : *archived) copies += o.key.ends_with(".csv") ? 1 : 0;
  EXPECT_EQ(copies, 1);
  // Names that are refused, percent-encoded or not.
  for (const char* bad :
       {"/v1/landing/orders/..%2F..%2Fetc%2Fpasswd", "/v1/landing/orders/a%2F..%2F..%2Fb.csv",
        "/v1/landing/orders/.hidden.csv", "/v1/landing/orders/a%01b.csv",
        "/v1/landing/orders/a%0Ab.csv", "/v1/landing/orders/a%5Cb.csv",
        "/v1/landing/orders/x.csv.tmp", "/v1/landing/orders/a//b.csv"}) {
    ExpectError(Put(bad, csv + "3,1\n"), 400, "bad_request");
  }
  ExpectError(Put("/v1/landing/orders/" + std::string(300, 'n') + ".csv", csv + "4,1\n"), 400,
              "bad_request");
  ExpectError(Put("/v1/landing/nope/a.csv", csv + "5,1\n"), 404, "not_found");
  EXPECT_EQ(BatchCount(), 1);
  // Nothing was written outside the store's archive for them.
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(dir_.path()) / "etc"));
}

TEST_F(ApiTest, BatchesPagesDetailAndReplay) {
  Start();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Put("/v1/landing/orders/f" + std::to_string(i) + ".csv",
                  "id,amount\n" + std::to_string(i) + ",1\nnot-a-number,2\n")
                  .status,
              201);
  }
  ProcessQueued();
  Reply page = Get("/v1/batches?limit=2");
  ASSERT_EQ(page.status, 200) << page.text;
  ASSERT_EQ(page.body["batches"].size(), 2u);
  EXPECT_EQ(page.body["batches"][0]["id"], 3);
  ASSERT_FALSE(page.body["next"].is_null());
  Reply rest = Get(page.body["next"].get<std::string>());
  ASSERT_EQ(rest.body["batches"].size(), 1u);
  EXPECT_EQ(rest.body["batches"][0]["id"], 1);
  EXPECT_TRUE(rest.body["next"].is_null());
  EXPECT_EQ(Get("/v1/batches?state=committed&pipeline=orders").body["batches"].size(), 3u);
  EXPECT_EQ(Get("/v1/batches?state=failed").body["batches"].size(), 0u);

  Reply one = Get("/v1/batches/2");
  ASSERT_EQ(one.status, 200) << one.text;
  EXPECT_EQ(one.body["state"], "committed");
  EXPECT_EQ(one.body["rows_quarantined"], 1);
  std::vector<std::string> states;
  for (const json& e : one.body["history"]) states.push_back(e["state"]);
  EXPECT_EQ(states, (std::vector<std::string>{"landed", "queued", "processing", "committed"}));
  ASSERT_EQ(one.body["bad_record_samples"].size(), 1u) << one.text;
  EXPECT_NE(one.body["bad_record_samples"][0].dump().find("not-a-number"), std::string::npos);
  ASSERT_EQ(one.body["files"].size(), 1u);
  EXPECT_EQ(one.body["files"][0]["table"], "orders");

  Reply replay = Post("/v1/batches/2/replay", "");
  ASSERT_EQ(replay.status, 202) << replay.text;
  EXPECT_EQ(replay.body["state"], "queued");
  EXPECT_EQ(replay.body["replayed_from_state"], "committed");
  ExpectError(Post("/v1/batches/2/replay?latest_version=maybe", ""), 400, "bad_request");
  ExpectError(Post("/v1/batches/99/replay", ""), 404, "not_found");
  ExpectError(Post("/v1/batches/1/deliveries/retry", ""), 404, "not_found");
}

TEST_F(ApiTest, DeployValidatesActivatesAndRollsBack) {
  Start();
  // An invalid spec: 422 with where the error is, file:line:col.
  std::string bad = kSpec;
  bad.replace(bad.find("float64"), 7, "float99");
  Reply r = Post("/v1/pipelines/orders/versions", bad);
  ExpectError(r, 422, "invalid_spec");
  ASSERT_EQ(r.body["error"]["errors"].size(), 1u) << r.text;
  const json& e = r.body["error"]["errors"][0];
  EXPECT_EQ(e["line"], 7) << r.text;
  EXPECT_EQ(e["column"], 3) << r.text;
  EXPECT_EQ(e["location"], "orders.yaml:7:3") << r.text;
  // The spec must be for the pipeline of the path.
  std::string other = kSpec;
  other.replace(other.find("orders"), 6, "others");
  ExpectError(Post("/v1/pipelines/orders/versions", other), 422, "invalid_spec");
  ExpectError(Post("/v1/pipelines/orders/versions", "a: [unclosed"), 422, "invalid_spec");

  const int64_t v1 = Get("/v1/pipelines/orders").body["version"];
  std::string changed = kSpec;
  changed.replace(changed.find("0.5"), 3, "0.25");
  Reply deployed = Post("/v1/pipelines/orders/versions", changed);
  ASSERT_EQ(deployed.status, 201) << deployed.text;
  const int64_t v2 = deployed.body["version"];
  EXPECT_NE(v1, v2);
  EXPECT_EQ(deployed.body["source_path"], "api:local");
  Reply show = Get("/v1/pipelines/orders");
  EXPECT_EQ(show.body["version"], v2);
  EXPECT_EQ(show.body["spec"], changed);
  EXPECT_EQ(show.body["versions"].size(), 2u);
  // Roll back, then forward again by id.
  Reply back = Post("/v1/pipelines/orders/rollback", "");
  ASSERT_EQ(back.status, 200) << back.text;
  EXPECT_EQ(back.body["version"], v1);
  EXPECT_EQ(Get("/v1/pipelines").body["pipelines"][0]["version"], v1);
  ExpectError(Post("/v1/pipelines/orders/rollback", ""), 409, "conflict");
  Reply fwd = Post("/v1/pipelines/orders/versions/" + std::to_string(v2) + "/activate", "");
  EXPECT_EQ(fwd.status, 200);
  EXPECT_EQ(fwd.body["version"], v2);
  ExpectError(Post("/v1/pipelines/orders/versions/9999/activate", ""), 404, "not_found");
  EXPECT_EQ(Get("/v1/pipelines/orders/versions/" + std::to_string(v1)).body["spec"], kSpec);
}

TEST_F(ApiTest, TablesSnapshotsAndFiles) {
  Start();
  ASSERT_EQ(Put("/v1/landing/orders/a.csv", "id,amount\n1,2\n").status, 201);
  ASSERT_EQ(Put("/v1/landing/orders/b.csv", "id,amount\n2,3\n").status, 201);
  ProcessQueued();
  Reply t = Get("/v1/tables/orders");
  ASSERT_EQ(t.status, 200) << t.text;
  EXPECT_EQ(t.body["rows"], 2);
  EXPECT_EQ(t.body["snapshot"], 2);
  EXPECT_EQ(Get("/v1/tables/orders/snapshots").body["snapshots"].size(), 2u);
  EXPECT_EQ(Get("/v1/tables/orders/files?snapshot=1").body["files"].size(), 1u);
  EXPECT_EQ(Get("/v1/tables/orders/files").body["files"].size(), 2u);
  ExpectError(Get("/v1/tables/orders/files?snapshot=3"), 404, "not_found");
  ExpectError(Get("/v1/tables/orders/files?snapshot=-1"), 400, "bad_request");
}

TEST_F(ApiTest, RowsFromOneSnapshotWithWhereColumnsAndCursors) {
  Start();
  std::string csv = "id,amount\n";
  for (int i = 1; i <= 25; ++i) csv += std::to_string(i) + "," + std::to_string(i * 10) + "\n";
  ASSERT_EQ(Put("/v1/landing/orders/a.csv", csv).status, 201);
  ProcessQueued();
  ASSERT_EQ(Put("/v1/landing/orders/b.csv", "id,amount\n100,1\n").status, 201);
  ProcessQueued();

  Reply r = Get("/v1/tables/orders/rows?columns=id&where=amount%20%3E%3D%20200&limit=10");
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["snapshot"], 2);
  EXPECT_EQ(r.body["columns"], json::parse(R"([{"name":"id","type":"int64"}])"));
  ASSERT_EQ(r.body["rows"].size(), 6u) << r.text;
  EXPECT_EQ(r.body["rows"][0], json::parse(R"({"id":20})"));
  EXPECT_TRUE(r.body["next_cursor"].is_null());

  // Pages of 4 over snapshot 1 only (the 25 rows of the first batch), each row once.
  std::vector<int64_t> ids;
  std::string next = "/v1/tables/orders/rows?limit=4&snapshot=1";
  int pages = 0;
  while (!next.empty() && pages < 20) {
    Reply page = Get(next);
    ASSERT_EQ(page.status, 200) << page.text;
    for (const json& row : page.body["rows"]) ids.push_back(row["id"]);
    next = page.body["next"].is_null() ? "" : page.body["next"].get<std::string>();
    ++pages;
  }
  EXPECT_EQ(pages, 7);
  ASSERT_EQ(ids.size(), 25u);
  for (int i = 0; i < 25; ++i) EXPECT_EQ(ids[i], i + 1);

  // csv: the cursor is a header.
  Reply c = Get("/v1/tables/orders/rows?format=csv&limit=2&columns=id,amount");
  ASSERT_EQ(c.status, 200) << c.text;
  EXPECT_EQ(c.text, "id,amount\n1,10\n2,20\n");
  ASSERT_NE(c.headers.find("Sluice-Next-Cursor"), c.headers.end());
  Reply c2 = Get("/v1/tables/orders/rows?format=csv&limit=2&columns=id,amount&cursor=" +
                 c.headers.find("Sluice-Next-Cursor")->second);
  EXPECT_EQ(c2.text, "id,amount\n3,30\n4,40\n");
  // An extract streams everything; parquet is a Parquet file.
  Reply all = Get("/v1/tables/orders/rows?format=ndjson&limit=all");
  EXPECT_EQ(std::count(all.text.begin(), all.text.end(), '\n'), 26);
  Reply pq = Get("/v1/tables/orders/rows?format=parquet&limit=all");
  ASSERT_EQ(pq.status, 200);
  ASSERT_GT(pq.text.size(), 8u);
  EXPECT_EQ(pq.text.substr(0, 4), "PAR1");
  EXPECT_EQ(pq.text.substr(pq.text.size() - 4), "PAR1");

  // Errors: a bad expression says where, a snapshot that does not exist is 404.
  Reply bad = Get("/v1/tables/orders/rows?where=amount%20%3E%3E%201");
  ExpectError(bad, 400, "bad_request");
  EXPECT_NE(bad.body["error"]["message"].get<std::string>().find("where:1:"), std::string::npos)
      << bad.text;
  ExpectError(Get("/v1/tables/orders/rows?where=amount%20%2B%201"), 400, "bad_request");
  ExpectError(Get("/v1/tables/orders/rows?where=nope%20%3D%201"), 400, "bad_request");
  ExpectError(Get("/v1/tables/orders/rows?columns=nope"), 400, "bad_request");
  ExpectError(Get("/v1/tables/orders/rows?snapshot=9"), 404, "not_found");
  ExpectError(Get("/v1/tables/orders/rows?snapshot=0"), 400, "bad_request");
  ExpectError(Get("/v1/tables/orders/rows?format=xml"), 400, "bad_request");
  ExpectError(Get("/v1/tables/orders/rows?limit=-5"), 400, "bad_request");
  ExpectError(Get("/v1/tables/orders/rows?cursor=garbage"), 400, "bad_request");
  ExpectError(Get("/v1/tables/nope/rows"), 404, "not_found");
}

// Exports: accepted with a pinned snapshot, run by an export task (here
// run in the test as an exporter worker would), downloadable when done;
// every refusal answers with its error.
TEST_F(ApiTest, ExportsAreAcceptedRunAndDownloaded) {
  AddToken("ops", "admin");
  AddToken("bi", "reader", {"orders"});
  AddToken("other", "reader", {"orders"});
  AddToken("narrow", "reader", {"customers"});
  Start();
  std::string csv = "id,amount\n";
  for (int i = 1; i <= 30; ++i) csv += std::to_string(i) + "," + std::to_string(i * 10) + "\n";
  ASSERT_EQ(Put("/v1/landing/orders/a.csv", csv, "ops").status, 201);
  ProcessQueued();
  auto post = [&](const std::string& body, const std::string& who, const std::string& key = "") {
    httplib::Headers h = Auth(who);
    if (!key.empty()) h.emplace("Idempotency-Key", key);
    return ToReply(client_->Post("/v1/exports", h, body, "application/json"));
  };
  auto run_queued = [&] {
    Exporter ex(project_->catalog(), project_->store(), ExporterOptions{});
    LeaseFilter f;
    f.kind = TaskKind::kExport;
    while (true) {
      auto t = project_->queue().Lease("test", std::chrono::seconds(30), f);
      ASSERT_TRUE(t.ok()) << t.status().ToString();
      if (!t->has_value()) break;
      auto step = ex.Run((*t)->batch_id, nullptr);
      ASSERT_TRUE(step.ok()) << step.status().ToString();
      ASSERT_TRUE(step->finished);
      ASSERT_TRUE(project_->queue().Ack(**t).ok());
    }
  };

  // Refusals: bad JSON, unknown field, bad values, unknown table, bad
  // expression (with its position), a snapshot that does not exist, scope.
  ExpectError(post("{", "bi"), 400, "bad_request");
  ExpectError(post(R"({"table":"orders","colour":"red"})", "bi"), 400, "bad_request");
  ExpectError(post(R"({"table":"orders","columns":"id"})", "bi"), 400, "bad_request");
  ExpectError(post(R"({"table":"orders","limit":-1})", "bi"), 400, "bad_request");
  ExpectError(post(R"({"table":"orders","format":"xml"})", "bi"), 400, "bad_request");
  ExpectError(post(R"({"table":"customers"})", "ops"), 404, "not_found");
  Reply bad_where = post(R"({"table":"orders","where":"amount >"})", "bi");
  ExpectError(bad_where, 400, "bad_request");
  EXPECT_NE(bad_where.body["error"]["message"].get<std::string>().find("where:1:"),
            std::string::npos)
      << bad_where.text;
  ExpectError(post(R"({"table":"orders","snapshot":999})", "bi"), 404, "not_found");
  ExpectError(post(R"({"table":"orders"})", "narrow"), 403, "forbidden");
  ExpectError(post(R"({"table":"orders"})", ""), 401, "missing_token");

  // Accepted: 202, queued, the snapshot pinned.
  Reply accepted = post(
      R"({"table":"orders","columns":["id"],"where":"amount >= 100","format":"csv"})", "bi", "k1");
  ASSERT_EQ(accepted.status, 202) << accepted.text;
  const int64_t id = accepted.body["id"];
  EXPECT_EQ(accepted.headers.find("Location")->second, "/v1/exports/" + std::to_string(id));
  EXPECT_EQ(accepted.body["state"], "queued");
  EXPECT_EQ(accepted.body["snapshot"], 1);
  EXPECT_TRUE(accepted.body["download"].is_null());
  // The same request under the same key is the same export; other
  // parameters under it are a conflict.
  Reply again = post(
      R"({"table":"orders","columns":["id"],"where":"amount >= 100","format":"csv"})", "bi", "k1");
  EXPECT_EQ(again.status, 200) << again.text;
  EXPECT_EQ(again.body["id"], id);
  ExpectError(post(R"({"table":"orders","format":"csv"})", "bi", "k1"), 409, "conflict");

  // Not done yet: no file.
  ExpectError(Get("/v1/exports/" + std::to_string(id) + "/file", "bi"), 409, "not_ready");
  // A batch committed after the export was accepted is not in it.
  ASSERT_EQ(Put("/v1/landing/orders/b.csv", "id,amount\n500,5000\n", "ops").status, 201);
  ProcessQueued();
  run_queued();
  Reply done = Get("/v1/exports/" + std::to_string(id), "bi");
  ASSERT_EQ(done.status, 200) << done.text;
  EXPECT_EQ(done.body["state"], "done") << done.text;
  EXPECT_EQ(done.body["rows"], 21);
  EXPECT_EQ(done.body["download"], "/v1/exports/" + std::to_string(id) + "/file");
  Reply file = Get("/v1/exports/" + std::to_string(id) + "/file", "bi");
  ASSERT_EQ(file.status, 200) << file.text;
  std::string expected = "id\n";
  for (int i = 10; i <= 30; ++i) expected += std::to_string(i) + "\n";
  EXPECT_EQ(file.text, expected);
  EXPECT_EQ(file.headers.find("Sluice-Sha256")->second, Sha256Hex(expected));
  EXPECT_EQ(done.body["sha256"], Sha256Hex(expected));
  EXPECT_NE(file.headers.find("Content-Disposition")->second.find("orders-1.csv"),
            std::string::npos);

  // Owners see their own exports; admins see all; others get 404.
  ExpectError(Get("/v1/exports/" + std::to_string(id), "other"), 404, "not_found");
  ExpectError(Get("/v1/exports/" + std::to_string(id) + "/file", "other"), 404, "not_found");
  EXPECT_EQ(Get("/v1/exports/" + std::to_string(id), "ops").status, 200);
  ASSERT_EQ(post(R"({"table":"orders","format":"parquet"})", "ops").status, 202);
  Reply mine = Get("/v1/exports", "bi");
  ASSERT_EQ(mine.status, 200) << mine.text;
  EXPECT_EQ(mine.body["exports"].size(), 1u);
  Reply all = Get("/v1/exports?limit=1", "ops");
  ASSERT_EQ(all.status, 200) << all.text;
  ASSERT_EQ(all.body["exports"].size(), 1u);
  EXPECT_EQ(all.body["exports"][0]["format"], "parquet");
  EXPECT_EQ(all.body["exports"][0]["snapshot"], 2);
  ASSERT_TRUE(all.body["next"].is_string());
  Reply page2 = Get(all.body["next"].get<std::string>(), "ops");
  ASSERT_EQ(page2.body["exports"].size(), 1u);
  EXPECT_EQ(page2.body["exports"][0]["id"], id);
  ExpectError(Get("/v1/exports/abc", "ops"), 400, "bad_request");
  ExpectError(Get("/v1/exports/99999", "ops"), 404, "not_found");

  // Delete: the row and its file go.
  ExpectError(
      ToReply(client_->Delete(("/v1/exports/" + std::to_string(id)).c_str(), Auth("other"))), 404,
      "not_found");
  Reply deleted =
      ToReply(client_->Delete(("/v1/exports/" + std::to_string(id)).c_str(), Auth("bi")));
  EXPECT_EQ(deleted.status, 204) << deleted.text;
  ExpectError(Get("/v1/exports/" + std::to_string(id), "bi"), 404, "not_found");
  EXPECT_TRUE(sluice::testing::Keys(project_->store(), ExportPrefix(id)).empty());
}

TEST_F(ApiTest, BusyServerAnswers503) {
  config_.server.max_requests = 1;
  Start();
  // Hold one request open: headers and part of a chunked body, no end.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(service_->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const std::string head =
      "PUT /v1/landing/orders/slow.csv HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "a\r\nid,amount\n\r\n";
  ASSERT_EQ(::write(fd, head.data(), head.size()), static_cast<ssize_t>(head.size()));
  // Once the server is inside that request, another one is refused.
  ASSERT_TRUE(sluice::testing::WaitFor([&] { return service_->active_requests() == 1; }));
  Reply busy = Get("/v1/batches");
  ExpectError(busy, 503, "busy");
  EXPECT_EQ(busy.headers.find("Retry-After")->second, "1");
  const std::string rest = "4\r\n1,2\n\r\n0\r\n\r\n";
  ASSERT_EQ(::write(fd, rest.data(), rest.size()), static_cast<ssize_t>(rest.size()));
  char buf[512];
  ssize_t n = ::read(fd, buf, sizeof(buf));
  ::close(fd);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, 12), "HTTP/1.1 201");
  EXPECT_EQ(BatchCount(), 1);
  EXPECT_EQ(Get("/v1/batches").status, 200);
}

TEST(ServiceStart, RefusesANonLoopbackAddressWithoutTokens) {
  sluice::testing::ScratchDir dir;
  auto project = Project::Open(DefaultConfig(dir.path()));
  ASSERT_TRUE(project.ok()) << project.status().ToString();
  ServiceOptions so;
  so.config.listen = "0.0.0.0:0";
  auto s = Service::Start(**project, so);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("server.tokens"), std::string::npos);
  so.config.listen = "nonsense";
  EXPECT_EQ(Service::Start(**project, so).status().code(), StatusCode::kInvalidArgument);
  // With a token it listens (on every address).
  so.config.listen = "0.0.0.0:0";
  so.config.tokens.push_back(ApiToken{"a", "admin", Sha256Hex("x"), {}});
  auto ok = Service::Start(**project, so);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  (*ok)->Stop();
}

// The OpenAPI document served at /v1/openapi.json names every route of the
// router and nothing else ("{name...}" is written "{name}" there).
TEST(OpenApi, DocumentsEveryRouteAndMethod) {
  ApiContext ctx;
  Router router = BuildApiRouter(ctx);
  const EmbeddedAsset* a = FindAsset("openapi.json");
  ASSERT_NE(a, nullptr);
  json doc = json::parse(std::string(a->data, a->size));
  std::set<std::string> documented;
  for (auto p = doc["paths"].begin(); p != doc["paths"].end(); ++p) {
    for (auto m = p.value().begin(); m != p.value().end(); ++m) {
      std::string method = m.key();
      for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.insert(method + " " + p.key());
      EXPECT_TRUE(m.value().contains("responses")) << p.key();
    }
  }
  std::set<std::string> routed;
  for (const Route& r : router.routes()) {
    std::string pattern = r.pattern;
    if (auto dots = pattern.find("...}"); dots != std::string::npos) pattern.erase(dots, 3);
    routed.insert(r.method + " " + pattern);
  }
  for (const std::string& r : routed) EXPECT_TRUE(documented.count(r)) << r << " is not documented";
  for (const std::string& d : documented) EXPECT_TRUE(routed.count(d)) << d << " is not a route";
}

TEST(Tokens, NewTokensAreRandomAndHashAsConfigured) {
  auto a = NewToken();
  auto b = NewToken();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->first, b->first);
  EXPECT_EQ(a->first.size(), 4u + 64u);
  EXPECT_EQ(a->second, Sha256Hex(a->first));
  ServerConfig c;
  c.tokens.push_back(ApiToken{"ops", "admin", a->second, {}});
  Authenticator auth(c);
  auto who = auth.Authenticate("Bearer " + a->first);
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->name, "ops");
  EXPECT_EQ(who->role, Role::kAdmin);
  EXPECT_FALSE(auth.Authenticate("Bearer " + b->first).ok());
  EXPECT_FALSE(auth.Authenticate("bearer").ok());
}

}  // namespace
}  // namespace sluice::server
