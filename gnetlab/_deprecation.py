"""Deprecation paths for renamed arguments and names.

Renames emit ``PendingDeprecationWarning`` (silent by default, shown by pytest): the notebooks and the
config still use some old names, and a visible warning would change their committed outputs. Once they
have moved, the warning class becomes ``DeprecationWarning``.
"""

from __future__ import annotations

import warnings
from typing import Any

__all__ = ["renamed_argument"]


def renamed_argument(new_value: Any, old_value: Any, *, old: str, new: str, where: str, default: Any) -> Any:
    """The value of a renamed keyword argument (``None`` means not given, for both names).

    Parameters
    ----------
    new_value : object or None
        Value passed under the new name.
    old_value : object or None
        Value passed under the old name (warns when given).
    old, new : str
        The two names.
    where : str
        The function, for the messages.
    default : object
        Value when neither is given.

    Returns
    -------
    object
        The value to use.
    """
    if old_value is None:
        return default if new_value is None else new_value
    warnings.warn(f"{where}: {old}= is renamed {new}= (same values)", PendingDeprecationWarning, stacklevel=3)
    if new_value is not None and new_value != old_value:
        raise TypeError(f"{where}: got {new}={new_value!r} and its old name {old}={old_value!r}; pass only {new}=")
    return old_value
