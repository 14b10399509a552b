// The timeline under the stage: a 30-minute run at 100 messages/s is scrubbed back and forth
// by clicks and a drag; after each seek the page's run fingerprint (the digest of every event
// so far, on the topology canvas) must equal the native runner's fresh replay to the same
// simulated time. Seek times and checkpoint memory are printed, not asserted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { launchBrowser, openScenario, poll, REPO_ROOT, screenshot, startServer, withPage } from './harness.mjs';
import { setLang } from './seminar-lib.mjs';

const SCENARIO = 'scenarios/ui/timeline-30min.json';
const END_US = 1_800_000_000;
const PLAY_MS = Number(process.env.TIMELINE_PLAY_MS ?? 600_000);

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

function nativeDigest(untilUs) {
  const out = execFileSync(
    'cargo',
    ['run', '-q', '--release', '-p', 'broker-sim', '--', 'run', SCENARIO, '--until', `${untilUs}us`],
    { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(out).digest;
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

test('scrubbing a 30-minute run lands on the state of a fresh replay', { timeout: 900_000 }, async () => {
  await withPage(browser, { width: 1280, height: 720 }, async (session) => {
    const { page, check } = session;
    await openScenario(session, server, 'timeline-30min', 'Timeline');
    await setLang(session, 'ko');
    const timeline = page.getByTestId('timeline');
    const topology = page.getByTestId('topology');
    const box = await timeline.boundingBox();
    assert.ok(box && box.height >= 24 && box.height <= 36, `a thin timeline: ${JSON.stringify(box)}`);

    // Play the half hour at 100×.
    const speed = page.getByTestId('speed');
    // Chosen in the select: pressing + until it reads 100 can overshoot when a press lands
    // before the select shows the previous one.
    await speed.selectOption('100');
    await poll(async () => (await speed.inputValue()) === '100', { message: 'speed 100×', check });
    const play = page.getByTestId('play');
    const setPlaying = async (on) => {
      if (((await play.getAttribute('aria-pressed')) === 'true') !== on) await play.click();
      await poll(async () => ((await play.getAttribute('aria-pressed')) === 'true') === on, { message: `playing ${on}`, check });
    };
    await setPlaying(true);
    // At most PLAY_MS of wall time: a loaded machine may not reach the half hour.
    const started = Date.now();
    await poll(async () => Number(await timeline.getAttribute('data-now-us')) >= END_US || Date.now() - started > PLAY_MS, {
      timeout: PLAY_MS + 30_000,
      interval: 500,
      message: '30 simulated minutes',
      check,
    });
    await setPlaying(false);
    // The end once the pause has landed: two reads far apart agree.
    const endUs = await poll(async () => {
      const a = await timeline.getAttribute('data-end-us');
      await new Promise((r) => setTimeout(r, 500));
      const b = await timeline.getAttribute('data-end-us');
      return a === b ? Number(a) : null;
    }, { message: 'a paused clock', check });
    console.log(`timeline: played to ${(endUs / 60e6).toFixed(1)} simulated minutes in ${((Date.now() - started) / 1e3).toFixed(0)} s at ${await speed.inputValue()}×`);
    assert.ok(endUs >= 60_000_000, `at least a minute played: ${endUs}`);

    // The page's clock and digest once the seek's frame has been drawn.
    const settled = async () => poll(async () => {
      const now = await timeline.getAttribute('data-now-us');
      const drawn = await topology.getAttribute('data-now-us');
      return now === drawn ? [Number(now), await topology.getAttribute('data-digest')] : null;
    }, { message: 'the seek drawn', check });

    const seeks = [];
    const checkAt = async (how) => {
      const [nowUs, digest] = await settled();
      const ms = Number(await timeline.getAttribute('data-seek-ms'));
      seeks.push(ms);
      assert.equal(digest, nativeDigest(nowUs), `${how}: the state at ${nowUs} µs differs from a fresh replay`);
      return nowUs;
    };
    const xAt = (f) => box.x + f * box.width;
    const y = box.y + box.height / 2;
    const fractions = [0.9, 0.1, 0.5, 0.33, 0.75, 0.05, 0.6, 0.2, 0.97, 0.45];
    let last = -1;
    for (const f of fractions) {
      await page.mouse.click(xAt(f), y);
      const nowUs = await checkAt(`click at ${f}`);
      assert.ok(Math.abs(nowUs / endUs - f) < 0.01, `click at ${f} landed at ${nowUs} of ${endUs}`);
      assert.notEqual(nowUs, last);
      last = nowUs;
    }
    // A drag: down at 80 %, through 30 % and 65 %, up at 40 %.
    await page.mouse.move(xAt(0.8), y);
    await page.mouse.down();
    for (const f of [0.3, 0.65, 0.4]) await page.mouse.move(xAt(f), y, { steps: 4 });
    await page.mouse.up();
    const dragged = await checkAt('drag');
    assert.ok(Math.abs(dragged / endUs - 0.4) < 0.01, `the drag ended at ${dragged}`);
    // Keys: one second back, one lesson step back (none: the start), one event on.
    await page.keyboard.press('[');
    assert.equal((await settled())[0], dragged - 1_000_000);
    await page.keyboard.press('{');
    assert.equal((await settled())[0], 0);
    await page.keyboard.press('.');
    await checkAt('key .');

    const sorted = [...seeks].sort((a, b) => a - b);
    const checkpoints = Number(await timeline.getAttribute('data-checkpoints'));
    const bytes = Number(await timeline.getAttribute('data-checkpoint-bytes'));
    const every = Number(await timeline.getAttribute('data-checkpoint-every-us'));
    console.log(
      `timeline: ${seeks.length} seeks over ${(endUs / 60e6).toFixed(1)} min: p50 ${quantile(sorted, 0.5)} ms, ` +
        `p95 ${quantile(sorted, 0.95)} ms, max ${sorted.at(-1)} ms; ${checkpoints} checkpoints every ` +
        `${every / 1e6} s, ${(bytes / 2 ** 20).toFixed(1)} MiB (estimated); all seeks: ${seeks.join(', ')}`,
    );

    await page.mouse.click(xAt(0.62), y);
    await settled();
    await screenshot(page, 'timeline-1280-ko');
  });
});
