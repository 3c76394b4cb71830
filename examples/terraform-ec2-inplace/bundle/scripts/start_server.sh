#!/bin/bash
set -euo pipefail
systemctl enable --now codedeploy-demo.service
systemctl restart codedeploy-demo.service
