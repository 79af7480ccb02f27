// The S3-compatible ObjectStore: objects under s3://bucket/prefix/, spoken to
// over HTTP(S) with libcurl, which signs every request (AWS Signature V4).
//
// Keys map to "<prefix>/<key>" in the bucket. Writes are atomic as the port
// requires: a small object is one PUT at Close; a larger one is a multipart
// upload completed at Close (aborted on failure, Abort() or destruction
// without Close), so nothing appears under the key before Close succeeds.
// Reads stream in bounded ranged GETs (memory per stream: one chunk); random
// access is one ranged GET per ReadAt. S3 has no rename: Rename is
// kUnimplemented and AtomicRename() false. Thread-safe, like every store.
//
// Errors (the one retry taxonomy, core/status.h): 5xx, 429, SlowDown,
// connection failures and timeouts are retried with exponential backoff and
// full jitter, then kUnavailable; 404 NoSuchKey is kNotFound; a missing
// bucket is kFailedPrecondition; 403 is kIOError (permanent); 501 (an API the
// server lacks) is kUnimplemented. Messages name the bucket and key and the
// S3 error Code/Message; secrets never appear in a message or in Describe().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "store/object_store.h"

namespace sluice {

struct S3StoreConfig {
  // Bucket name (required).
  std::string bucket;
  // Key prefix inside the bucket, without leading or trailing '/'; "" = the
  // whole bucket. Store key "lake/x" is the S3 key "<prefix>/lake/x".
  std::string prefix;
  // "http[s]://host[:port]" of an S3-compatible server (MinIO, Ceph, s3rver).
  // Empty: AWS_ENDPOINT_URL if set, else AWS at https://s3.<region>.amazonaws.com.
  std::string endpoint;
  // Signing region. Empty: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1.
  std::string region;
  // Credentials. When access_key is empty they come from the environment
  // (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), else from
  // the shared credentials file (see ResolveS3Config).
  std::string access_key;
  std::string secret_key;
  std::string session_token;
  // Path-style URLs (http://host/bucket/key) rather than virtual-hosted
  // (http://bucket.host/key). Unset: path style when an endpoint is given
  // (most S3-compatible servers want it), virtual-hosted for AWS.
  std::optional<bool> path_style;
  // Multipart part size: an object larger than this is uploaded in parts of
  // this size (S3's minimum is 5 MiB; at most 10000 parts per object). Each
  // open write stream holds one part in memory.
  int64_t part_size = 8 << 20;
  // GET chunk size: a read stream holds at most this many bytes.
  int64_t read_chunk_size = 8 << 20;
  // Keys per ListObjectsV2 page (1..1000).
  int list_page_size = 1000;
  // Retries of a failed request (5xx, 429/SlowDown, connection errors,
  // timeouts) after the first attempt; each waits a random time in
  // [0, min(retry_max_delay_ms, retry_base_delay_ms * 2^n)] ("full jitter").
  int max_retries = 6;
  int64_t retry_base_delay_ms = 100;
  int64_t retry_max_delay_ms = 20000;
  // Write requests (PUT, POST, DELETE) per second per key prefix (the first
  // path component of the key: "lake", "staging", ...), as a token bucket
  // with one second of burst. AWS allows about 3500 per prefix; beyond that
  // it answers 503 SlowDown. 0 = no limit.
  double write_rate = 3500;
  // Seconds to connect (TCP + TLS).
  int64_t connect_timeout_ms = 10000;
  // A transfer slower than 1 byte/s for this many seconds is cut and retried.
  int64_t stall_timeout_s = 30;
  // A request (other than a streaming GET chunk) taking longer fails and is
  // retried; 0 = no limit.
  int64_t request_timeout_ms = 300000;

  // Test hooks: a clock (microseconds, monotonic) and a sleep for the rate
  // limiter and the retry backoff; a callback told the bytes a read stream
  // holds after each refill. Empty = the real ones / none.
  std::function<int64_t()> TEST_now_us;
  std::function<void(int64_t)> TEST_sleep_us;
  std::function<void(size_t)> TEST_on_read_buffer;

  // Checks ranges and names (after ResolveS3Config). kInvalidArgument.
  Status Validate() const;
};

// "s3://bucket/some/prefix" -> bucket "bucket", prefix "some/prefix" (a
// trailing '/' is dropped). kInvalidArgument for anything else.
Result<S3StoreConfig> ParseS3Url(const std::string& url);

// Fills what `config` leaves empty, first match wins:
//   credentials  config (access_key set) > AWS_ACCESS_KEY_ID,
//                AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN > the shared
//                credentials file (AWS_SHARED_CREDENTIALS_FILE or
//                ~/.aws/credentials), profile AWS_PROFILE or "default"
//   region       config > AWS_REGION > AWS_DEFAULT_REGION > us-east-1
//   endpoint     config > AWS_ENDPOINT_URL > AWS (https://s3.<region>.amazonaws.com)
// kInvalidArgument if no credentials are found or the file is malformed (the
// message names where it looked, never a secret).
Result<S3StoreConfig> ResolveS3Config(S3StoreConfig config);

// Resolves (ResolveS3Config) and validates `config`; no request is sent, so a
// missing bucket or bad credentials show on the first operation.
Result<std::unique_ptr<ObjectStore>> NewS3ObjectStore(const S3StoreConfig& config);

// Aborts the multipart uploads under the store's prefix that were initiated
// more than `older_than_us` microseconds ago (uploads left by a crashed
// writer still cost storage). Returns how many it aborted. kUnimplemented
// where the server lacks ListMultipartUploads (s3rver).
Result<int> AbortStaleS3Uploads(const S3StoreConfig& config, int64_t older_than_us);

}  // namespace sluice
