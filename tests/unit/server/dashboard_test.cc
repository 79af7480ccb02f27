// The dashboard's routes (server/api_dashboard.cc): GET / and
// GET /assets/{name...} on a real Service over a real project. Names here
// are distinct from api_test.cc's: unity builds put both files in one
// translation unit.
#include <httplib.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "../engine/test_project.h"
#include "core/hash.h"
#include "server/assets.h"
#include "server/service.h"

namespace sluice::server {
namespace {

class DashboardTest : public sluice::testing::ProjectTest {
 protected:
  void SetUp() override {
    ProjectTest::SetUp();
    config_.server.listen = "127.0.0.1:0";
  }
  void TearDown() override {
    if (dash_service_) dash_service_->Stop();
  }

  void StartDashboard() {
    Open();
    ServiceOptions so;
    so.config = config_.server;
    so.version = "test";
    auto s = Service::Start(*project_, so);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    dash_service_ = std::move(*s);
    dash_client_ = std::make_unique<httplib::Client>("127.0.0.1", dash_service_->port());
    dash_client_->set_read_timeout(30, 0);
  }

  httplib::Result Fetch(const std::string& path, const httplib::Headers& headers = {}) {
    return dash_client_->Get(path.c_str(), headers);
  }

  // A 404 with the API's JSON error body.
  static void ExpectNotFoundJson(const httplib::Result& r, const std::string& path) {
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path << ": " << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json") << path;
    const auto body = nlohmann::json::parse(r->body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << path << ": " << r->body;
    EXPECT_EQ(body["error"]["status"], 404) << path;
    EXPECT_EQ(body["error"]["code"], "not_found") << path;
    // Never the bytes of some file.
    EXPECT_EQ(r->body.find("<!doctype"), std::string::npos) << path;
  }

  static std::string AssetText(std::string_view name) {
    const EmbeddedAsset* a = FindAsset(name);
    return a == nullptr ? std::string() : std::string(a->data, a->size);
  }

  std::unique_ptr<Service> dash_service_;
  std::unique_ptr<httplib::Client> dash_client_;
};

TEST_F(DashboardTest, RootServesThePageAsHtml) {
  StartDashboard();
  auto r = Fetch("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(r->body, AssetText("index.html"));
  EXPECT_TRUE(r->body.starts_with("<!doctype html>")) << r->body.substr(0, 64);
  // The page loads its own script and style, nothing from elsewhere.
  EXPECT_NE(r->body.find("src=\"/assets/app.js\""), std::string::npos);
  EXPECT_NE(r->body.find("href=\"/assets/app.css\""), std::string::npos);
  EXPECT_EQ(r->body.find("http://"), std::string::npos);
  EXPECT_EQ(r->body.find("https://"), std::string::npos);
  EXPECT_EQ(r->get_header_value("Cache-Control"), "no-cache");
  EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
  const std::string csp = r->get_header_value("Content-Security-Policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
  // The same at "/assets/index.html".
  auto same = Fetch("/assets/index.html");
  ASSERT_TRUE(same);
  EXPECT_EQ(same->status, 200);
  EXPECT_EQ(same->body, r->body);
}

TEST_F(DashboardTest, EveryEmbeddedAssetIsServedWithItsTypeAndBytes) {
  StartDashboard();
  int served = 0;
  for (const EmbeddedAsset* a = kEmbeddedAssets; a->path != nullptr; ++a) {
    auto r = Fetch(std::string("/assets/") + a->path);
    ASSERT_TRUE(r) << a->path;
    EXPECT_EQ(r->status, 200) << a->path;
    EXPECT_EQ(r->get_header_value("Content-Type"), AssetContentType(a->path)) << a->path;
    EXPECT_EQ(r->body, std::string(a->data, a->size)) << a->path;
    ++served;
  }
  EXPECT_GE(served, 3);
  auto js = Fetch("/assets/app.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_FALSE(js->body.empty());
  auto css = Fetch("/assets/app.css");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->get_header_value("Content-Type"), "text/css; charset=utf-8");
}

// The script never hands server data to the HTML parser: text goes in as
// text. A change that adds one of these sinks has to come with a reason.
// Every script module, not only the entry: strings reach the page through
// textContent (dom.js's el), never through a sink that parses HTML or code.
TEST_F(DashboardTest, NoScriptUsesAnHtmlSink) {
  int scripts = 0;
  std::string all;
  for (const EmbeddedAsset* a = kEmbeddedAssets; a->path != nullptr; ++a) {
    const std::string path = a->path;
    if (!path.ends_with(".js")) continue;
    ++scripts;
    const std::string js(a->data, a->size);
    all += js;
    for (const char* sink : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                             "eval(", "new Function", "createContextualFragment", "srcdoc"}) {
      EXPECT_EQ(js.find(sink), std::string::npos) << path << " uses " << sink;
    }
  }
  EXPECT_GE(scripts, 10);  // app.js and its modules
  EXPECT_NE(all.find("textContent"), std::string::npos);
}

TEST_F(DashboardTest, UnknownAssetsAreJson404s) {
  StartDashboard();
  ExpectNotFoundJson(Fetch("/assets/nope.js"), "/assets/nope.js");
  ExpectNotFoundJson(Fetch("/assets/APP.JS"), "/assets/APP.JS");
  ExpectNotFoundJson(Fetch("/assets/"), "/assets/");
  ExpectNotFoundJson(Fetch("/index.html"), "/index.html");
  auto r = Fetch("/assets/nope.js");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("no dashboard asset 'nope.js'"), std::string::npos) << r->body;
}

TEST_F(DashboardTest, PathTraversalFindsNothing) {
  StartDashboard();
  // The files a traversal would aim at exist: the project's own config, the
  // sources of the assets. None is reachable.
  for (const char* path : {
           "/assets/../openapi.json",
           "/assets/./app.js",
           "/assets//app.js",
           "/assets/app.js/",
           "/assets/app.js/.",
           "/assets/%2e%2e/index.html",
           "/assets/%2E%2E%2Fopenapi.json",
           "/assets/..%2f..%2fsluice.yaml",
           "/assets/../../../../../../etc/passwd",
           "/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
           "/assets/..\\app.js",
           "/assets/app.js%00",
           "/assets/app.js%00.css",
           "/assets//etc/passwd",
           "/assets/%2Fetc%2Fpasswd",
       }) {
    ExpectNotFoundJson(Fetch(path), path);
  }
  // The requests reach the handler undecoded-as-paths: it names what it was
  // asked for and finds no such asset.
  auto r = Fetch("/assets/%2e%2e/index.html");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("no dashboard asset '../index.html'"), std::string::npos) << r->body;
}

TEST_F(DashboardTest, StrongEtagAndNotModified) {
  StartDashboard();
  auto r = Fetch("/assets/app.js");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const std::string etag = r->get_header_value("ETag");
  // Strong (no W/), the SHA-256 of the bytes, quoted.
  EXPECT_EQ(etag, "\"" + Sha256Hex(AssetText("app.js")) + "\"");
  EXPECT_EQ(r->get_header_value("Cache-Control"), "no-cache");

  auto same = Fetch("/assets/app.js", {{"If-None-Match", etag}});
  ASSERT_TRUE(same);
  EXPECT_EQ(same->status, 304);
  EXPECT_TRUE(same->body.empty());
  EXPECT_EQ(same->get_header_value("ETag"), etag);
  EXPECT_EQ(same->get_header_value("Cache-Control"), "no-cache");
  // If-None-Match compares weakly, takes lists and "*".
  EXPECT_EQ(Fetch("/assets/app.js", {{"If-None-Match", "W/" + etag}})->status, 304);
  EXPECT_EQ(Fetch("/assets/app.js", {{"If-None-Match", "\"abc\", " + etag}})->status, 304);
  EXPECT_EQ(Fetch("/assets/app.js", {{"If-None-Match", "*"}})->status, 304);
  // Another tag, or another asset's: the full answer.
  auto other = Fetch("/assets/app.js", {{"If-None-Match", "\"abc\""}});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
  EXPECT_EQ(other->body, AssetText("app.js"));
  auto page = Fetch("/");
  ASSERT_TRUE(page);
  EXPECT_NE(page->get_header_value("ETag"), etag);
  EXPECT_EQ(Fetch("/", {{"If-None-Match", etag}})->status, 200);
  EXPECT_EQ(Fetch("/", {{"If-None-Match", page->get_header_value("ETag")}})->status, 304);
}

TEST_F(DashboardTest, ThePageIsPublicItsDataIsNot) {
  config_.server.tokens.push_back(ApiToken{"ops", "reader", Sha256Hex("tok-ops"), {}});
  StartDashboard();
  auto page = Fetch("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  auto js = Fetch("/assets/app.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  auto status = Fetch("/v1/status");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->status, 401);
  auto with_token = Fetch("/v1/status", {{"Authorization", "Bearer tok-ops"}});
  ASSERT_TRUE(with_token);
  EXPECT_EQ(with_token->status, 200);
}

}  // namespace
}  // namespace sluice::server
