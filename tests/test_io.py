import os
import stat

import pandas as pd
import pytest

from gnetlab import io, plotting


def test_atomic_path_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with io.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_atomic_write_has_normal_permissions(tmp_path):
    path = io.write_text_atomic(tmp_path / "a.txt", "x")
    mode = stat.S_IMODE(os.stat(path).st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask


def test_save_figure_writes_png_pdf_csv_deterministically(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def make():
        with plotting.style():
            fig, ax = plt.subplots()
            ax.plot([0, 1], [0, 1])
        return fig

    df = pd.DataFrame({"x": [0, 1], "y": [0.0, 1.0]})
    out1 = plotting.save_figure(make(), "demo", df, figures_dir=tmp_path / "f", results_dir=tmp_path / "r")
    b1 = {k: p.read_bytes() for k, p in out1.items()}
    out2 = plotting.save_figure(make(), "demo", df, figures_dir=tmp_path / "f", results_dir=tmp_path / "r")
    assert {k: p.read_bytes() for k, p in out2.items()} == b1  # no timestamps in the files
    assert set(out1) == {"png", "pdf", "csv"}
    pd.testing.assert_frame_equal(pd.read_csv(out1["csv"]), df)
    with pytest.raises(ValueError, match="slug"):
        plotting.save_figure(make(), "a/b", figures_dir=tmp_path, results_dir=tmp_path)
