#!/bin/bash
# A systemd unit serving /opt/codedeploy-demo on port 8080.
set -euo pipefail
cat >/etc/systemd/system/codedeploy-demo.service <<'UNIT'
[Unit]
Description=codedeploy-trigger EC2 demo
After=network.target

[Service]
WorkingDirectory=/opt/codedeploy-demo
ExecStart=/usr/bin/python3 -m http.server 8080
Restart=on-failure

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
