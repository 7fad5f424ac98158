"""Fidelity of the simulator: physiology, not only shapes."""

import numpy as np
import pytest

from lsm_edge import schema
from lsm_edge.data.simulate import LIGHT, SEDENTARY, SLEEP, simulate, simulate_subject
from lsm_edge.data.summary import window_summary
from lsm_edge.data.windows import Windows

I = schema.INDEX
RUN, WALK = schema.ACTIVITIES.index("running"), schema.ACTIVITIES.index("walking")


def _minutes(tls):
    v = np.concatenate([t.values for t in tls])
    s = np.concatenate([t.labels["state"] for t in tls])
    return v, s


def test_deterministic_and_chunking_invariant():
    a = Windows.concat(simulate(6, 3, seed=7, chunk_subjects=6))
    b = Windows.concat(simulate(6, 3, seed=7, chunk_subjects=2))
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.subject, b.subject)
    c = Windows.concat(simulate(6, 3, seed=8, chunk_subjects=6))
    assert not np.array_equal(np.nan_to_num(a.values[:5]), np.nan_to_num(c.values[:5]))


def test_values_in_valid_range_and_missing_is_nan(sim_timelines):
    v, _ = _minutes(sim_timelines)
    assert not schema.out_of_range(v).any()
    assert not np.isinf(v).any()
    miss = np.isnan(v).mean(0)
    assert 0.0 < miss[I["heart_rate"]] < 0.3
    assert miss[I["scl_value"]] > miss[I["heart_rate"]]  # EDA is duty cycled


def test_heart_rate_follows_motion_on_active_minutes(sim_timelines):
    v, s = _minutes(sim_timelines)
    active = (s < 8) & ~np.isnan(v[:, I["heart_rate"]])
    hr = v[active, I["heart_rate"]]
    for f in ("step_count", "log_energy"):
        x = v[active, I[f]]
        ok = ~np.isnan(x)
        assert np.corrcoef(hr[ok], x[ok])[0, 1] > 0.2, f
    # over the whole day the link is strong
    ok = ~np.isnan(v[:, I["heart_rate"]]) & ~np.isnan(v[:, I["log_energy"]])
    assert np.corrcoef(v[ok, I["heart_rate"]], v[ok, I["log_energy"]])[0, 1] > 0.5


def test_running_above_walking_above_sedentary(sim_timelines):
    v, s = _minutes(sim_timelines)
    hr = v[:, I["heart_rate"]]
    means = {k: np.nanmean(hr[s == k]) for k in (RUN, WALK, SEDENTARY)}
    assert means[RUN] > means[WALK] + 10 > means[SEDENTARY] + 10
    steps = v[:, I["step_count"]]
    assert np.nanmean(steps[s == RUN]) > np.nanmean(steps[s == WALK]) > 5 * np.nanmean(steps[s == SEDENTARY])
    assert np.nanmean(steps[s == schema.ACTIVITIES.index("biking")]) < 10  # no steps on a bike


def test_sleep_is_still_and_slow(sim_timelines):
    v, s = _minutes(sim_timelines)
    sleep, awake = s == SLEEP, (s == SEDENTARY) | (s == LIGHT)
    assert np.nanmean(v[sleep, I["heart_rate"]]) < np.nanmean(v[awake, I["heart_rate"]]) - 5
    assert np.nanmean(v[sleep, I["log_energy"]]) < np.nanmean(v[awake, I["log_energy"]]) - 1
    assert np.nanmean(v[sleep, I["sleep_coefficient"]]) > 3 * np.nanmean(v[awake, I["sleep_coefficient"]])
    assert np.nanmean(v[sleep, I["step_count"]]) == 0


def test_rr_agrees_with_heart_rate(sim_timelines):
    v, _ = _minutes(sim_timelines)
    ok = ~np.isnan(v[:, I["rr_mean"]]) & ~np.isnan(v[:, I["heart_rate"]])
    np.testing.assert_allclose(v[ok, I["rr_mean"]], 60000 / v[ok, I["heart_rate"]], rtol=1e-4)
    assert (v[ok, I["rr_p80"]] >= v[ok, I["rr_p20"]]).all()


def test_off_wrist_blocks_and_motion_loses_hrv(sim_timelines):
    v, s = _minutes(sim_timelines)
    off = v[:, I["on_wrist"]] == 0
    assert off.mean() > 0.01
    others = np.delete(v[off], I["on_wrist"], axis=1)
    assert np.isnan(others).all()
    hrv_lost = np.isnan(v[:, I["rmssd"]]) & ~off
    assert hrv_lost[s == RUN].mean() > 3 * hrv_lost[s == SEDENTARY].mean()


def test_activity_recognisable_but_not_trivially():
    """A random forest on window statistics: clearly above chance, far from perfect."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import balanced_accuracy_score

    w = Windows.concat(simulate(60, 14, seed=11, chunk_subjects=20))
    lab = w.take(w.activity >= 0)
    x = window_summary(lab.values)
    tr, te = lab.split == 0, lab.split == 2
    rf = RandomForestClassifier(200, random_state=0, n_jobs=2, class_weight="balanced").fit(x[tr], lab.activity[tr])
    bal = balanced_accuracy_score(lab.activity[te], rf.predict(x[te]))
    assert 2.5 / 8 < bal < 0.9, bal
    share = np.bincount(lab.activity, minlength=8) / len(lab)
    assert share[WALK] == share.max() and share[WALK] > 0.3  # walking dominates, as in the paper
    assert 0.15 < w.exercise.mean() < 0.5


def test_subject_split_is_by_subject():
    w = Windows.concat(simulate(20, 2, seed=0, chunk_subjects=10))
    for subj in np.unique(w.subject):
        assert len(np.unique(w.split[w.subject == subj])) == 1
    assert set(np.unique(w.split)) == {0, 1, 2}


def test_subject_is_independent_of_others():
    a = simulate_subject(0, 5, 2)
    b = simulate_subject(0, 5, 2)
    np.testing.assert_array_equal(a.values, b.values)
    assert a.subject == "sim-000005"


def test_noise_scales_keep_the_subject_and_drop_only_the_noise():
    """benchmarks/teacher_headroom.py's oracles: same states and missingness, no per-minute noise."""
    noisy = simulate_subject(0, 7, 2)
    same = simulate_subject(0, 7, 2, iid_noise=1.0, fast_noise=1.0)
    np.testing.assert_array_equal(noisy.values, same.values)
    clean = simulate_subject(0, 7, 2, iid_noise=0.0, fast_noise=0.0)
    np.testing.assert_array_equal(np.isnan(clean.values), np.isnan(noisy.values))
    np.testing.assert_array_equal(clean.labels["state"], noisy.labels["state"])
    ok = ~np.isnan(noisy.values[:, I["heart_rate"]])
    ok[1:] &= ok[:-1]
    jump = {k: np.nanmedian(np.abs(np.diff(t.values[:, I["heart_rate"]]))[ok[1:]]) for k, t in
            (("noisy", noisy), ("clean", clean))}
    assert jump["clean"] < 0.2 * jump["noisy"], jump  # minute-to-minute jitter is the noise
    # an independent draw's scale: kurtosis is profile * lognormal noise, so clean = the profile's
    # value, constant within a sleep night
    sleep = (clean.labels["state"] == SLEEP) & ~np.isnan(clean.values[:, I["kurtosis"]])
    assert np.ptp(clean.values[sleep, I["kurtosis"]]) == 0.0
    assert np.ptp(noisy.values[sleep, I["kurtosis"]]) > 1.0
