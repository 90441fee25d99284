"""A local "model server" as someone might start one on a node: it listens, loads a .gguf model
file (read-only), and answers Ollama-style POST /api/generate. Nothing about aibom in it.

usage: model_server.py --model FILE.gguf   (prints "LISTENING <port>" once the model is loaded)
"""
import argparse
import json
import os
from http.server import BaseHTTPRequestHandler, HTTPServer

p = argparse.ArgumentParser()
p.add_argument("--model", required=True)
a = p.parse_args()

server = HTTPServer(("127.0.0.1", 0), None)  # listen() first, as servers that load models lazily do
with open(a.model, "rb") as f:
    header = f.read(4)
if header != b"GGUF":
    raise SystemExit(f"{a.model}: not a GGUF file")
name = os.path.basename(a.model)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
        if self.path != "/api/generate":
            self.send_error(404)
            return
        out = json.dumps({"model": body.get("model", name), "response": "hello from " + name, "done": True}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


server.RequestHandlerClass = Handler
print(f"LISTENING {server.server_address[1]}", flush=True)
server.serve_forever()
