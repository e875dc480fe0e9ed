#!/usr/bin/env python3
"""Signature-verifying proxy in front of s3rver, for the integration tests.

s3rver stores and serves objects faithfully but does not check SigV4 signatures.
This proxy recomputes the signature of every request with botocore's signer (an
official AWS implementation, Debian's python3-botocore) from the SignedHeaders
the client declared, and answers 403 with an S3-style XML error on a mismatch.
Requests that pass are forwarded to s3rver (re-credentialed as s3rver's own
account) and the response streamed back.

It also fills two gaps of s3rver so the client's behaviour can be tested for
real, as strictly as S3 does them:
- `If-Match` on GetObject: the condition is checked against the ETag of the
  very response that would be served (one upstream GET, no HEAD-then-GET
  window), 412 PreconditionFailed when it moved;
- multipart uploads are tracked from CreateMultipartUpload on:
  AbortMultipartUpload really ends the upload (UploadPart, Complete and a
  second Abort then answer 404 NoSuchUpload, as S3 does), an unknown upload
  id is 404 NoSuchUpload, and GET /__proxy/uploads?key_contains=... lists
  every upload with its state (open, aborted, completed) so a test can prove
  no upload was left open.
Both addressing styles are accepted, as S3 accepts them: path style
(`Host: 127.0.0.1:PORT`, `/bucket/key`) and virtual-hosted style
(`Host: bucket.s3.localhost:PORT`, `/key`; the suffix is --vhost-suffix). A
virtual-hosted request is verified against the Host it came with (the
bucket is part of the signed host, not of the canonical URI) and forwarded
to s3rver (which runs path style) as `/bucket/key`.

And it offers loopback-only test controls
under /__proxy/: fault injection (status codes, a connection cut mid-body),
a request log, and a fake ECS container-credentials endpoint that issues
temporary credentials the verifier then accepts.
"""

import argparse
import datetime
import hashlib
import http.client
import http.server
import json
import secrets
import socket
import sys
import threading
import urllib.parse
from xml.sax.saxutils import escape

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

UNSIGNED = "UNSIGNED-PAYLOAD"
UPSTREAM_KEY = "S3RVER"  # s3rver's built-in account


class State:
    def __init__(self, region, access_key, secret_key, upstream_port, vhost_suffix):
        self.region = region
        self.vhost_suffix = vhost_suffix.lower()
        self.upstream_port = upstream_port
        self.lock = threading.Lock()
        # access key id -> (secret, session token or None, expiry datetime or None)
        self.keys = {access_key: (secret_key, None, None)}
        self.faults = []
        self.log = []
        self.ecs = {}  # token -> {"ttl": seconds, "fetches": n}
        self.imds_tokens = set()
        self.imds_fetches = 0
        self.uploads = {}  # upload id -> {"key": path, "state": "open" | "aborted" | "completed"}


STATE = None


def s3_error(code, message, status, extra=""):
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>%s'
        "<RequestId>proxy-%s</RequestId></Error>" % (escape(code), escape(message), extra, secrets.token_hex(4))
    ).encode()
    return status, body


def canonical_path(raw_path):
    # S3 signs the URI-encoded key: decode what came on the wire, re-encode strictly.
    return urllib.parse.quote(urllib.parse.unquote(raw_path), safe="/~")


def canonical_query(raw_query):
    pairs = []
    for part in raw_query.split("&") if raw_query else []:
        if not part:
            continue
        k, _, v = part.partition("=")
        # '+' is a literal plus in SigV4, never a space: unquote, not unquote_plus.
        pairs.append((urllib.parse.unquote(k), urllib.parse.unquote(v)))
    q = lambda s: urllib.parse.quote(s, safe="-_.~")
    return "&".join("%s=%s" % kv for kv in sorted((q(k), q(v)) for k, v in pairs))


def verify(method, raw_target, headers, body):
    """Returns (None, akid) when the signature is right, else ((status, code, message), akid)."""
    auth = headers.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return (403, "AccessDenied", "request is not SigV4-signed"), None
    try:
        fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
        akid, date, region, service, terminator = fields["Credential"].split("/")
        signed = fields["SignedHeaders"].split(";")
        provided = fields["Signature"]
    except (KeyError, ValueError):
        return (400, "AuthorizationHeaderMalformed", "malformed Authorization header"), None
    with STATE.lock:
        entry = STATE.keys.get(akid)
    if entry is None:
        return (403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."), akid
    secret, token, expiry = entry
    amz_date = headers.get("X-Amz-Date", "")
    try:
        when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return (403, "AccessDenied", "missing or malformed X-Amz-Date"), akid
    now = datetime.datetime.now(datetime.timezone.utc)
    if abs((now - when).total_seconds()) > 15 * 60:
        return (403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large."), akid
    if expiry is not None and now > expiry:
        return (400, "ExpiredToken", "The provided token has expired."), akid
    if date != amz_date[:8] or region != STATE.region or service != "s3" or terminator != "aws4_request":
        return (403, "AuthorizationHeaderMalformed", "credential scope %s/%s/%s is wrong" % (date, region, service)), akid
    if token is not None and headers.get("X-Amz-Security-Token") != token:
        return (403, "InvalidToken", "The provided token is malformed or otherwise invalid."), akid
    payload_hash = headers.get("X-Amz-Content-SHA256")
    if payload_hash is None:
        return (400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256"), akid
    if payload_hash != UNSIGNED and payload_hash != hashlib.sha256(body).hexdigest():
        return (400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed."), akid
    lower_signed = set(signed)
    if "host" not in lower_signed:
        return (403, "AccessDenied", "host header is not signed"), akid
    for name in headers.keys():
        if name.lower().startswith("x-amz-") and name.lower() not in lower_signed:
            return (403, "AccessDenied", "header %s is not signed" % name.lower()), akid

    raw_path, _, raw_query = raw_target.partition("?")
    url = "http://%s%s" % (headers.get("Host", ""), canonical_path(raw_path))
    cq = canonical_query(raw_query)
    if cq:
        url += "?" + cq
    to_sign = {}
    for name in signed:
        value = headers.get_all(name) if hasattr(headers, "get_all") else None
        if not value:
            return (403, "AccessDenied", "signed header %s is missing" % name), akid
        to_sign[name] = ",".join(value)
    request = AWSRequest(method=method, url=url, headers=to_sign)
    request.context["timestamp"] = amz_date
    signer = S3SigV4Auth(Credentials(akid, secret, token), "s3", STATE.region)
    creq = signer.canonical_request(request)
    sts = signer.string_to_sign(request, creq)
    expected = signer.signature(sts, request)
    if expected != provided:
        extra = "<StringToSign>%s</StringToSign><CanonicalRequest>%s</CanonicalRequest>" % (escape(sts), escape(creq))
        return (403, "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
                extra), akid
    return None, akid


def issue_credentials(ttl_seconds):
    """New temporary credentials the verifier accepts until they expire (STATE.lock held)."""
    akid = "ASIA" + secrets.token_hex(8).upper()
    secret = secrets.token_urlsafe(30)
    session = secrets.token_urlsafe(60)
    expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=ttl_seconds)
    STATE.keys[akid] = (secret, session, expiry)
    return {
        "RoleArn": "arn:aws:iam::123456789012:role/catalog-test",
        "AccessKeyId": akid,
        "SecretAccessKey": secret,
        "Token": session,
        "Expiration": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def vhost_bucket(host_header):
    """The bucket of a virtual-hosted request (Host: BUCKET.<suffix>[:port]), or None for path style."""
    name = host_header.lower()
    if not name.startswith("["):
        name = name.rsplit(":", 1)[0]
    suffix = "." + STATE.vhost_suffix
    if not name.endswith(suffix) or len(name) == len(suffix):
        return None
    return name[: -len(suffix)]


def take_fault(method, target):
    with STATE.lock:
        for f in STATE.faults:
            if f["count"] > 0 and f.get("method", method) == method and f["key_contains"] in urllib.parse.unquote(target):
                f["count"] -= 1
                return dict(f)
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "catalog-s3-verify-proxy"

    def log_message(self, fmt, *args):  # quiet: the request log is at /__proxy/log
        pass

    def do_GET(self):
        self.handle_any()

    def do_HEAD(self):
        self.handle_any()

    def do_PUT(self):
        self.handle_any()

    def do_POST(self):
        self.handle_any()

    def do_DELETE(self):
        self.handle_any()

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raise ValueError("chunked request bodies are not supported by the test proxy")
        return self.rfile.read(length) if length else b""

    def reply(self, status, body, content_type="application/xml", extra_headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        try:
            body = self.read_body()
        except ValueError as e:
            self.reply(*reversed(s3_error("NotImplemented", str(e), 501)))
            return
        if self.path.startswith("/__proxy/"):
            self.control(body)
            return
        bucket = vhost_bucket(self.headers.get("Host", ""))
        # What s3rver (path style only) is asked for.
        self.upstream_target = self.path if bucket is None else "/" + bucket + self.path
        failure, akid = verify(self.command, self.path, self.headers, body)
        entry = {
            "method": self.command,
            "target": self.path,
            "host": self.headers.get("Host"),
            "style": "path" if bucket is None else "virtual-hosted",
            "range": self.headers.get("Range"),
            "if_match": self.headers.get("If-Match"),
            "access_key": akid,
            "verified": failure is None,
            "error": failure[1] if failure else None,
        }
        with STATE.lock:
            STATE.log.append(entry)
        if failure:
            status, code, message = failure[:3]
            extra = failure[3] if len(failure) > 3 else ""
            st, xml = s3_error(code, message, status, extra)
            self.reply(st, xml)
            return
        fault = take_fault(self.command, self.path)
        if fault and fault["action"] == "status":
            st, xml = s3_error(fault.get("code", "ServiceUnavailable"), fault.get("message", "injected by the test proxy"),
                               fault.get("status", 503))
            self.reply(st, xml)
            return
        raw_path, _, raw_query = self.path.partition("?")
        query = urllib.parse.parse_qs(raw_query, keep_blank_values=True)
        if self.command == "POST" and "uploads" in query and "uploadId" not in query:
            self.create_multipart(raw_path, body)
            return
        if "uploadId" in query:
            upload_id = query["uploadId"][0]
            with STATE.lock:
                upload = STATE.uploads.get(upload_id)
                if upload is not None and upload["state"] == "open" and self.command == "DELETE":
                    upload["state"] = "aborted"  # s3rver has no AbortMultipartUpload: the proxy ends it
                    self.reply(204, b"")
                    return
            if upload is None or upload["state"] != "open":
                st, xml = s3_error("NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, "
                                   "or the upload may have been aborted or completed.", 404,
                                   "<UploadId>%s</UploadId>" % escape(upload_id))
                self.reply(st, xml)
                return
        self.forward(body, fault if fault and fault["action"] == "cut" else None)
        if self.command == "POST" and "uploadId" in query and self.last_status == 200:
            with STATE.lock:
                STATE.uploads[query["uploadId"][0]]["state"] = "completed"

    def create_multipart(self, raw_path, body):
        status, headers, data = self.upstream("POST", self.upstream_target, body)
        if status == 200:
            text = data.decode("utf-8", "replace")
            start = text.find("<UploadId>")
            end = text.find("</UploadId>")
            if start >= 0 and end > start:
                with STATE.lock:
                    STATE.uploads[text[start + len("<UploadId>"):end]] = {
                        "key": urllib.parse.unquote(self.upstream_target.partition("?")[0]), "state": "open"}
        self.reply(status, data, headers.get("Content-Type", "application/xml"))

    def upstream_headers(self):
        out = {}
        for k, v in self.headers.items():
            lk = k.lower()
            if lk in ("host", "connection", "expect", "keep-alive", "content-length"):
                continue
            if lk == "authorization":
                # s3rver knows one account; its V4 "check" only looks the key up.
                v = v.replace("Credential=%s/" % v.split("Credential=")[1].split("/")[0], "Credential=%s/" % UPSTREAM_KEY, 1)
            out[k] = v
        return out

    def upstream(self, method, target, body):
        conn = http.client.HTTPConnection("127.0.0.1", STATE.upstream_port, timeout=60)
        headers = self.upstream_headers()
        headers.pop("If-Match", None)
        headers.pop("Range", None)
        conn.request(method, target, body=body, headers={**headers, "Content-Length": str(len(body))})
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, resp.headers, data

    def forward(self, body, cut):
        conn = http.client.HTTPConnection("127.0.0.1", STATE.upstream_port, timeout=60)
        headers = self.upstream_headers()
        headers.pop("If-Match", None)  # the proxy checks it below, on this very response
        if self.command in ("PUT", "POST") or body:
            headers["Content-Length"] = str(len(body))
        conn.request(self.command, self.upstream_target, body=body if body else None, headers=headers)
        resp = conn.getresponse()
        self.last_status = resp.status
        if_match = self.headers.get("If-Match") if self.command == "GET" else None
        if if_match and resp.status in (200, 206) and resp.getheader("ETag") != if_match:
            # Checked on the response that would be served: no window in
            # which the object can change between the check and the body.
            resp.read()
            conn.close()
            self.last_status = 412
            st, xml = s3_error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412,
                               "<Condition>If-Match</Condition>")
            self.reply(st, xml)
            return
        length = resp.getheader("Content-Length")
        chunked = length is None and self.command != "HEAD" and resp.status not in (204, 304)
        payload = resp.read() if chunked else None
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() in ("transfer-encoding", "connection", "keep-alive", "content-length", "date", "server"):
                continue
            self.send_header(k, v)
        if payload is not None:
            self.send_header("Content-Length", str(len(payload)))
        elif length is not None:
            self.send_header("Content-Length", length)
        self.end_headers()
        if self.command == "HEAD":
            conn.close()
            return
        if payload is not None:
            self.wfile.write(payload)
            conn.close()
            return
        sent = 0
        limit = cut["after_bytes"] if cut else None
        while True:
            chunk = resp.read(1 << 20)
            if not chunk:
                break
            if limit is not None and sent + len(chunk) >= limit:
                self.wfile.write(chunk[: limit - sent])
                self.wfile.flush()
                # Cut the connection mid-body, as a dying load balancer would.
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                conn.close()
                return
            self.wfile.write(chunk)
            sent += len(chunk)
        conn.close()

    # ---- test controls -------------------------------------------------
    def control(self, body):
        parsed = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(parsed.query)
        route = parsed.path
        if route == "/__proxy/health":
            self.reply(200, b'{"ok":true}', "application/json")
        elif route == "/__proxy/faults" and self.command == "POST":
            f = json.loads(body)
            if not f.get("key_contains"):
                self.reply(400, b'{"error":"key_contains is required"}', "application/json")
                return
            f.setdefault("count", 1)
            with STATE.lock:
                STATE.faults.append(f)
            self.reply(201, b"{}", "application/json")
        elif route == "/__proxy/log":
            needle = q.get("key_contains", [""])[0]
            with STATE.lock:
                entries = [e for e in STATE.log if needle in urllib.parse.unquote(e["target"])]
            self.reply(200, json.dumps(entries).encode(), "application/json")
        elif route == "/__proxy/ecs" and self.command == "POST":
            cfg = json.loads(body)
            with STATE.lock:
                STATE.ecs[cfg["token"]] = {"ttl": int(cfg.get("ttl_seconds", 900)), "fetches": 0}
            self.reply(201, b"{}", "application/json")
        elif route == "/__proxy/ecs" and self.command == "GET":
            with STATE.lock:
                info = STATE.ecs.get(q.get("token", [""])[0])
            self.reply(200 if info else 404, json.dumps(info or {}).encode(), "application/json")
        elif route == "/__proxy/ecs-credentials":
            token = self.headers.get("Authorization", "")
            with STATE.lock:
                cfg = STATE.ecs.get(token)
                if cfg is None:
                    self.reply(401, b'{"message":"bad authorization token"}', "application/json")
                    return
                cfg["fetches"] += 1
                doc = issue_credentials(cfg["ttl"])
            self.reply(200, json.dumps(doc).encode(), "application/json")
        elif route.startswith("/__proxy/imds/"):
            # A fake EC2 instance metadata service, IMDSv2 only: a session token
            # from PUT /latest/api/token is required for every GET.
            path = route[len("/__proxy/imds"):]
            if self.command == "PUT" and path == "/latest/api/token":
                if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                    self.reply(400, b"missing ttl", "text/plain")
                    return
                token = secrets.token_urlsafe(24)
                with STATE.lock:
                    STATE.imds_tokens.add(token)
                self.reply(200, token.encode(), "text/plain")
                return
            with STATE.lock:
                known = self.headers.get("X-aws-ec2-metadata-token") in STATE.imds_tokens
            if not known:
                self.reply(401, b"", "text/plain")
                return
            base = "/latest/meta-data/iam/security-credentials/"
            if path == base:
                self.reply(200, b"catalog-test-role", "text/plain")
            elif path == base + "catalog-test-role":
                with STATE.lock:
                    STATE.imds_fetches += 1
                    doc = issue_credentials(3600)
                doc.update({"Code": "Success", "Type": "AWS-HMAC"})
                self.reply(200, json.dumps(doc).encode(), "application/json")
            else:
                self.reply(404, b"", "text/plain")
        elif route == "/__proxy/uploads":
            needle = q.get("key_contains", [""])[0]
            with STATE.lock:
                found = [dict(u, upload_id=i) for i, u in STATE.uploads.items() if needle in u["key"]]
            self.reply(200, json.dumps(found).encode(), "application/json")
        elif route == "/__proxy/imds-stats":
            with STATE.lock:
                self.reply(200, json.dumps({"fetches": STATE.imds_fetches}).encode(), "application/json")
        else:
            self.reply(404, b'{"error":"unknown control route"}', "application/json")


def main():
    global STATE
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream-port", type=int, required=True)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--access-key", required=True)
    ap.add_argument("--secret-key-file", required=True, help="file holding the secret (kept off the command line)")
    ap.add_argument("--vhost-suffix", default="s3.localhost",
                    help="Host BUCKET.<suffix>[:port] is a virtual-hosted request for BUCKET")
    args = ap.parse_args()
    with open(args.secret_key_file) as f:
        secret = f.read().strip()
    STATE = State(args.region, args.access_key, secret, args.upstream_port, args.vhost_suffix)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print("s3 verify proxy on 127.0.0.1:%d -> 127.0.0.1:%d" % (args.port, args.upstream_port), file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
