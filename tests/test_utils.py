from skspectra.utils import unique_path


def test_unique_path_never_returns_existing(tmp_path):
    target = tmp_path / "model.joblib"
    assert unique_path(target) == target
    target.write_text("x")
    assert unique_path(target) == tmp_path / "model-1.joblib"
    (tmp_path / "model-1.joblib").write_text("y")
    assert unique_path(target) == tmp_path / "model-2.joblib"
    (tmp_path / "run").mkdir()
    assert unique_path(tmp_path / "run") == tmp_path / "run-1"
    assert target.read_text() == "x"
