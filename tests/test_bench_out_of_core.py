"""The out-of-core benchmark: its table shows the bound (chunked steps vs the whole file read
into memory), and, run small, its children report memory and throughput."""

import json

import pytest

from benchmarks import bench_out_of_core, check_interface


def _sd(mean, sd=0.0):
    return {"mean": mean, "sd": sd, "n": 3}


def test_table_puts_the_chunked_steps_beside_the_whole_file():
    check_interface(bench_out_of_core)
    summary = {
        "data_mb": 1372.0,
        "peak_rss_mb/floor": _sd(400.0),
        "peak_rss_mb/in memory": 1775.0,
        "floor_mb/in memory": 401.0,
        "peak_rss_mb/fit_in_chunks": _sd(650.0, 2.0),
        "spectra_per_s/fit_in_chunks": _sd(2000.0, 100.0),
        "peak_rss_mb/score_in_chunks": _sd(700.0, 2.0),
        "spectra_per_s/score_in_chunks": _sd(20000.0, 1000.0),
        "flagged_fraction": _sd(0.0125, 0.001),
    }
    sizes = {"n_spectra": 1_000_000, "chunk": 10_000, "n_train": 30_000, "threads": 2}
    table = bench_out_of_core.tables({"result": {"summary": summary, "sizes": sizes}})["summary"]
    assert [r[0] for r in table["rows"]] == [
        "floor: imports, open the file, build the model",
        "read all 1,000,000 spectra into memory (one run)",
        "fit_in_chunks, 30,000 spectra, chunks of 10,000",
        "then score_in_chunks, all 1,000,000, chunks of 10,000",
    ]
    assert [r[3] for r in table["rows"]] == ["–", "1374", "250", "300"]
    assert "1,000,000 spectra × 343 pixels, float32, 1372 MB of data" in table["caption"]
    assert "2 torch thread(s)" in table["caption"]


@pytest.mark.slow
def test_small_run_reports_every_step():
    result = bench_out_of_core.measure(n=3_000, chunk=1_000, train_chunks=2, threads=1)
    json.dumps(result)  # JSON-able, as the runner writes it
    s = result["summary"]
    assert s["data_mb"] == pytest.approx(3_000 * 343 * 4 / 1e6)
    for seed in bench_out_of_core.REPORT_SEEDS:
        run = result["per_seed"][str(seed)]
        assert run["fit_in_chunks"]["n"] == 2_000 and run["score_in_chunks"]["n"] == 3_000
        # the high-water mark only grows: floor <= after training <= after scoring
        rss = [run[k]["peak_rss_mb"] for k in ("floor", "fit_in_chunks", "score_in_chunks")]
        assert 0 < rss[0] <= rss[1] <= rss[2]
    assert 0 <= s["flagged_fraction"]["mean"] <= 0.1
    assert len(bench_out_of_core.tables({"result": result})["summary"]["rows"]) == 4
