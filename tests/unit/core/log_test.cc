#include "core/log.h"

#include <gtest/gtest.h>
#include <spdlog/formatter.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace sluice {
namespace {

// A logger writing into a string with one of the formatters. (Names are
// specific to this file: the unity build compiles the layer's tests as one
// translation unit.)
class LogCapture {
 public:
  explicit LogCapture(std::unique_ptr<spdlog::formatter> formatter)
      : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)), logger_("log_test", sink_) {
    logger_.set_formatter(std::move(formatter));
    logger_.set_level(spdlog::level::trace);
  }
  spdlog::logger& logger() { return logger_; }
  std::vector<std::string> Lines() {
    logger_.flush();
    std::vector<std::string> lines;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
  // Every line as JSON (a line that is not fails the test).
  std::vector<nlohmann::json> Json() {
    std::vector<nlohmann::json> out;
    for (const std::string& line : Lines()) {
      auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      EXPECT_FALSE(j.is_discarded()) << line;
      EXPECT_TRUE(j.is_object()) << line;
      out.push_back(j);
    }
    return out;
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  spdlog::logger logger_;
};

// Whether `text` matches `shape`, where 'D' stands for a digit and every
// other character for itself (std::regex trips GCC 12's warnings at -O1).
bool LogTestShaped(std::string_view text, std::string_view shape) {
  if (text.size() != shape.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (shape[i] == 'D' ? !(text[i] >= '0' && text[i] <= '9') : text[i] != shape[i]) return false;
  }
  return true;
}

TEST(LogJsonTest, OneObjectPerLineWithTimeLevelAndMessage) {
  LogCapture cap(NewJsonLogFormatter());
  cap.logger().info("batch {}: committed", 7);
  cap.logger().warn("careful");
  cap.logger().debug("detail");
  const auto lines = cap.Json();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["msg"], "batch 7: committed");
  EXPECT_EQ(lines[0]["level"], "info");
  EXPECT_EQ(lines[1]["level"], "warning");
  EXPECT_EQ(lines[2]["level"], "debug");
  for (const auto& j : lines) {
    EXPECT_TRUE(LogTestShaped(j["ts"].get<std::string>(), "DDDD-DD-DDTDD:DD:DD.DDDZ")) << j.dump();
    EXPECT_EQ(j.size(), 3u) << "no context fields outside a context: " << j.dump();
  }
  // The first keys, in order, as people read them.
  EXPECT_EQ(cap.Lines()[0].rfind("{\"ts\":\"", 0), 0u);
}

TEST(LogJsonTest, EscapesControlCharactersQuotesAndInvalidUtf8) {
  LogCapture cap(NewJsonLogFormatter());
  const std::string tricky =
      "say \"hi\" \\ back\nnew\tline\r\x01\x1f\x7f é€😀 bad:\xff cut:\xe2\x82 over:\xc0\xaf "
      "surrogate:\xed\xa0\x80 end";
  cap.logger().error(tricky);
  cap.logger().info(std::string("nul:\0:", 6));
  const auto lines = cap.Lines();
  ASSERT_EQ(lines.size(), 2u) << "a newline in a message stays inside its line";
  const auto json = cap.Json();
  EXPECT_EQ(json[0]["msg"],
            "say \"hi\" \\ back\nnew\tline\r\x01\x1f\x7f é€😀 bad:\xEF\xBF\xBD "
            "cut:\xEF\xBF\xBD\xEF\xBF\xBD over:\xEF\xBF\xBD\xEF\xBF\xBD "
            "surrogate:\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD end");
  EXPECT_EQ(json[1]["msg"], std::string("nul:\0:", 6));
  // Control characters are escapes, never raw bytes.
  for (const std::string& line : lines) {
    for (char c : line) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << line;
  }
}

TEST(LogJsonTest, ContextFieldsWhenSet) {
  LogCapture cap(NewJsonLogFormatter());
  cap.logger().info("before");
  {
    ScopedLogContext ctx(
        LogContext{.batch_id = 12, .attempt = 2, .pipeline = "orders", .version = 3});
    cap.logger().info("inside");
  }
  {
    ScopedLogContext ctx(LogContext{.pipeline = "we\"ird"});
    cap.logger().info("pipeline only");
  }
  cap.logger().info("after");
  const auto j = cap.Json();
  ASSERT_EQ(j.size(), 4u);
  EXPECT_FALSE(j[0].contains("batch_id"));
  EXPECT_EQ(j[1]["batch_id"], 12);
  EXPECT_EQ(j[1]["attempt"], 2);
  EXPECT_EQ(j[1]["pipeline"], "orders");
  EXPECT_EQ(j[1]["version"], 3);
  EXPECT_EQ(j[2]["pipeline"], "we\"ird");
  EXPECT_FALSE(j[2].contains("batch_id"));
  EXPECT_FALSE(j[2].contains("attempt"));
  EXPECT_FALSE(j[2].contains("version"));
  EXPECT_EQ(j[3].size(), 3u);
}

TEST(LogJsonTest, RedactsEveryMessage) {
  LogCapture cap(NewJsonLogFormatter());
  cap.logger().error("cannot connect to 'postgresql://alice:hunter2@db/x': refused");
  const auto j = cap.Json();
  EXPECT_EQ(j[0]["msg"], "cannot connect to 'postgresql://alice:***@db/x': refused");
  EXPECT_EQ(cap.Lines()[0].find("hunter2"), std::string::npos);
}

TEST(LogTextTest, KeepsThePatternAndAppendsTheContext) {
  LogCapture cap(NewTextLogFormatter());
  cap.logger().info("plain");
  {
    ScopedLogContext ctx(
        LogContext{.batch_id = 12, .attempt = 2, .pipeline = "orders", .version = 3});
    cap.logger().warn("dsn host=db password=hunter2");
  }
  const auto lines = cap.Lines();
  ASSERT_EQ(lines.size(), 2u);
  const std::string time = "DDDD-DD-DDTDD:DD:DD.DDD ";
  EXPECT_TRUE(LogTestShaped(lines[0], time + "info plain")) << lines[0];
  EXPECT_TRUE(LogTestShaped(lines[1], time + "warning dsn host=db password=*** batch_id=12 "
                                             "attempt=2 pipeline=orders version=3"))
      << lines[1];
}

TEST(LogContextTest, NestedGuardsRestore) {
  EXPECT_TRUE(CurrentLogContext().empty());
  {
    ScopedLogContext outer(LogContext{.batch_id = 1, .pipeline = "a"});
    {
      ScopedLogContext inner(LogContext{.batch_id = 2, .attempt = 5});
      EXPECT_EQ(CurrentLogContext().batch_id, 2);
      EXPECT_EQ(CurrentLogContext().attempt, 5);
      EXPECT_EQ(CurrentLogContext().pipeline, "") << "a guard sets the whole context";
    }
    EXPECT_EQ(CurrentLogContext().batch_id, 1);
    EXPECT_EQ(CurrentLogContext().attempt, 0);
    EXPECT_EQ(CurrentLogContext().pipeline, "a");
  }
  EXPECT_TRUE(CurrentLogContext().empty());
}

TEST(LogContextTest, AddFillsInTheInnermostGuardOnly) {
  AddToLogContext(LogContext{.batch_id = 9});
  EXPECT_TRUE(CurrentLogContext().empty()) << "outside every guard nothing is kept";
  {
    ScopedLogContext outer(LogContext{.batch_id = 1, .pipeline = "a"});
    AddToLogContext(LogContext{.attempt = 3, .version = 8});
    EXPECT_EQ(CurrentLogContext().batch_id, 1);
    EXPECT_EQ(CurrentLogContext().attempt, 3);
    EXPECT_EQ(CurrentLogContext().pipeline, "a") << "unset fields leave the current ones";
    EXPECT_EQ(CurrentLogContext().version, 8);
    {
      ScopedLogContext inner(LogContext{.batch_id = 2});
      AddToLogContext(LogContext{.attempt = 7});
      EXPECT_EQ(CurrentLogContext().attempt, 7);
    }
    EXPECT_EQ(CurrentLogContext().attempt, 3) << "the inner guard's additions end with it";
  }
  EXPECT_TRUE(CurrentLogContext().empty());
}

TEST(LogContextTest, EachThreadHasItsOwn) {
  LogCapture cap(NewJsonLogFormatter());
  ScopedLogContext mine(LogContext{.batch_id = 100, .pipeline = "main"});
  std::vector<std::thread> threads;
  for (int t = 1; t <= 4; ++t) {
    threads.emplace_back([&cap, t] {
      EXPECT_TRUE(CurrentLogContext().empty()) << "a new thread starts without a context";
      cap.logger().info("none");
      ScopedLogContext ctx(LogContext{.batch_id = t, .attempt = t, .pipeline = "p"});
      for (int i = 0; i < 200; ++i) cap.logger().info("t{}", t);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(CurrentLogContext().batch_id, 100);
  int counted = 0;
  for (const auto& j : cap.Json()) {
    const std::string msg = j["msg"];
    if (msg == "none") {
      EXPECT_FALSE(j.contains("batch_id")) << j.dump();
      continue;
    }
    ++counted;
    const int t = std::stoi(msg.substr(1));
    EXPECT_EQ(j["batch_id"], t) << j.dump();
    EXPECT_EQ(j["attempt"], t) << j.dump();
  }
  EXPECT_EQ(counted, 800);
}

TEST(LogFormatTest, Parse) {
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_EQ(*ParseLogFormat("text"), LogFormat::kText);
  EXPECT_EQ(ParseLogFormat("xml").status().code(), StatusCode::kInvalidArgument);
}

TEST(RedactTest, UriPasswords) {
  EXPECT_EQ(Redact("postgres://user:pw@host/db"), "postgres://user:***@host/db");
  EXPECT_EQ(Redact("postgresql://alice:s3cret@db.example:5432/sluice"),
            "postgresql://alice:***@db.example:5432/sluice");
  EXPECT_EQ(Redact("s3://AKIA:wJalr/x@bucket/key"), "s3://AKIA:***@bucket/key")
      << "a '/' in a password that should have been %2F";
  EXPECT_EQ(Redact("postgresql://u:pa/ss@h/db"), "postgresql://u:***@h/db");
  EXPECT_EQ(Redact("http://host:8080/a@b.csv"), "http://host:8080/a@b.csv") << "a port";
  EXPECT_EQ(Redact("s3://AKIA:wJalr%2Fx@bucket/key"), "s3://AKIA:***@bucket/key");
  EXPECT_EQ(Redact("GET http://u:p@h:9000/b and https://me:tok@api.example?x=1"),
            "GET http://u:***@h:9000/b and https://me:***@api.example?x=1");
  EXPECT_EQ(Redact("postgresql://alice:p@ss@db/x"), "postgresql://alice:***@db/x");
  EXPECT_EQ(Redact("catalog 'postgresql://a:b@c/d' is damaged"),
            "catalog 'postgresql://a:***@c/d' is damaged");
  // No password: unchanged.
  EXPECT_EQ(Redact("postgresql://alice@db/sluice"), "postgresql://alice@db/sluice");
  EXPECT_EQ(Redact("s3://bucket/landing/a@b.csv"), "s3://bucket/landing/a@b.csv");
  EXPECT_EQ(Redact("http://127.0.0.1:9000/bucket"), "http://127.0.0.1:9000/bucket");
  EXPECT_EQ(Redact("://x:y@z"), "://x:y@z") << "no scheme, no URI";
}

TEST(RedactTest, KeyValuePairs) {
  EXPECT_EQ(Redact("host=db user=alice password=s3cret dbname=sluice"),
            "host=db user=alice password=*** dbname=sluice");
  EXPECT_EQ(Redact(R"(host=db password = 'it\'s secret' dbname=x)"),
            "host=db password = '***' dbname=x");
  EXPECT_EQ(Redact("postgres://alice@db/sluice?password=s3cret&sslmode=require"),
            "postgres://alice@db/sluice?password=***&sslmode=require");
  EXPECT_EQ(Redact("sslpassword=k PASSWORD=x"), "sslpassword=*** PASSWORD=***");
  EXPECT_EQ(Redact("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG AWS_ACCESS_KEY_ID=AKIA"),
            "AWS_SECRET_ACCESS_KEY=*** AWS_ACCESS_KEY_ID=AKIA");
  EXPECT_EQ(Redact("AWS_SESSION_TOKEN=abc X-Amz-Security-Token=def&x=1"),
            "AWS_SESSION_TOKEN=*** X-Amz-Security-Token=***&x=1");
  EXPECT_EQ(Redact("api_key=k1 apikey=k2 client-secret=k3 private_key=k4"),
            "api_key=*** apikey=*** client-secret=*** private_key=***");
  EXPECT_EQ(Redact(R"({"dsn":"x","password": "p\"w","token":123,"n":1})"),
            R"({"dsn":"x","password": "***","token":***,"n":1})");
  // Not secrets.
  EXPECT_EQ(Redact("host=db user=passwordless"), "host=db user=passwordless");
  EXPECT_EQ(Redact("unexpected token: ')' at 1:5"), "unexpected token: ')' at 1:5");
  EXPECT_EQ(Redact("tokens=5 password="), "tokens=5 password=") << "an empty value is left";
  EXPECT_EQ(Redact("password= x"), "password= ***") << "libpq allows spaces around '='";
  EXPECT_EQ(Redact("batch 12: committed (pid1-w0)"), "batch 12: committed (pid1-w0)");
}

TEST(RedactTest, AuthorizationAndBearer) {
  EXPECT_EQ(Redact("Authorization: Bearer eyJhbGciOi.x.y"), "Authorization: Bearer ***");
  EXPECT_EQ(Redact("authorization:Basic dXNlcjpwdw==\nnext"), "authorization:Basic ***\nnext");
  EXPECT_EQ(Redact("Authorization: AWS4-HMAC-SHA256 Credential=AKIA/1/us-east-1/s3/aws4_request, "
                   "SignedHeaders=host, Signature=abc"),
            "Authorization: AWS4-HMAC-SHA256 ***");
  EXPECT_EQ(Redact("header 'Authorization: opaque'"), "header 'Authorization: ***'");
  EXPECT_EQ(Redact("sent Bearer abc.def to x"), "sent Bearer *** to x");
  EXPECT_EQ(Redact("the Bearer"), "the Bearer");
}

TEST(RedactTest, IsIdempotent) {
  for (const char* text :
       {"postgres://u:pw@h/db password='x' Authorization: Bearer t AWS_SECRET_ACCESS_KEY=k",
        "nothing here", ""}) {
    const std::string once = Redact(text);
    EXPECT_EQ(Redact(once), once);
  }
}

}  // namespace
}  // namespace sluice
