"""Validation at the public boundary: convert once, fail with a message that names the problem.

Every public function of gnetlab calls these helpers on its inputs. Messages name the argument, what
was expected and what was received, and where there is an obvious fix they say it. Nothing is silently
coerced: a float array where integers are required, or NaN where finite values are required, raises.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

__all__ = [
    "as_array",
    "check_finite",
    "check_ndim",
    "check_positive_int",
    "check_choice",
    "check_real",
    "check_seed",
    "check_sequence",
    "check_index",
    "check_callable",
    "check_widths",
    "resolve_rng",
]


def _to_numpy(x: Any, name: str) -> np.ndarray:
    """numpy view of a numpy array or a torch tensor (CPU, detached); anything else via asarray."""
    mod = type(x).__module__
    if mod.startswith("torch"):
        if x.is_cuda:  # pragma: no cover - no GPU in CI
            x = x.cpu()
        return x.detach().numpy()
    if mod.startswith("cupy"):  # pragma: no cover - no GPU in CI
        raise TypeError(f"{name}: got a CuPy array; pass it to a function with backend='cupy' or call .get()")
    try:
        return np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name}: cannot be read as an array ({exc})") from exc


def as_array(
    x: Any,
    name: str,
    *,
    dtype_kind: str | None = None,
    ndim: int | tuple[int, ...] | None = None,
    finite: bool = False,
    dtype: Any = None,
    allow_empty: bool = True,
    shape: tuple[int, ...] | None = None,
) -> np.ndarray:
    """Read ``x`` (numpy array, torch tensor or nested sequence) as a numpy array and check it.

    dtype_kind: allowed numpy dtype kinds, e.g. ``"f"`` (float), ``"iu"`` (integers), ``"fiub"``.
    dtype: if given, the array is converted to this dtype *after* the kind check (a lossless widening
    such as float64 -> float32 is the caller's decision, stated in its docstring).
    """
    arr = _to_numpy(x, name)
    if arr.dtype == object:
        raise TypeError(f"{name}: expected a numeric array, got dtype=object")
    if dtype_kind is not None and arr.dtype.kind not in dtype_kind:
        kinds = {"f": "float", "i": "signed integer", "u": "unsigned integer", "b": "bool", "c": "complex"}
        want = " or ".join(kinds.get(k, k) for k in dtype_kind)
        raise TypeError(f"{name}: expected a {want} array, got dtype={arr.dtype}")
    if ndim is not None:
        check_ndim(arr, name, ndim)
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name}: expected a non-empty array, got shape {arr.shape}")
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(f"{name}: expected shape {tuple(shape)}, got {arr.shape}")
    if finite:
        check_finite(arr, name)
    if dtype is not None and arr.dtype != np.dtype(dtype):
        arr = arr.astype(dtype)
    return arr


def check_ndim(arr: np.ndarray, name: str, ndim: int | tuple[int, ...]) -> None:
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if arr.ndim not in allowed:
        want = " or ".join(str(a) for a in allowed)
        hint = ""
        if arr.ndim == 1 and 2 in allowed:
            hint = " (for a single sample use x.reshape(1, -1))"
        raise ValueError(f"{name}: expected a {want}-D array, got shape {arr.shape}{hint}")


def check_finite(arr: np.ndarray, name: str) -> None:
    if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
        n_nan = int(np.isnan(arr).sum())
        n_inf = int(np.isinf(arr).sum())
        raise ValueError(f"{name}: contains non-finite values ({n_nan} NaN, {n_inf} inf)")


def check_positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer >= {minimum}, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value}")
    return int(value)


def check_real(value: Any, name: str, *, minimum: float | None = None, maximum: float | None = None,
               low_open: bool = False, high_open: bool = False, nonzero: bool = False) -> float:
    """A finite real scalar (int or float; bool refused) within ``[minimum, maximum]`` (ends open when
    ``low_open``/``high_open``), returned as float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "fiu":
            value = value.item()
        else:
            raise TypeError(f"{name}: expected a finite real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    lo = "(" if low_open or minimum is None else "["
    hi = ")" if high_open or maximum is None else "]"
    rng = f" in {lo}{'-inf' if minimum is None else minimum}, {'inf' if maximum is None else maximum}{hi}"
    rng = rng if (minimum is not None or maximum is not None) else ""
    if not np.isfinite(value):
        raise ValueError(f"{name}: expected a finite real number{rng}, got {value}")
    if minimum is not None and (value < minimum or (low_open and value == minimum)):
        raise ValueError(f"{name}: expected a number{rng}, got {value}")
    if maximum is not None and (value > maximum or (high_open and value == maximum)):
        raise ValueError(f"{name}: expected a number{rng}, got {value}")
    if nonzero and value == 0:
        raise ValueError(f"{name}: expected a nonzero finite number, got {value}")
    return value


def check_seed(seed: Any, name: str = "seed") -> int:
    """An integer seed >= 0 (the rule of :func:`resolve_rng`, for seeds that feed torch or a
    SeedSequence and so cannot be a Generator). ``None``, floats and bools are refused."""
    if seed is None:
        raise TypeError(f"{name}: an explicit seed (int >= 0) is required, got None")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{name}: expected an int >= 0, got {seed!r} ({type(seed).__name__})")
    if seed < 0:
        raise ValueError(f"{name}: expected a non-negative integer, got {seed}")
    return int(seed)


def check_choice(value: Any, name: str, choices) -> str:
    choices = tuple(choices)
    try:
        hash(value)
    except TypeError:
        raise TypeError(f"{name}: expected one of {', '.join(map(repr, choices))}, got {value!r} "
                        f"({type(value).__name__})") from None
    if value not in choices:
        raise ValueError(f"{name}: unknown value {value!r}; expected one of {', '.join(map(repr, choices))}")
    return value


def resolve_rng(seed: Any, name: str = "seed") -> np.random.Generator:
    """A numpy Generator from an int seed or an existing Generator. ``None`` is refused: every random
    draw in gnetlab takes an explicit seed so that runs are reproducible."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        raise TypeError(f"{name}: an explicit seed (int) or numpy.random.Generator is required")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{name}: expected an int >= 0 or numpy.random.Generator, got {seed!r} "
                        f"({type(seed).__name__})")
    if seed < 0:
        raise ValueError(f"{name}: expected a non-negative integer, got {seed}")
    return np.random.default_rng(int(seed))


def check_widths(widths: Any, name: str = "widths") -> tuple[int, ...]:
    """A non-empty tuple of positive layer widths (an int is one layer)."""
    if isinstance(widths, (int, np.integer)) and not isinstance(widths, bool):
        widths = (widths,)
    if isinstance(widths, (str, bytes)):
        raise TypeError(f"{name}: expected a sequence of positive integers, got {widths!r} (str)")
    try:
        widths = tuple(widths)
    except TypeError:
        raise TypeError(f"{name}: expected a sequence of positive integers, got {widths!r}") from None
    if not widths:
        raise ValueError(f"{name}: expected at least one hidden layer, got an empty sequence")
    return tuple(check_positive_int(w, f"{name}[{i}]") for i, w in enumerate(widths))


def check_sequence(values: Any, name: str) -> list:
    """A list, tuple, range or 1-D array of values as a list (a string, a bare number or a generator is
    refused instead of being split into characters or failing later)."""
    if isinstance(values, np.ndarray) and values.ndim == 1:
        return values.tolist()
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple, range)):
        raise TypeError(f"{name}: expected a list of values, got {values!r} ({type(values).__name__})")
    return list(values)


def check_index(value: Any, name: str, low: int, high: int) -> int:
    """An integer in ``[low, high]`` (a layer index, a depth, a sample count below a dimension)."""
    value = check_positive_int(value, name, minimum=low)
    if value > high:
        raise ValueError(f"{name}: expected an integer in [{low}, {high}], got {value}")
    return value


def check_callable(value: Any, name: str) -> Any:
    """A callable (a function applied elementwise, a fit routine, ...)."""
    if not callable(value):
        raise TypeError(f"{name}: expected a callable, got {value!r} ({type(value).__name__})")
    return value
