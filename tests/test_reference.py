"""The committed default run's tidy data and how new runs are compared with it (gnetlab.reference)."""

import re

import numpy as np
import pandas as pd
import pytest

from gnetlab import paths, reference
from gnetlab.reference import ReferenceSpec, compare_frames

SPECS = reference.load_specs()


def _spec(**kw):
    return ReferenceSpec(slug="demo", notebook="00_demo", **kw)


def test_every_figure_and_table_has_a_reference_and_a_tolerance_entry():
    """Each figure rule's CSV and each table the rules declare is covered by tolerances.yaml + data."""
    rules = "\n".join(p.read_text() for p in (paths.ROOT / "rules").glob("*.smk"))
    slugs = set(re.findall(r'figure_outputs\("(\w+)"', rules)) | set(re.findall(r'"results/(\w+_table)\.csv"', rules))
    assert slugs, "no figure rules found"
    assert slugs <= set(SPECS), f"tolerances.yaml lacks {sorted(slugs - set(SPECS))}"
    for slug, spec in SPECS.items():
        assert (reference.reference_dir() / f"{slug}.csv").is_file(), f"data/reference/{slug}.csv missing"
        nb = paths.NOTEBOOKS / f"{spec.notebook}.ipynb"
        assert nb.is_file(), f"{slug}: notebook {spec.notebook} does not exist"


@pytest.mark.parametrize("slug", sorted(SPECS))
def test_reference_csv_matches_its_spec(slug):
    spec = SPECS[slug]
    df = pd.read_csv(reference.reference_dir() / f"{slug}.csv")
    assert not set(spec.exclude) & set(df.columns), "excluded (timing) columns are not committed"
    for k in spec.keys:
        assert k in df.columns, f"{slug}: key column {k!r} missing"
    for col in [*spec.columns]:
        assert col in df.columns, f"{slug}: tolerance given for unknown column {col!r}"
    # the reference equals itself, also shuffled: keys identify rows
    assert compare_frames(df, df.sample(frac=1.0, random_state=0), spec) == []


def test_values_within_tolerance_pass_and_beyond_fail():
    ref = pd.DataFrame({"k": ["a", "b"], "acc": [90.0, 50.0], "t": [1.0, 2.0]})
    spec = _spec(keys=["k"], exclude=["t"], default={"atol": 0.0, "rtol": 0.0}, columns={"acc": {"atol": 0.5}})
    ok = ref.assign(acc=[90.4, 49.6], t=[9.0, 9.0])  # timings differ freely
    assert compare_frames(ref, ok, spec) == []
    bad = ref.assign(acc=[90.4, 51.0])
    (problem,) = compare_frames(ref, bad, spec)
    assert "demo.acc" in problem and "[b]" in problem and "51.0" in problem


def test_relative_tolerance_and_nan_handling():
    ref = pd.DataFrame({"x": [1e-3, 1.0, np.nan]})
    spec = _spec(default={"atol": 0.0, "rtol": 1e-3})
    assert compare_frames(ref, pd.DataFrame({"x": [1.0009e-3, 1.0009, np.nan]}), spec) == []
    assert compare_frames(ref, pd.DataFrame({"x": [1.002e-3, 1.0, np.nan]}), spec)
    assert compare_frames(ref, pd.DataFrame({"x": [1e-3, 1.0, 0.0]}), spec), "NaN only matches NaN"


def test_structure_changes_fail():
    ref = pd.DataFrame({"k": ["a", "b"], "v": [1.0, 2.0], "s": ["x", "y"]})
    spec = _spec(keys=["k"])
    assert "columns differ" in compare_frames(ref, ref.drop(columns="v"), spec)[0]
    assert "rows" in compare_frames(ref, ref.iloc[:1], spec)[0]
    assert "rows differ" in compare_frames(ref, ref.assign(k=["a", "c"]), spec)[0]
    assert "demo.s" in compare_frames(ref, ref.assign(s=["x", "z"]), spec)[0]
    dup = pd.DataFrame({"k": ["a", "a"], "v": [1.0, 2.0], "s": ["x", "y"]})
    assert "do not identify rows" in compare_frames(dup, dup, spec)[0]


def test_ignored_rows_are_dropped_before_comparing():
    ref = pd.DataFrame({"device": ["CPU"], "v": [1.0]})
    new = pd.DataFrame({"device": ["CPU", "GPU"], "v": [1.0, 7.0]})
    assert compare_frames(ref, new, _spec(keys=["device"], ignore_rows={"device": ["GPU"]})) == []
    assert compare_frames(ref, new, _spec(keys=["device"]))


def test_compare_slug_reports_missing_files(tmp_path):
    slug = sorted(SPECS)[0]
    (problem,) = reference.compare_slug(slug, tmp_path)
    assert "wrote no" in problem
    with pytest.raises(ValueError, match="no entry"):
        reference.compare_slug("no_such_slug", tmp_path)


def test_a_deliberate_change_of_a_plotted_value_fails(tmp_path):
    """Copy the reference, move one plotted value just beyond its tolerance: the comparison must fail."""
    slug = "hdc_table"
    spec = SPECS[slug]
    df = pd.read_csv(reference.reference_dir() / f"{slug}.csv")
    atol, rtol = spec.tolerance("accuracy")
    i = int(np.flatnonzero(df["method"] == "ehd_gnet")[0])
    df.loc[i, "accuracy"] += 1.01 * (atol + rtol * abs(df.loc[i, "accuracy"])) + 1e-9
    df.to_csv(tmp_path / f"{slug}.csv", index=False)
    problems = reference.compare_slug(slug, tmp_path)
    assert len(problems) == 1 and "hdc_table.accuracy" in problems[0] and "ehd_gnet" in problems[0]


def test_tolerance_file_errors(tmp_path):
    bad = tmp_path / "t.yaml"
    bad.write_text("x: {notebook: n, colums: {}}\n")
    with pytest.raises(ValueError, match="unknown keys"):
        reference.load_specs(bad)
    bad.write_text("x: {keys: [a]}\n")
    with pytest.raises(ValueError, match="notebook"):
        reference.load_specs(bad)
    bad.write_text("x: {notebook: n, columns: {a: {atl: 1}}}\n")
    with pytest.raises(ValueError, match="atol, rtol"):
        reference.load_specs(bad)
    with pytest.raises(FileNotFoundError):
        reference.load_specs(tmp_path / "missing.yaml")


def test_cli(tmp_path, capsys):
    with pytest.raises(SystemExit):
        reference.main(["compare", str(tmp_path / "nope")])
    assert "not a directory" in capsys.readouterr().err
    slug = "hdc_table"
    (tmp_path / f"{slug}.csv").write_bytes((reference.reference_dir() / f"{slug}.csv").read_bytes())
    assert reference.main(["compare", str(tmp_path), slug]) == 0
    assert "1 of 1" in capsys.readouterr().out


def test_group_means_catch_a_shift_that_every_row_tolerance_allows():
    """Per-chunk accuracies may move by whole images; the plotted mean over chunks has a tighter bound."""
    ref = pd.DataFrame({"n": [1000] * 4, "chunk": range(4), "acc": [90.0, 91.0, 92.0, 93.0]})
    spec = _spec(keys=["n", "chunk"], columns={"acc": {"atol": 2.0}},
                 group_means={"by": ["n"], "columns": {"acc": {"atol": 0.5}}})
    assert compare_frames(ref, ref.assign(acc=ref.acc + [1.0, -1.0, 0.0, 0.0]), spec) == []
    (problem,) = compare_frames(ref, ref.assign(acc=ref.acc + 1.5), spec)  # each row within 2, the mean not
    assert "mean over n groups" in problem


def test_group_means_spec_is_validated(tmp_path):
    bad = tmp_path / "t.yaml"
    bad.write_text("x: {notebook: n, group_means: {by: [a]}}\n")
    with pytest.raises(ValueError, match="group_means"):
        reference.load_specs(bad)
