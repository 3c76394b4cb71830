#!/bin/bash
# ApplicationStop runs the scripts of the revision deployed before; nothing to stop the first time.
set -euo pipefail
if systemctl list-unit-files codedeploy-demo.service >/dev/null 2>&1; then
    systemctl stop codedeploy-demo.service || true
fi
