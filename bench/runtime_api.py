#!/usr/bin/env python3
"""A minimal Lambda Runtime API (version 2018-06-01) that cold-starts a function and times it.

    runtime_api.py --function NAME --env-file FILE --config FILE --event FILE [--event FILE ...]
                   [--log FILE] -- BOOTSTRAP [ARGS...]
    runtime_api.py --summary RESULTS.jsonl

For each event file: serves the Runtime API on a free loopback port, spawns BOOTSTRAP with
only the environment of FILE (KEY=VALUE lines, as Lambda gives a function only its own) and
AWS_LAMBDA_RUNTIME_API pointing at the server, hands the event to its first
`GET /runtime/invocation/next`, and waits for its `POST .../response` (or `.../error`, or
`/runtime/init/error`). Then reads its peak RSS (VmHWM in /proc) and stops it. Prints one
JSON line per cold start:

    {"function": ..., "event": ..., "outcome": "response", "init_ms": ...,
     "first_response_ms": ..., "invoke_ms": ..., "peak_rss_kb": ..., "memory_mb": ..., "body": ...}

init_ms is process spawn to the first `next` request; first_response_ms is spawn to the end
of the first response. --config is JSON with the function's `memory_mb` and `timeout_ms`
(the invocation's deadline). Exits non-zero when a start did not answer with a response.
--summary prints min and median per function of such lines as a Markdown table.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"


class Invocation:
    """The state of one cold start, shared by the server's threads."""

    def __init__(self, event: bytes, timeout_ms: int, function_arn: str):
        self.event = event
        self.timeout_ms = timeout_ms
        self.function_arn = function_arn
        self.request_id = str(uuid.uuid4())
        self.lock = threading.Lock()
        self.handed_out = False
        self.first_next = None
        self.finished = None
        self.outcome = None
        self.body = b""
        self.done = threading.Event()
        self.stopping = threading.Event()

    def finish(self, outcome: str, body: bytes) -> None:
        with self.lock:
            if self.outcome is None:
                self.finished = time.monotonic()
                self.outcome = outcome
                self.body = body
        self.done.set()


def handler_for(inv: Invocation):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def read_body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def reply(self, status: int, body: bytes, headers=()) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path != f"{PREFIX}/invocation/next":
                self.reply(404, b'{"errorMessage":"unknown path"}')
                return
            with inv.lock:
                first = not inv.handed_out
                if first:
                    inv.handed_out = True
                    inv.first_next = time.monotonic()
            if not first:
                # One invocation per cold start: the runtime waits here until it is stopped.
                inv.stopping.wait()
                self.close_connection = True
                return
            deadline = int(time.time() * 1000) + inv.timeout_ms
            self.reply(
                200,
                inv.event,
                [
                    ("Lambda-Runtime-Aws-Request-Id", inv.request_id),
                    ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                    ("Lambda-Runtime-Invoked-Function-Arn", inv.function_arn),
                    ("Lambda-Runtime-Trace-Id", "Root=1-6750a000-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"),
                ],
            )

        def do_POST(self):
            body = self.read_body()
            if self.path == f"{PREFIX}/invocation/{inv.request_id}/response":
                outcome = "response"
            elif self.path == f"{PREFIX}/invocation/{inv.request_id}/error":
                outcome = "error"
            elif self.path == f"{PREFIX}/init/error":
                outcome = "init-error"
            else:
                self.reply(404, b'{"errorMessage":"unknown path"}')
                return
            self.reply(202, b'{"status":"OK"}')
            inv.finish(outcome, body)

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # The runtime's waiting `next` connection is cut when the process is stopped.
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


def peak_rss_kb(pid: int):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def read_env(path: str) -> dict:
    env = {}
    with open(path) as f:
        for line in f:
            name, sep, value = line.rstrip("\n").partition("=")
            if sep:
                env[name] = value
    return env


def cold_start(command, event_path: str, function_env: dict, timeout_ms: int, log) -> dict:
    with open(event_path, "rb") as f:
        event = f.read()
    name = function_env.get("AWS_LAMBDA_FUNCTION_NAME", "function")
    arn = f"arn:aws:lambda:{function_env.get('AWS_REGION', 'ap-southeast-3')}:123456789012:function:{name}"
    inv = Invocation(event, timeout_ms, arn)
    server = Server(("127.0.0.1", 0), handler_for(inv))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(function_env, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}")
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    try:
        deadline = started + timeout_ms / 1000 + 5
        while not inv.done.wait(0.005):
            if process.poll() is not None:
                inv.finish(f"exited {process.returncode}", b"")
            elif time.monotonic() > deadline:
                inv.finish("timeout", b"")
        rss = peak_rss_kb(process.pid)
    finally:
        inv.stopping.set()
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        server.shutdown()
        server.server_close()

    def ms(t):
        return None if t is None else round((t - started) * 1000, 1)

    return {
        "event": os.path.basename(event_path),
        "outcome": inv.outcome,
        "init_ms": ms(inv.first_next),
        "first_response_ms": ms(inv.finished) if inv.outcome == "response" else None,
        "invoke_ms": round((inv.finished - inv.first_next) * 1000, 1) if inv.first_next and inv.finished else None,
        "peak_rss_kb": rss,
        "body": inv.body.decode("utf-8", "replace")[:300],
    }


def summary(path: str) -> None:
    by_function = {}
    with open(path) as f:
        for line in f:
            result = json.loads(line)
            by_function.setdefault(result["function"], []).append(result)
    print("| function | memory | runs | init ms (min / median) | first response ms (min / median) | peak RSS MB (min / median) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, results in by_function.items():
        ok = [r for r in results if r["outcome"] == "response"]

        def pair(key, scale=1.0, results=ok):
            values = [r[key] / scale for r in results if r[key] is not None]
            if not values:
                return "–"
            return f"{min(values):.1f} / {statistics.median(values):.1f}"

        memory = results[0].get("memory_mb")
        print(
            f"| {name} | {memory} MB | {len(ok)} of {len(results)} | {pair('init_ms')} | "
            f"{pair('first_response_ms')} | {pair('peak_rss_kb', 1024)} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--summary", help="print the table of a results file and exit")
    parser.add_argument("--function", help="the function's name, copied into each result")
    parser.add_argument("--env-file", help="the function's environment (KEY=VALUE lines)")
    parser.add_argument("--config", help="JSON with memory_mb and timeout_ms")
    parser.add_argument("--event", action="append", help="an event file (one cold start each)")
    parser.add_argument("--log", default=os.devnull, help="file for the function's output")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- BOOTSTRAP [ARGS...]")
    args = parser.parse_args()
    if args.summary:
        summary(args.summary)
        return 0
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not (command and args.function and args.env_file and args.config and args.event):
        parser.error("--function, --env-file, --config, --event and a bootstrap are needed")
    with open(args.config) as f:
        config = json.load(f)
    function_env = read_env(args.env_file)
    failed = False
    with open(args.log, "ab") as log:
        for event_path in args.event:
            result = cold_start(command, event_path, function_env, config["timeout_ms"], log)
            result = {"function": args.function, **result, "memory_mb": config["memory_mb"]}
            print(json.dumps(result), flush=True)
            failed |= result["outcome"] != "response"
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
