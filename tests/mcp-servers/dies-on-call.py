#!/usr/bin/env python3
"""A broken MCP server for the tests, speaking MCP over stdio (newline-delimited JSON-RPC):
it starts, lists two tools, answers `ok`, and dies in the middle of a call to `die` — what a
server that crashes on some input does. Only the standard library, so it runs anywhere."""
import json
import sys

TOOLS = [
    {"name": "ok", "description": "Answers.", "inputSchema": {"type": "object"},
     "annotations": {"readOnlyHint": True}},
    {"name": "die", "description": "Crashes the server.", "inputSchema": {"type": "object"}},
]


def answer(msg_id, result):
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": msg_id, "result": result}) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    msg = json.loads(line)
    method, msg_id = msg.get("method"), msg.get("id")
    if msg_id is None:
        continue
    if method == "initialize":
        answer(msg_id, {
            "protocolVersion": msg["params"]["protocolVersion"],
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "dies-on-call", "version": "1"},
        })
    elif method == "tools/list":
        answer(msg_id, {"tools": TOOLS})
    elif method == "tools/call" and msg["params"]["name"] == "die":
        sys.exit(3)
    elif method == "tools/call":
        answer(msg_id, {"content": [{"type": "text", "text": "still here"}]})
    else:
        answer(msg_id, {})
