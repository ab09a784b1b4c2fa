"""The benchmark suite runs in CI with --benchmark-disable (each benchmark once, as a correctness check);
`pytest bench --benchmark-enable` times it (see README)."""


def timing(config) -> bool:
    """Whether benchmarks are being timed (--benchmark-enable beats the default --benchmark-disable)."""
    return config.getoption("benchmark_enable") or not config.getoption("benchmark_disable")
