// UI frame-time benchmark (`make bench-ui`): a standalone script, not a test. Timed checks
// flake, so they live here, where a run prints figures instead of failing the test suite.
//
// Measured in headless Chromium against dist/, with requestAnimationFrame timestamps collected
// in the page (a recorder injected before the app starts) and long tasks (> 50 ms) from
// PerformanceObserver:
//   1. frames   `?scenario=bench-2000-in-flight` at 1×: 3 s warm-up, then 10 s of frames.
//               Target: frame-time p95 ≤ 16.7 ms.
//   2. burst    `?scenario=burst-10k` at 1× and 10×: every frame from before the burst of
//               10,000 until its queue is empty. Target: no frame over 50 ms.
//   3. renders  `data-renders` of the dock's panels over 10 s of play vs frames drawn
//               (renders ≪ frames), and unchanged over 3 s paused.
// Each run uses a fresh browser; the figures printed and written to target/bench/ui-frames.json
// are the median of the runs (each run is kept in the JSON too).
//
//   node tests/e2e/bench-frames.mjs [--runs N]   (default 3; BENCH_RUNS also works)
//
// Exit status 1 when a target is missed, 2 when the page broke (an error, a missing element).

import { mkdir, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CHROMIUM_PATH,
  REPO_ROOT,
  launchBrowser,
  nextFrames,
  openPage,
  poll,
  screenshot,
  startServer,
} from './harness.mjs';

const FRAME_BUDGET_MS = 16.7;
const LONG_FRAME_MS = 50;
// Snapshot::transits holds at most this many moving messages (sim/src/snapshot.rs).
const MAX_TRANSITS = 2000;
const WARM_UP_MS = 3000;
const RECORD_MS = 10_000;
const PAUSED_MS = 3000;
const BURST_TIMEOUT_MS = 90_000;
const OUT_FILE = path.join(REPO_ROOT, 'target', 'bench', 'ui-frames.json');

function parseRuns() {
  const i = process.argv.indexOf('--runs');
  const raw = i >= 0 ? process.argv[i + 1] : (process.env.BENCH_RUNS ?? '3');
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 20) {
    throw new Error(`--runs must be an integer from 1 to 20, got ${JSON.stringify(raw)}`);
  }
  return n;
}

// Runs in the page before the app: records every frame's rAF timestamp, the time the app's own
// rAF callbacks (and the microtasks they queue, where yew renders) take, the dots drawn, long
// tasks, and the Ready + Unacked counters, so the burst's end is seen frame by frame without
// polling.
function installRecorder() {
  const b = {
    recording: false,
    last: null,
    deltas: [],
    work: [],
    workPending: 0,
    dots: [],
    dotsPending: 0,
    longtasks: [],
    peak: 0,
    drainedAt: null,
    drainedUs: null,
    watch: false,
    shown: {},
    changes: {},
  };
  window.__bench = b;
  const counter = (id) => {
    const el = document.querySelector(`[data-testid=${id}]`);
    const digits = el ? el.textContent.replace(/\D/g, '') : '';
    return digits === '' ? null : Number(digits);
  };
  const raf = window.requestAnimationFrame.bind(window);
  // The app's frame work: its callback, then the microtasks it queued (yew's render queue)
  // measured by a microtask queued after them.
  window.requestAnimationFrame = (cb) =>
    raf((ts) => {
      const t0 = performance.now();
      try {
        cb(ts);
      } finally {
        queueMicrotask(() => {
          if (b.recording) b.workPending += performance.now() - t0;
        });
      }
    });
  // The painter draws each message on the wire as one drawImage of a dot sprite (its only
  // drawImage), so counting the calls on the topology canvas counts the dots drawn.
  const drawImage = CanvasRenderingContext2D.prototype.drawImage;
  CanvasRenderingContext2D.prototype.drawImage = function (...args) {
    if (this.canvas.dataset.testid === 'topology') b.dotsPending += 1;
    return drawImage.apply(this, args);
  };
  const onFrame = (ts) => {
    raf(onFrame);
    if (!b.recording) {
      b.last = null;
      b.workPending = 0;
      b.dotsPending = 0;
      return;
    }
    if (b.last !== null) {
      b.deltas.push(ts - b.last);
      // This callback runs first in each frame, so the pending work is the previous frame's.
      b.work.push(b.workPending);
      b.dots.push(b.dotsPending);
    }
    b.workPending = 0;
    b.dotsPending = 0;
    b.last = ts;
    const ready = counter('count-ready');
    const unacked = counter('count-unacked');
    if (ready !== null && unacked !== null) {
      const backlog = ready + unacked;
      b.peak = Math.max(b.peak, backlog);
      if (b.peak >= 1000 && backlog === 0 && b.drainedAt === null) {
        b.drainedAt = b.deltas.length;
        b.drainedUs = Number(document.querySelector('[data-testid=topology]')?.getAttribute('data-now-us'));
      }
    }
    // What each counted panel shows (its markup but the counter itself), so its renders can be
    // set against its visible changes.
    if (b.watch) {
      for (const el of document.querySelectorAll('[data-renders]')) {
        const name = el.getAttribute('data-testid') ?? el.className;
        const text = el.outerHTML.replace(/ data-renders="\d+"/, '');
        if (name in b.shown && b.shown[name] !== text) b.changes[name] = (b.changes[name] ?? 0) + 1;
        b.shown[name] = text;
      }
    }
  };
  raf(onFrame);
  if (typeof PerformanceObserver !== 'undefined' && PerformanceObserver.supportedEntryTypes?.includes('longtask')) {
    new PerformanceObserver((list) => {
      if (!b.recording) return;
      for (const e of list.getEntries()) b.longtasks.push(e.duration);
    }).observe({ type: 'longtask' });
    b.longtaskSupported = true;
  }
}

async function startRecording(page) {
  await page.evaluate(() => {
    const b = window.__bench;
    Object.assign(b, {
      recording: true,
      last: null,
      deltas: [],
      work: [],
      dots: [],
      longtasks: [],
      peak: 0,
      drainedAt: null,
      drainedUs: null,
      shown: {},
      changes: {},
    });
  });
}

async function stopRecording(page) {
  return page.evaluate(() => {
    const b = window.__bench;
    b.recording = false;
    return {
      deltas: b.deltas,
      work: b.work,
      dots: b.dots,
      longtasks: b.longtasks,
      longtaskSupported: Boolean(b.longtaskSupported),
      peak: b.peak,
      drainedAt: b.drainedAt,
      drainedUs: b.drainedUs,
      changes: b.changes,
    };
  });
}

function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

function frameStats(values) {
  const s = [...values].sort((a, b) => a - b);
  const round = (x) => (x === null ? null : Math.round(x * 10) / 10);
  return {
    frames: s.length,
    min: round(s[0] ?? null),
    p50: round(quantile(s, 0.5)),
    p95: round(quantile(s, 0.95)),
    p99: round(quantile(s, 0.99)),
    max: round(s.at(-1) ?? null),
    over_16_7: s.filter((x) => x > FRAME_BUDGET_MS + 0.5).length,
    over_50: s.filter((x) => x > LONG_FRAME_MS).length,
  };
}

// Main-thread time from the DevTools Performance domain (seconds, cumulative): what a frame
// costs beyond the app's script, e.g. style, layout and the canvas's paint.
const MAIN_THREAD_METRICS = ['TaskDuration', 'ScriptDuration', 'RecalcStyleDuration', 'LayoutDuration'];

async function mainThread(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const read = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    return Object.fromEntries(metrics.filter((m) => MAIN_THREAD_METRICS.includes(m.name)).map((m) => [m.name, m.value]));
  };
  return {
    read,
    /** Milliseconds per frame of each metric between two reads. */
    perFrame: (a, b, frames) =>
      Object.fromEntries(MAIN_THREAD_METRICS.map((k) => [k, Math.round(((b[k] - a[k]) * 1000 * 100) / Math.max(frames, 1)) / 100])),
  };
}

function nowUs(page) {
  return page.getByTestId('topology').getAttribute('data-now-us').then(Number);
}

async function isPlaying(page) {
  return (await page.getByTestId('play').getAttribute('aria-pressed')) === 'true';
}

async function setPlaying(session, playing) {
  const { page, check } = session;
  if ((await isPlaying(page)) !== playing) await page.getByTestId('play').click();
  await poll(async () => (await isPlaying(page)) === playing, { message: `playing=${playing}`, check });
}

/** Open `?scenario=id`, paused at time zero at `speed`. */
async function openScenario(session, server, id, speed) {
  const { page, check } = session;
  await page.addInitScript(installRecorder);
  await page.goto(`${server.url}?scenario=${id}`, { waitUntil: 'load' });
  await poll(async () => (await page.getByTestId('play').count()) === 1, { message: 'the app to mount', check });
  await setPlaying(session, false);
  await page.getByTestId('reset').click();
  await page.getByTestId('speed').selectOption(String(speed));
  await poll(async () => (await nowUs(page)) === 0, { message: `${id} at time zero`, check });
  // Prove the scenario loaded (an unknown id leaves the previous one and shows a notice).
  const title = await page.getByTestId('scenario-title').textContent();
  return title.trim();
}

async function ledger(page) {
  return JSON.parse(await page.getByTestId('ledger').getAttribute('data-ledger'));
}

async function measureInFlight(browser, server) {
  const session = await openPage(browser);
  try {
    const { page, check } = session;
    const title = await openScenario(session, server, 'bench-2000-in-flight', 1);
    if (!/2,000/.test(title)) throw new Error(`bench-2000-in-flight did not load (title ${JSON.stringify(title)})`);
    await setPlaying(session, true);
    await sleep(WARM_UP_MS);
    const main = await mainThread(page);
    const t0 = await nowUs(page);
    const wall0 = Date.now();
    const m0 = await main.read();
    await startRecording(page);
    await sleep(RECORD_MS);
    const rec = await stopRecording(page);
    const m1 = await main.read();
    const wall = Date.now() - wall0;
    const t1 = await nowUs(page);
    // Expected dots: publishes on the wire (the page's ledger) plus deliveries on the wire
    // (1,000 msg/s × 1 s latency, consumers never full), at most MAX_TRANSITS.
    const l = await ledger(page);
    await screenshot(page, 'bench-2000-in-flight');
    await setPlaying(session, false);
    check();
    return {
      scenario: 'bench-2000-in-flight',
      speed: 1,
      frame_ms: frameStats(rec.deltas),
      app_work_ms: frameStats(rec.work),
      main_thread_ms_per_frame: main.perFrame(m0, m1, rec.deltas.length),
      longtasks: rec.longtasks.length,
      longtask_max_ms: rec.longtasks.length ? Math.round(Math.max(...rec.longtasks)) : 0,
      longtask_supported: rec.longtaskSupported,
      sim_seconds_per_wall_second: Math.round(((t1 - t0) / 1000 / wall) * 100) / 100,
      transits_expected: Math.min(MAX_TRANSITS, l.states.in_flight + 1000),
      dots_drawn_per_frame: (({ min, p50, max }) => ({ min, p50, max }))(frameStats(rec.dots)),
    };
  } finally {
    await session.close();
  }
}

async function measureBurst(browser, server, speed) {
  const session = await openPage(browser);
  try {
    const { page, check } = session;
    const title = await openScenario(session, server, 'burst-10k', speed);
    if (!/10,000/.test(title)) throw new Error(`burst-10k did not load (title ${JSON.stringify(title)})`);
    await nextFrames(page, 5);
    const main = await mainThread(page);
    const m0 = await main.read();
    await startRecording(page);
    await setPlaying(session, true);
    await poll(() => page.evaluate(() => window.__bench.drainedAt !== null), {
      timeout: BURST_TIMEOUT_MS,
      interval: 500,
      message: 'the burst to drain',
      check,
    });
    const rec = await stopRecording(page);
    const m1 = await main.read();
    await setPlaying(session, false);
    check();
    const stats = frameStats(rec.deltas.slice(0, rec.drainedAt));
    return {
      scenario: 'burst-10k',
      speed,
      frames: stats.frames,
      max_frame_ms: stats.max,
      frames_over_50ms: stats.over_50,
      frame_ms: stats,
      app_work_ms: frameStats(rec.work.slice(0, rec.drainedAt)),
      main_thread_ms_per_frame: main.perFrame(m0, m1, rec.deltas.length),
      longtasks: rec.longtasks.length,
      longtask_max_ms: rec.longtasks.length ? Math.round(Math.max(...rec.longtasks)) : 0,
      peak_backlog: rec.peak,
      drained_at_sim_s: Math.round(rec.drainedUs / 1e5) / 10,
    };
  } finally {
    await session.close();
  }
}

/** Every panel's render counter and every chart's draw counter, by name. */
async function renderCounts(page) {
  return page.evaluate(() => {
    const out = {};
    for (const el of document.querySelectorAll('[data-renders]')) {
      out[el.getAttribute('data-testid') ?? el.className] = Number(el.getAttribute('data-renders'));
    }
    for (const el of document.querySelectorAll('canvas[data-draws]')) {
      out[`${el.getAttribute('data-testid')} (draws)`] = Number(el.getAttribute('data-draws'));
    }
    return out;
  });
}

async function openTab(session, id) {
  const { page, check } = session;
  await page.getByTestId(`tab-${id}`).click();
  await poll(async () => (await page.getByTestId(`tab-${id}`).getAttribute('aria-selected')) === 'true', {
    message: `tab ${id}`,
    check,
  });
}

async function measureRenders(browser, server, tab) {
  const session = await openPage(browser);
  try {
    const { page, check } = session;
    await openScenario(session, server, 'bench-2000-in-flight', 1);
    await openTab(session, tab);
    await setPlaying(session, true);
    await sleep(WARM_UP_MS);
    await page.evaluate(() => {
      window.__bench.watch = true;
    });
    await startRecording(page);
    const before = await renderCounts(page);
    await sleep(RECORD_MS);
    const after = await renderCounts(page);
    const rec = await stopRecording(page);
    await setPlaying(session, false);
    // A throttled panel (the charts poll every 333 ms) may still show the last played figures.
    await sleep(1000);
    const pausedStart = await renderCounts(page);
    await sleep(PAUSED_MS);
    const pausedEnd = await renderCounts(page);
    check();
    const panels = {};
    for (const name of Object.keys(after)) {
      panels[name] = {
        while_playing: after[name] - (before[name] ?? 0),
        visible_changes: name.endsWith('(draws)') ? null : (rec.changes[name] ?? 0),
        while_paused: pausedEnd[name] - (pausedStart[name] ?? 0),
      };
    }
    if (Object.keys(panels).length === 0) throw new Error(`no data-renders counter in the ${tab} tab`);
    return { tab, frames: rec.deltas.length, frame_ms: frameStats(rec.deltas), panels };
  } finally {
    await session.close();
  }
}

async function oneRun(server, run) {
  const browser = await launchBrowser();
  try {
    const version = browser.version();
    process.stderr.write(`run ${run}: frames with 2,000 in flight…\n`);
    const inFlight = await measureInFlight(browser, server);
    process.stderr.write(`run ${run}: burst at 1×…\n`);
    const burst1 = await measureBurst(browser, server, 1);
    process.stderr.write(`run ${run}: burst at 10×…\n`);
    const burst10 = await measureBurst(browser, server, 10);
    process.stderr.write(`run ${run}: render counters…\n`);
    const dashboard = await measureRenders(browser, server, 'dashboard');
    const eventlog = await measureRenders(browser, server, 'eventlog');
    return { version, in_flight: inFlight, burst: [burst1, burst10], renders: [dashboard, eventlog] };
  } finally {
    await browser.close();
  }
}

function median(values) {
  const s = values.filter((v) => typeof v === 'number').sort((a, b) => a - b);
  if (s.length === 0) return null;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : Math.round(((s[m - 1] + s[m]) / 2) * 10) / 10;
}

/** The element-wise median of structurally equal objects (numbers only; the rest from the first). */
function medianOf(objects) {
  const first = objects[0];
  if (typeof first === 'number') return median(objects);
  if (Array.isArray(first)) return first.map((_, i) => medianOf(objects.map((o) => o[i])));
  if (first && typeof first === 'object') {
    return Object.fromEntries(Object.keys(first).map((k) => [k, medianOf(objects.map((o) => o?.[k]))]));
  }
  return first;
}

function machine() {
  let chromium = 'unknown';
  try {
    chromium = execFileSync(CHROMIUM_PATH, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // The version stays "unknown"; the browser's own report is kept per run.
  }
  return {
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? 'unknown',
    platform: `${os.type()} ${os.release()}`,
    node: process.version,
    chromium,
    rendering: 'headless, --disable-gpu (software raster)',
  };
}

function mainRow(t) {
  const styleLayout = Math.round((t.RecalcStyleDuration + t.LayoutDuration) * 100) / 100;
  return `${t.TaskDuration} / ${t.ScriptDuration} / ${styleLayout}`;
}

function printTable(m, runs) {
  const f = m.in_flight.frame_ms;
  const w = m.in_flight.app_work_ms;
  const d = m.in_flight.dots_drawn_per_frame;
  const rows = [
    [`1. 2,000 in flight, 1× (${m.in_flight.transits_expected} on the wire by the scenario)`, ''],
    ['   dots drawn per frame min / p50 / max', `${d.min} / ${d.p50} / ${d.max}`],
    ['   frames recorded in 10 s', f.frames],
    ['   frame time p50 / p95 / p99 / max (ms)', `${f.p50} / ${f.p95} / ${f.p99} / ${f.max}`],
    ['   app work per frame p50 / p95 / max (ms)', `${w.p50} / ${w.p95} / ${w.max}`],
    ['   main thread per frame: all / script / style + layout (ms)', mainRow(m.in_flight.main_thread_ms_per_frame)],
    ['   frames over 16.7 ms / long tasks', `${f.over_16_7} / ${m.in_flight.longtasks}`],
    ['   sim seconds per wall second', m.in_flight.sim_seconds_per_wall_second],
    ['   target p95 ≤ 16.7 ms', f.p95 <= FRAME_BUDGET_MS + 0.5 ? 'met' : 'MISSED'],
  ];
  for (const b of m.burst) {
    rows.push(
      [`2. burst of 10,000 at ${b.speed}× (peak backlog ${b.peak_backlog}, drained at ${b.drained_at_sim_s} s)`, ''],
      ['   frames until drained', b.frames],
      ['   max frame / p95 (ms)', `${b.max_frame_ms} / ${b.frame_ms.p95}`],
      ['   max app work per frame (ms)', b.app_work_ms.max],
      ['   main thread per frame: all / script / style + layout (ms)', mainRow(b.main_thread_ms_per_frame)],
      ['   frames over 50 ms', b.frames_over_50ms],
      ['   target none over 50 ms', b.frames_over_50ms === 0 ? 'met' : 'MISSED'],
    );
  }
  for (const r of m.renders) {
    rows.push([`3. renders, ${r.tab} tab open: 10 s playing (${r.frames} frames), then 3 s paused`, '']);
    rows.push(['   frame time p50 / p95 / max (ms)', `${r.frame_ms.p50} / ${r.frame_ms.p95} / ${r.frame_ms.max}`]);
    for (const [name, c] of Object.entries(r.panels)) {
      const shown = c.visible_changes === null ? '' : ` (${c.visible_changes} visible changes)`;
      rows.push([`   ${name}`, `${c.while_playing} playing${shown}, ${c.while_paused} paused`]);
    }
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log(`\nBroker Lab UI frame benchmark: median of ${runs} run(s)\n`);
  for (const [k, v] of rows) console.log(v === '' ? k : `${k.padEnd(width)}  ${v}`);
}

function verdicts(m) {
  const missed = [];
  if (!(m.in_flight.frame_ms.p95 <= FRAME_BUDGET_MS + 0.5)) missed.push(`frame p95 ${m.in_flight.frame_ms.p95} ms > 16.7 ms`);
  for (const b of m.burst) {
    if (b.frames_over_50ms > 0) missed.push(`burst at ${b.speed}×: ${b.frames_over_50ms} frame(s) over 50 ms`);
  }
  for (const r of m.renders) {
    for (const [name, c] of Object.entries(r.panels)) {
      if (c.while_paused !== 0) missed.push(`${name} rendered ${c.while_paused}× while paused`);
      // Panels follow their figures, not the frame rate: a panel rendering on most frames fails.
      if (c.while_playing * 2 > r.frames) missed.push(`${name} rendered ${c.while_playing}× in ${r.frames} frames`);
    }
  }
  return missed;
}

async function main() {
  const runs = parseRuns();
  const server = await startServer();
  const results = [];
  try {
    for (let run = 1; run <= runs; run++) results.push(await oneRun(server, run));
  } finally {
    await server.close();
  }
  const summary = medianOf(results.map(({ version, ...rest }) => rest));
  const missed = verdicts(summary);
  // The median hides a bad run: the worst figures are kept beside it.
  const worst = {
    in_flight_frame_p95_ms: Math.max(...results.map((r) => r.in_flight.frame_ms.p95)),
    in_flight_frame_max_ms: Math.max(...results.map((r) => r.in_flight.frame_ms.max)),
    burst: summary.burst.map((b, i) => ({
      speed: b.speed,
      max_frame_ms: Math.max(...results.map((r) => r.burst[i].max_frame_ms)),
      frames_over_50ms: Math.max(...results.map((r) => r.burst[i].frames_over_50ms)),
    })),
  };
  const out = {
    machine: machine(),
    // rAF deltas snap to the display interval (about 16.7 ms); within 0.5 ms counts as on time.
    targets: { frame_p95_ms: FRAME_BUDGET_MS, burst_frames_over_50ms: 0 },
    runs,
    median: summary,
    worst,
    missed,
    each_run: results,
  };
  await mkdir(path.dirname(OUT_FILE), { recursive: true });
  await writeFile(OUT_FILE, `${JSON.stringify(out, null, 2)}\n`);
  printTable(summary, runs);
  const w = worst.burst.map((b) => `burst ${b.speed}× max ${b.max_frame_ms} ms, ${b.frames_over_50ms} over 50 ms`);
  console.log(`\nWorst of ${runs} run(s): frame p95 ${worst.in_flight_frame_p95_ms} ms (max ${worst.in_flight_frame_max_ms}); ${w.join('; ')}`);
  console.log(`\n${out.machine.chromium}, ${out.machine.cpus} × ${out.machine.cpu_model}, ${out.machine.rendering}`);
  console.log(`JSON: ${path.relative(REPO_ROOT, OUT_FILE)}`);
  console.log(missed.length === 0 ? 'All targets met.' : `Targets missed:\n  ${missed.join('\n  ')}`);
  return missed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err?.stack ?? err);
    process.exit(2);
  },
);
