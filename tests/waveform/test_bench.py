"""The benchmark runs, and its competent numpy versions measure what the checks measure (it checks
each equal before timing it, so a run is the test)."""

import pytest

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


def test_the_capture_is_sized_past_the_last_level_cache(tmp_path):
    for index, level, size in (("index0", 1, "48K"), ("index2", 2, "2048K"), ("index3", 3, "480M")):
        (tmp_path / index).mkdir()
        (tmp_path / index / "level").write_text(f"{level}\n")
        (tmp_path / index / "size").write_text(f"{size}\n")
    (tmp_path / "index4").mkdir()  # a level that says no size is left aside
    (tmp_path / "index4" / "level").write_text("4\n")
    cache = bench.last_level_cache_bytes(tmp_path)
    assert cache == 480 << 20
    n = bench.default_samples(cache)
    assert bench.CHANNELS * n * 4 >= 1.25 * cache and bench.CHANNELS * (n - 10**7) * 4 < 1.25 * cache
    assert bench.default_samples(None) == bench.default_samples(32 << 20) == 10**7
    assert bench.last_level_cache_bytes(tmp_path / "absent") is None


@pytest.mark.parametrize("size", ["", "12X", "K"])
def test_a_cache_size_it_cannot_read_is_left_aside(tmp_path, size):
    (tmp_path / "index3").mkdir()
    (tmp_path / "index3" / "level").write_text("3\n")
    (tmp_path / "index3" / "size").write_text(size)
    assert bench.last_level_cache_bytes(tmp_path) is None
