"""A physiological simulator of minute-level wearable data: the embedded default dataset.

No copy of the LSM paper's data is public, so the default data source must have the structure
that makes the paper's tasks meaningful (if linear interpolation were already optimal here,
nothing downstream could be judged). Everything below derives from a few latent quantities:

subject (demographics -> resting / maximal HR, HRV baseline, skin baselines, fitness, habits)
   -> minute timeline of states: sleep, sedentary, light, or one of the 8 labelled activities
   -> intensity (fraction of heart-rate reserve), with each activity's own within-bout pattern
   -> heart rate through first-order kinetics (fast rise, slow recovery)
   -> RR features from heart rate and HRV (rr_mean = 60000 / HR), accelerometer features from
      the activity's motion, skin conductance from (lagged) exertion, skin temperature and
      altimeter per activity
   -> missingness as wearables have it: off-wrist charging blocks, HRV lost in hard motion,
      PPG lost in water, EDA duty cycling, scattered sync gaps.  Missing = NaN.

Deterministic for a seed: subject ``i`` of seed ``s`` is drawn from ``default_rng([s, i])``, so a
subject is the same whatever the chunking, and ``simulate`` streams windows subject-chunk by
subject-chunk (nothing but one chunk is ever in memory).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
from scipy.signal import lfilter

from .. import schema
from .windows import NO_LABEL, Timeline, Windows, cut_windows

DAY = 1440
I = schema.INDEX

# Subject-level split: every block of 10 consecutive subjects gives 7 train, 1 val, 2 test.
_SPLIT_OF_SLOT = (0, 0, 0, 0, 0, 0, 0, 1, 2, 2)

# Demographics, after the shape of the LSM paper's Table 2(a) (sex, age band, BMI band).
SEX_P = {"female": 0.48, "male": 0.52}
AGE_BANDS = ((18, 30, 0.20), (30, 40, 0.25), (40, 50, 0.22), (50, 60, 0.18), (60, 80, 0.15))
BMI_BANDS = ((18.5, 25, 0.40), (25, 30, 0.35), (30, 40, 0.25))

# Share of labelled-activity windows per class in the paper's Table 2(b) (train counts).
ACTIVITY_SHARE = np.array([1191, 152, 332, 229, 2332, 1860, 7607, 669], float)
ACTIVITY_SHARE /= ACTIVITY_SHARE.sum()


@dataclass(frozen=True)
class StateProfile:
    """How a state looks to the sensors.  intensity: fraction of HR reserve at fitness 1."""

    intensity: float
    cadence: float  # steps/min
    log_energy: float
    periodicity: float  # jerk autocorrelation ratio
    zc_mean: float  # s between zero crossings
    tilt: float  # degrees
    kurtosis: float
    log10_cond: float
    energy_ratio: float
    alt_std: float  # hPa
    temp_delta: float  # degC, steady-state shift of skin temperature
    sweat: float  # skin-conductance gain per unit of intensity
    motion: float  # 0..1, drives PPG quality loss
    duration: tuple = (0, 0)  # bout minutes: (median, log-sd)
    pattern: str = "steady"


# States 0..7 are the labelled activities in schema.ACTIVITIES order; 8..10 the rest of the day.
SLEEP, SEDENTARY, LIGHT = 8, 9, 10
PROFILES: tuple[StateProfile, ...] = (
    StateProfile(0.55, 3, 4.2, 0.25, 2.8, 35, 6, 1.8, 0.4, 0.25, -0.6, 0.5, 0.50, (55, 0.45), "drift"),  # biking
    StateProfile(0.60, 125, 6.0, 0.70, 0.95, 12, 3.5, 2.0, 0.5, 0.03, -0.3, 0.6, 0.65, (32, 0.35), "drift"),  # elliptical
    StateProfile(0.72, 85, 6.8, 0.40, 1.0, 0, 5, 1.3, 1.0, 0.06, -0.3, 0.9, 0.90, (28, 0.35), "intervals"),  # hiit
    StateProfile(0.40, 12, 5.0, 0.22, 2.0, 5, 11, 1.5, 0.3, 0.03, -0.2, 0.5, 0.70, (45, 0.35), "sets"),  # strength
    StateProfile(0.58, 6, 6.4, 0.60, 1.6, -20, 4, 1.1, 0.0, 1.60, -2.5, 0.0, 1.00, (40, 0.35), "drift"),  # swimming
    StateProfile(0.74, 162, 7.4, 0.85, 0.70, 15, 3, 2.3, 0.8, 0.15, -0.5, 1.0, 0.95, (38, 0.40), "drift"),  # running
    StateProfile(0.30, 106, 5.4, 0.78, 1.10, 5, 3.2, 2.1, 0.2, 0.12, -0.2, 0.3, 0.55, (40, 0.50), "walk"),  # walking
    StateProfile(0.45, 9, 5.2, 0.20, 2.2, 0, 13, 1.6, 0.4, 0.03, -0.2, 0.5, 0.70, (50, 0.35), "sets"),  # weightlifting
    StateProfile(0.00, 0, 0.6, 0.05, 8.0, -8, 30, 1.0, -2.0, 0.01, 1.2, 0.0, 0.05),  # sleep
    StateProfile(0.04, 2, 2.5, 0.10, 4.0, 20, 15, 1.5, -1.0, 0.02, 0.0, 0.0, 0.20),  # sedentary
    StateProfile(0.18, 35, 4.4, 0.35, 1.9, 8, 8, 1.4, 0.0, 0.05, 0.0, 0.1, 0.40),  # light
)
_P = {k: np.array([getattr(p, k) for p in PROFILES], float) for k in StateProfile.__dataclass_fields__
      if k not in ("duration", "pattern")}

HRV_FEATURES = [I[n] for n in ("rr_p80", "rr_p20", "rr_median", "rr_mean", "rr_entropy", "rr_diff_entropy",
                               "pnn30", "rmssd", "sdnn")]
PPG_SIGNAL = [I["heart_rate"], I["rr_percent_valid"]] + HRV_FEATURES


@dataclass
class Subject:
    index: int
    sex: str
    age: float
    bmi: float
    fitness: float  # ~1; higher = fitter (lower resting HR, less intensity for the same activity)
    rest_hr: float
    max_hr: float
    rmssd_base: float
    scl_base: float
    temp_base: float
    tilt_offset: float
    wake: float  # habitual wake minute of day
    bed: float  # habitual bed minute of day
    bouts_per_day: float
    activity_p: np.ndarray  # [8] preference over labelled activities
    p_logged: float  # chance that a bout is logged (labelled); unlogged bouts still happen
    walks_per_day: float  # unlogged commuting walks
    style: dict  # per-state personal style: multipliers / offsets of the profile, each [11]

    @property
    def name(self) -> str:
        return f"sim-{self.index:06d}"

    @property
    def split(self) -> int:
        return draw_split(self.index)


def draw_subject(seed: int, index: int) -> Subject:
    rng = np.random.default_rng([seed, index, 0])
    sex = "female" if rng.random() < SEX_P["female"] else "male"
    lo, hi, _ = AGE_BANDS[rng.choice(len(AGE_BANDS), p=[b[2] for b in AGE_BANDS])]
    age = rng.uniform(lo, hi)
    blo, bhi, _ = BMI_BANDS[rng.choice(len(BMI_BANDS), p=[b[2] for b in BMI_BANDS])]
    bmi = rng.uniform(blo, bhi)
    fitness = float(np.clip(rng.normal(1.0, 0.15) - 0.01 * (bmi - 25) - 0.003 * (age - 40), 0.6, 1.4))
    rest_hr = float(np.clip(rng.normal(66 if sex == "male" else 70, 6) - 18 * (fitness - 1) + 0.4 * (bmi - 25), 42, 95))
    max_hr = 208 - 0.7 * age + rng.normal(0, 5)
    rmssd_base = float(np.exp(rng.normal(np.log(55 - 0.55 * (age - 18)), 0.25)) * fitness)
    # activity habits: how often, and a Dirichlet preference centred on the paper's class shares
    bouts = float(np.clip(rng.gamma(4.0, 0.8) * fitness, 0.3, 5.0))
    pref = rng.dirichlet(ACTIVITY_SHARE * 6 + 0.15)
    # personal style: one person's jog is another's brisk walk; the watch sits tighter on some wrists
    n = len(PROFILES)
    style = {"intensity": np.exp(rng.normal(0, 0.25, n)), "cadence": np.exp(rng.normal(0, 0.35, n)),
             "log_energy": rng.normal(0, 0.8, n) + rng.normal(0, 0.5), "periodicity": rng.normal(0, 0.2, n)}
    return Subject(index, sex, age, bmi, fitness, rest_hr, max_hr, rmssd_base,
                   scl_base=float(np.exp(rng.normal(np.log(4.0), 0.5))),
                   temp_base=float(rng.normal(33.0 if sex == "male" else 33.4, 0.6)),
                   tilt_offset=float(rng.normal(0, 8)),
                   wake=float(rng.normal(7 * 60, 50)), bed=float(rng.normal(23 * 60, 50)),
                   bouts_per_day=bouts, activity_p=pref, p_logged=float(rng.beta(6, 3)),
                   walks_per_day=float(rng.gamma(2.0, 0.6)), style=style)


def _timeline_states(subj: Subject, days: int, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minute states [T] (0..10), within-bout modulation [T] of intensity (1 = nominal), and the
    logged label [T] (the activity where the subject logged the bout, NO_LABEL elsewhere)."""
    T = days * DAY
    state = np.full(T, SEDENTARY, np.int8)
    mod = np.ones(T, np.float32)
    logged = np.full(T, NO_LABEL, np.int8)
    # sleep: one night per day boundary, with night-to-night jitter
    wakes = subj.wake + rng.normal(0, 35, days + 1)
    beds = subj.bed + rng.normal(0, 45, days + 1)
    for d in range(-1, days):
        s = int(d * DAY + beds[d + 1])
        e = int((d + 1) * DAY + wakes[d + 1])
        state[max(s, 0):min(e, T)] = SLEEP
    # waking hours: alternate sedentary and light segments
    awake = np.flatnonzero(state != SLEEP)
    n = len(awake) // 8 + 10
    seg = np.where(np.arange(n) % 2 == 0, rng.lognormal(np.log(45), 0.6, n), rng.lognormal(np.log(12), 0.5, n))
    ends = np.cumsum(seg.astype(int) + 1)
    light_runs = np.searchsorted(ends, np.arange(len(awake)), side="right") % 2 == 1
    state[awake[light_runs]] = LIGHT
    # bouts: workouts (logged or not) and unlogged commuting walks
    walking = schema.ACTIVITIES.index("walking")
    for d in range(days):
        n_bouts, n_walks = rng.poisson(subj.bouts_per_day), rng.poisson(subj.walks_per_day)
        for k in range(n_bouts + n_walks):
            a = int(rng.choice(8, p=subj.activity_p)) if k < n_bouts else walking
            med, sd = PROFILES[a].duration if k < n_bouts else (15, 0.4)
            dur = int(np.clip(rng.lognormal(np.log(med), sd), 5 if k >= n_bouts else 10, 180))
            lo, hi = d * DAY + wakes[d + 1] + 20, d * DAY + beds[d + 1] - dur - 10
            if hi <= lo or lo >= T:
                continue
            s = int(rng.uniform(lo, min(hi, T - 1)))
            e = min(s + dur, T)
            state[s:e] = a
            effort = np.exp(rng.normal(0, 0.25))  # an easy day or a hard one
            mod[s:e] = effort * _bout_pattern(PROFILES[a].pattern, dur, rng)[:e - s]
            if k < n_bouts and rng.random() < subj.p_logged:
                logged[s:e] = a
    return state, mod, logged


def _bout_pattern(kind: str, n: int, rng) -> np.ndarray:
    """Within-bout intensity modulation [n] around 1.  Warm-up ramp on every bout."""
    t = np.arange(n)
    ramp = np.clip(0.55 + 0.45 * t / rng.uniform(3, 8), None, 1.0)
    if kind == "intervals":  # HIIT: work / rest blocks of 1-3 min
        block = int(rng.integers(1, 4))
        m = np.where((t // block) % 2 == 0, 1.25, 0.6)
    elif kind == "sets":  # strength: ~1 min set, 1-3 min rest
        period = int(rng.integers(2, 5))
        m = np.where(t % period == 0, 1.35, 0.75)
    elif kind == "walk":  # pauses and pace changes
        m = 1.0 + 0.25 * np.cumsum(rng.normal(0, 0.15, n)).clip(-1, 1)
        m[rng.random(n) < 0.06] = 0.3
    else:  # slow drift of pace
        m = 1.0 + np.cumsum(rng.normal(0, 0.03, n)).clip(-0.25, 0.25)
    return (m * ramp).astype(np.float32)


def _ar1(rng, n: int, phi: float, sd: float) -> np.ndarray:
    """Stationary AR(1) noise with marginal standard deviation ``sd``."""
    e = rng.normal(0, sd * np.sqrt(1 - phi * phi), n)
    e[0] = rng.normal(0, sd)
    return lfilter([1.0], [1.0, -phi], e)


def _lag(x: np.ndarray, tau: float) -> np.ndarray:
    """First-order kinetics with time constant ``tau`` minutes (starts at x[0])."""
    a = 1.0 - np.exp(-1.0 / tau)
    y, _ = lfilter([a], [1.0, a - 1.0], x, zi=[x[0] * (1 - a)])
    return y


def simulate_subject(seed: int, index: int, days: int, iid_noise: float = 1.0, fast_noise: float = 1.0) -> Timeline:
    """One subject's timeline: values [days*1440, 26] (NaN = missing) and per-minute activity labels.

    ``iid_noise`` scales every independent per-minute draw and ``fast_noise`` every AR(1) fluctuation
    that forgets within ~10 minutes (phi <= 0.9).  Both are 1 in every dataset; at 0 they give the
    same subject, states, bouts and missingness without those fluctuations, which is what
    benchmarks/teacher_headroom.py uses to tell how much of an imputation error is unpredictable.
    Every draw is made whatever the scales, so the rest of the subject does not change with them.
    """
    a, f = iid_noise, fast_noise
    subj = draw_subject(seed, index)
    rng = np.random.default_rng([seed, index, 1])
    T = days * DAY
    state, mod, logged = _timeline_states(subj, days, rng)
    p = {k: v[state] for k, v in _P.items()}
    p["intensity"] = p["intensity"] * subj.style["intensity"][state]
    p["cadence"] = p["cadence"] * subj.style["cadence"][state]
    p["log_energy"] = p["log_energy"] + subj.style["log_energy"][state]
    p["periodicity"] = np.clip(p["periodicity"] + subj.style["periodicity"][state], -1, 1)
    minute = np.arange(T) % DAY
    circ = np.sin(2 * np.pi * (minute - 10 * 60) / DAY)  # peaks mid-afternoon
    asleep = state == SLEEP

    # intensity and heart rate (fast rise ~1 min, slow recovery ~4 min: max of two kinetics)
    intensity = np.clip(p["intensity"] / subj.fitness * mod + f * _ar1(rng, T, 0.9, 0.03), 0, 1.1)
    target = subj.rest_hr + intensity * (subj.max_hr - subj.rest_hr) + 3 * circ - 6 * asleep
    hr = np.maximum(_lag(target, 1.0), _lag(target, 4.0))
    hr = hr + f * _ar1(rng, T, 0.85, 2.0) + a * rng.normal(0, 1.2 + 2.0 * intensity)
    hr = np.clip(hr, 35, 220)

    # HRV from HR and the subject's baseline; RR from HR
    eff = np.clip((hr - subj.rest_hr) / (subj.max_hr - subj.rest_hr), 0, 1)
    rmssd = subj.rmssd_base * np.exp(-2.8 * eff) * np.where(asleep, 1.3, 1.0) * np.exp(f * _ar1(rng, T, 0.8, 0.18))
    sdnn = rmssd * 1.25 + 8 * np.exp(f * _ar1(rng, T, 0.8, 0.2))
    rr_mean = 60000.0 / hr
    rr_median = rr_mean + a * rng.normal(0, 4, T)
    spread = 0.55 * sdnn
    pnn30 = 100 / (1 + np.exp(-(rmssd - 28) / 9)) + a * rng.normal(0, 3, T)
    motion = p["motion"] * mod
    ppg_valid = 100 / (1 + np.exp(-(3.5 - 4.5 * motion))) + a * rng.normal(0, 4, T)

    # accelerometer
    e_noise = f * _ar1(rng, T, 0.7, 0.35)
    log_energy = p["log_energy"] + 0.9 * np.log(np.maximum(mod, 0.2)) + e_noise
    steps = p["cadence"] * mod * (1 + f * _ar1(rng, T, 0.6, 0.06))
    steps = np.where(state == SEDENTARY, a * rng.poisson(1.5, T) * (rng.random(T) < 0.3), steps)
    steps = np.where(asleep, 0, np.round(np.clip(steps + a * rng.normal(0, 2, T), 0, 250)))
    periodicity = np.clip(p["periodicity"] * np.minimum(mod, 1.1) + a * rng.normal(0, 0.08, T), -1, 1)
    zc_mean = p["zc_mean"] * np.exp(a * rng.normal(0, 0.15, T))
    zc_std = 0.4 * zc_mean * np.exp(a * rng.normal(0, 0.25, T)) / np.maximum(p["periodicity"], 0.3)
    tilt = np.clip(p["tilt"] + subj.tilt_offset + f * _ar1(rng, T, 0.8, 10), -90, 90)
    kurt = p["kurtosis"] * np.exp(a * rng.normal(0, 0.35, T))
    cond = 10 ** (p["log10_cond"] + a * rng.normal(0, 0.15, T))
    eratio = p["energy_ratio"] + 0.3 * (mod - 1) + a * rng.normal(0, 0.3, T)
    sleep_coef = np.clip(25 * np.exp(-(log_energy - 0.6)) + a * rng.normal(0, 1, T), 0, 100)

    # skin conductance (slow, lagged sweat response), temperature, altimeter
    scl = subj.scl_base * np.exp(_ar1(rng, T, 0.995, 0.25)) + _lag(4.0 * p["sweat"] * intensity, 8.0)
    scl = np.clip(scl + a * rng.normal(0, 0.05, T), 0.05, 60)
    scl_slope = np.diff(scl, prepend=scl[0])
    temp = subj.temp_base + _lag(p["temp_delta"], 15.0) + 0.3 * circ + _ar1(rng, T, 0.95, 0.25)
    temp = np.clip(temp + a * rng.normal(0, 0.08, T), 20, 40)
    alt = p["alt_std"] * np.exp(a * rng.normal(0, 0.5, T)) + 0.01 + a * 0.02 * (rng.random(T) < 0.01)

    v = np.empty((T, schema.N_FEATURES), np.float32)
    cols = {"heart_rate": hr, "rr_percent_valid": np.clip(ppg_valid, 0, 100), "rr_p80": rr_median + 0.84 * spread,
            "rr_p20": rr_median - 0.84 * spread, "rr_median": rr_median, "rr_mean": rr_mean,
            "rr_entropy": 1.2 + 0.45 * np.log(sdnn) + a * rng.normal(0, 0.08, T),
            "rr_diff_entropy": 0.9 + 0.45 * np.log(rmssd) + a * rng.normal(0, 0.08, T),
            "pnn30": np.clip(pnn30, 0, 100), "rmssd": rmssd, "sdnn": sdnn, "on_wrist": np.ones(T),
            "jerk_autocorr_ratio": periodicity, "step_count": steps, "log_energy": log_energy,
            "covariance_cond": cond, "log_energy_ratio": eratio, "zero_crossing_std": zc_std,
            "zero_crossing_mean": zc_mean, "arm_tilt": tilt, "kurtosis": kurt, "sleep_coefficient": sleep_coef,
            "scl_value": scl, "scl_slope": scl_slope, "skin_temperature": temp, "altimeter_std": alt}
    for name, col in cols.items():
        v[:, I[name]] = col
    _apply_missingness(v, state, motion, rng)
    return Timeline(subj.name, np.datetime64("2024-01-01T00:00") + np.timedelta64(int(subj.index % 97), "D"),
                    v, labels={"activity": logged, "state": state})


def _apply_missingness(v: np.ndarray, state: np.ndarray, motion: np.ndarray, rng) -> None:
    T = len(v)
    days = T // DAY
    # HRV lost in hard motion; optical HR unreliable in water; EDA not measured in water
    hrv_lost = rng.random(T) < 1 / (1 + np.exp(-(motion - 0.7) * 9))
    v[np.ix_(hrv_lost, HRV_FEATURES)] = np.nan
    swim = state == schema.ACTIVITIES.index("swimming")
    v[swim & (rng.random(T) < 0.6), I["heart_rate"]] = np.nan
    v[np.ix_(swim, [I["scl_value"], I["scl_slope"]])] = np.nan
    # EDA duty cycling: measured in 30-minute blocks, ~60% of blocks on
    blocks = rng.random(T // 30 + 1) < 0.6
    v[~np.repeat(blocks, 30)[:T], I["scl_value"]:I["scl_slope"] + 1] = np.nan
    # altimeter drops out now and then
    v[rng.random(T) < 0.05, I["altimeter_std"]] = np.nan
    # off-wrist: a charging block on most days (30-120 min), a night without the watch now and then
    for d in range(days):
        if rng.random() < 0.75:
            s = int(d * DAY + rng.uniform(8 * 60, 21 * 60))
            _off_wrist(v, s, s + int(rng.uniform(30, 120)))
        if rng.random() < 0.08:
            s = int(d * DAY + rng.uniform(22 * 60, 24 * 60))
            _off_wrist(v, s, s + int(rng.uniform(300, 540)))
    # scattered sync gaps: single minutes with nothing
    v[rng.random(T) < 0.01, :] = np.nan


def _off_wrist(v, s, e):
    v[s:e, :] = np.nan
    v[s:e, I["on_wrist"]] = 0.0


def simulate_timelines(n_subjects: int, days: int, seed: int = 0, first: int = 0) -> Iterator[Timeline]:
    for i in range(first, first + n_subjects):
        yield simulate_subject(seed, i, days)


def simulate(n_subjects: int, days: int, seed: int = 0, chunk_subjects: int = 16, min_observed: float = 0.2,
             first: int = 0) -> Iterator[Windows]:
    """Stream windows of ``n_subjects`` subjects, ``chunk_subjects`` at a time (memory stays bounded)."""
    for c0 in range(first, first + n_subjects, chunk_subjects):
        parts = [cut_windows(tl, split=draw_split(i), min_observed=min_observed)
                 for i, tl in zip(range(c0, min(c0 + chunk_subjects, first + n_subjects)),
                                  simulate_timelines(min(chunk_subjects, first + n_subjects - c0), days, seed, c0))]
        yield Windows.concat(parts)


def draw_split(index: int) -> int:
    return _SPLIT_OF_SLOT[index % 10]


def write_simulated(out_dir, n_subjects: int, days: int, seed: int = 0, chunk_subjects: int = 16,
                    min_observed: float = 0.2, resume: bool = False, progress: bool = True) -> dict:
    """Simulate into a dataset folder, one shard per subject chunk.  Resumable: with ``resume``
    the shards already written are kept and only the missing ones are simulated."""
    from tqdm import tqdm

    from .dataset import DatasetWriter

    source = {"kind": "simulator", "subjects": n_subjects, "days": days, "seed": seed,
              "chunk_subjects": chunk_subjects, "min_observed": min_observed}
    writer = DatasetWriter(out_dir, source, resume=resume)
    starts = range(0, n_subjects, chunk_subjects)
    for k, c0 in enumerate(tqdm(starts, desc="simulating", unit="chunk", disable=not progress)):
        if writer.has_shard(k):
            continue
        n = min(chunk_subjects, n_subjects - c0)
        writer.write_shard(k, next(simulate(n, days, seed, chunk_subjects=n, min_observed=min_observed, first=c0)))
    return writer.finish()
