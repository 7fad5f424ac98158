"""Person-level labels: rhythm measures from their definitions, labels from the participant tables, folds that
never split a person, soft votes over days, intervals over people."""

import numpy as np
import pytest

from lsm_edge import schema
from lsm_edge.core.rhythm import (interdaily_stability, intradaily_variability, lowest_highest, profile_24h,
                                  rhythm)
from lsm_edge.data.autoimport import find, person_labels
from lsm_edge.data.windows import Timeline
from lsm_edge.verbs.people import (DAY, day_statistics, day_windows, days_of, folds, person_predictions, scores,
                                   tasks_of)


def _square(days=7, on=(8 * 60, 18 * 60), level=100.0):
    x = np.zeros(days * DAY)
    for d in range(days):
        x[d * DAY + on[0]:d * DAY + on[1]] = level
    return x


def test_a_day_repeated_has_is_1_ra_1_and_l5_m10_of_its_quiet_and_active_hours():
    x = _square()
    r = rhythm(x)
    assert r["IS"] == pytest.approx(1.0) and r["RA"] == pytest.approx(1.0)
    assert r["L5"] == 0 and r["M10"] == 100
    # one switch on and one off a day: IV = N * 2 * days * 100^2 / ((N - 1) * N * var) with var the hourly variance
    h = x.reshape(-1, 60).mean(1)
    want = len(h) * (np.diff(h) ** 2).sum() / ((len(h) - 1) * ((h - h.mean()) ** 2).sum())
    assert intradaily_variability(x) == pytest.approx(want)


def test_is_and_iv_follow_their_definitions_on_noise_and_a_sine():
    rng = np.random.default_rng(0)
    noise = rng.normal(100, 10, 14 * DAY)
    hours = noise.reshape(-1, 60).mean(1)
    profile = hours.reshape(-1, 24).mean(0)
    want = len(hours) * ((profile - hours.mean()) ** 2).sum() / (24 * ((hours - hours.mean()) ** 2).sum())
    assert interdaily_stability(noise) == pytest.approx(want) and want < 0.2
    assert intradaily_variability(noise) == pytest.approx(2.0, abs=0.3)  # noise: about 2
    sine = 50 + 40 * np.sin(2 * np.pi * np.arange(14 * DAY) / DAY)
    assert intradaily_variability(sine) < 0.1 and interdaily_stability(sine) == pytest.approx(1.0)


def test_the_profile_follows_the_clock_and_l5_may_cross_midnight():
    x = np.full(3 * DAY, 50.0)
    for d in range(3):  # quiet from 22:00 to 03:00 on the clock; the recording starts at 12:00
        a = d * DAY + (22 * 60 - 12 * 60)
        x[a:a + 300] = 0
    l5, m10 = lowest_highest(x, start_minute=12 * 60)
    assert l5 == pytest.approx(0, abs=1e-9) and m10 == 50
    p = profile_24h(x, 12 * 60)
    assert p[22 * 60 + 10] == 0 and p[12 * 60] == 50
    assert np.isnan(interdaily_stability(x[:DAY]))  # one day says nothing of day-to-day stability


def test_days_are_whole_calendar_days_on_the_recordings_clock():
    v = np.full((3 * DAY, schema.N_FEATURES), np.nan, np.float32)
    j = schema.INDEX["log_energy"]
    v[:, j] = 1.0
    v[DAY + 600:2 * DAY + 600, j] = np.nan  # the second midnight-to-midnight day is under half observed
    tl = Timeline("p", np.datetime64("2020-01-01T12:00"), v)
    got = days_of(tl, j)
    assert got == [12 * 60]  # 2020-01-02 00:00 only: 01-03 is too empty, 01-01 and 01-04 are partial
    assert day_windows(tl, got).shape == (5, 300, schema.N_FEATURES)
    stats = day_statistics(tl, j, got)
    assert stats.shape == (1, 12) and stats[0, 0] == pytest.approx(np.expm1(1.0))  # counts, not their log


def test_labels_come_from_the_participant_tables(real_dir):
    from pathlib import Path

    found = {k: [Path(p) for p in v] for k, v in find(real_dir / "depresjon").items()}
    people = person_labels(found)
    t = tasks_of(["depression", "schizophrenia"], people)["depression"]
    assert t["actiwatch-condition_1"] == "depression" and t["actiwatch-control_10"] == "control"
    recorded = sum(1 for _ in (real_dir / "depresjon" / "condition").iterdir())
    assert sum(v == "depression" for v in t.values()) == recorded
    with pytest.raises(Exception, match="expected depression, schizophrenia, glycaemic or a file"):
        tasks_of(["nosuch"], people)


def test_folds_never_split_a_person_and_votes_are_per_person():
    rng = np.random.default_rng(1)
    g = np.repeat([f"p{i}" for i in range(20)], 7)
    y = np.repeat(np.arange(20) % 2, 7)
    for tr, te in folds(y, g, seed=0):
        assert not set(g[tr]) & set(g[te])
    x = y[:, None] + rng.normal(0, 0.3, (len(y), 3))  # separable: every person right
    pred = person_predictions(x, y, g, "logistic")
    assert len(pred) == 20 and all(t == p for t, p in pred.values())
    s = scores(pred, 2)
    assert s["accuracy"][0] == 1 and s["mcc"][0] == 1 and s["confusion"] == [[10, 0], [0, 10]]
    half = {k: (t, 1 - t if i % 2 else t) for i, (k, (t, _)) in enumerate(pred.items())}
    s = scores(half, 2)
    assert s["accuracy"][1] < s["accuracy"][0] < s["accuracy"][2]  # the interval spans the point
