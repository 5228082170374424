#!/bin/sh
# `make bench`: see scripts/bench.py.
exec python3 "$(dirname "$0")/bench.py" "$@"
