#!/usr/bin/env bash
# The Python MCP smoke test (run by `make test` through the e2e suite): the official client,
# PyPI `mcp` pinned, in a virtualenv this script creates once (outside the clone, shared by
# runs like the cargo target dir). Usage: mcp_smoke.sh <mcp url> <api key>.
set -euo pipefail
MCP_VERSION=2.3.0
venv=${MCP_VENV:-/var/tmp/leadstream-mcp-venv}
if ! "$venv/bin/python" -c "import mcp, sys; from importlib.metadata import version; sys.exit(version('mcp') != '$MCP_VERSION')" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "mcp==$MCP_VERSION"
fi
exec "$venv/bin/python" "$(dirname "$0")/mcp_smoke.py" "$1" "$2"
