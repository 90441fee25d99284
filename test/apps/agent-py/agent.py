#!/usr/bin/env python3
"""LangChain (Python) customer-support agent, instrumented the way users do it.

create_agent + ChatOpenAI pointed at the fake LLM; tools search_kb (kb-service over HTTP, requests),
http_post (ticket-api over HTTP, requests) and MCP tools over stdio via langchain-mcp-adapters
(our FastMCP server mcp_server.py by default, or @modelcontextprotocol/server-filesystem).
Tracing: OTel SDK TracerProvider + OTLP gRPC exporter, OpenLLMetry LangchainInstrumentor,
HTTPX (the openai client) and requests instrumentation. Each run is wrapped in an `agent.run` span.

Usage: python agent.py [--scenario S --prompt P]... | [--runs JSON]   (or env AGENT_RUNS=JSON)
Env: FAKE_LLM_URL (http://127.0.0.1:PORT/v1), KB_URL, TICKET_URL (required);
     AGENT_TOKEN_FILE (default ../identity/support-agent.token); MCP_DATA_DIR (default ../data);
     AGENT_MCP=python|filesystem|none (default python); AGENT_MCP_SESSION=per-call|persistent
     (default per-call: langchain-mcp-adapters' get_tools() starts a server process per tool call);
     AGENT_STREAMING=1; MCP_SERVER_LOG (passed to the MCP server);
     OTEL_EXPORTER_OTLP_ENDPOINT (default http://127.0.0.1:4317), OTEL_TRACES_EXPORTER=otlp|console|none,
     OTEL_SERVICE_NAME (default support-agent-py), OTEL_EXPERIMENTAL_RESOURCE_DETECTORS=process to get
     process.pid into the resource (not there by default in the Python SDK).
Prints one JSON line: {framework, pid, serviceName, tokenFile, runs:[{scenario, prompt, traceId, spanId,
ok, answer, toolCalls, error?}], mcpChildren, export:{ok, failed, errors}}. Exit 1 if a run failed.
"""
import asyncio
import contextlib
import json
import os
import sys
import traceback

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor,
                                            SpanExporter, SpanExportResult)
from opentelemetry.trace import SpanKind, Status, StatusCode

HERE = os.path.dirname(os.path.abspath(__file__))
APPS = os.path.dirname(HERE)

# ---------------------------------------------------------------- OpenTelemetry (as users do it)
EXPORT = {"ok": 0, "failed": 0, "errors": []}


class CountingExporter(SpanExporter):
    def __init__(self, inner: SpanExporter):
        self.inner = inner

    def export(self, spans):
        try:
            r = self.inner.export(spans)
        except Exception as e:  # noqa: BLE001
            EXPORT["failed"] += len(spans)
            EXPORT["errors"].append(str(e))
            return SpanExportResult.FAILURE
        if r == SpanExportResult.SUCCESS:
            EXPORT["ok"] += len(spans)
        else:
            EXPORT["failed"] += len(spans)
            EXPORT["errors"].append("export failed")
        return r

    def shutdown(self):
        return self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000):
        return getattr(self.inner, "force_flush", lambda *_: True)(timeout_millis)


def setup_tracing() -> TracerProvider:
    service = os.environ.get("OTEL_SERVICE_NAME", "support-agent-py")
    provider = TracerProvider(resource=Resource.create({"service.name": service, "service.version": "1.0.0"}))
    kind = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").split(",")[0].strip()
    if kind == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
    elif kind != "none":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
        exporter = OTLPSpanExporter(endpoint=endpoint, insecure=True, timeout=5)
        provider.add_span_processor(BatchSpanProcessor(CountingExporter(exporter), schedule_delay_millis=200))
    trace.set_tracer_provider(provider)

    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.langchain import LangchainInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor
    LangchainInstrumentor().instrument()
    HTTPXClientInstrumentor().instrument()
    RequestsInstrumentor().instrument()
    return provider


PROVIDER = setup_tracing()

# ---------------------------------------------------------------- the agent
import requests  # noqa: E402
from langchain.agents import create_agent  # noqa: E402
from langchain_core.tools import tool  # noqa: E402
from langchain_mcp_adapters.client import MultiServerMCPClient  # noqa: E402
from langchain_mcp_adapters.tools import load_mcp_tools  # noqa: E402
from langchain_openai import ChatOpenAI  # noqa: E402


def need(name: str) -> str:
    v = os.environ.get(name)
    if not v:
        print(f"agent.py: env {name} is required", file=sys.stderr)
        sys.exit(2)
    return v.rstrip("/")


LLM_URL = need("FAKE_LLM_URL")
KB_URL = need("KB_URL")
TICKET_URL = need("TICKET_URL")
DATA_DIR = os.path.realpath(os.environ.get("MCP_DATA_DIR", os.path.join(APPS, "data")))
TOKEN_FILE = os.path.realpath(os.environ.get("AGENT_TOKEN_FILE", os.path.join(APPS, "identity", "support-agent.token")))
with open(TOKEN_FILE, encoding="utf-8") as _f:  # the agent's service-account identity
    TOKEN = _f.read().strip()
AUTH = {"authorization": f"Bearer {TOKEN}"}
HTTP = requests.Session()


@tool
def search_kb(query: str, collection: str = "faq", top_k: int = 3) -> str:
    """Search the support knowledge base. Collections: faq (default), policies."""
    r = HTTP.post(f"{KB_URL}/search", json={"query": query, "collection": collection, "top_k": top_k}, headers=AUTH, timeout=10)
    return r.text


@tool
def http_post(path: str, payload: dict) -> str:
    """POST a JSON payload to the ticketing API (e.g. path /tickets to open a support ticket)."""
    url = f"{TICKET_URL}{path if path.startswith('/') else '/' + path}"
    r = HTTP.post(url, json=payload, headers=AUTH, timeout=10)
    return json.dumps({"status": r.status_code, "body": r.json() if r.content else None})


SYSTEM = ("You are the Acme customer-support assistant. Answer using the knowledge base (search_kb), "
          "the FAQ file through the filesystem tools, or open a ticket with http_post when the customer asks for a human.")


def parse_runs(argv):
    runs, cur, js = [], {}, os.environ.get("AGENT_RUNS")
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--runs":
            js = argv[i + 1]; i += 1
        elif a == "--scenario":
            if cur.get("scenario"):
                runs.append(cur); cur = {}
            cur["scenario"] = argv[i + 1]; i += 1
        elif a == "--prompt":
            cur["prompt"] = argv[i + 1]; i += 1
            if cur.get("scenario"):
                runs.append(cur); cur = {}
        i += 1
    if cur:
        runs.append(cur)
    if js:
        runs.extend(json.loads(js))
    if not runs:
        runs.append({"scenario": "faq"})
    return [{"scenario": r.get("scenario", "faq"), "prompt": r.get("prompt", "How do I reset my password?")} for r in runs]


def mcp_servers():
    mode = os.environ.get("AGENT_MCP", "python")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root")}
    if os.environ.get("MCP_SERVER_LOG"):
        env["MCP_SERVER_LOG"] = os.environ["MCP_SERVER_LOG"]
    if mode == "python":
        return {"files": {"transport": "stdio", "command": sys.executable, "args": [os.path.join(HERE, "mcp_server.py"), DATA_DIR], "env": env}}
    if mode == "filesystem":
        fs_server = os.path.join(APPS, "node_modules", "@modelcontextprotocol", "server-filesystem", "dist", "index.js")
        return {"filesystem": {"transport": "stdio", "command": "node", "args": [fs_server, DATA_DIR], "env": env}}
    return {}


def list_children():
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            if ppid == os.getpid():
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    out.append({"pid": int(d), "cmdline": [x.decode() for x in f.read().split(b"\0") if x]})
        except (OSError, ValueError):
            pass
    return out


async def main() -> int:
    runs = parse_runs(sys.argv[1:])
    servers = mcp_servers()
    async with contextlib.AsyncExitStack() as stack:
        mcp_tools = []
        if servers:
            client = MultiServerMCPClient(servers)
            if os.environ.get("AGENT_MCP_SESSION", "per-call") == "persistent":
                for name in servers:
                    session = await stack.enter_async_context(client.session(name))
                    mcp_tools += await load_mcp_tools(session)
            else:
                mcp_tools = await client.get_tools()
        model = ChatOpenAI(model=os.environ.get("AGENT_MODEL") or "gpt-4o-mini", api_key=os.environ.get("OPENAI_API_KEY", "sk-fake-test-key"),
                           base_url=LLM_URL, streaming=os.environ.get("AGENT_STREAMING") == "1",
                           max_retries=1, temperature=0)
        tracer = trace.get_tracer("support-agent-py")
        results = []
        for run in runs:
            with tracer.start_as_current_span("agent.run", kind=SpanKind.INTERNAL,
                                              attributes={"app.scenario": run["scenario"]}) as span:
                sc = span.get_span_context()
                rec = {"scenario": run["scenario"], "prompt": run["prompt"], "traceId": format(sc.trace_id, "032x"),
                       "spanId": format(sc.span_id, "016x"), "ok": False, "answer": None, "toolCalls": []}
                try:
                    agent = create_agent(model, [search_kb, http_post, *mcp_tools],
                                         system_prompt=f"{SYSTEM} [scenario:{run['scenario']}]")
                    result = await agent.ainvoke({"messages": [{"role": "user", "content": run["prompt"]}]},
                                                 {"recursion_limit": 25})
                    for m in result["messages"]:
                        for tc in getattr(m, "tool_calls", None) or []:
                            rec["toolCalls"].append({"name": tc["name"], "args": tc["args"]})
                    last = result["messages"][-1]
                    rec["answer"] = last.content if isinstance(last.content, str) else json.dumps(last.content)
                    rec["ok"] = True
                except Exception as e:  # noqa: BLE001
                    rec["error"] = traceback.format_exc()
                    span.record_exception(e)
                    span.set_status(Status(StatusCode.ERROR, str(e)))
                results.append(rec)
        children = list_children()
    PROVIDER.shutdown()
    print(json.dumps({"framework": "langchain-py", "pid": os.getpid(),
                      "serviceName": os.environ.get("OTEL_SERVICE_NAME", "support-agent-py"), "tokenFile": TOKEN_FILE,
                      "runs": results, "mcpChildren": children, "export": EXPORT}), flush=True)
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
