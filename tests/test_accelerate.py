"""Training through accelerate: 2 CPU processes with the gloo backend, launched by
``accelerate launch``, as on a multi-GPU node."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import skspectra

pytest.importorskip("accelerate")

SCRIPT = """
import json, pickle, sys
import numpy as np, torch
from accelerate import Accelerator
from skspectra import SpectralCAE
from skspectra.parallel import accelerated

torch.set_num_threads(1)
out = sys.argv[1]
accelerator = Accelerator(cpu=True)
rng = np.random.default_rng(0)
x = np.linspace(-1, 1, 64)
flux = 1 + rng.uniform(-0.3, 0.3, (96, 1)) * x + rng.normal(0, 0.01, (96, 64))
with accelerated(accelerator):
    model = SpectralCAE(n_components=3, n_filters=2, depth=1, max_epochs=2,
                        random_state=0).fit(flux)
weights = torch.cat([p.detach().flatten() for p in model.net_.module_.parameters()])
info = {
    "rank": accelerator.process_index,
    "world_size": accelerator.num_processes,
    "distributed_type": accelerator.distributed_type.name,
    "backend": str(accelerator.state.backend),
    "net_class": type(model.net_).__name__,
    "weights": weights.double().tolist(),
    "scores_finite": bool(np.isfinite(model.score_samples(flux)).all()),
    "pickles": len(pickle.dumps(model)) > 0,
}
with open(f"{out}/rank{accelerator.process_index}.json", "w") as fh:
    json.dump(info, fh)
"""


@pytest.mark.slow  # accelerate launch of 2 processes
def test_two_cpu_processes_with_gloo(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(Path(skspectra.__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]
        ),
        "OMP_NUM_THREADS": "1",
    }
    cmd = [
        sys.executable, "-m", "accelerate.commands.launch",
        "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "0",
        str(script), str(tmp_path),
    ]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    for info in ranks:
        assert info["world_size"] == 2
        assert info["distributed_type"] == "MULTI_CPU"
        assert info["backend"] == "gloo"
        assert info["net_class"] == "TrainingNet"  # the accelerator is gone after fit
        assert info["scores_finite"] and info["pickles"]
    # DistributedDataParallel averages the gradients: both processes end with the same weights
    # (any machine: one all-reduced gradient is applied by both)
    np.testing.assert_array_equal(ranks[0]["weights"], ranks[1]["weights"])


def test_accelerated_refuses_other_objects():
    from skspectra.parallel import accelerated

    with pytest.raises(TypeError, match="accelerate.Accelerator"):
        with accelerated("cuda"):
            pass
