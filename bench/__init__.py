"""The benchmark (issue 6): event-driven waiting vs GetDeployment polling vs botocore's waiter.

``make bench`` (``python -m bench``) runs every detector on the same seeded workload of
concurrent deployments against moto and a simulated CodeDeploy, in time scaled by one
factor, then measures cold start, memory and the release zips. It writes
``bench/results.json`` and ``bench/results.md``. :func:`bench.run.run_benchmark` is the
entry point (the smoke test calls it at a tiny size).
"""
