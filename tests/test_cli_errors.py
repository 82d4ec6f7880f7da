"""How the command line reports errors: one clear line for bad input, a traceback for bugs
and under ``--debug``; ``--threads`` on every command; ``--skip-bad`` on unusable spectra."""

import json

import numpy as np
import pytest
import torch

import skspectra.utils
from skspectra.cli import _build_parser, main
from skspectra.io import InputError, load_spectra

COMMANDS = {
    "anomalies": ["anomalies", "nope.fits"],
    "images": ["images", "nope.fits"],
    "score": ["score", "--model", "nope.zip", "nope.npz"],
}


def _error_line(capsys):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("skspectra: error: "), err
    return err


def _spectra(n=40, m=30, seed=0):
    rng = np.random.default_rng(seed)
    flux = 1 + 0.05 * rng.standard_normal((n, m))
    return flux, np.full((n, m), 400.0), 4000.0 + 2.0 * np.arange(m)


# -- messages ------------------------------------------------------------------------------------
def test_a_missing_file_is_named_without_errno(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["anomalies", "nope.fits"]) == 1
    err = _error_line(capsys)
    assert err == "skspectra: error: nope.fits: No such file or directory", err


def test_a_text_file_named_fits_gets_no_astropy_advice(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.fits").write_text("flux,ivar\n1,2\n")
    assert main(["anomalies", "notes.fits"]) == 1
    err = _error_line(capsys)
    assert "notes.fits" in err and "ignore_missing_simple" not in err


def test_images_on_an_npz_says_it_is_not_fits(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.savez(tmp_path / "small.npz", flux=np.ones((3, 5)), ivar=np.ones((3, 5)))
    assert main(["images", "small.npz"]) == 1
    err = _error_line(capsys)
    assert "small.npz" in err and ".npz" in err and "not FITS" in err
    assert "multiple members" not in err


def test_a_1d_npz_names_the_file_and_the_shape(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.savez(tmp_path / "one.npz", flux=np.ones(343), wavelength=4000.0 + np.arange(343))
    assert main(["anomalies", "one.npz"]) == 1
    err = _error_line(capsys)
    for needle in ("got 1", "(1, 343)", "one.npz", "1-D flux array"):
        assert needle in err, (needle, err)


def test_anomalies_help_says_how_spectra_are_ranked(capsys):
    with pytest.raises(SystemExit):
        main(["anomalies", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "by its reconstruction chi-square" not in text
    assert "anomaly_score='combined'" in text and "latent" in text


# -- --debug, and bugs are not bad input -----------------------------------------------------------
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_debug_shows_the_traceback_on_every_command(command, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(COMMANDS[command]) == 1
    _error_line(capsys)
    with pytest.raises((FileNotFoundError, InputError), match="nope"):
        main([*COMMANDS[command], "--debug"])


@pytest.mark.parametrize("error", [ValueError("a bug"), KeyError("a bug"), TypeError("a bug")])
def test_an_internal_error_is_not_reported_as_bad_input(error, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr("skspectra.io.load_spectra", broken)
    np.savez(tmp_path / "a.npz", flux=np.ones((20, 8)))
    with pytest.raises(type(error), match="a bug"):
        main(["anomalies", str(tmp_path / "a.npz")])


def test_a_diverged_training_is_one_line_not_a_traceback(tmp_path, monkeypatch, capsys):
    """Divergence is a property of the data and settings (its message says to lower lr or
    rescale), not a bug: it is reported like bad input."""
    from skspectra.training import TrainingDivergedError

    def diverges(*args, **kwargs):
        raise TrainingDivergedError("training diverged at epoch 1; refit with a lower lr")

    monkeypatch.setattr("skspectra.io.load_spectra", diverges)
    np.savez(tmp_path / "a.npz", flux=np.ones((20, 8)))
    assert main(["anomalies", str(tmp_path / "a.npz")]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "skspectra: error: training diverged at epoch 1; refit with a lower lr"


def test_a_missing_skspectra_module_is_a_bug_not_bad_input(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'skspectra.nothing'", name="skspectra.nothing")

    monkeypatch.setattr("skspectra.io.load_spectra", broken)
    with pytest.raises(ModuleNotFoundError):
        main(["anomalies", str(tmp_path / "a.npz")])


# -- threads ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("given", [None, 3])
def test_every_command_takes_threads(command, given, monkeypatch):
    seen = []

    def record(args):
        seen.append(torch.get_num_threads())
        assert args.threads == seen[-1]  # what run.json records under "arguments"
        return 0

    monkeypatch.setattr("skspectra.utils.default_n_threads", lambda: 2)
    target = {"anomalies": "_anomalies", "images": "_images", "score": "score"}[command]
    monkeypatch.setattr(f"skspectra.cli.{target}", record)
    before = torch.get_num_threads()
    extra = [] if given is None else ["--threads", str(given)]
    assert main([*COMMANDS[command], *extra]) == 0
    assert seen == [given or 2]
    assert torch.get_num_threads() == before  # restored


@pytest.mark.parametrize("cores, expected", [(1, 1), (3, 3), (64, 8)])
def test_default_threads_follow_the_cores_this_process_may_use(cores, expected, monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(cores)), raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 1000)
    monkeypatch.setattr("skspectra.utils._busy_cores", lambda cpus: 0.0)
    assert skspectra.utils.default_n_threads() == expected


@pytest.mark.parametrize(
    "cores, busy, expected", [(2, 1.0, 1), (2, 0.3, 2), (2, 2.0, 1), (4, 1.7, 2), (16, 2.0, 8)]
)
def test_default_threads_leave_out_busy_cores(cores, busy, expected, monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(cores)), raising=False)
    monkeypatch.setattr("skspectra.utils._busy_cores", lambda cpus: busy)
    assert skspectra.utils.default_n_threads() == expected


def test_busy_cores_reads_proc_stat(tmp_path, monkeypatch):
    # cpu0 busy for 90 of 100 ticks, cpu1 for 10 of 100 (idle and iowait are the 4th, 5th)
    readings = iter(
        [
            "cpu  0 0 0 0 0 0 0 0\ncpu0 100 0 0 100 0 0 0 0\ncpu1 100 0 0 100 0 0 0 0\n",
            "cpu  0 0 0 0 0 0 0 0\ncpu0 180 0 10 110 0 0 0 0\ncpu1 105 0 5 180 10 0 0 0\n",
        ]
    )
    stat = tmp_path / "stat"

    def fake_sleep(seconds):
        stat.write_text(next(readings, stat.read_text() if stat.exists() else ""))

    fake_sleep(0)
    monkeypatch.setattr("time.sleep", fake_sleep)
    busy = skspectra.utils.busy_cores([0, 1], stat_path=str(stat))
    assert busy == pytest.approx(0.9 + 0.1)
    assert skspectra.utils.busy_cores([0], stat_path=str(stat)) == 0.0  # no change: no time
    assert skspectra.utils.busy_cores([0, 1], stat_path=str(tmp_path / "none")) == 0.0
    assert skspectra.utils.busy_cores(None) == 0.0


def test_default_threads_without_sched_getaffinity(monkeypatch):
    monkeypatch.delattr("os.sched_getaffinity", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 6)
    assert skspectra.utils.default_n_threads() == 6
    monkeypatch.setattr("os.cpu_count", lambda: None)
    assert skspectra.utils.default_n_threads() == 1


def test_threads_default_is_none_so_it_follows_the_machine():
    parser = _build_parser()
    for argv in COMMANDS.values():
        assert parser.parse_args(argv).threads is None


# -- NaN flux: advice that works ------------------------------------------------------------
def test_nan_advice_for_a_spectrum_with_no_finite_pixel_is_to_drop_it(tmp_path):
    flux, ivar, wave = _spectra()
    flux[5] = np.nan
    np.savez(tmp_path / "a.npz", flux=flux, ivar=ivar, wavelength=wave)
    with pytest.raises(InputError) as info:
        load_spectra(tmp_path / "a.npz")
    message = str(info.value)
    assert "drop the spectrum" in message and "skip-bad" in message
    assert "ivar to 0" not in message and "ivar = 0" not in message


def test_following_the_nan_advice_works(tmp_path):
    flux, ivar, wave = _spectra()
    flux[5, :4] = np.nan
    np.savez(tmp_path / "a.npz", flux=flux, ivar=ivar, wavelength=wave)
    with pytest.raises(InputError, match=r"mask them \(ivar = 0 at those pixels"):
        load_spectra(tmp_path / "a.npz")
    ivar[5, :4] = 0  # as advised
    np.savez(tmp_path / "a.npz", flux=flux, ivar=ivar, wavelength=wave)
    data = load_spectra(tmp_path / "a.npz")
    assert data.flux.shape == (40, 30) and np.all(data.ivar[5, :4] == 0)


# -- --skip-bad on unusable spectra, and run.json --------------------------------------------
def test_skip_bad_skips_unusable_spectra_and_lists_them(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    flux, ivar, wave = _spectra()
    ids = np.array([f"s{i}" for i in range(len(flux))])
    flux[5] = np.nan  # no finite pixel
    flux[9, 2] = np.inf  # infinite at an unmasked pixel
    ivar[12, 10:] = 0  # usable pixels only outside the common grid
    wave_2d = np.tile(wave, (len(flux), 1))
    wave_2d[12, :10] -= 1000  # the other spectra do not reach there
    np.savez(tmp_path / "a.npz", flux=flux, ivar=ivar, wavelength=wave_2d, ids=ids)
    argv = ["anomalies", "a.npz", "--epochs", "1", "--top", "1", "--quiet", "--threads", "1"]
    assert main([*argv, "--out", "plain"]) == 1
    assert "s5" in _error_line(capsys)
    assert main([*argv, "--out", "rep", "--skip-bad"]) == 0, capsys.readouterr().err
    run = json.loads((tmp_path / "rep" / "run.json").read_text())
    skipped = {s["id"]: s for s in run["skipped_spectra"]}
    assert set(skipped) == {"s5", "s9", "s12"}
    assert "all its 30 unmasked pixels" in skipped["s5"]["reason"]
    assert "infinite flux at 1 pixels" in skipped["s9"]["reason"]
    assert "no usable pixel on the common wavelength grid" in skipped["s12"]["reason"]
    assert skipped["s9"]["file"].endswith("a.npz") and skipped["s9"]["row"] == 9
    assert run["data"]["n_spectra"] == 37 and run["skipped_files"] == []
    # the checkpoint callback is described so that it can be rebuilt, not as a repr
    text = (tmp_path / "rep" / "run.json").read_text()
    assert "object at 0x" not in text
    ((name, checkpoint),) = run["model"]["callbacks"]
    assert checkpoint["class"] == "skspectra.training.TrainingCheckpoint"
    assert checkpoint["params"]["every"] == 1 and checkpoint["params"]["dirname"].endswith(
        "checkpoint"
    )
