// S3StoreConfig: URL parsing, validation, and where credentials, region and
// endpoint come from (explicit config > environment > shared credentials file).
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include "store/s3_object_store.h"

namespace sluice {

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

std::string_view TrimWs(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool ValidBucketName(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (char c : b) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
          (c >= 'A' && c <= 'Z'))) {
      return false;
    }
  }
  return true;
}

struct Profile {
  bool found = false;
  std::string access_key, secret_key, session_token, region;
};

// Reads one profile of an AWS shared credentials file (INI: "[name]" sections
// of "key = value" lines, '#' or ';' comments; "[profile name]" as in the
// config file is accepted too). Values are never put in a message.
Result<Profile> ReadProfile(const std::string& path, const std::string& profile) {
  std::ifstream in(path);
  Profile out;
  if (!in) return out;
  std::string line;
  bool in_section = false;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::string_view l = TrimWs(line);
    if (l.empty() || l.front() == '#' || l.front() == ';') continue;
    if (l.front() == '[') {
      if (l.back() != ']') {
        return Status::InvalidArgument("shared credentials file '" + path + "', line " +
                                       std::to_string(lineno) +
                                       ": a section header must end in ']'");
      }
      std::string_view name = TrimWs(l.substr(1, l.size() - 2));
      if (name.starts_with("profile ")) name = TrimWs(name.substr(8));
      in_section = name == profile;
      out.found = out.found || in_section;
      continue;
    }
    const size_t eq = l.find('=');
    if (eq == std::string_view::npos) {
      return Status::InvalidArgument("shared credentials file '" + path + "', line " +
                                     std::to_string(lineno) + ": expected 'key = value'");
    }
    if (!in_section) continue;
    const std::string_view key = TrimWs(l.substr(0, eq));
    const std::string value(TrimWs(l.substr(eq + 1)));
    if (key == "aws_access_key_id") {
      out.access_key = value;
    } else if (key == "aws_secret_access_key") {
      out.secret_key = value;
    } else if (key == "aws_session_token") {
      out.session_token = value;
    } else if (key == "region") {
      out.region = value;
    }
  }
  return out;
}

}  // namespace

Status S3StoreConfig::Validate() const {
  auto bad = [](const std::string& what) { return Status::InvalidArgument("S3 store: " + what); };
  if (bucket.empty()) return bad("bucket is required");
  if (!ValidBucketName(bucket)) {
    return bad("'" + bucket + "' is not a valid bucket name (3-63 letters, digits, '.', '-')");
  }
  if (prefix.starts_with('/') || prefix.ends_with('/') || prefix.find("//") != std::string::npos) {
    return bad("prefix '" + prefix + "' must not start or end with '/' or contain '//'");
  }
  if (!endpoint.starts_with("http://") && !endpoint.starts_with("https://")) {
    return bad("endpoint '" + endpoint + "' must start with http:// or https://");
  }
  if (endpoint.find('/', endpoint.find("://") + 3) != std::string::npos) {
    return bad("endpoint '" + endpoint + "' must be scheme://host[:port], without a path");
  }
  if (region.empty()) return bad("region is empty");
  for (char c : region) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return bad("region '" + region + "' is not a region name");
    }
  }
  if (access_key.empty() || secret_key.empty()) {
    return bad("access_key and secret_key must both be set");
  }
  if (access_key.find(':') != std::string::npos) return bad("access_key contains ':'");
  if (part_size < (int64_t{5} << 20) || part_size > (int64_t{5} << 30)) {
    return bad("part_size must be between 5 MiB and 5 GiB (S3's limits), got " +
               std::to_string(part_size));
  }
  if (read_chunk_size < 1) return bad("read_chunk_size must be positive");
  if (list_page_size < 1 || list_page_size > 1000) return bad("list_page_size must be 1..1000");
  if (max_retries < 0 || max_retries > 100) return bad("max_retries must be 0..100");
  if (retry_base_delay_ms < 0 || retry_max_delay_ms < 0) return bad("retry delays must be >= 0");
  if (!(write_rate >= 0)) return bad("write_rate must be >= 0 (0 = no limit)");
  if (connect_timeout_ms < 1 || stall_timeout_s < 1 || request_timeout_ms < 0) {
    return bad("timeouts must be positive");
  }
  return Status::OK();
}

Result<S3StoreConfig> ParseS3Url(const std::string& url) {
  constexpr std::string_view kScheme = "s3://";
  if (!url.starts_with(kScheme)) {
    return Status::InvalidArgument("'" + url + "' is not an S3 URL (s3://bucket/prefix)");
  }
  std::string_view rest = std::string_view(url).substr(kScheme.size());
  const size_t slash = rest.find('/');
  S3StoreConfig config;
  config.bucket = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) {
    std::string_view prefix = rest.substr(slash + 1);
    while (prefix.ends_with('/')) prefix.remove_suffix(1);
    config.prefix = std::string(prefix);
  }
  if (!ValidBucketName(config.bucket)) {
    return Status::InvalidArgument("'" + url + "': '" + config.bucket +
                                   "' is not a valid bucket name");
  }
  if (config.prefix.starts_with('/') || config.prefix.find("//") != std::string::npos) {
    return Status::InvalidArgument("'" + url + "': the prefix has an empty path component");
  }
  return config;
}

Result<S3StoreConfig> ResolveS3Config(S3StoreConfig config) {
  const std::string env_endpoint = Env("AWS_ENDPOINT_URL");
  if (config.endpoint.empty()) config.endpoint = env_endpoint;
  while (config.endpoint.ends_with('/')) config.endpoint.pop_back();
  if (!config.path_style.has_value()) {
    // Virtual-hosted names do not work for dotted buckets over TLS (the
    // certificate is for *.s3...), and most other servers want path style.
    config.path_style = !config.endpoint.empty() || config.bucket.find('.') != std::string::npos;
  }

  Profile profile;
  const std::string profile_name = Env("AWS_PROFILE").empty() ? "default" : Env("AWS_PROFILE");
  std::string file = Env("AWS_SHARED_CREDENTIALS_FILE");
  if (file.empty() && !Env("HOME").empty()) file = Env("HOME") + "/.aws/credentials";
  const bool need_file = config.access_key.empty() && Env("AWS_ACCESS_KEY_ID").empty();
  if (!file.empty() && need_file) {
    ASSIGN_OR_RETURN(profile, ReadProfile(file, profile_name));
  } else if (!file.empty() && config.region.empty()) {
    // Only for a region: a file we do not take credentials from cannot fail the store.
    profile = ReadProfile(file, profile_name).value_or(Profile{});
  }

  if (!config.access_key.empty()) {
    // Explicit credentials: the session token goes with them, never the environment's.
  } else if (!Env("AWS_ACCESS_KEY_ID").empty()) {
    config.access_key = Env("AWS_ACCESS_KEY_ID");
    config.secret_key = Env("AWS_SECRET_ACCESS_KEY");
    config.session_token = Env("AWS_SESSION_TOKEN");
    if (config.secret_key.empty()) {
      return Status::InvalidArgument(
          "S3 store: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    }
  } else if (profile.found) {
    if (profile.access_key.empty() || profile.secret_key.empty()) {
      return Status::InvalidArgument("S3 store: profile '" + profile_name + "' in '" + file +
                                     "' lacks aws_access_key_id or aws_secret_access_key");
    }
    config.access_key = profile.access_key;
    config.secret_key = profile.secret_key;
    config.session_token = profile.session_token;
  } else {
    return Status::InvalidArgument(
        "S3 store s3://" + config.bucket +
        ": no credentials: set access_key and secret_key, or "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile '" +
        profile_name + "' in " +
        (file.empty() ? std::string("~/.aws/credentials") : "'" + file + "'") +
        " (AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE)");
  }

  if (config.region.empty()) config.region = Env("AWS_REGION");
  if (config.region.empty()) config.region = Env("AWS_DEFAULT_REGION");
  if (config.region.empty()) config.region = profile.region;
  if (config.region.empty()) config.region = "us-east-1";
  if (config.endpoint.empty()) config.endpoint = "https://s3." + config.region + ".amazonaws.com";
  return config;
}

}  // namespace sluice
