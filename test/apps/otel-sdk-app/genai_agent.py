"""A minimal GenAI-instrumented Python process with the OTel Python SDK's defaults: its resource
names no process.pid, and the BatchSpanProcessor exports over gRPC. An LLM span (flushed), a
pause, then a TOOL span during which it reads a file every 50 ms. The Python twin of
genai-agent.mjs, for the case where the collector must find the process from the connection.

Usage: python genai_agent.py --endpoint http://127.0.0.1:4317 [--open FILE] [--pause-ms T] [--hold-ms T]
Prints one JSON line: { pid, traceId, toolSpanId }.
"""
import argparse
import json
import os
import time

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

p = argparse.ArgumentParser()
p.add_argument("--endpoint", default="http://127.0.0.1:4317")
p.add_argument("--open")
p.add_argument("--pause-ms", type=int, default=1500)
p.add_argument("--hold-ms", type=int, default=1000)
args = p.parse_args()

provider = TracerProvider()  # the SDK's default resource: service.name, telemetry.sdk.*; no process.pid
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=args.endpoint, insecure=True)))
tracer = provider.get_tracer("genai-agent-py")

with tracer.start_as_current_span("agent.run"):
    with tracer.start_as_current_span("ChatOpenAI", attributes={"openinference.span.kind": "LLM"}):
        pass
    provider.force_flush()
    time.sleep(args.pause_ms / 1000)
    with tracer.start_as_current_span("read_file", attributes={"openinference.span.kind": "TOOL"}) as tool:
        until = time.time() + args.hold_ms / 1000
        while time.time() < until:
            if args.open:
                with open(args.open) as f:
                    f.read()
            time.sleep(0.05)
        ctx = tool.get_span_context()
provider.force_flush()
provider.shutdown()
print(json.dumps({"pid": os.getpid(), "traceId": format(ctx.trace_id, "032x"), "toolSpanId": format(ctx.span_id, "016x")}))
