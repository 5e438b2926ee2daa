"""HDC baselines: the functional core's algebra, packed vs unpacked agreement, the encoders against naive
references, every classifier on a separable problem, the comparison protocol, and the error messages."""

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from hypothesis import given, settings
from hypothesis import strategies as st

from gnetlab import hdc
from gnetlab.bits import PackedBits, pack_signs, unpack_signs
from gnetlab.datasets import load
from gnetlab.hdc import functional as F


def signs(rng, *shape):
    return np.where(rng.random(shape) < 0.5, -1, 1).astype(np.int8)


DIMS = [1, 63, 64, 65, 1000]


# --------------------------------------------------------------------------------------------------
# Algebra


@pytest.mark.parametrize("d", DIMS)
def test_bind_is_self_inverse_packed_and_unpacked(d):
    rng = np.random.default_rng(d)
    a, b = signs(rng, 5, d), signs(rng, 5, d)
    assert np.array_equal(F.bind(F.bind(a, b), b), a)
    pa, pb = pack_signs(a), pack_signs(b)
    bound = F.bind(pa, pb)
    assert isinstance(bound, PackedBits)
    assert np.array_equal(F.bind(bound, pb).words, pa.words)
    assert np.array_equal(unpack_signs(bound, dtype=np.int8), a * b)  # packed == unpacked


@pytest.mark.parametrize("d", DIMS)
@pytest.mark.parametrize("k", [1, 2, 3, 4, 7])
def test_bundle_of_k_copies_is_the_vector(d, k):
    x = signs(np.random.default_rng(k), d)
    stack = np.repeat(x[None, :], k, axis=0)
    assert np.array_equal(F.bundle(stack, seed=0), x)
    assert np.array_equal(F.multiset(stack, tie_break="plus"), x)
    packed = F.bundle(pack_signs(stack), seed=0)
    assert isinstance(packed, PackedBits) and np.array_equal(packed.words, pack_signs(x).words)


@pytest.mark.parametrize("d", DIMS)
@pytest.mark.parametrize("shift", [0, 1, -3, 64, 1001])
def test_permute_is_invertible_and_matches_roll(d, shift):
    x = signs(np.random.default_rng(shift % 7), 3, d)
    assert np.array_equal(F.permute(F.permute(x, shift), -shift), x)
    assert np.array_equal(F.permute(x, shift), np.roll(x, shift, axis=-1))
    p = F.permute(pack_signs(x), shift)
    assert np.array_equal(unpack_signs(p, dtype=np.int8), np.roll(x, shift, axis=-1))
    assert np.array_equal(F.permute(p, -shift).words, pack_signs(x).words)


@settings(max_examples=25, deadline=None)
@given(d=st.integers(1, 200), n=st.integers(1, 5), m=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_packed_and_unpacked_agree(d, n, m, seed):
    rng = np.random.default_rng(seed)
    x, o = signs(rng, n, d), signs(rng, m, d)
    px, po = pack_signs(x), pack_signs(o)
    sim = F.hamming_similarity(x, o)
    assert sim.dtype == np.int32 and sim.shape == (n, m)
    assert np.array_equal(sim, F.hamming_similarity(px, po))
    assert np.array_equal(sim, (x[:, None, :] == o[None, :, :]).sum(-1))
    assert np.array_equal(F.hamming_distance(px, po), d - sim)
    stack = signs(rng, 4, d)  # even count: ties are broken by the same seeded draw in both paths
    assert np.array_equal(pack_signs(F.bundle(stack, seed=seed)).words, F.bundle(pack_signs(stack), seed=seed).words)
    assert np.array_equal(pack_signs(F.bundle(x[:1], o[:1], seed=seed)).words,
                          F.bundle(px[0:1], po[0:1], seed=seed).words)
    flipped = F.flip(x, 0.3, seed=seed)
    assert np.array_equal(pack_signs(flipped).words, F.flip(px, 0.3, seed=seed).words)


def test_hamming_similarity_shapes_follow_torchhd():
    rng = np.random.default_rng(0)
    others = pack_signs(signs(rng, 6, 130))
    one = pack_signs(signs(rng, 130))
    assert F.hamming_similarity(one, others).shape == (6,)
    assert F.hamming_similarity(signs(rng, 2, 3, 130), signs(rng, 6, 130)).shape == (2, 3, 6)


def test_majority_ties():
    sums = np.array([[2, 0, -1, 0]])
    plus = unpack_signs(F.majority(sums, tie_break="plus"), dtype=np.int8)
    assert plus.tolist() == [[1, 1, -1, 1]]
    a = F.majority(sums, seed=3).words
    assert np.array_equal(a, F.majority(sums, seed=3).words)
    tie = np.array([1, -1, 1, -1])
    assert unpack_signs(F.majority(sums, tie_vector=tie), dtype=np.int8).tolist() == [[1, -1, -1, -1]]
    with pytest.raises(TypeError, match="seed"):
        F.majority(sums)  # a random tie-break draws: seed required
    assert unpack_signs(F.majority(np.array([[1, -3]]), seed=0), dtype=np.int8).tolist() == [[1, -1]]


def test_random_and_level_hypervectors():
    r = F.random(4, 4000, seed=0)
    s = unpack_signs(r, dtype=np.int8)
    assert abs(s.mean()) < 0.05 and np.array_equal(r.words, F.random(4, 4000, seed=0).words)
    lv = F.level(11, 4000, seed=0)
    sim = F.hamming_similarity(lv[0:1], lv)[0] / 4000
    assert sim[0] == 1 and np.all(np.diff(sim) <= 0.02) and abs(sim[-1] - 0.5) < 0.05


def test_flip_counts_exactly():
    x = pack_signs(signs(np.random.default_rng(0), 20, 1000))
    for p in (0.0, 0.1, 0.5):
        y = F.flip(x, p, seed=1)
        assert np.all(F.hamming_distance(x, x).diagonal() == 0)
        assert np.all(np.diagonal(F.hamming_distance(y, x)) == round(p * 1000))


def test_kernel_level_hypervectors_realise_the_kernel():
    v = np.linspace(0, 1, 5)
    K = 1.0 - 0.5 * np.abs(v[:, None] - v[None, :])  # sin(pi/2 K) is positive semidefinite here
    L = hdc.kernel_level_hypervectors(K, 20000, rng=np.random.default_rng(0))
    s = unpack_signs(L, dtype=np.float64)
    assert np.abs(s @ s.T / 20000 - K).max() < 0.02  # Grothendieck: E = (2/pi) arcsin(sin(pi/2 K)) = K


# --------------------------------------------------------------------------------------------------
# Encoders against naive references


@pytest.fixture(scope="module")
def toy():
    rng = np.random.default_rng(0)
    X = rng.random((60, 30)).astype(np.float32)
    X[X < 0.5] = 0.0  # sparse, like images
    y = np.arange(60) % 3
    return X, y


@pytest.mark.parametrize("cls", [hdc.RFFHDC, hdc.LaplaceHDC])
@pytest.mark.parametrize("d", [100, 128, 1000])
def test_xor_shift_encoder_matches_naive(toy, cls, d):
    X, y = toy
    clf = cls(d, seed=0, epochs=1, **({"bandwidth": 0.5} if cls is hdc.LaplaceHDC else {})).fit(X, y)
    enc, idx = clf.encoder_, clf.quantizer_.transform(X[:4])
    L = unpack_signs(enc.levels, dtype=np.int8)
    naive = np.ones((4, d), np.int8)
    for a in range(4):
        for i in range(X.shape[1]):
            naive[a] *= np.roll(L[idx[a, i]], enc.shifts[i])
    assert np.array_equal(unpack_signs(clf.encode(X[:4]), dtype=np.int8), naive)


def test_record_and_hologn_encoders_match_naive(toy):
    X, y = toy
    c = hdc.ClassicHDC(200, seed=0).fit(X, y)
    e, idx = c.encoder_, c.quantizer_.transform(X[:4])
    sums = (e.position[None].astype(np.int32) * e.level[idx]).sum(axis=1)
    assert np.array_equal(e.sums(idx), sums)
    expect = np.where(sums > 0, 1, np.where(sums < 0, -1, e.tie[None, :]))
    assert np.array_equal(unpack_signs(c.encode(X[:4]), dtype=np.int8), expect)
    h = hdc.HoloGN(200, seed=0).fit(X, y)
    enc = h.encoder_
    base = enc._delta  # roll(B, 1) - B; reconstruct B from the sums of an all-inactive sample
    zero = enc.sums(np.zeros((1, 30), bool))[0]
    one = enc.sums(np.ones((1, 30), bool))[0]
    assert np.array_equal(one - zero, np.rint(base.sum(0)).astype(np.int32))


# --------------------------------------------------------------------------------------------------
# Classifiers


@pytest.fixture(scope="module")
def separable():
    kw = dict(n=400, d=16, separation=8.0)
    Xtr, ytr = load("synthetic", split="train", seed=0, **kw)
    Xte, yte = load("synthetic", split="test", seed=0, **kw)
    return Xtr, ytr, Xte, yte


SEPARABLE_SETTINGS = {
    "classic_hdc": dict(levels="id_level", n_levels=16),  # independent random levels cannot generalise
    "rff_hdc": dict(gamma=3.0),  # gamma = 0.3 is tuned to 784 pixels; 16 features need a narrower kernel
    "onlinehd": {},
    "laplace_hdc": {},
    "hologn": {},
}


@pytest.mark.parametrize("method", list(hdc.METHODS))
def test_each_baseline_learns_a_separable_problem(separable, method):
    Xtr, ytr, Xte, yte = separable
    clf = hdc.make_classifier(method, 2048, seed=0, **SEPARABLE_SETTINGS[method]).fit(Xtr, ytr)
    assert clf.score(Xte, yte) >= 0.98
    H = clf.encode(Xte)
    assert isinstance(H, PackedBits) and H.shape == (Xte.shape[0], 2048)
    assert clf.class_hypervectors_.shape == (2, 2048)
    assert np.array_equal(clf.predict_encoded(H), clf.predict(Xte))
    assert np.array_equal(clf.similarity(Xte), F.hamming_similarity(H, clf.class_hypervectors_))
    # half the bits flipped: the query carries no information any more
    assert clf.score(Xte, yte) > np.mean(clf.predict_encoded(F.flip(H, 0.5, seed=1)) == yte) - 0.2


@pytest.mark.parametrize("method", list(hdc.METHODS))
def test_fit_is_reproducible_from_the_seed(toy, method):
    X, y = toy
    kw = {"epochs": 1} if method in ("rff_hdc", "laplace_hdc", "onlinehd") else {}
    a = hdc.make_classifier(method, 300, seed=7, **kw).fit(X, y)
    b = hdc.make_classifier(method, 300, seed=7, **kw).fit(X, y)
    assert np.array_equal(a.class_hypervectors_.words, b.class_hypervectors_.words)
    assert np.array_equal(a.encode(X).words, b.encode(X).words)
    c = hdc.make_classifier(method, 300, seed=np.random.default_rng(7), **kw).fit(X, y)
    assert c.class_hypervectors_.shape == (3, 300)


def test_labels_are_mapped_back(toy):
    X, y = toy
    clf = hdc.HoloGN(500, seed=0).fit(X, y * 10 + 3)
    assert set(np.unique(clf.predict(X))) <= {3, 13, 23}
    assert clf.classes_.tolist() == [3, 13, 23]


def test_onlinehd_float_inference_and_centroid(toy):
    X, y = toy
    clf = hdc.OnlineHD(500, seed=0, inference="float", epochs=2).fit(X, y)
    assert clf.decision_function(X).dtype.kind == "f"
    c = hdc.Centroid(64, 2)
    x = signs(np.random.default_rng(0), 4, 64)
    c.add(x, np.array([0, 0, 1, 1]))
    w = c.binarize(seed=0)
    assert w.shape == (2, 64)
    assert np.array_equal(c.predict(pack_signs(x)), c.predict(x))


# --------------------------------------------------------------------------------------------------
# Protocol and paper values


def test_evaluate_protocol_is_tidy_and_deterministic(toy):
    X, y = toy
    kw = dict(hyperdims=[128, 256], seed=0, n_chunks=3, flip_fractions=[0.0, 0.5], progress=False,
              method_kwargs={"laplace_hdc": {"epochs": 1, "bandwidth": 0.5}})
    df = hdc.evaluate(["hologn", "laplace_hdc"], X, y, X, y, **kw)
    assert len(df) == 2 * 2 * 2 * 3
    assert set(df.columns) >= {"method", "label", "hyperdim", "flip_fraction", "flip_model", "chunk", "n_test",
                               "accuracy"}
    assert df.groupby(["method", "hyperdim", "flip_fraction"]).n_test.sum().eq(60).all()
    pd.testing.assert_frame_equal(df, hdc.evaluate(["hologn", "laplace_hdc"], X, y, X, y, **kw))
    s = hdc.summarize(df, ["method", "hyperdim", "flip_fraction"])
    assert np.allclose(s["hi"] - s["lo"], s["std"])
    only = hdc.evaluate(["hologn"], X, y, X, y, **{**kw, "flip_hyperdims": [256]})
    assert sorted(only.groupby("hyperdim").flip_fraction.unique().map(list).to_dict().items()) == \
        [(128, [0.0]), (256, [0.0, 0.5])]
    with pytest.raises(ValueError, match="flip_hyperdims"):
        hdc.evaluate(["hologn"], X, y, X, y, **{**kw, "flip_hyperdims": [512]})


def test_chunk_accuracy():
    acc = hdc.chunk_accuracy(np.array([1, 1, 0, 0]), np.array([1, 0, 0, 0]), 2)
    assert acc.tolist() == [50.0, 100.0]


def test_paper_values_and_table():
    paper = hdc.paper_summary("hdc_comparison", "mnist")
    assert set(paper.method) == {"ehd_gnet", "classic_hdc", "rff_hdc", "onlinehd", "laplace_hdc", "hologn"}
    top = paper[paper.sweep_value == paper.sweep_value.max()].set_index("method")["mean"]
    assert top["ehd_gnet"] == pytest.approx(98.99, abs=0.01) and top["laplace_hdc"] == pytest.approx(97.09, abs=0.01)
    rob = hdc.paper_summary("robustness_vs_hdc", "mnist")
    ehd = rob[(rob.method == "ehd_gnet") & (rob.sweep_value == 0.5)]
    assert len(ehd) == 1 and ehd["mean"].iloc[0] == pytest.approx(96.85, abs=0.01)
    ours = pd.DataFrame({"method": ["hologn", "ehd_gnet", "hologn"], "hyperdim": [100, 200, 200],
                         "mean": [50.0, 99.0, 60.0], "std": [1.0, 1.0, 2.0]})
    t = hdc.comparison_table(ours, paper, dataset="mnist")
    assert t.method.tolist() == ["ehd_gnet", "hologn"]
    assert t.loc[1, "accuracy"] == 60.0 and t.loc[1, "paper_accuracy"] == pytest.approx(80.36, abs=0.01)
    md, tex = hdc.table_markdown(t), hdc.table_latex(t, caption="x_y %", label="tab:hdc")
    assert "| EHD G-Net | 200 | 99.00 |" in md and "HoloGN" in tex and "x\\_y \\%" in tex


# --------------------------------------------------------------------------------------------------
# Errors


def test_bad_inputs_give_clear_errors(toy):
    X, y = toy
    x = np.ones((2, 8), np.int8)
    with pytest.raises(ValueError, match=r"\+-1"):
        F.bind(x, np.zeros((2, 8)))
    with pytest.raises(TypeError, match="bool"):
        F.bind(np.ones((2, 8), bool), x)
    with pytest.raises(TypeError, match="packed"):
        F.bind(pack_signs(x), x)
    with pytest.raises(ValueError, match="dimensions differ"):
        F.hamming_similarity(x, np.ones((3, 9), np.int8))
    with pytest.raises(ValueError, match="axis -2"):
        F.bundle(np.ones(8, np.int8), seed=0)
    with pytest.raises(TypeError, match="shifts"):
        F.permute(x, 1.5)
    with pytest.raises(ValueError, match="fraction"):
        F.flip(x, 1.5, seed=0)
    # scikit-learn's contract: __init__ stores, fit validates
    with pytest.raises(TypeError, match="seed"):
        hdc.ClassicHDC(100, seed=None).fit(X, y)
    with pytest.raises(TypeError, match="hyperdim"):
        hdc.ClassicHDC(100.0, seed=0).fit(X, y)
    with pytest.raises(ValueError, match="method"):
        hdc.make_classifier("vanilla", seed=0)
    with pytest.raises(ValueError, match="levels"):
        hdc.ClassicHDC(100, seed=0, levels="linear").fit(X, y)
    with pytest.raises(ValueError, match="inference"):
        hdc.OnlineHD(100, seed=0, inference="half").fit(X, y)
    clf = hdc.HoloGN(100, seed=0)
    with pytest.raises(NotFittedError, match="fit"):
        clf.predict(X)
    with pytest.raises(ValueError, match="2 classes"):
        clf.fit(X, np.zeros(60, int))
    with pytest.raises(ValueError, match="non-finite"):
        clf.fit(np.full_like(X, np.nan), y)
    with pytest.raises(ValueError, match="reshape"):
        clf.fit(X[0], y)
    with pytest.raises(TypeError, match="integer"):
        clf.fit(X, y.astype(float))
    clf.fit(X, y)
    with pytest.raises(ValueError, match="30 features"):
        clf.predict(X[:, :10])
    with pytest.raises(ValueError, match=r"\(n, 100\)"):
        clf.predict_encoded(pack_signs(np.ones((2, 99))))
    with pytest.raises(ValueError, match="flip_fractions"):
        hdc.evaluate(["hologn"], X, y, X, y, hyperdims=[64], seed=0, flip_fractions=[0.7, 2], progress=False)


@pytest.mark.parametrize("overlay", [None, "paper.yaml"])
def test_comparison_uses_the_shared_trained_gnets(overlay):
    # rule train_gnet trains gnet_models[name]; the notebook repeats the spec so that it can train
    # standalone, and a mismatch would make it retrain over the rule's checkpoint.
    from gnetlab import paths, pipeline

    cfg = pipeline.load_config(overlay=None if overlay is None else paths.CONFIG / overlay)
    section = cfg["hdc_comparison"]
    assert set(section["models"]) == {"rasu", "tasu"}
    for act, entry in section["models"].items():
        assert entry["spec"] == cfg["gnet_models"][entry["name"]] and entry["spec"]["activation"] == act
    assert section["robustness_hyperdim"] in section["hyperdims"]
    assert set(section["methods"]) <= set(hdc.METHODS) and set(section["method_kwargs"]) <= set(hdc.METHODS)


@pytest.mark.parametrize("embedding", ["gaussian", "rademacher"])
def test_paper_summary_keeps_every_method_the_paper_reports(embedding):
    """Every (embedding, method) pair of the official comparison is in the summary (the superseded-file
    filter once dropped the Rademacher EHD G-Net curve, whose file shares the superseded file's name)."""
    from gnetlab.datasets.paper import gnet_official_results
    from gnetlab.hdc import paper_summary

    every = gnet_official_results(dataset="mnist")
    for experiment in ("hdc_comparison", "robustness_vs_hdc"):
        raw = every[(every.experiment == experiment) & (every.embedding == embedding)]
        if raw.empty:  # the paper's robustness comparison is Gaussian only
            continue
        summary = paper_summary(experiment, "mnist", embedding=embedding)
        assert set(summary["method"]) == set(raw["method"]), (experiment, embedding)
        assert summary.groupby("method")["sweep_value"].nunique().min() == raw.groupby("method")["sweep_value"].nunique().min()


def test_paper_robustness_uses_the_ehd_file_that_matches_the_paper_text():
    from gnetlab.hdc import paper_summary

    rob = paper_summary("robustness_vs_hdc", "mnist", embedding="gaussian")
    ehd_half = rob[(rob.method == "ehd_gnet") & (rob.sweep_value == 0.5)]["mean"].item()
    assert ehd_half == pytest.approx(96.85, abs=0.01)
