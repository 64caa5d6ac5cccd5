"""The benchmark runs, and its competent numpy versions measure what the checks measure (it checks
each equal before timing it, so a run is the test)."""

from hil.waveform import bench, parallel


def test_the_benchmark_compares_every_streaming_check_with_both_numpy_versions(capsys):
    before = parallel.threads()
    try:
        report = bench.main(["--samples", "3e5", "--repeat", "1", "--baseline", "both", "--threads", "2"])
    finally:
        parallel.set_threads(before)
    for name in bench.STREAMING:
        for dtype in ("float32", "float64"):
            figures = report["checks"][f"{name}/{dtype}"]
            assert figures["speedup_vs_competent_numpy"] > 0
            assert figures["speedup_vs_straightforward_numpy"] > 0
            assert figures["fraction_of_all_cores_bandwidth"] > 0
    assert set(report["read_bandwidth"]) == {"float32", "float64"}  # each dtype against its own array
    assert "GB/s on 2" in capsys.readouterr().out
