"""DataFrames made without pandas' column inference, for the binding's results.

pandas' public constructor inspects every column again (object strings become Arrow strings, one block per
dtype is searched for) and, for a ten-row recommendation, costs a third of the library call itself. The
binding's results have fixed, known dtypes, so they are assembled here directly:

- ``frame(columns)``: any equal-length arrays, through ``DataFrame._from_arrays`` (no re-inference);
- ``recommendation_frame(...)``: rank int64, medication and title object, score float32 — the shape of
  Session.recommend — as three ready blocks in one BlockManager (about 4x faster again).

Both rely on pandas internals that have been stable since pandas 1.x/2.x; either path falls back to the
public constructor the first time it fails, and tests/test_serving.py checks the fast frames equal the
public ones.
"""
import numpy as np
import pandas as pd

try:
    from pandas._libs.internals import BlockPlacement
    from pandas.core.internals.blocks import new_block
    from pandas.core.internals.managers import BlockManager
except ImportError:  # pragma: no cover — another pandas
    BlockPlacement = new_block = BlockManager = None

_LABELS = {}
_fast = {"arrays": True, "blocks": BlockManager is not None}


def _labels(names: tuple) -> pd.Index:
    labels = _LABELS.get(names)
    if labels is None:
        labels = _LABELS[names] = pd.Index(names)   # made once: building an Index costs as much as a frame
    return labels


def public_frame(columns: dict) -> pd.DataFrame:
    """What pandas' public constructor makes of the same columns, dtypes kept (the reference)."""
    return pd.DataFrame({k: pd.Series(v, dtype=getattr(v, "dtype", None), copy=False) for k, v in columns.items()},
                        columns=_labels(tuple(columns)))


def frame(columns: dict) -> pd.DataFrame:
    if _fast["arrays"]:
        arrays = list(columns.values())
        try:
            return pd.DataFrame._from_arrays(arrays, columns=_labels(tuple(columns)),
                                             index=pd.RangeIndex(len(arrays[0])), verify_integrity=False)
        except Exception:  # noqa: BLE001 — another pandas: use the public way from now on
            _fast["arrays"] = False
    return public_frame(columns)


_RECOMMENDATION = ("rank", "medication", "title", "score")


_PLACES = (BlockPlacement(slice(0, 1)), BlockPlacement(slice(1, 3)), BlockPlacement(slice(3, 4))) \
    if BlockPlacement is not None else None


def _blocks_frame(rank, codes, titles, scores):
    n = len(rank)
    text = np.empty((2, n), dtype=object)
    text[0] = codes
    text[1] = titles
    blocks = (new_block(rank.reshape(1, n), _PLACES[0], ndim=2), new_block(text, _PLACES[1], ndim=2),
              new_block(scores.reshape(1, n), _PLACES[2], ndim=2))
    manager = BlockManager(blocks, [_labels(_RECOMMENDATION), pd.RangeIndex(n)], verify_integrity=False)
    return pd.DataFrame._from_mgr(manager, axes=manager.axes)


def recommendation_frame(rank: np.ndarray, codes: np.ndarray, titles: np.ndarray, scores: np.ndarray):
    """rank (int64), medication, title (object), score (float32): arrays the caller gives up (not copied)."""
    if _fast["blocks"]:
        try:
            return _blocks_frame(rank, codes, titles, scores)
        except Exception:  # noqa: BLE001
            _fast["blocks"] = False
    return frame(dict(zip(_RECOMMENDATION, (rank, codes, titles, scores))))
