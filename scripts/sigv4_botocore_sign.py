#!/usr/bin/env python3
"""Signs requests described in a JSON file with botocore's S3 SigV4 signer.

Used by tests/unit/s3_sigv4_botocore_test.cpp as the independent reference:
the C++ test writes raw (unencoded) requests, this script encodes them with
botocore's own helpers, signs them with botocore.auth.S3SigV4Auth and writes
the canonical request and signature of each.

usage: sigv4_botocore_sign.py IN.json OUT.json
"""

import json
import sys

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode


def sign(case):
    path = "/" + percent_encode(case["bucket"], safe="~") + "/" if case["path_style"] else "/"
    path += percent_encode(case["key"], safe="/~")
    url = "https://%s%s" % (case["host"], path)
    if case["query"]:
        url += "?" + "&".join("%s=%s" % (percent_encode(k), percent_encode(v)) for k, v in case["query"])
    headers = {"host": case["host"], "x-amz-date": case["amz_date"], "x-amz-content-sha256": case["payload_hash"]}
    if case["token"]:
        headers["x-amz-security-token"] = case["token"]
    for name, value in case["headers"]:
        headers[name] = value
    request = AWSRequest(method=case["method"], url=url, headers=headers)
    request.context["timestamp"] = case["amz_date"]
    signer = S3SigV4Auth(Credentials(case["access_key"], case["secret"], case["token"] or None), "s3", case["region"])
    creq = signer.canonical_request(request)
    sts = signer.string_to_sign(request, creq)
    return {"canonical_request": creq, "signature": signer.signature(sts, request), "url": url}


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump([sign(c) for c in cases], f)


if __name__ == "__main__":
    main()
