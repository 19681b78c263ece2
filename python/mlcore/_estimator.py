"""What every mlcore estimator shares on the Python side.

An estimator is a scikit-learn estimator (parameters in ``__init__``, fitted attributes ending
in ``_``) whose work is done by a C++ model object (``self._model``, a class bound in
``mlcore._core``). This mixin provides:

* ``backend`` handling: a name or an :class:`mlcore.Backend`, resolved at fit time;
* ``profile_``: the hardware records of the last fit / predict / transform call. It is read
  from the C++ model (which keeps its last call's records), so predicting does not change the
  estimator's ``__dict__`` — scikit-learn's checks require that;
* atomic fits: ``fit`` works on a copy of the estimator and the result replaces the estimator's
  state in one step when it succeeds. A fit that fails or is interrupted (Ctrl-C) leaves the
  previous model as it was, and another thread reading the estimator meanwhile sees the old
  model or the new one, never a half-fitted mixture or "not fitted" in between;
* fitted attributes are the model: the public parameter arrays that the C++ model names in
  ``fitted_array_names()`` (``coef_`` for ``"coef"``, ``dual_coef_``, ``cluster_centers_``, ...)
  are compared with the model's own before every predict / transform, and an edited one (written
  in place, ``m.coef_[:] = 0``, or replaced, ``m.coef_ = w``) is copied into the model first, as
  scikit-learn, whose predict reads ``coef_`` itself, would use it. One rule, in
  ``_model_for_call``, for every estimator; the comparison costs one copy of the parameters per
  call, small beside the call's product with X;
* dtype: the attributes a subclass lists in ``_dtype_follows_X`` are float32 after a fit on
  float32 X and float64 otherwise, as scikit-learn's are (the C++ model computes in float32
  either way);
* pickling: the C++ model is saved with its versioned binary format (the same bytes as the C++
  ``save``), and rebuilt on the estimator's backend when unpickled. Damaged bytes raise
  ValueError (the format checks a checksum). A model pickled on a backend this machine lacks
  (a GPU model opened on a laptop) still unpickles: it is held on the scalar backend, every call
  raises the RuntimeError that says why the original backend cannot run, and
  ``set_params(backend=...)`` moves it to one that can.

Defaults are written once, in the C++ options structs: each bound class carries them as
``_core.<Name>.defaults`` (a dict; python/src/bindings.hpp, ``set_defaults``), and the estimators'
``__init__`` signatures read their defaults from it (``tol=_K_MEANS_DEFAULTS["tol"]``).
Parameters that exist only on the Python side, or whose Python default is a ``None`` that the
binding turns into a sentinel, keep their default in the signature.

Subclasses set ``_core_class`` to the bound C++ class, which must provide ``save_bytes()``,
``load_bytes(bytes, backend)`` (static), ``profile()`` and ``set_backend(backend)``.
"""

from __future__ import annotations

import functools

import numpy as np
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from ._backends import resolve
from ._sparse import ACCEPT_SPARSE
from ._validation import float_dtype_of
from .profile import Profile


class MLCoreEstimatorMixin:
    """Mixin for estimators backed by a C++ model in ``self._model``."""

    _core_class = None
    # Fitted attributes that scikit-learn's estimator keeps in X's float dtype (float32 X →
    # float32 attributes); the others stay float64 as scikit-learn's do.
    _dtype_follows_X = ()
    # Whether fit / predict take scipy.sparse X (mlcore/_sparse.py): the estimators whose work is
    # a product with X set it, and then tag themselves as sparse-capable for scikit-learn.
    _accept_sparse = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # fit_transform fits too (PCA's does its own); partial_fit changes the fitted state
        for name in ("fit", "fit_transform", "partial_fit"):
            if name in cls.__dict__:
                setattr(cls, name, _atomic_fit(cls.__dict__[name]))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = self._accept_sparse
        return tags

    def _core_backend(self):
        """The C++ backend instance for ``self.backend`` (ValueError / RuntimeError if not)."""
        return resolve(self.backend)

    @property
    def profile_(self) -> Profile:
        """The records of the last fit / predict / transform call (a list of dicts)."""
        model = self.__dict__.get("_model")
        if model is None:
            raise AttributeError(f"{type(self).__name__} has no profile_ before fit")
        return Profile(model.profile())

    def _query_X(self, X):
        """X for predict / transform / decision_function: fitted, float32, C order, n_features_in_.

        NaN and infinity are left to the C++ core, which checks every X it is given with a
        vectorised scan and raises ValueError naming the first bad entry. Checking here as well
        would read the data twice: for a linear model's predict the second scan of X costs more
        than the product itself (200 000 × 100: ~9 ms against a ~5 ms gemv).
        """
        check_is_fitted(self, "_model")
        return validate_data(
            self,
            X,
            accept_sparse=ACCEPT_SPARSE[0] if self._accept_sparse else False,
            dtype=np.float32,
            order="C",
            reset=False,
            ensure_all_finite=False,
        )

    @available_if(lambda self: hasattr(self, "predict_proba"))
    def predict_log_proba(self, X):
        """log(predict_proba(X)), -inf where a probability is 0 (as scikit-learn's trees,
        forests and kNN compute it). Estimators with a stabler form (log-softmax) override it."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def _model_for_call(self):
        """The fitted C++ model, switched to ``self.backend`` if it was changed after fit, and
        holding the current values of the public parameter arrays (see the module docstring)."""
        model = self._model
        model.set_backend(self._core_backend())
        for name in model.fitted_array_names():
            public = self.__dict__.get(name + "_")
            if public is None:
                continue
            held = getattr(model, name)
            if hasattr(public, "toarray"):  # a scipy.sparse coef_ (sparsify())
                public = public.toarray()
            edited = np.asarray(public, dtype=np.float32)
            if edited.size != held.size:
                raise ValueError(
                    f"{type(self).__name__}.{name}_ has shape {np.shape(public)}, "
                    f"but the fitted model's has {held.size} values (shape "
                    f"{held.shape}); assign an array of the fitted shape"
                )
            edited = edited.reshape(held.shape)
            if not np.array_equal(edited, held, equal_nan=True):
                model.set_fitted_array(name, np.ascontiguousarray(edited))
        return model

    def __getstate__(self):
        state = self.__dict__.copy()
        model = state.pop("_model", None)
        if model is not None:
            state["_model_bytes"] = model.save_bytes()
        return state

    def __setstate__(self, state):
        state = dict(state)
        model_bytes = state.pop("_model_bytes", None)
        self.__dict__.update(state)
        if model_bytes is not None:
            try:
                backend = self._core_backend()
            except RuntimeError:  # the hardware is missing here; calls will say so
                backend = resolve("scalar")
            self._model = self._core_class.load_bytes(model_bytes, backend)


class MissingValuesTags:
    """scikit-learn tags of the tree-based estimators: NaN in X is a missing value (each split
    learns its side), not an error."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


def _atomic_fit(fit):
    """``fit`` run on a shallow copy of the estimator, whose state replaces the original's only
    when it returns. Swapping ``__dict__`` is one attribute store, so it is atomic for other
    Python threads. (The copy starts from the current state, so a refit keeps what a plain
    scikit-learn refit keeps.)"""

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        staging = object.__new__(type(self))  # not copy.copy: __getstate__ would save the model
        staging.__dict__.update(self.__dict__)
        result = fit(staging, *args, **kwargs)
        _cast_fitted(staging, float_dtype_of(args[0] if args else kwargs.get("X")))
        self.__dict__ = staging.__dict__
        return self if result is staging else result

    return wrapper


def _cast_fitted(estimator, dtype):
    """Gives the fitted attributes listed in ``_dtype_follows_X`` the dtype ``dtype``."""
    state = estimator.__dict__
    for name in type(estimator)._dtype_follows_X:
        value = state.get(name)
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            state[name] = value.astype(dtype, copy=False)
        elif isinstance(value, (float, np.floating)):
            state[name] = np.dtype(dtype).type(value)
