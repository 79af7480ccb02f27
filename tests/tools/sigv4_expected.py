#!/usr/bin/python3
"""Independent SigV4 oracle for the S3 store's tests (botocore's S3SigV4Auth).

Reads JSON on stdin:
  {"access_key", "secret_key", "session_token", "region",
   "requests": [{"method", "host", "bucket", "key", "params": [[k, v], ...],
                 "headers": {lower-case name: value, ...}}]}
where key and params are the logical (not encoded) values the request was
meant to carry and headers are the signed headers as received (x-amz-date
among them; host is derived from "host"). Writes JSON on stdout: for each
request {"path", "query", "authorization"} as botocore builds them:
the path-style path with the key encoded as botocore's S3 serializer does,
the canonical query string, and the Authorization header for that request
at the request's own X-Amz-Date.

Run with Debian's interpreter (/usr/bin/python3, package python3-botocore).
"""
import json
import sys

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode


def expected(spec, req):
    creds = Credentials(spec["access_key"], spec["secret_key"], spec.get("session_token") or None)
    auth = S3SigV4Auth(creds, "s3", spec["region"])
    path = "/" + req["bucket"] + "/" + percent_encode(req["key"], safe="/~")
    params = [(k, v) for k, v in req["params"]]
    request = AWSRequest(method=req["method"], url="http://" + req["host"] + path,
                         headers=dict(req["headers"]), params=params)
    request.context["timestamp"] = req["headers"]["x-amz-date"]
    canonical = auth.canonical_request(request)
    string_to_sign = auth.string_to_sign(request, canonical)
    signature = auth.signature(string_to_sign, request)
    headers_to_sign = auth.headers_to_sign(request)
    authorization = ", ".join([
        "AWS4-HMAC-SHA256 Credential=%s" % auth.scope(request),
        "SignedHeaders=%s" % auth.signed_headers(headers_to_sign),
        "Signature=%s" % signature,
    ])
    return {
        "path": path,
        "query": auth.canonical_query_string(request),
        "authorization": authorization,
        "canonical_request": canonical,
    }


def main():
    spec = json.load(sys.stdin)
    json.dump([expected(spec, r) for r in spec["requests"]], sys.stdout)


if __name__ == "__main__":
    main()
