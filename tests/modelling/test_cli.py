"""`postloan model fit-scorecard` and `postloan model score` through the real command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from postloan.cli.main import app
from postloan.modelling import load_model

from .conftest import credit_table

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("model-cli")
    table = credit_table(n=2000, seed=8)
    table.assign(status=np.where(table.bad == 1, "bad", "good")).drop(columns="bad").to_csv(
        folder / "train.csv", index=False
    )
    table.to_parquet(folder / "train.parquet", index=False)
    credit_table(n=300, seed=9).drop(columns="bad").to_csv(folder / "new.csv", index=False)
    return folder


def fit(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["model", "fit-scorecard", *args])
    # an exception escaping the command (a traceback for the user) is not a refusal
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_fit_then_score_csv(files: Path) -> None:
    code, output = fit(
        "--data", str(files / "train.csv"), "--target", "status", "--bad", "bad",
        "--out", str(files / "m"), "--data-window", "2024-01..2024-12",
    )  # fmt: skip
    assert code == 0, output
    assert "AUC 0." in output and "KS 0." in output
    model = load_model(files / "m")
    assert model.data_window == "2024-01..2024-12" and model.source is not None
    assert model.bad_value == "bad"
    result = runner.invoke(
        app,
        ["model", "score", "--model", str(files / "m"), "--data", str(files / "new.csv"),
         "--out", str(files / "scores.csv"), "--keep", "region"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(files / "scores.csv")
    new = pd.read_csv(files / "new.csv")
    assert len(scores) == len(new)
    assert list(scores.columns[:4]) == ["region", "score", "pd", "band"]
    assert list(scores["region"]) == list(new["region"])  # input order kept
    np.testing.assert_allclose(scores["score"], model.score(new), rtol=0, atol=1e-9)
    assert {"reason_1", "reason_2", "reason_3"} <= set(scores.columns)


def test_parquet_in_and_out_and_the_same_model_twice(files: Path) -> None:
    for out in ("p1", "p2"):
        code, output = fit("--data", str(files / "train.parquet"), "--target", "bad",
                           "--out", str(files / out))  # fmt: skip
        assert code == 0, output
    code, output = fit("--data", str(files / "train.parquet"), "--target", "bad",
                       "--out", str(files / "p0"), "--ratios", "0")  # fmt: skip
    assert code == 0 and "ratio characteristics" not in output
    assert all(c.ratio is None for c in load_model(files / "p0").characteristics)
    assert (files / "p1/model.json").read_bytes() == (files / "p2/model.json").read_bytes()
    result = runner.invoke(
        app,
        ["model", "score", "--model", str(files / "p1"), "--data", str(files / "train.parquet"),
         "--out", str(files / "s.parquet")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(pd.read_parquet(files / "s.parquet")) == 2000


def _refused(code: int, output: str, expected_code: int, *phrases: str) -> None:
    assert code == expected_code, output
    assert "Traceback" not in output
    for phrase in phrases:
        assert phrase in output, output


def test_bad_input_is_refused_without_traceback(files: Path, tmp_path: Path) -> None:
    data, out = str(files / "train.csv"), str(tmp_path / "x")
    _refused(*fit("--data", data, "--target", "nope", "--out", out), 1, "'nope'", "not in the data")
    _refused(*fit("--data", data, "--target", "status", "--out", out), 1, "'status'", "--bad")
    one_class = tmp_path / "one.csv"
    pd.DataFrame({"x": [1, 2, 3], "y": [0, 0, 0]}).to_csv(one_class, index=False)
    _refused(*fit("--data", str(one_class), "--target", "y", "--out", out), 1, "single class")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    _refused(*fit("--data", str(empty), "--target", "y", "--out", out), 2, "empty")
    header_only = tmp_path / "header.csv"
    header_only.write_text("x,y\n")
    _refused(*fit("--data", str(header_only), "--target", "y", "--out", out), 1, "no rows")
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"\x00\x01 not parquet")
    _refused(*fit("--data", str(garbage), "--target", "y", "--out", out), 2, "cannot be read")
    missing = str(tmp_path / "absent.csv")
    _refused(*fit("--data", missing, "--target", "y", "--out", out), 2, "cannot be read")
    _refused(*fit("--data", str(tmp_path / "t.xlsx"), "--target", "y", "--out", out), 2, ".csv")


def test_an_existing_model_is_kept_unless_replaced(files: Path) -> None:
    args = ("--data", str(files / "train.parquet"), "--target", "bad", "--out", str(files / "k"))
    assert fit(*args)[0] == 0
    _refused(*fit(*args), 2, "--replace")
    assert fit(*args, "--replace")[0] == 0


def test_score_refuses_a_missing_feature_and_a_missing_model(files: Path, tmp_path: Path) -> None:
    assert fit("--data", str(files / "train.parquet"), "--target", "bad",
               "--out", str(files / "s"))[0] == 0  # fmt: skip
    lacking = tmp_path / "lacking.csv"
    pd.read_csv(files / "new.csv").drop(columns=["channel"]).to_csv(lacking, index=False)
    result = runner.invoke(
        app, ["model", "score", "--model", str(files / "s"), "--data", str(lacking),
              "--out", str(tmp_path / "o.csv")],
    )  # fmt: skip
    _refused(result.exit_code, result.output, 1, "channel")
    result = runner.invoke(
        app, ["model", "score", "--model", str(tmp_path), "--data", str(lacking),
              "--out", str(tmp_path / "o.csv")],
    )  # fmt: skip
    _refused(result.exit_code, result.output, 2, "no model.json")
