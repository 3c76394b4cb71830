"""The benchmark: event-driven waiting vs GetDeployment polling vs botocore's waiter.

``make bench`` (``python -m bench``) runs every detector on the same seeded workload of
concurrent deployments against moto and a simulated CodeDeploy, in time scaled by one
factor, then measures cold start, memory and the release zips. It writes
``bench/results.json`` and ``bench/results.md``. :func:`bench.run.run_benchmark` is the
entry point; the smoke test runs ``python -m bench --quick`` at a tiny size, as a command,
so that tests never import ``bench`` (which builds on ``tests.support``).
"""
