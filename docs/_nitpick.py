"""Cross-references for the nitpicky build (``nitpicky = True`` in conf.py).

The build has no intersphinx (it cannot reach the internet), so references to other
projects cannot resolve; ``NITPICK_IGNORE_REGEX`` lists those projects. References to our
own objects must resolve: :func:`resolve_reexport` lets a docstring name an object by any
module that exports it (``skspectra.lines.GaussianLineFitter``, or ``GaussianLineFitter``
inside ``skspectra.lines.real``) and links it to the one place it is documented
(``skspectra.GaussianLineFitter``). A reference to an object of ours that exists but is
not in the API reference (a private helper named in a See Also) is shown as code, without a
link; a name that does not exist at all still fails the build.
"""

import importlib
import sys

#: Other projects' objects, named in our docstrings or in docstrings we inherit from them.
NITPICK_IGNORE_REGEX = [
    (
        r"py:.*",
        r"(sklearn|torch|skorch|scipy|numpy|np|astropy|matplotlib|pandas|pd|optuna|"
        r"optuna_integration|skimage|dask|pickle|importlib|threadpoolctl|speclite|galsim|"
        r"joblib|safetensors|accelerate|pyarrow|h5py)(\..+)?",
    ),
    # torch.nn.Module.forward's docstring, which autodoc shows for our modules' forward
    ("py:class", "Module"),
    # skorch.NeuralNet.load_params's docstring, inherited by skspectra.training's net
    ("py:class", "Checkpoint"),
    # scikit-learn's user-guide label, in the Pipeline methods SpectralPipeline inherits
    ("ref", "metadata_routing"),
]


def _import(name):
    """The object a dotted name points to, or None."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _documented_names(env):
    """id(object) -> the name under which it is documented, built once per build."""
    cache = getattr(env, "_skspectra_documented", None)
    if cache is None:
        cache = {}
        for name in env.get_domain("py").objects:
            if name.startswith("skspectra"):
                obj = _import(name)
                if obj is not None:
                    cache.setdefault(id(obj), name)
        env._skspectra_documented = cache
    return cache


def resolve_reexport(app, env, node, contnode):
    """``missing-reference`` handler: link an object of ours named by another path."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    module = node.get("py:module") or ""
    candidates = [target] if target.startswith("skspectra") else []
    candidates += [f"{module}.{target}"] if module else []
    if "." not in target:  # a bare name, as in a See Also: any module of ours that has it
        candidates += sorted(
            f"{name}.{target}"
            for name, mod in list(sys.modules.items())
            if name.startswith("skspectra") and hasattr(mod, target)
        )
    for candidate in candidates:
        obj = _import(candidate)
        if obj is None or isinstance(obj, str | int | float):
            continue
        name = _documented_names(env).get(id(obj))
        if name is not None and name != candidate:
            return env.get_domain("py").resolve_xref(
                env, node["refdoc"], app.builder, node["reftype"], name, node, contnode
            )
        if name is None and getattr(obj, "__module__", "").startswith("skspectra"):
            return contnode  # ours, real, but not in the API reference: code, no link
    return None
