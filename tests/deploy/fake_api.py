#!/usr/bin/env python3
"""A stand-in catalog-api for tests/deploy/post_deploy_smoke_test.sh: serves
the few routes scripts/post-deploy-smoke.sh reads, on 127.0.0.1:<port>.
usage: fake_api.py PORT MODE TOKEN   (MODE: good | db_down | no_auth)"""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

port, mode, token = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?")[0]
        authed = self.headers.get("Authorization") == f"Bearer {token}"
        if path == "/health/live":
            self.send(200, {"status": "alive"})  # as src/handlers/health_handler.cpp answers
        elif path == "/health":
            if mode == "db_down":
                self.send(503, {"status": "unhealthy", "database": "unreachable"})
            else:
                self.send(200, {"status": "healthy", "database": "connected"})
        elif path == "/products":
            self.send(200, {"items": [], "next_cursor": None})
        elif path == "/openapi.json":
            self.send(200, {"openapi": "3.0.3", "paths": {"/products": {}}})
        elif path == "/jobs":
            if authed or mode == "no_auth":
                self.send(200, {"items": []})
            else:
                self.send(401, {"error": {"code": "unauthorized", "message": "token required", "request_id": "x"}})
        else:
            self.send(404, {"error": {"code": "not_found", "message": path, "request_id": "x"}})


HTTPServer(("127.0.0.1", port), Handler).serve_forever()
