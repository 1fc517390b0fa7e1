#!/usr/bin/env python3
"""test/remote/fake_embed_server.py: a loopback embedding API for the remote
encoder's tests and benchmark (Python's standard library only).

It answers OpenAI's POST .../embeddings, Azure OpenAI's POST
/openai/deployments/DEPLOYMENT/embeddings?api-version=V (the deployment
names the model; without api-version: 404, without an api-key header: 401)
and Ollama's POST /api/embed with deterministic vectors, records every
request, and injects faults on request.

  fake_embed_server.py serve PORTFILE [LATENCY]
                                            listen on 127.0.0.1 (a free port, written to PORTFILE),
                                            answering after LATENCY seconds (default 0)
  fake_embed_server.py control URL JSON     POST JSON to URL/_control; prints the answer (JSON)
  fake_embed_server.py expected MODEL PREFIX COUNT [DIMS] [--local]
                                            "i<TAB>[vector]" for the texts PREFIX1..PREFIXCOUNT

Models are named KIND-N, N being the width: "mrl-N" takes "dimensions" (the
prefix, re-normalised, as OpenAI's text-embedding-3 does), "fixed-N" refuses
it with a 400, "ignore-N" ignores it.  A vector is the SHAKE-256 of the text
read as N int16 values, normalised to unit length, rounded to float32.

/_control takes {"reset": true} (forget faults and the log), {"latency": S}
(every answer waits S seconds) and {"faults": [F, ...]}, queued in order.  The
first fault F applies to the request after F.after others (default 0), for
F.times requests (default 1), only to requests for F.model if given.  F.kind:
  status     HTTP F.status with the API's error body (F.message), and
             Retry-After: F.retry_after / Retry-After-Ms: F.retry_after_ms if given
  slow       answer after F.seconds
  malformed  a 200 whose JSON stops half-way
  wrong_dims one element too many in every vector
  too_few    one vector fewer than the inputs
  huge       a 200 streaming spaces (chunked) until the client hangs up
  shuffle    the vectors in reverse order, index fields telling the truth
  dup_index  every index field 0
  nonfinite  the first element of the first vector is infinite
  echo_key   a 401 whose message repeats the Authorization (or api-key) header
  redirect   a 307 to F.location
  close      close the connection without an answer
/_control answers {"log": [...], "max_concurrent": K}: one entry per request
with path, model, n (inputs), first (input), dimensions, encoding_format,
auth (the Authorization header), api_key (the api-key header), api_version
(Azure's query parameter), fault, peer (the client's port: one per
connection).
"""
import array
import base64
import functools
import hashlib
import json
import math
import os
import struct
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def width(model):
    kind, _, n = model.rpartition("-")
    if kind not in ("mrl", "fixed", "ignore") or not n.isdigit():
        return kind, None
    return kind, int(n)


@functools.lru_cache(maxsize=100000)
def cached_vector(text, n, dims):
    raw = hashlib.shake_256(text.encode()).digest(2 * n)
    v = struct.unpack("<%dh" % n, raw)[:dims or n]
    norm = math.sqrt(math.fsum(x * x for x in v)) or 1.0
    return tuple(array.array("f", [x / norm for x in v]).tolist())


def vector(text, n, dims=None):
    """The model's vector of text; with dims, its re-normalised prefix (server-side)."""
    return list(cached_vector(text, n, dims))


def local_prefix(v, dims):
    """What a client does without server-side dimensions: cut the float32 vector, re-normalise."""
    norm = math.sqrt(sum(x * x for x in v[:dims]))
    return [f32(x / norm) for x in v[:dims]]


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.faults = []
        self.log = []
        self.latency = 0.0
        self.active = 0
        self.max_concurrent = 0

    def take_fault(self, model):
        with self.lock:
            for i, f in enumerate(self.faults):
                if f.get("model") not in (None, model):
                    continue
                if f.get("after", 0) > 0:
                    f["after"] -= 1
                    return None
                f["times"] = f.get("times", 1) - 1
                if f["times"] <= 0:
                    del self.faults[i]
                return f
        return None


STATE = State()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: without this, Nagle's algorithm
    # holds the body until the client's delayed ACK of the headers (40 ms)
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def send_json(self, status, obj, headers=()):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def send_raw(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def error_body(self, message):
        if self.path.endswith("/api/embed"):
            return {"error": message}
        return {"error": {"message": message, "type": "invalid_request_error"}}

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/_control":
            return self.control(json.loads(body or b"{}"))
        try:
            req = json.loads(body)
        except ValueError:
            return self.send_json(400, self.error_body("body is not JSON"))
        url = urllib.parse.urlsplit(self.path)
        segments = url.path.split("/")
        azure = segments[1:3] == ["openai", "deployments"]
        api_version = urllib.parse.parse_qs(url.query).get("api-version", [None])[0]
        # Azure: the deployment in the path names the model, whatever the body says
        model = segments[3] if azure and len(segments) == 5 else req.get("model", "")
        inputs = req.get("input")
        if isinstance(inputs, str):
            inputs = [inputs]
        fault = STATE.take_fault(model)
        entry = {"path": url.path, "model": model, "n": len(inputs or []),
                 "first": inputs[0] if inputs else None,
                 "dimensions": req.get("dimensions"), "encoding_format": req.get("encoding_format"),
                 "auth": self.headers.get("Authorization"), "api_key": self.headers.get("api-key"),
                 "api_version": api_version, "fault": fault and fault["kind"],
                 "peer": self.client_address[1]}
        with STATE.lock:
            STATE.log.append(entry)
            STATE.active += 1
            STATE.max_concurrent = max(STATE.max_concurrent, STATE.active)
        try:
            if STATE.latency:
                time.sleep(STATE.latency)
            if azure and (len(segments) != 5 or segments[4] != "embeddings" or not api_version):
                self.send_json(404, {"error": {"code": "404", "message": "Resource not found"}})
            elif azure and not self.headers.get("api-key"):
                self.send_json(401, {"error": {"code": "401", "message": "Access denied due to invalid "
                                               "subscription key or wrong API endpoint."}})
            else:
                self.answer(req, model, inputs, fault)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            with STATE.lock:
                STATE.active -= 1

    def control(self, cmd):
        with STATE.lock:
            if cmd.get("reset"):
                STATE.faults, STATE.log, STATE.max_concurrent = [], [], 0
            if "latency" in cmd:
                STATE.latency = cmd["latency"]
            STATE.faults.extend(cmd.get("faults", []))
            answer = {"log": STATE.log, "max_concurrent": STATE.max_concurrent}
        self.send_json(200, answer)

    def answer(self, req, model, inputs, fault):
        kind = fault and fault["kind"]
        if kind == "slow":
            time.sleep(fault["seconds"])
        if kind == "status":
            headers = [(h, str(fault[k])) for h, k in (("Retry-After", "retry_after"),
                                                       ("Retry-After-Ms", "retry_after_ms")) if k in fault]
            return self.send_json(fault["status"], self.error_body(fault.get("message", "injected fault")), headers)
        if kind == "echo_key":
            return self.send_json(401, self.error_body("Incorrect API key provided: %s."
                                                       % (self.headers.get("Authorization")
                                                          or self.headers.get("api-key"))))
        if kind == "redirect":
            self.send_response(307)
            self.send_header("Location", fault["location"])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if kind == "close":
            self.close_connection = True
            return
        if kind == "malformed":
            return self.send_raw(200, b'{"object": "list", "data": [{"index": 0, "embedding": [0.25, ')
        if kind == "huge":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b" " * (1 << 20)
            for _ in range(4096):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
            return
        kind_of_model, n = width(model)
        if n is None or not isinstance(inputs, list):
            return self.send_json(404, self.error_body("The model `%s` does not exist" % model))
        dims = req.get("dimensions")
        if dims is not None and kind_of_model == "fixed":
            return self.send_json(400, self.error_body("This model does not support specifying dimensions."))
        if kind_of_model != "mrl" or dims is None or not 1 <= dims <= n:
            dims = None
        vecs = [vector(t, n, dims) for t in inputs]
        if kind == "wrong_dims":
            vecs = [v + [0.0] for v in vecs]
        if kind == "too_few":
            vecs = vecs[:-1]
        if kind == "nonfinite":
            vecs[0][0] = math.inf
        if self.path.endswith("/api/embed"):
            text = json.dumps({"model": model, "embeddings": vecs, "prompt_eval_count": len(inputs)})
            return self.send_raw(200, text.replace("Infinity", "1e999").encode())
        b64 = req.get("encoding_format") == "base64"
        data = [{"object": "embedding", "index": i,
                 "embedding": base64.b64encode(struct.pack("<%df" % len(v), *v)).decode() if b64 else v}
                for i, v in enumerate(vecs)]
        if kind == "shuffle":
            data.reverse()
        if kind == "dup_index":
            for d in data:
                d["index"] = 0
        text = json.dumps({"object": "list", "data": data, "model": model,
                           "usage": {"prompt_tokens": len(inputs), "total_tokens": len(inputs)}})
        self.send_raw(200, text.replace("Infinity", "1e999").encode())


def serve(portfile, latency=0.0):
    STATE.latency = latency
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(portfile + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(portfile + ".tmp", portfile)
    server.serve_forever()


def control(url, cmd):
    req = urllib.request.Request(url + "/_control", data=cmd.encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        sys.stdout.write(r.read().decode() + "\n")


def expected(model, prefix, count, dims=None, local=False):
    n = width(model)[1]
    for i in range(1, count + 1):
        text = prefix + str(i)
        if dims and local:
            v = local_prefix(vector(text, n), dims)
        else:
            v = vector(text, n, dims)
        print("%d\t[%s]" % (i, ",".join(repr(x) for x in v)))


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 0.0)
    elif sys.argv[1] == "control":
        control(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "expected":
        args = [a for a in sys.argv[2:] if a != "--local"]
        expected(args[0], args[1], int(args[2]), int(args[3]) if len(args) > 3 else None,
                 "--local" in sys.argv)
    else:
        sys.exit(__doc__)
