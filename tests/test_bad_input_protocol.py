"""Bad input to the shared protocol, cost and dataset-comparison helpers (gnetlab.protocol, gnetlab.costs,
gnetlab.gnet_datasets) and to the time-series loaders (gnetlab.datasets.timeseries / tsformat)."""

import io

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gnetlab import costs, gnet, gnet_datasets, protocol
from gnetlab.datasets import timeseries, tsformat

M = gnet.build_model("mnist_dense", hidden=(4,), input_features=5)

CASES = [
    ("chunk-bounds-zero", lambda: protocol.chunk_bounds(5, 0), ValueError, "n_chunks: expected an integer >= 1"),
    ("chunk-bounds-too-many", lambda: protocol.chunk_bounds(2, 5), ValueError, "n_chunks: 5 chunks for 2 test samples"),
    ("chunk-accuracy-shape", lambda: protocol.chunk_accuracy([0, 1], [0], 1), ValueError, "pred, y: shapes differ"),
    ("chunk-summary-type", lambda: protocol.chunk_summary({"a": [1]}, ["a"]), TypeError, "df: expected a pandas DataFrame"),
    ("keyed-rng-neg", lambda: protocol.keyed_rng(-1, 0), ValueError, "seed: expected a non-negative integer"),
    ("keyed-int-seed-float", lambda: protocol.keyed_int_seed(1.5, 0), TypeError, "seed: expected an int >= 0"),
    ("chunk-streams-none", lambda: protocol.chunk_streams(None, 2), TypeError, "seed: an explicit seed"),
    ("child-rng-float", lambda: protocol.child_rng(1.5, 0), TypeError, "seed: expected an int >= 0"),
    ("protocol-seed-bool", lambda: protocol.check_protocol_seed(True), TypeError, "seed: expected an int >= 0"),
    ("energy-str-count", lambda: costs.energy_pj({"int8_macs": "3"}), ValueError, "counts: expected finite non-negative"),
    ("energy-negative", lambda: costs.energy_pj({"float_mult_macs": -1}), ValueError, "counts: expected finite non-negative"),
    ("energy-nan", lambda: costs.energy_pj({"binary_macs": float("nan")}), ValueError, "counts: expected finite non-negative"),
    ("energy-not-mapping", lambda: costs.energy_pj([1, 2]), TypeError, "counts: expected a mapping"),
    ("model-work-type", lambda: gnet_datasets.model_work("m"), TypeError, "model: expected a gnetlab.gnet.GNet"),
    ("model-work-hyperdims", lambda: gnet_datasets.model_work(M, [1]), ValueError, "hyperdims: expected 2 values"),
    ("ratios-str", lambda: gnet_datasets.hyperdims_from_ratios(M, "2"), ValueError, "ratios: expected a non-empty list"),
    ("format-seconds-nan", lambda: gnet_datasets.format_seconds(float("nan")), ValueError, "s: expected a finite real"),
    ("format-seconds-str", lambda: gnet_datasets.format_seconds("5"), TypeError, "s: expected a finite real"),
    ("projected-seconds-neg", lambda: gnet_datasets.projected_seconds(-1, 0, 5), ValueError, "measured_seconds: expected a finite number >= 0"),
    ("training-seconds-seed", lambda: gnet_datasets.training_seconds_per_sample(M, np.ones((4, 5), np.float32), np.zeros(4, int), batch_size=2, seed=-1),
     ValueError, "seed: expected a non-negative integer"),
    ("training-seconds-batch", lambda: gnet_datasets.training_seconds_per_sample(M, np.ones((4, 5), np.float32), np.zeros(4, int), batch_size=0, seed=0),
     ValueError, "batch_size: expected an integer >= 2"),
    ("datasets-table-keys", lambda: gnet_datasets.datasets_table([{"a": 1}]), ValueError, "rows: missing keys"),
    ("load-archive-unknown", lambda: timeseries.load_archive("nope", "train"), ValueError, "dataset: unknown archive 'nope'"),
    ("load-archive-split", lambda: timeseries.load_archive("epilepsy", "val"), ValueError, "split: unknown value 'val'"),
    ("basic-motions-split", lambda: timeseries.load_basic_motions("val"), ValueError, "split: unknown value 'val'"),
    ("read-archive-missing", lambda: timeseries.read_archive("/nonexistent.zip", "Epilepsy", "train"), FileNotFoundError, "path: /nonexistent.zip does not exist"),
    ("read-archive-split", lambda: timeseries.read_archive("/nonexistent.zip", "Epilepsy", "all"), ValueError, "split: expected 'train' or 'test'"),
    ("read-ts-garbage", lambda: tsformat.read_ts(io.StringIO("garbage")), ValueError, "expected a header line"),
    ("read-ts-missing", lambda: tsformat.read_ts("/nonexistent.ts"), FileNotFoundError, ".ts file not found"),
    ("read-arff-garbage", lambda: tsformat.read_arff(io.StringIO("garbage")), ValueError, "unexpected header line"),
    ("write-ts-shape", lambda: tsformat.write_ts("/tmp/never.ts", np.ones((2, 3)), ["a", "a"], classes=["a"]), ValueError, r"X: expected shape \(n, C, L\)"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 10), k=st.integers(-3, 15))
def test_chunk_bounds_count(n, k):
    if 1 <= k <= n:
        assert len(protocol.chunk_bounds(n, k)) == k
    else:
        with pytest.raises(ValueError, match="n_chunks: "):
            protocol.chunk_bounds(n, k)
