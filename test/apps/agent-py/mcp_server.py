#!/usr/bin/env python3
"""Our Python MCP server (stdio), built with the `mcp` SDK's FastMCP.

Tools: read_text_file(path), list_directory(path), lookup_order(order_id), system_info().
Files are confined to the data directory (argv[1] or env MCP_DATA_DIR, default ../data);
relative paths resolve against it, like @modelcontextprotocol/server-filesystem.
Env MCP_SERVER_LOG=F.jsonl appends {ts, pid, server, tool, args, meta} per call, where meta is the
request's params._meta (shows whether the client propagated a traceparent).
Run: python mcp_server.py [DATA_DIR]
"""
import datetime
import json
import os
import platform
import socket
import sys

from mcp.server.fastmcp import Context, FastMCP

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = os.path.realpath(
    sys.argv[1] if len(sys.argv) > 1 else os.environ.get("MCP_DATA_DIR", os.path.join(HERE, "..", "data"))
)
LOG = os.environ.get("MCP_SERVER_LOG", "")

mcp = FastMCP("aibom-test-mcp-py")


def _log(tool: str, args: dict, ctx: Context | None) -> None:
    if not LOG:
        return
    meta = None
    try:
        m = ctx.request_context.meta if ctx is not None else None
        if m is not None:
            meta = m.model_dump(exclude_none=True, by_alias=True)
    except Exception:  # noqa: BLE001 - best effort
        meta = None
    rec = {"ts": datetime.datetime.now(datetime.timezone.utc).isoformat(), "pid": os.getpid(),
           "server": "aibom-test-mcp-py", "tool": tool, "args": args, "meta": meta}
    with open(LOG, "a", encoding="utf-8") as f:
        f.write(json.dumps(rec) + "\n")


def _resolve(path: str) -> str:
    full = os.path.realpath(path if os.path.isabs(path) else os.path.join(DATA_DIR, path))
    if full != DATA_DIR and not full.startswith(DATA_DIR + os.sep):
        raise ValueError(f"Access denied - path outside allowed directories: {full} not in {DATA_DIR}")
    return full


@mcp.tool()
def read_text_file(path: str, ctx: Context) -> str:
    """Read the complete contents of a text file under the data directory."""
    _log("read_text_file", {"path": path}, ctx)
    with open(_resolve(path), encoding="utf-8") as f:
        return f.read()


@mcp.tool()
def list_directory(path: str, ctx: Context) -> str:
    """List the entries of a directory under the data directory."""
    _log("list_directory", {"path": path}, ctx)
    full = _resolve(path)
    return "\n".join(("[DIR] " if os.path.isdir(os.path.join(full, e)) else "[FILE] ") + e for e in sorted(os.listdir(full)))


@mcp.tool()
def lookup_order(order_id: str, ctx: Context) -> str:
    """Look up the status of a customer order by its order id (e.g. A1001)."""
    _log("lookup_order", {"order_id": order_id}, ctx)
    if not order_id.replace("-", "").replace("_", "").isalnum():
        return f"invalid order id {order_id}"
    try:
        with open(os.path.join(DATA_DIR, "orders", f"{order_id}.json"), encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return f"order {order_id} not found"


@mcp.tool()
def system_info(ctx: Context) -> str:
    """Return basic information about the host the support tools run on."""
    _log("system_info", {}, ctx)
    os_name = ""
    try:
        with open("/etc/os-release", encoding="utf-8") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    os_name = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return json.dumps({"hostname": socket.gethostname(), "platform": sys.platform, "arch": platform.machine(),
                       "python": platform.python_version(), "pid": os.getpid(), "os": os_name})


if __name__ == "__main__":
    mcp.run("stdio")
