"""``python -m bench`` (``make bench``): run the benchmark and print results.md."""

from bench.run import main

main()
