"""The MCP gateway with the official Python client (PyPI `mcp`), in both of its modes:
"legacy" (the initialize handshake) and "auto" (the stateless revision, discovered).
Lists the tools, creates a lead, finds it with a free-text query, and deletes it without and
then with `confirm`. Usage: mcp_smoke.py <mcp url> <api key>."""

import asyncio
import sys

import httpx2
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import Implementation


def structured(result):
    data = result.structured_content
    assert data is not None, result
    return data


async def smoke(url: str, key: str, mode: str) -> None:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30)
    transport = streamable_http_client(url, http_client=http)
    info = Implementation(name="python-smoke", version="1.0")
    async with Client(transport, mode=mode, client_info=info) as client:
        tools = (await client.list_tools()).tools
        names = [t.name for t in tools]
        assert len(names) == 33 and names[0] == "list_leads", names
        created = await client.call_tool(
            "create_lead",
            {"name": f"Smoke {mode}", "source": "python", "city": "Paris", "category": "bakery"},
        )
        assert not created.is_error, created
        lead = structured(created)["data"]
        found = await client.call_tool("list_leads", {"query": f"bakeries {mode} in Paris"})
        assert not found.is_error, found
        ids = [l["id"] for l in structured(found)["data"]]
        assert ids == [lead["id"]], ids
        refused = await client.call_tool("delete_lead", {"id": lead["id"]})
        assert refused.is_error, refused
        error = structured(refused)["error"]
        assert error["code"] == "CONFIRMATION_REQUIRED", error
        deleted = await client.call_tool("delete_lead", {"id": lead["id"], "confirm": True})
        assert not deleted.is_error, deleted
        gone = await client.call_tool("get_lead", {"id": lead["id"]})
        assert structured(gone)["error"]["code"] == "RESOURCE_NOT_FOUND", gone
        print(f"python mcp {mode}: protocol {client.protocol_version}, {len(names)} tools, ok")


async def main() -> None:
    url, key = sys.argv[1], sys.argv[2]
    for mode in ("legacy", "auto"):
        await smoke(url, key, mode)


asyncio.run(main())
