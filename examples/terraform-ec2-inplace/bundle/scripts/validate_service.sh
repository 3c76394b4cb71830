#!/bin/bash
# The new revision must answer before the instance counts as deployed.
set -euo pipefail
for attempt in $(seq 1 10); do
    if curl -fsS http://127.0.0.1:8080/ >/dev/null; then
        echo "answered on attempt $attempt"
        exit 0
    fi
    sleep 2
done
echo "no answer on port 8080" >&2
exit 1
