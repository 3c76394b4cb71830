"""Test doubles shared by the tests, the demo and the benchmark.

Nothing here ships in the release zip: it simulates the parts of AWS that moto
leaves out (CodeDeploy never moves a deployment on its own, and never reports
errorInformation or rollbackInfo).
"""
