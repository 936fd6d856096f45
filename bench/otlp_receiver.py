"""A loopback OTLP/HTTP trace receiver for `bench/capture.py`, run in its own process so its CPU is not counted:
accepts every export (gzip or plain protobuf) with 200, counts the spans it received, answers `GET /count`.

`python bench/otlp_receiver.py` prints its port on the first line, then serves until killed. Counting the spans
needs `opentelemetry-proto`; without it requests are still accepted and the count stays -1.
"""
from __future__ import annotations

import gzip
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (ExportTraceServiceRequest,
                                                                          ExportTraceServiceResponse)
except ImportError:  # pragma: no cover - the bench then reports the count as unknown
    ExportTraceServiceRequest = ExportTraceServiceResponse = None

RECEIVED = {"spans": 0 if ExportTraceServiceRequest is not None else -1, "requests": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        RECEIVED["requests"] += 1
        reply = b""
        if ExportTraceServiceRequest is not None:
            req = ExportTraceServiceRequest.FromString(body)
            RECEIVED["spans"] += sum(len(ss.spans) for rs in req.resource_spans for ss in rs.scope_spans)
            reply = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def do_GET(self) -> None:  # noqa: N802
        reply = f'{{"spans":{RECEIVED["spans"]},"requests":{RECEIVED["requests"]}}}'.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args) -> None:
        pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    sys.stdout.close()
    server.serve_forever()


if __name__ == "__main__":
    main()
