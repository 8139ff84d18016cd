"""What a search shows while it runs: nothing, a bar and trial lines, or epoch lines too."""

import logging

import pytest

from sknas import NASTabularClassifier
from sknas.search import driver

FAST = {"max_trials": 2, "epochs": 2, "random_state": 0, "cv": None}


def test_verbose_0_prints_nothing(iris, capsys):
    X, y = iris
    NASTabularClassifier(verbose=0, **FAST).fit(X, y)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_verbose_1_prints_a_line_per_trial_and_no_epochs(iris, capsys):
    X, y = iris
    NASTabularClassifier(verbose=1, **FAST).fit(X, y)
    printed = capsys.readouterr()
    text = printed.out + printed.err
    assert "trial   0 COMPLETE" in text and "trial   1 COMPLETE" in text
    assert "train_loss" not in text


def test_verbose_2_adds_a_line_per_epoch(iris, capsys):
    X, y = iris
    NASTabularClassifier(verbose=2, **FAST).fit(X, y)
    text = "".join(capsys.readouterr())
    assert "train_loss" in text and "valid_loss" in text
    assert text.count("trial   ") == 2


def test_the_progress_bar_shows_the_best_score_and_the_time_left(iris, capsys, monkeypatch):
    X, y = iris
    monkeypatch.setattr(driver, "_interactive", lambda: True)
    NASTabularClassifier(verbose=1, time_budget=600, **FAST).fit(X, y)
    err = capsys.readouterr().err
    assert "trial/s" in err or "s/trial" in err
    assert "best=" in err and "left=" in err and "2/2" in err


@pytest.mark.parametrize("verbose", [0, 1])
def test_everything_goes_to_the_sknas_logger(iris, caplog, verbose):
    X, y = iris
    with caplog.at_level(logging.DEBUG, logger="sknas"):
        NASTabularClassifier(verbose=verbose, **FAST).fit(X, y)
    records = [r for r in caplog.records if r.name == "sknas"]
    trials = [r.getMessage() for r in records if r.levelno == logging.INFO]
    epochs = [r.getMessage() for r in records if r.levelno == logging.DEBUG]
    assert [m.split()[:3] for m in trials] == [
        ["trial", "0", "COMPLETE"],
        ["trial", "1", "COMPLETE"],
    ]
    assert any("train_loss" in m for m in epochs)
    assert not any("\x1b[" in m for m in epochs), "log lines carry no terminal colours"
