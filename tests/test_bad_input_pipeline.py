"""Bad input to the command lines (pipeline, checkpoints, reference) and to gnetlab.pipeline's API.

Command-line mistakes must end in a usage error (argparse: exit status 2, a message naming the argument
on stderr), never in a traceback.
"""

import importlib
import json
import re

import pytest

from gnetlab import bench, ehd, paths, pipeline, reference, zoo

# ``python -m gnetlab.gnet`` runs gnetlab.gnet.train.main (the package re-exports the train() function
# under the same name, so the module is looked up by its documented dotted path)
gnet_train = importlib.import_module("gnetlab.gnet.train")

NB = "notebooks/01_grothendieck_identity.ipynb"


@pytest.fixture(autouse=True)
def _at_repository_root(monkeypatch):
    monkeypatch.chdir(paths.ROOT)  # the cases name repository-relative paths


@pytest.fixture
def not_a_notebook(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("{not json")
    return str(path)


CLI_CASES = [
    # issue 11: missing notebook and malformed --parameters give usage errors
    ("run-missing-notebook", pipeline.main, ["run", "notebooks/missing.ipynb", "out.ipynb"], "notebook: expected an existing .ipynb file"),
    ("run-directory-notebook", pipeline.main, ["run", "notebooks", "out.ipynb"], "a directory"),
    ("run-not-ipynb", pipeline.main, ["run", "README.md", "out.ipynb"], "notebook: expected a .ipynb file"),
    ("run-bad-json", pipeline.main, ["run", NB, "out.ipynb", "--parameters", "{seed: 1}"], "--parameters: expected a JSON object"),
    ("run-json-list", pipeline.main, ["run", NB, "out.ipynb", "--parameters", "[1, 2]"], "--parameters: expected a JSON object"),
    ("run-unknown-parameter", pipeline.main, ["run", NB, "out.ipynb", "--parameters", json.dumps({"sead": 1})], r"--parameters: unknown parameters \['sead'\]"),
    ("run-threads-zero", pipeline.main, ["run", NB, "out.ipynb", "--threads", "0"], "--threads: expected an integer >= 1"),
    ("run-threads-text", pipeline.main, ["run", NB, "out.ipynb", "--threads", "two"], "--threads: invalid int value"),
    ("run-output-dir", pipeline.main, ["run", NB, "notebooks"], "output: expected a path for the executed .ipynb"),
    ("params-missing", pipeline.main, ["params", "nope.ipynb"], "notebook: expected an existing .ipynb file"),
    ("refresh-missing", pipeline.main, ["refresh", "nope.ipynb"], "notebooks: expected an existing .ipynb file"),
    ("pipeline-no-command", pipeline.main, [], "required"),
    ("zoo-train-bad-json", zoo.main, ["train", "gnet", "m", "out.pt", "--spec", "{"], "--spec: not valid JSON"),
    ("zoo-train-json-list", zoo.main, ["train", "gnet", "m", "out.pt", "--spec", "[]"], "--spec: expected a JSON object"),
    ("zoo-train-bad-spec", zoo.main, ["train", "gnet", "m", "out.pt", "--spec", json.dumps({"dataset": "digits"})], "--spec: spec: unknown keys"),
    ("zoo-train-bnn-spec", zoo.main, ["train", "bnn", "m", "out.pt", "--spec", json.dumps({"dataset": "digits", "recipe": "fp16", "hidden": [8], "seed": 0, "train": {}})], r"--spec: spec\['recipe'\]: unknown value"),
    ("zoo-train-kind", zoo.main, ["train", "svm", "m", "out.pt", "--spec", "{}"], "invalid choice: 'svm'"),
    ("zoo-retrain-unknown", zoo.main, ["retrain", "no_such_model"], r"names: unknown models \['no_such_model'\]"),
    ("gnet-train-bad-json", gnet_train.main, ["out.pt", "--spec", "{x"], "--spec: not valid JSON"),
    ("gnet-train-bad-spec", gnet_train.main, ["out.pt", "--spec", "[]"], "--spec: spec: expected a dict"),
    ("gnet-train-threads", gnet_train.main, ["out.pt", "--spec", "{}", "--threads", "0"], "--threads: expected an integer >= 1"),
    ("ehd-bench-hyperdim", bench.ehd_main, ["--hyperdim", "0"], "--hyperdim: expected integers >= 1"),
    ("ehd-bench-batch", bench.ehd_main, ["--batch", "1", "-5"], "--batch: expected integers >= 1"),
    ("ehd-bench-seed", bench.ehd_main, ["--seed", "-1"], "--seed: expected a non-negative"),
    ("ehd-bench-embedding", bench.ehd_main, ["--embedding", "bernoulli"], "invalid choice: 'bernoulli'"),
    ("reference-not-dir", reference.main, ["compare", "nope_dir"], "results_dir: nope_dir is not a directory"),
    ("reference-command", reference.main, ["bogus", "results"], "invalid choice: 'bogus'"),
]


@pytest.mark.parametrize("main, argv, fragment", [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_cli_usage_errors(main, argv, fragment, capsys, tmp_path, monkeypatch):
    argv = [str(tmp_path / a) if a in ("out.ipynb", "out.pt") else a for a in argv]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert re.search(fragment, err), err


def test_cli_not_a_notebook(not_a_notebook, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        pipeline.main(["run", not_a_notebook, str(tmp_path / "out.ipynb")])
    assert exc.value.code == 2
    assert "notebook: " in capsys.readouterr().err


API_CASES = [
    ("set-threads-zero", lambda: pipeline.set_threads(0), ValueError, "threads: expected an integer >= 1"),
    ("set-threads-str", lambda: pipeline.set_threads("2"), TypeError, "threads: expected an integer"),
    ("thread-env-float", lambda: pipeline.thread_env(1.5), TypeError, "threads: expected an integer"),
    ("notebook-parameters-missing", lambda: pipeline.notebook_parameters("notebooks/missing.ipynb"), FileNotFoundError, "notebook: notebooks/missing.ipynb does not exist"),
    ("notebook-parameters-int", lambda: pipeline.notebook_parameters(3), TypeError, "notebook: expected a path"),
    ("run-notebook-threads", lambda: pipeline.run_notebook(NB, "/tmp/x.ipynb", threads=0), ValueError, "threads: expected an integer >= 1"),
    ("run-notebook-parameters-list", lambda: pipeline.run_notebook(NB, "/tmp/x.ipynb", parameters=[("seed", 1)]), TypeError, "parameters: expected a dict"),
    ("run-notebook-unknown", lambda: pipeline.run_notebook(NB, "/tmp/x.ipynb", parameters={"sead": 1}), ValueError, r"unknown parameters \['sead'\]"),
    ("check-config-type", lambda: pipeline.check_config([1], {}), TypeError, "config: expected a mapping of sections"),
    ("check-config-section", lambda: pipeline.check_config({"grothendiek_identity": {"trials": 20}}, pipeline.load_config()), ValueError, r"unknown sections \['grothendiek_identity'\]"),
    ("load-config-missing", lambda: pipeline.load_config("config/none.yaml"), FileNotFoundError, "config file config/none.yaml does not exist"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES])
def test_api_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
