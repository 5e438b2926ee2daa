"""The shared cost model (gnetlab.costs) and the op counts of each model family; bench.median_time."""

import numpy as np
import pytest

from gnetlab import bench, bnn, costs, ehd, gnet


def test_energy_prices_the_counts_as_the_bnn_cost_model():
    table = costs.load_energy_table()
    model = bnn.build_model("binarynet", in_features=20, hidden=(16, 8), n_classes=3, seed=0)
    c = bnn.model_costs(model, table)
    assert c["energy_pj"] == costs.energy_pj(c, table)
    assert costs.energy_pj({"binary_macs": 10}, table) == pytest.approx(10 * (table["binary_xnor"] + table["int8_add"]))
    assert costs.energy_pj(costs.zero_counts()) == 0
    assert bnn.load_energy_table() == table


def test_gnet_and_ehd_op_counts():
    model = gnet.build_model("mnist_dense", activation="tasu", seed=0, hidden=(16, 8), input_features=30,
                             n_classes=4).eval()
    g = gnet.op_counts(model)
    assert g["float_mult_macs"] == 30 * 16 + 16 * 8 + 8 * 4
    assert g["weight_bits"] == 32 * sum(p.numel() for p in model.parameters())
    e = ehd.embed_gnet(model, hyperdim=128, embedding="rademacher", seed=0).op_counts()
    # first layer: real inputs, float data side; later layers: +-1 inputs with Rademacher G, binary
    assert e["float_mult_macs"] == 128 * 30
    assert e["binary_macs"] == 128 * (16 + 8) + 128 * (16 + 8 + 4)
    assert e["weight_bits"] == 128 * (16 + 8 + 4)
    assert costs.energy_pj(e) < costs.energy_pj(g) * 10


def test_median_time_warms_up_and_takes_the_median():
    calls = []
    t = bench.median_time(lambda: calls.append(1), repeats=3)
    assert len(calls) == 4 and t >= 0
    with pytest.raises(ValueError, match="clock"):
        bench.median_time(lambda: None, clock="sundial")
    assert np.isfinite(bench.median_time(lambda: None, repeats=1, clock="cpu"))
