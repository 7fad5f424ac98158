// lsm-edge in the browser: read a person's recording into 300-minute windows, call the model file's `impute`
// signature with LiteRT.js (WASM, CPU), plot what it filled.  The .tflite does all the arithmetic (raw units in
// with NaN for missing, raw units out): this page only moves buffers, reads files and draws.
// Licence: Apache-2.0, as lsm-edge.
import {loadAndCompile, loadLiteRt, Tensor} from '@litertjs/core';

// The model files' feature order (their metadata's `features`), and what the page plots.
const FEATURES = ['heart_rate', 'rr_percent_valid', 'rr_p80', 'rr_p20', 'rr_median', 'rr_mean', 'rr_entropy',
  'rr_diff_entropy', 'pnn30', 'rmssd', 'sdnn', 'on_wrist', 'jerk_autocorr_ratio', 'step_count', 'log_energy',
  'covariance_cond', 'log_energy_ratio', 'zero_crossing_std', 'zero_crossing_mean', 'arm_tilt', 'kurtosis',
  'sleep_coefficient', 'scl_value', 'scl_slope', 'skin_temperature', 'altimeter_std'];
const T = 300, F = FEATURES.length, HR = 0, HIDE_FROM = 120, HIDE_MINUTES = 60;
const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const say = (text) => { $('status').textContent = text; };

await loadLiteRt(new URL('./node_modules/@litertjs/core/wasm/', import.meta.url).href);
const models = {};
async function model(url) {
  models[url] ??= loadAndCompile(url, {accelerator: 'wasm'});
  return models[url];
}

// One window [300 x 26] (NaN = missing) -> {values: Float32Array, invalid: cells that were inf or out of range}.
async function impute(compiled, window) {
  const input = new Tensor(window, [1, T, F]);
  const out = await compiled.run('impute', {values: input});
  const result = {values: out.values.toTypedArray().slice(), invalid: out.invalid.toTypedArray()[0]};
  input.delete();
  for (const t of Object.values(out)) t.delete();
  return result;
}

// -- reading a recording: a covid19 minute file, a Fitabase heart-rate export, or a CSV in the schema's columns
function minuteOf(text) {  // '2020-03-10 00:00:06' or '4/12/2016 7:21:00 AM' -> minutes since 1970 (local clock)
  let m = text.match(/^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d)/);
  if (m) return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]) / 60000;
  m = text.match(/^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d\d)(?::\d\d)? ?([AP]M)?/i);
  if (!m) return NaN;
  let h = +m[4] % (m[6] ? 12 : 24);
  if (m[6] && m[6].toUpperCase() === 'PM') h += 12;
  return Date.UTC(+m[3], +m[1] - 1, +m[2], h, +m[5]) / 60000;
}

function readRecording(text) {  // -> {start: minute, grid: Float32Array [minutes x 26]}
  const lines = text.split(/\r?\n/).filter((l) => l.trim());
  const head = lines[0].split(',').map((c) => c.trim());
  const cell = [];  // [minute, feature, value] of every reading
  if (head.length === 4 && head[1] === 'user' && head[2] === 'datetime') {  // covid19: ,user,datetime,heartrate|steps
    const f = head[3] === 'steps' ? FEATURES.indexOf('step_count') : HR;
    for (const l of lines.slice(1)) { const c = l.split(','); cell.push([minuteOf(c[2]), f, +c[3]]); }
  } else if (head.join() === 'Id,Time,Value') {  // Fitabase heartrate_seconds_merged.csv: the first person
    const who = lines[1].split(',')[0];
    for (const l of lines.slice(1)) {
      const c = l.split(',');
      if (c[0] === who) cell.push([minuteOf(c[1]), HR, +c[2]]);
    }
  } else {  // the schema's columns, one row a minute (a timestamp column, if any, places the rows)
    const cols = head.map((h) => FEATURES.indexOf(h));
    if (!cols.some((j) => j >= 0)) throw new Error(`no column of a known layout in: ${head.slice(0, 6).join(', ')}`);
    const time = head.findIndex((h) => /^(timestamp|time|datetime)$/i.test(h));
    lines.slice(1).forEach((l, i) => {
      const c = l.split(',');
      const minute = time >= 0 ? minuteOf(c[time]) : i;
      cols.forEach((j, k) => { if (j >= 0 && c[k] !== '' && c[k] !== undefined) cell.push([minute, j, +c[k]]); });
    });
  }
  const ok = cell.filter(([m, , v]) => Number.isFinite(m) && Number.isFinite(v));
  if (!ok.length) throw new Error('no readable rows');
  const start = Math.min(...ok.map((c) => c[0])), end = Math.max(...ok.map((c) => c[0]));
  const minutes = end - start + 1;
  const sum = new Float64Array(minutes * F), count = new Uint32Array(minutes * F);
  for (const [m, j, v] of ok) { sum[(m - start) * F + j] += v; count[(m - start) * F + j] += 1; }
  const grid = new Float32Array(minutes * F).fill(NaN);  // several readings in one minute: their average
  for (let i = 0; i < grid.length; i++) if (count[i]) grid[i] = sum[i] / count[i];
  return {start, grid, minutes};
}

function windowsWithHeartRate(rec) {  // start minutes of the windows with heart rate in at least half of them
  const out = [];
  for (let s = 0; s + T <= rec.minutes; s += T) {
    let seen = 0;
    for (let t = 0; t < T; t++) seen += Number.isNaN(rec.grid[(s + t) * F + HR]) ? 0 : 1;
    if (seen >= T / 2) out.push(s);
  }
  return out;
}

// -- drawing ---------------------------------------------------------------------------------------------
function plot(recorded, filled, hidden, title) {
  const c = $('plot'), g = c.getContext('2d');
  const W = c.width, H = c.height, L = 48, B = 30;
  g.clearRect(0, 0, W, H);
  const hr = (a, t) => a[t * F + HR];
  const all = [];
  for (let t = 0; t < T; t++) all.push(hr(filled, t), hr(recorded, t), hidden ? hr(hidden, t) : NaN);
  const ys = all.filter(Number.isFinite);
  const lo = Math.floor(Math.min(...ys) - 5), hi = Math.ceil(Math.max(...ys) + 5);
  const x = (t) => L + (t / (T - 1)) * (W - L - 10), y = (v) => H - B - ((v - lo) / (hi - lo)) * (H - B - 20);
  g.fillStyle = '#444'; g.font = '12px sans-serif';
  for (let v = Math.ceil(lo / 10) * 10; v <= hi; v += 10) { g.fillText(String(v), 8, y(v) + 4); }
  for (let t = 0; t <= T; t += 60) { g.fillText(`${t} min`, x(Math.min(t, T - 1)) - 14, H - 10); }
  g.fillText(`${title}   heart rate, bpm`, L, 14);
  const line = (pick, color, width) => {
    g.strokeStyle = color; g.lineWidth = width; g.beginPath();
    let on = false;
    for (let t = 0; t < T; t++) {
      const v = pick(t);
      if (!Number.isFinite(v)) { on = false; continue; }
      if (on) g.lineTo(x(t), y(v)); else g.moveTo(x(t), y(v));
      on = true;
    }
    g.stroke();
  };
  const missing = (t) => Number.isNaN(hr(recorded, t));
  if (hidden) line((t) => (missing(t) ? hr(hidden, t) : NaN), '#aaa', 2);
  line((t) => (missing(t) || missing(t - 1) || missing(t + 1) ? hr(filled, t) : NaN), '#e8731a', 2.5);
  line((t) => hr(recorded, t), '#1f5fa8', 1.5);
}

// -- the page for a person ---------------------------------------------------------------------------------
let rec = null, starts = [], at = 0;
async function show() {
  if (!rec) return;
  if (!starts.length) { say('No 300-minute window with heart rate in half its minutes in this file.'); return; }
  at = Math.max(0, Math.min(at, starts.length - 1));
  const s = starts[at];
  const truth = rec.grid.slice(s * F, (s + T) * F);
  const window = truth.slice();
  const hide = $('hide').checked;
  if (hide) window.fill(NaN, HIDE_FROM * F, (HIDE_FROM + HIDE_MINUTES) * F);
  say('Filling ...');
  const compiled = await model($('model').value);
  const t0 = performance.now();
  const out = await impute(compiled, window);
  const ms = performance.now() - t0;
  const gaps = window.filter((v, i) => i % F === HR && Number.isNaN(v)).length;
  $('where').textContent = `window ${at + 1} of ${starts.length}`;
  const when = new Date((rec.start + s) * 60000).toISOString().slice(0, 16).replace('T', ' ');
  plot(window, out.values, hide ? truth : null, `from ${when}`);
  say(`${gaps} missing heart-rate minutes filled` + (ms > 0 ? ` in ${ms.toFixed(1)} ms` : "") +
      (out.invalid ? `; ${out.invalid} cells were out of range and treated as missing` : '') + '.');
}

async function open(text, window = 0) {
  try {
    rec = readRecording(text);
  } catch (e) {
    rec = null;
    say(`This file is not one the page reads (${e.message}).`);
    return;
  }
  starts = windowsWithHeartRate(rec);
  at = window;
  await show();
}

$('file').addEventListener('change', async (e) => { if (e.target.files[0]) await open(await e.target.files[0].text()); });
$('model').addEventListener('change', show);
$('hide').addEventListener('change', show);
$('prev').addEventListener('click', () => { at -= 1; show(); });
$('next').addEventListener('click', () => { at += 1; show(); });

// -- driven by a test: ?model=URL&windows=URL&calls=N&report=URL posts what the model returned -------------
async function selfTest() {
  try {
    const compiled = await model(params.get('model'));
    const windows = await (await fetch(params.get('windows'))).json();
    const values = [], invalid = [];
    for (const w of windows) {
      const flat = Float32Array.from(w.flat(), (v) => (v === null ? NaN : v));
      const out = await impute(compiled, flat);
      values.push(Array.from(out.values));
      invalid.push(out.invalid);
    }
    const calls = +(params.get('calls') || 0), times = [];
    const one = Float32Array.from(windows[0].flat(), (v) => (v === null ? NaN : v));
    for (let k = 0; k < calls; k++) {
      const t0 = performance.now();
      await impute(compiled, one);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const msPerCall = calls ? times[Math.floor(calls / 2)] : null;
    await fetch(params.get('report'), {method: 'POST', body: JSON.stringify({values, invalid, ms_per_call: msPerCall})});
  } catch (e) {
    await fetch(params.get('report'), {method: 'POST', body: JSON.stringify({error: String(e && e.stack || e)})});
  }
}

if (params.has('report')) {
  await selfTest();
} else if (params.has('recording')) {  // a recording named in the address (the committed screenshot)
  if (params.has('model')) {
    const o = document.createElement('option');
    o.value = params.get('model');
    o.textContent = params.get('label') || params.get('model').split('/').pop();
    $('model').prepend(o);
    $('model').value = o.value;
  }
  if (params.has('hide')) $('hide').checked = true;
  await open(await (await fetch(params.get('recording'))).text(), +(params.get('window') || 0));
}
