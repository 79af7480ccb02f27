#include "sql/pg_db.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "sql/migrations.h"
#include "test_database.h"

namespace sluice {
namespace {

using testing::SqlBackend;
using testing::TestDatabase;

TEST(RedactDsnTest, RemovesEveryPasswordSpelling) {
  EXPECT_EQ(RedactDsn("postgresql://alice:s3cret@db.example:5432/sluice"),
            "postgresql://alice:***@db.example:5432/sluice");
  EXPECT_EQ(RedactDsn("postgres://alice@db/sluice?password=s3cret&sslmode=require"),
            "postgres://alice@db/sluice?password=***&sslmode=require");
  EXPECT_EQ(RedactDsn("host=db user=alice password=s3cret dbname=sluice"),
            "host=db user=alice password=*** dbname=sluice");
  EXPECT_EQ(RedactDsn(R"(host=db password = 'it\'s secret' dbname=x)"),
            "host=db password = *** dbname=x");
  // A user without a password and words that only contain "password" stay.
  EXPECT_EQ(RedactDsn("postgresql://alice@db/sluice"), "postgresql://alice@db/sluice");
  EXPECT_EQ(RedactDsn("host=db user=passwordless"), "host=db user=passwordless");
  // '@' inside the password.
  EXPECT_EQ(RedactDsn("postgresql://alice:p@ss@db/x"), "postgresql://alice:***@db/x");
}

TEST(PostgresPlaceholdersTest, NumbersAndBareMarks) {
  EXPECT_EQ(PostgresPlaceholders("SELECT ?1, ?2, ?1"), "SELECT $1, $2, $1");
  EXPECT_EQ(PostgresPlaceholders("VALUES (?, ?, ?)"), "VALUES ($1, $2, $3)");
  // A bare ? after ?N continues from the largest number, as in SQLite.
  EXPECT_EQ(PostgresPlaceholders("?3 AND ?"), "$3 AND $4");
  // Quoted text is not touched.
  EXPECT_EQ(PostgresPlaceholders("SELECT 'what?', \"odd?name\" WHERE a = ?"),
            "SELECT 'what?', \"odd?name\" WHERE a = $1");
  EXPECT_EQ(PostgresPlaceholders("SELECT 'it''s ?' , ?"), "SELECT 'it''s ?' , $1");
}

TEST(PostgresDdlTest, TranslatesSqliteSpellings) {
  EXPECT_EQ(PostgresDdl("CREATE TABLE t (\n  id       INTEGER PRIMARY KEY AUTOINCREMENT,\n"
                        "  n INTEGER NOT NULL, x REAL, b BLOB, version INTEGER PRIMARY KEY)"),
            "CREATE TABLE t (\n  id       BIGSERIAL PRIMARY KEY,\n"
            "  n BIGINT NOT NULL, x DOUBLE PRECISION, b BYTEA, version BIGINT PRIMARY KEY)");
  EXPECT_EQ(PostgresDdl("CREATE TABLE u (id INTEGER PRIMARY KEY, grid INTEGER PRIMARY KEY)"),
            "CREATE TABLE u (id BIGSERIAL PRIMARY KEY, grid BIGINT PRIMARY KEY)");
  // Words that merely contain a type name stay.
  EXPECT_EQ(PostgresDdl("ALTER TABLE realm ADD COLUMN integers_seen TEXT"),
            "ALTER TABLE realm ADD COLUMN integers_seen TEXT");
}

class SqlDbTest : public ::testing::TestWithParam<SqlBackend> {
 protected:
  void SetUp() override {
    auto db = tdb_.Open();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    ASSERT_TRUE(db_->Exec(tdb_.postgres() ? PostgresDdl(kDdl) : kDdl).ok());
  }
  static constexpr const char* kDdl =
      "CREATE TABLE kv (id INTEGER PRIMARY KEY AUTOINCREMENT, k TEXT NOT NULL UNIQUE, "
      "n INTEGER, x REAL, b BLOB)";

  TestDatabase tdb_{GetParam()};
  std::unique_ptr<SqlDb> db_;
};

TEST_P(SqlDbTest, TypedRoundTrip) {
  auto ins = db_->Prepare("INSERT INTO kv (k, n, x, b) VALUES (?1, ?2, ?3, ?4) RETURNING id");
  ASSERT_TRUE(ins.ok());
  const std::string blob("a\0b\xff", 4);
  ins->Bind(1, "key's").Bind(2, int64_t{-9'000'000'000}).Bind(3, 2.5).BindBlob(4, blob);
  ASSERT_TRUE(*ins->Step());
  EXPECT_GT(ins->ColumnInt64(0), 0);
  ASSERT_TRUE(ins->Exec().ok());
  auto sel = db_->Prepare("SELECT k, n, x, b, NULL, COUNT(*) OVER () FROM kv WHERE k = ?");
  ASSERT_TRUE(sel.ok());
  sel->Bind(1, "key's");
  auto row = sel->Step();
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  ASSERT_TRUE(*row);
  EXPECT_EQ(sel->ColumnText(0), "key's");
  EXPECT_EQ(sel->ColumnInt64(1), -9'000'000'000);
  EXPECT_DOUBLE_EQ(sel->ColumnDouble(2), 2.5);
  EXPECT_EQ(sel->ColumnText(3), blob);
  EXPECT_TRUE(sel->ColumnIsNull(4));
  EXPECT_EQ(sel->ColumnOptionalInt64(4), std::nullopt);
  EXPECT_EQ(sel->ColumnInt64(5), 1);
  EXPECT_FALSE(*sel->Step());
}

TEST_P(SqlDbTest, UniqueViolationIsAlreadyExistsAndRollsBack) {
  Status st = db_->Transaction([&]() -> Status {
    RETURN_IF_ERROR(db_->Exec("INSERT INTO kv (k) VALUES ('a')"));
    return db_->Exec("INSERT INTO kv (k) VALUES ('a')");
  });
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists) << st.ToString();
  EXPECT_FALSE(db_->InTransaction());
  auto n = db_->Prepare("SELECT COUNT(*) FROM kv");
  ASSERT_TRUE(*n->Step());
  EXPECT_EQ(n->ColumnInt64(0), 0);  // the first insert was rolled back too
}

TEST_P(SqlDbTest, ChangesCountsRowsOfTheLastCommand) {
  ASSERT_TRUE(db_->Exec("INSERT INTO kv (k, n) VALUES ('a', 1), ('b', 1), ('c', 2)").ok());
  EXPECT_EQ(db_->Changes(), 3);  // Exec counts as a prepared statement does
  ASSERT_TRUE(db_->Exec("DELETE FROM kv WHERE k = 'zz'").ok());
  EXPECT_EQ(db_->Changes(), 0);
  auto upd = db_->Prepare("UPDATE kv SET n = n + 10 WHERE n = ?1");
  upd->Bind(1, int64_t{1});
  ASSERT_TRUE(upd->Exec().ok());
  EXPECT_EQ(db_->Changes(), 2);
  EXPECT_TRUE(*db_->TableExists("kv"));
  EXPECT_FALSE(*db_->TableExists("nope"));
}

TEST_P(SqlDbTest, BadStatementIsInternalAndNamesTheDatabase) {
  auto s = db_->Prepare("SELEKT 1");
  Status st = s.ok() ? s->Exec() : s.status();
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  EXPECT_NE(st.message().find(db_->Describe()), std::string::npos) << st.ToString();
}

INSTANTIATE_TEST_SUITE_P(Backends, SqlDbTest, testing::AllBackends(), testing::BackendName);

// PostgreSQL only: what a server adds.
class PgDbTest : public ::testing::Test {
 protected:
  TestDatabase tdb_{SqlBackend::kPostgres};
};

TEST_F(PgDbTest, AKilledConnectionIsReopenedForTheNextStatement) {
  auto opened = PgDb::Open(tdb_.location());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<PgDb> db = std::move(opened).value();
  auto pid = db->Prepare("SELECT pg_backend_pid()");
  ASSERT_TRUE(*pid->Step());
  int64_t backend = pid->ColumnInt64(0);
  auto other = tdb_.Open();
  ASSERT_TRUE(other.ok());
  auto kill = (*other)->Prepare("SELECT pg_terminate_backend(CAST(?1 AS INTEGER))");
  kill->Bind(1, backend);
  ASSERT_TRUE(kill->Exec().ok());
  // The statement that meets the dead connection fails as transient...
  auto first = db->Prepare("SELECT 1");
  auto r = first->Step();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  // ...and the next one runs on a new connection.
  auto again = db->Prepare("SELECT pg_backend_pid()");
  auto r2 = again->Step();
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_NE(again->ColumnInt64(0), backend);
  // With the session settings of the first: a stopped process cannot hold
  // the catalog's write lock for ever.
  auto show = db->Prepare(
      "SELECT current_setting('lock_timeout'), "
      "current_setting('idle_in_transaction_session_timeout')");
  ASSERT_TRUE(*show->Step());
  EXPECT_EQ(show->ColumnText(0), "30s");
  EXPECT_EQ(show->ColumnText(1), "1min");
}

// Forwards connections to the PostgreSQL server; Cut() resets them (RST, no
// goodbye), as a server that vanished (an immediate shutdown, a dead host)
// looks to libpq: no error message, no SQLSTATE.
class ConnectionCutter {
 public:
  explicit ConnectionCutter(int upstream_port) : upstream_port_(upstream_port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
        ::listen(listener_, 4) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ADD_FAILURE() << "cutter: cannot listen";
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~ConnectionCutter() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }
  int port() const { return port_; }
  void Cut() { cut_ = true; }

 private:
  void Run() {
    std::vector<std::pair<int, int>> pairs;
    while (!stop_) {
      std::vector<pollfd> fds{{listener_, POLLIN, 0}};
      for (auto [c, u] : pairs) {
        fds.push_back({c, POLLIN, 0});
        fds.push_back({u, POLLIN, 0});
      }
      ::poll(fds.data(), fds.size(), 20);
      if (cut_) {
        for (auto [c, u] : pairs) {
          for (int fd : {c, u}) {
            linger l{1, 0};  // close with a reset
            ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
            ::close(fd);
          }
        }
        pairs.clear();
        cut_ = false;
        continue;
      }
      const size_t polled = pairs.size();  // a pair accepted below waits for the next poll
      if (fds[0].revents & POLLIN) {
        int c = ::accept(listener_, nullptr, nullptr);
        int u = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(static_cast<uint16_t>(upstream_port_));
        if (::connect(u, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
          ::close(c);
          ::close(u);
        } else {
          pairs.emplace_back(c, u);
        }
      }
      for (size_t k = 0; k < polled; ++k) {
        auto [c, u] = pairs[k];
        for (auto [from, to, ev] :
             {std::tuple{c, u, fds[1 + 2 * k].revents}, std::tuple{u, c, fds[2 + 2 * k].revents}}) {
          if (!(ev & (POLLIN | POLLHUP))) continue;
          char buf[65536];
          ssize_t n = ::read(from, buf, sizeof(buf));
          if (n > 0) ::send(to, buf, static_cast<size_t>(n), MSG_NOSIGNAL);
        }
      }
    }
    for (auto [c, u] : pairs) {
      ::close(c);
      ::close(u);
    }
  }

  int upstream_port_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> cut_{false};
  std::thread thread_;
};

// Issue 12: a server that vanished in the middle of a COPY (no error
// message, no SQLSTATE: the connection just ends) is a transient error,
// never a permanent one that would fail a delivery for good.
TEST_F(PgDbTest, AConnectionLostDuringCopyIsTransient) {
  const std::string& dsn = tdb_.location();
  const size_t colon = dsn.rfind(':', dsn.rfind('/'));
  const size_t slash = dsn.find('/', colon);
  ConnectionCutter cutter(std::stoi(dsn.substr(colon + 1, slash - colon - 1)));
  const std::string via =
      dsn.substr(0, colon + 1) + std::to_string(cutter.port()) + dsn.substr(slash);
  // Cut while sending data, or just before the end of the data: libpq
  // fails the send in the first case, the result in the second.
  for (bool end_at_cut : {false, true}) {
    const int pause_ms = 100;
    SCOPED_TRACE(end_at_cut);
    auto opened = PgDb::Open(via);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    std::unique_ptr<PgDb> db = std::move(opened).value();
    ASSERT_TRUE(db->Exec("CREATE TEMP TABLE copied (n int8)").ok());
    int calls = 0;
    auto copied = db->CopyIn("COPY copied FROM STDIN", [&](std::string& chunk) -> Result<bool> {
      if (++calls == 2) {
        cutter.Cut();
        std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
        if (end_at_cut) return false;
      }
      if (calls > 20) return false;
      for (int i = 0; i < 1000; ++i) chunk += std::to_string(i) + "\n";
      return true;
    });
    ASSERT_FALSE(copied.ok());
    EXPECT_EQ(copied.status().code(), StatusCode::kUnavailable) << copied.status().ToString();
    // And the statement after it, on the dead connection.
    auto next = db->Exec("SELECT 1");
    if (!next.ok()) {
      EXPECT_EQ(next.code(), StatusCode::kUnavailable) << next.ToString();
    }
  }
}

TEST_F(PgDbTest, ConnectErrorsNeverShowThePassword) {
  // A refused port and a wrong password: the message names the database but
  // not the secret.
  auto refused = PgDb::Open("postgresql://alice:hunter2@127.0.0.1:1/sluice?connect_timeout=2");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(refused.status().message().find("hunter2"), std::string::npos)
      << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("alice:***@127.0.0.1:1"), std::string::npos)
      << refused.status().ToString();
  auto no_db = PgDb::Open(testing::WithDatabase(tdb_.location(), "no_such_db_here"));
  ASSERT_FALSE(no_db.ok());
  EXPECT_EQ(no_db.status().code(), StatusCode::kIOError) << no_db.status().ToString();
}

TEST_F(PgDbTest, WritersAreSerialisedAcrossConnections) {
  // Two connections: the second Transaction waits for the first's advisory
  // lock, so a read-check-write in each never interleaves.
  auto a = tdb_.Open();
  auto b = tdb_.Open();
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->Exec(PostgresDdl("CREATE TABLE c (n INTEGER NOT NULL)")).ok());
  ASSERT_TRUE((*a)->Exec("INSERT INTO c VALUES (0)").ok());
  auto bump = [](SqlDb& db) {
    for (int i = 0; i < 50; ++i) {
      Status st = db.Transaction([&]() -> Status {
        ASSIGN_OR_RETURN(SqlStatement r, db.Prepare("SELECT n FROM c"));
        ASSIGN_OR_RETURN(bool row, r.Step());
        if (!row) return Status::Internal("no row");
        int64_t n = r.ColumnInt64(0);
        ASSIGN_OR_RETURN(SqlStatement w, db.Prepare("UPDATE c SET n = ?1"));
        w.Bind(1, n + 1);
        return w.Exec();
      });
      if (!st.ok()) return st;
    }
    return Status::OK();
  };
  Status sa;
  std::thread t([&] { sa = bump(**a); });
  Status sb = bump(**b);
  t.join();
  ASSERT_TRUE(sa.ok()) << sa.ToString();
  ASSERT_TRUE(sb.ok()) << sb.ToString();
  auto n = (*a)->Prepare("SELECT n FROM c");
  ASSERT_TRUE(*n->Step());
  EXPECT_EQ(n->ColumnInt64(0), 100);  // no lost update
}

}  // namespace
}  // namespace sluice
