"""Model files that never run code when loaded: :func:`save_model` and :func:`load_model`.

A joblib or pickle file is a program: ``joblib.load`` / ``pickle.load`` run whatever the file
tells them to, so such a file must only ever come from a trusted source. A skspectra model file
holds data only, and loading it runs no code from the file:

- ``model.json``: the estimator tree (class names, hyper-parameters and fitted attributes), in
  plain JSON;
- ``arrays/N.npy``: every numpy array, read back with ``np.load(..., allow_pickle=False)``;
- ``weights/N.safetensors``: the weights of every trained network (a :mod:`safetensors` file).

All three sit in one zip archive, so ``unzip -l model.zip`` and ``unzip -p model.zip
model.json`` show what is in a file before anyone loads it.

Classes are looked up by name, and only classes of scikit-learn, skspectra and skorch's
callbacks (plus a short list of types) are accepted. Objects are rebuilt without calling their
``__init__``: their attributes are set, and the pieces that are not plain data are rebuilt from
stored arrays (a network from its weights, a neighbours tree from its training points, a
decision tree from its node table).
"""

import importlib
import io
import json
import os
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np

from ._errors import InputError

__all__ = ["FORMAT", "FORMAT_VERSION", "load_model", "save_model"]

#: Written into ``model.json`` as ``"format"``; :func:`load_model` refuses other files.
FORMAT = "skspectra-model"
#: Version of the layout of ``model.json``; bumped when it changes incompatibly.
FORMAT_VERSION = 1

#: Packages whose classes a model file may name; each must be an estimator or a skorch callback.
_CLASS_ROOTS = ("sklearn", "skspectra", "skorch")
#: Packages whose types may appear as parameter values (dtypes, LR-scheduler policies).
_TYPE_ROOTS = ("builtins", "numpy", "torch.optim", "skorch", "sklearn", "skspectra")
#: Callables that may appear as parameter values (skorch's ``EarlyStopping(sink=print)``).
_FUNCTIONS = {"builtins:print"}
#: Cython classes rebuilt from ``__reduce__``'s (class, args, state): sklearn's decision trees.
_REDUCE_CLASSES = {"sklearn.tree._tree:Tree"}


def _name(obj):
    return f"{getattr(obj, '__module__', None)}:{getattr(obj, '__qualname__', None)}"


def _import(name):
    """The object that ``"module:qualname"`` names, which must be defined there (not merely
    imported there: ``sklearn.x:os.system`` is refused). The caller checks the package."""
    module, _, qualname = name.partition(":")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if _name(obj) != name:
        raise InputError(f"the model file names {name!r}, which is {_name(obj)!r}; refusing it.")
    return obj


def _root(name):
    return name.split(":", 1)[0].split(".", 1)[0]


def _allowed_class(name):
    """The class ``name``, if a model file may instantiate it; else ValueError."""
    root = _root(name)
    if name in _REDUCE_CLASSES:
        return _import(name)
    if root not in _CLASS_ROOTS:
        raise InputError(
            f"the model file names class {name!r}, outside scikit-learn, skspectra and skorch; "
            "refusing to load it."
        )
    from sklearn.base import BaseEstimator
    from skorch.callbacks import Callback

    cls = _import(name)
    if not (isinstance(cls, type) and issubclass(cls, BaseEstimator | Callback)):
        raise InputError(f"the model file names {name!r}, which is not an estimator; refusing it.")
    return cls


# -- writing ------------------------------------------------------------------------------------
class _Writer:
    """Turns an object tree into JSON nodes, collecting arrays and weights as zip members."""

    def __init__(self):
        self.members = {}

    def _member(self, folder, suffix, data):
        name = f"{folder}/{len(self.members)}.{suffix}"
        self.members[name] = data
        return name

    def array(self, a):
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(a), allow_pickle=False)
        return self._member("arrays", "npy", buf.getvalue())

    def tensors(self, state):
        from safetensors.torch import save

        tensors = {k: v.detach().cpu().contiguous().clone() for k, v in state.items()}
        return self._member("weights", "safetensors", save(tensors))

    def node(self, value, where):  # noqa: C901, PLR0911, PLR0912 (one branch per kind of value)
        import torch
        from sklearn.base import BaseEstimator
        from skorch.callbacks import Callback
        from skorch.history import History

        if value is None or isinstance(value, bool | str):
            return value
        if isinstance(value, np.generic):
            return {"!": "scalar", "dtype": value.dtype.str, "value": value.item()}
        if isinstance(value, int | float):
            return value
        if isinstance(value, np.ndarray):
            if value.dtype.hasobject:
                items = [self.node(v, f"{where}[{i}]") for i, v in enumerate(value.ravel())]
                return {"!": "object_array", "shape": list(value.shape), "items": items}
            return {"!": "ndarray", "file": self.array(value)}
        if isinstance(value, torch.Tensor):
            return {"!": "tensor", "file": self.tensors({"t": value})}
        if isinstance(value, History):
            return {"!": "history", "items": self.node(list(value), where)}
        if isinstance(value, list):
            return [self.node(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, tuple):
            return {
                "!": "tuple",
                "items": [self.node(v, f"{where}[{i}]") for i, v in enumerate(value)],
            }
        if isinstance(value, dict):
            if all(isinstance(k, str) for k in value):
                return {
                    "!": "dict",
                    "map": {k: self.node(v, f"{where}[{k!r}]") for k, v in value.items()},
                }
            items = [
                [self.node(k, where), self.node(v, f"{where}[{k!r}]")] for k, v in value.items()
            ]
            return {"!": "dict", "items": items}
        if isinstance(value, type) and _root(_name(value)) in _TYPE_ROOTS:
            return {"!": "type", "name": _name(value)}
        if isinstance(value, np.dtype) and not value.fields:
            return {"!": "dtype", "str": value.str}
        if isinstance(value, np.random.RandomState):
            return {"!": "random_state", "state": self.node(value.get_state(), where)}
        if callable(value) and getattr(value, "__module__", None) is not None:
            if not isinstance(value, type) and _name(value) in _FUNCTIONS:
                return {"!": "function", "name": _name(value)}
        if isinstance(value, BaseEstimator | Callback):
            return self.estimator(value, where)
        if _name(type(value)) in _REDUCE_CLASSES:
            cls, args, state = value.__reduce__()
            return {
                "!": "reduce",
                "class": _name(cls),
                "args": self.node(args, where),
                "state": self.node(state, where),
            }
        raise TypeError(
            f"cannot save {where}: values of type {type(value).__module__}."
            f"{type(value).__qualname__} are not supported by skspectra model files "
            "(numbers, strings, arrays, lists, dicts, scikit-learn/skspectra estimators and "
            "skorch callbacks are)."
        )

    def estimator(self, est, where):
        from ..base import NeuralEstimatorMixin

        state = dict(vars(est))
        net = state.pop("net_", None) if isinstance(est, NeuralEstimatorMixin) else None
        if _is_neighbors(est):
            state.pop("_tree", None)  # rebuilt from _fit_X on loading
        encoded = {}
        for key, value in state.items():
            try:
                encoded[key] = self.node(value, f"{where}.{key}")
            except TypeError:
                if key != "callbacks":
                    raise
                warnings.warn(
                    f"{where}.callbacks cannot be saved (a callback holds a function or an "
                    "object skspectra model files do not store); the model is saved with "
                    "callbacks=None. They only act during training.",
                    UserWarning,
                    stacklevel=4,
                )
                encoded[key] = None
        out = {"!": "object", "class": _name(type(est)), "state": encoded}
        if net is not None:
            out["net"] = self.net(est, net)
        return out

    def net(self, est, net):
        """The trained module's weights, and what rebuilds the module around them."""
        module = net.module_
        # Data-dependent layers (the PCA-initialised linear paths of SpectralCAE and
        # SpectralVAE) exist only when _build_module is given arrays: store their shapes.
        rebuild = getattr(est, "_module_rebuild_kwargs", None)
        kwargs = {k: _shapes(v) for k, v in (rebuild(module) if rebuild else {}).items()}
        criterion = getattr(net, "criterion_", None)
        state = {f"module.{k}": v for k, v in module.state_dict().items()}
        if isinstance(criterion, __import__("torch").nn.Module):
            state.update({f"criterion.{k}": v for k, v in criterion.state_dict().items()})
        return {
            "weights": self.tensors(state) if state else None,
            "n_features": int(getattr(est, "n_features_in_", 0)),
            "module_kwargs": kwargs,
        }


def _shapes(value):
    """JSON for a data-dependent ``_build_module`` argument: the shapes of its arrays."""
    if isinstance(value, tuple):
        return {"zeros_each": [None if v is None else list(np.shape(v)) for v in value]}
    return {"zeros": list(np.shape(value))}


def _zeros(spec):
    """Placeholder arrays of the stored shapes; the saved weights then overwrite them."""
    if "zeros_each" in spec:
        return tuple(
            None if shape is None else np.zeros(shape, dtype=np.float32)
            for shape in spec["zeros_each"]
        )
    return np.zeros(spec["zeros"], dtype=np.float32)


def _is_neighbors(est):
    from sklearn.neighbors._base import NeighborsBase

    return isinstance(est, NeighborsBase)


def save_model(estimator, path, *, metadata=None, overwrite=False):
    """Save a fitted (or unfitted) estimator to a file that loads without running code.

    Parameters
    ----------
    estimator : estimator
        A skspectra estimator, a scikit-learn estimator or :class:`~sklearn.pipeline.Pipeline`,
        or a tree of them (``ImageToSpectrum(PCA(), RandomForestRegressor())``...).
    path : str or pathlib.Path
        File to write: a zip archive (see the module docstring), for example ``model.zip``.
    metadata : dict, default=None
        What else a user of the model needs, stored beside it and returned by
        ``load_model(path, return_metadata=True)``: for ``skspectra anomalies`` the training
        wavelength grid (``"wavelength"``, Å) and the normalisation (``"normalize"``), which
        ``skspectra score`` applies to new spectra. Values as for the estimator's attributes
        (numbers, strings, arrays, lists, dicts with string keys).
    overwrite : bool, default=False
        Whether to replace an existing file.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    TypeError
        If an attribute holds a value the format cannot store (a function, a pandas object,
        a custom class), naming the attribute.

    See Also
    --------
    load_model : Read the file back.

    Notes
    -----
    Unlike ``joblib.dump`` / ``pickle``, whose files run code when they are loaded (so they
    must only be loaded from a trusted source), these files hold only JSON, ``.npy`` arrays
    without pickled objects and safetensors weights. The optimizer's state and the training
    callbacks' state are not saved: a loaded model predicts, transforms and scores exactly as
    the saved one did; calling ``fit`` retrains it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from skspectra.io import load_model, save_model
    >>> X = np.random.default_rng(0).normal(size=(50, 8))
    >>> pca = PCA(n_components=2).fit(X)
    >>> path = save_model(pca, pathlib.Path(tempfile.mkdtemp()) / "pca.zip")
    >>> bool(np.array_equal(load_model(path).transform(X), pca.transform(X)))
    True
    """
    import sklearn
    import torch

    from .. import __version__

    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; choose another name or pass overwrite=True.")
    writer = _Writer()
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": {
            "skspectra": __version__,
            "scikit-learn": sklearn.__version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
        },
        "estimator": writer.node(estimator, type(estimator).__name__),
        "metadata": writer.node(dict(metadata or {}), "metadata"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("model.json", json.dumps(header, indent=1))
            for name, data in writer.members.items():
                zf.writestr(name, data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


# -- reading ------------------------------------------------------------------------------------
class _Reader:
    def __init__(self, zf, device):
        self.zf = zf
        self.device = device
        self.cpu_fallback = []

    def read(self, name):
        try:
            return self.zf.read(name)
        except KeyError as exc:
            raise InputError(f"the model file lacks its member {name!r}; it is damaged.") from exc

    def array(self, name):
        return np.load(io.BytesIO(self.read(name)), allow_pickle=False)

    def tensors(self, name):
        from safetensors.torch import load

        return load(self.read(name))

    def node(self, node):  # noqa: C901, PLR0911 (one branch per kind of node)
        if node is None or isinstance(node, bool | int | float | str):
            return node
        if isinstance(node, list):
            return [self.node(v) for v in node]
        if not isinstance(node, dict) or "!" not in node:
            raise InputError("the model file's model.json has an unknown entry; it is damaged.")
        kind = node["!"]
        if kind == "scalar":
            return np.dtype(node["dtype"]).type(node["value"])
        if kind == "ndarray":
            return self.array(node["file"])
        if kind == "object_array":
            out = np.empty(len(node["items"]), dtype=object)
            out[:] = [self.node(v) for v in node["items"]]
            return out.reshape(node["shape"])
        if kind == "tensor":
            return self.tensors(node["file"])["t"]
        if kind == "history":
            from skorch.history import History

            return History(self.node(node["items"]))
        if kind == "tuple":
            return tuple(self.node(v) for v in node["items"])
        if kind == "dict":
            if "map" in node:
                return {k: self.node(v) for k, v in node["map"].items()}
            return {self.node(k): self.node(v) for k, v in node["items"]}
        if kind == "type":
            if _root(node["name"]) not in _TYPE_ROOTS:
                raise InputError(f"the model file names type {node['name']!r}; refusing it.")
            obj = _import(node["name"])
            if not isinstance(obj, type):
                raise InputError(f"{node['name']!r} is not a type; refusing the model file.")
            return obj
        if kind == "dtype":
            return np.dtype(node["str"])
        if kind == "random_state":
            rng = np.random.RandomState()
            rng.set_state(self.node(node["state"]))
            return rng
        if kind == "function":
            if node["name"] not in _FUNCTIONS:
                raise InputError(f"the model file names function {node['name']!r}; refusing it.")
            return _import(node["name"])
        if kind == "reduce":
            if node["class"] not in _REDUCE_CLASSES:
                raise InputError(f"the model file names class {node['class']!r}; refusing it.")
            obj = _import(node["class"])(*self.node(node["args"]))
            obj.__setstate__(self.node(node["state"]))
            return obj
        if kind == "object":
            return self.estimator(node)
        raise InputError(f"the model file has an entry of unknown kind {kind!r}; it is damaged.")

    def estimator(self, node):
        cls = _allowed_class(node["class"])
        obj = cls.__new__(cls)
        state = node["state"]
        obj.__dict__.update({k: self.node(v) for k, v in state.items()})
        if _is_neighbors(obj) and hasattr(obj, "_fit_X"):
            _rebuild_neighbors_tree(obj)
        if "net" in node:
            self.net(obj, node["net"])
        return obj

    def net(self, est, node):
        """Rebuild ``est.net_``: the module from ``_build_module``, then the saved weights."""
        import torch
        from skorch import NeuralNet

        device = self.device or est.device
        if device.startswith("cuda") and not torch.cuda.is_available():
            self.cpu_fallback.append(type(est).__name__)
            device = "cpu"
        est.device = device
        kwargs = {k: _zeros(v) for k, v in node["module_kwargs"].items()}
        state = self.tensors(node["weights"]) if node["weights"] else {}
        with torch.random.fork_rng(devices=[]):  # building a module draws weights: keep the
            torch.manual_seed(0)  # caller's global RNG untouched
            module = est._build_module(node["n_features"], **kwargs)
            net = NeuralNet(
                module=module,
                criterion=est._build_criterion(),
                optimizer=torch.optim.Adam,
                lr=est.lr,
                max_epochs=est.max_epochs,
                batch_size=est.batch_size,
                train_split=None,
                device=device,
                verbose=int(est.verbose or 0),
                iterator_train__shuffle=True,
                **est._net_kwargs(),
            ).initialize()
        for prefix, part in (("module.", net.module_), ("criterion.", net.criterion_)):
            sub = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
            if isinstance(part, torch.nn.Module) and (sub or prefix == "module."):
                try:
                    part.load_state_dict(sub, strict=True)
                except RuntimeError as exc:
                    raise InputError(
                        f"the saved weights do not fit {type(est).__name__}'s network "
                        f"({str(exc).splitlines()[0]}); was the file written by another "
                        "skspectra version?"
                    ) from exc
        net.history = getattr(est, "history_", net.history)
        est.net_ = net
        est.history_ = net.history


def _rebuild_neighbors_tree(nn):
    """``_tree`` of a fitted sklearn neighbours estimator, rebuilt from ``_fit_X`` as ``fit``
    builds it (deterministic)."""
    from sklearn.neighbors import BallTree, KDTree

    trees = {"kd_tree": KDTree, "ball_tree": BallTree}
    if nn._fit_method in trees:
        nn._tree = trees[nn._fit_method](
            nn._fit_X, nn.leaf_size, metric=nn.effective_metric_, **nn.effective_metric_params_
        )
    else:
        nn._tree = None


def load_model(path, *, device=None, return_metadata=False):
    """Load a model written by :func:`save_model`; no code stored in the file is run.

    Parameters
    ----------
    path : str or pathlib.Path
        A file written by :func:`save_model`.
    device : str, default=None
        PyTorch device for the networks, for example ``'cpu'``. ``None`` keeps the device the
        model was saved with, or falls back to ``'cpu'`` (with a warning) when that is a CUDA
        device and this machine has none. The estimators' ``device`` parameter is set to it.
    return_metadata : bool, default=False
        Also return the ``metadata`` dict given to :func:`save_model`.

    Returns
    -------
    estimator : estimator
        The saved estimator, whose ``predict`` / ``transform`` / ``score_samples`` give what
        the saved one gave.
    metadata : dict
        Only with ``return_metadata=True``.

    Raises
    ------
    InputError
        If the file is not a skspectra model file (a joblib or pickle file is refused, not
        loaded), is damaged, names a class outside scikit-learn / skspectra / skorch's
        callbacks, or holds pickled objects in an array.
    FileNotFoundError
        If ``path`` does not exist.

    See Also
    --------
    save_model : Write such a file.

    Notes
    -----
    Never load a joblib or pickle file you did not make yourself: loading one runs any code
    its author put in it. This function only reads JSON, ``.npy`` arrays (with
    ``allow_pickle=False``) and safetensors weights, imports classes by name from
    scikit-learn, skspectra and skorch only, and sets their attributes without calling their
    constructors.
    """
    import sklearn

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"model file {path} does not exist.")
    if not zipfile.is_zipfile(path):
        raise InputError(
            f"{path} is not a skspectra model file (a zip archive written by "
            "skspectra.io.save_model). joblib/pickle files are not loaded: loading them runs "
            "code. If you trust its source, load it with joblib.load and save it again with "
            "save_model."
        )
    with zipfile.ZipFile(path) as zf:
        reader = _Reader(zf, device)
        try:
            header = json.loads(reader.read("model.json"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(
                f"{path} is a zip archive but not a skspectra model file ({exc})."
            ) from exc
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise InputError(f"{path} is a zip archive but not a skspectra model file.")
        if header.get("format_version") != FORMAT_VERSION:
            raise InputError(
                f"{path} has model-file version {header.get('format_version')}; this skspectra "
                f"reads version {FORMAT_VERSION}. Upgrade skspectra."
            )
        saved = header.get("versions", {}).get("scikit-learn")
        if saved != sklearn.__version__:
            warnings.warn(
                f"{path} was saved with scikit-learn {saved}, this is {sklearn.__version__}; "
                "fitted scikit-learn objects may behave differently.",
                UserWarning,
                stacklevel=2,
            )
        try:
            estimator = reader.node(header["estimator"])
            metadata = reader.node(header.get("metadata", {"!": "dict", "map": {}}))
        except (KeyError, TypeError, AttributeError, ImportError) as exc:
            raise InputError(f"{path} is damaged or from another version ({exc!r}).") from exc
    if reader.cpu_fallback:
        warnings.warn(
            f"{path} was saved for a CUDA device, which this machine lacks; loaded on 'cpu' "
            f"({', '.join(reader.cpu_fallback)}).",
            UserWarning,
            stacklevel=2,
        )
    return (estimator, metadata) if return_metadata else estimator
