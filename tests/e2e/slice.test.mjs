// Vertical slice: the default scenario runs, pauses cleanly, and its message
// ledger balances. Contract with the app (data-testid attributes):
//   clock                       simulated time text
//   play (button)               toggles play/pause; aria-pressed="true" while playing
//   count-published, count-ready, count-unacked, count-acked
//                               plain integers, thousands separators allowed
//   topology (canvas)           the broker topology drawing
//   ledger                      data-ledger = {"created": n, "states": {"<state>": n, ...}, "balanced": bool}

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { launchBrowser, nextFrames, parseCount, poll, screenshot, startServer, withPage } from './harness.mjs';

const COUNTERS = ['count-published', 'count-ready', 'count-unacked', 'count-acked'];
const REQUIRED = ['clock', 'play', ...COUNTERS, 'topology', 'ledger'];
const TEST_TIMEOUT = 90_000;

/** Read everything the pause test compares, in one round trip. */
async function readSnapshot(page) {
  const raw = await page.evaluate((ids) => {
    const q = (id) => document.querySelector(`[data-testid="${id}"]`);
    const out = { clock: q('clock')?.textContent ?? null, ledger: q('ledger')?.getAttribute('data-ledger') ?? null };
    for (const id of ids) out[id] = q(id)?.textContent ?? null;
    return out;
  }, COUNTERS);
  const snap = { clock: raw.clock?.trim() ?? null, ledgerRaw: raw.ledger };
  for (const id of COUNTERS) snap[id] = parseCount(raw[id]);
  return snap;
}

function parseLedger(raw) {
  assert.ok(raw, 'ledger element has no data-ledger attribute');
  let ledger;
  try {
    ledger = JSON.parse(raw);
  } catch (err) {
    assert.fail(`data-ledger is not JSON (${err.message}): ${raw}`);
  }
  assert.equal(typeof ledger.created, 'number', `ledger.created is not a number: ${raw}`);
  assert.ok(ledger.states && typeof ledger.states === 'object', `ledger.states is not an object: ${raw}`);
  return ledger;
}

async function isPlaying(page) {
  return (await page.getByTestId('play').getAttribute('aria-pressed')) === 'true';
}

/** Wait for the app to mount, then make sure the simulation is playing. */
async function ensurePlaying(session) {
  const { page, check } = session;
  await poll(async () => (await page.getByTestId('play').count()) === 1, {
    message: 'button[data-testid=play] to appear (did the wasm app mount?)',
    check,
  });
  if (!(await isPlaying(page))) {
    await page.getByTestId('play').click();
  }
  await poll(() => isPlaying(page), { message: 'play button aria-pressed="true"', check });
}

async function assertLayout(page) {
  for (const id of REQUIRED) {
    const el = page.getByTestId(id);
    assert.equal(await el.count(), 1, `expected exactly one [data-testid=${id}]`);
  }
  assert.equal(
    await page.getByTestId('play').evaluate((el) => el.tagName),
    'BUTTON',
    '[data-testid=play] must be a <button>',
  );
  const canvas = page.getByTestId('topology');
  assert.equal(await canvas.evaluate((el) => el.tagName), 'CANVAS', '[data-testid=topology] must be a <canvas>');
  const box = await canvas.boundingBox();
  assert.ok(box && box.width > 0 && box.height > 0, `topology canvas has no area: ${JSON.stringify(box)}`);
  for (const id of ['clock', 'play', ...COUNTERS, 'topology']) {
    assert.ok(await page.getByTestId(id).isVisible(), `[data-testid=${id}] is not visible`);
  }
}

describe('vertical slice', () => {
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

  test('default scenario plays, pauses and keeps a balanced ledger (1280x720)', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await page.goto(server.url, { waitUntil: 'load' });
      await ensurePlaying(session);
      await assertLayout(page);

      await poll(async () => parseCount(await page.getByTestId('count-acked').textContent()) > 20, {
        timeout: 20_000,
        message: 'count-acked > 20',
        check,
      });

      // Pause, and let any render already scheduled land.
      await page.getByTestId('play').click();
      await poll(async () => !(await isPlaying(page)), { message: 'play button aria-pressed="false"', check });
      await nextFrames(page, 3);

      const first = await readSnapshot(page);
      await sleep(500);
      const second = await readSnapshot(page);
      check();
      assert.deepEqual(second, first, 'counters, clock or ledger changed while paused');
      assert.ok(first.clock, 'clock shows no text');
      assert.ok(first['count-acked'] > 20, `count-acked is ${first['count-acked']} after pausing`);

      const ledger = parseLedger(first.ledgerRaw);
      assert.equal(ledger.balanced, true, `ledger is not balanced: ${first.ledgerRaw}`);
      const values = Object.entries(ledger.states);
      for (const [state, n] of values) {
        assert.ok(Number.isInteger(n) && n >= 0, `ledger state ${state} is not a count: ${n}`);
      }
      const sum = values.reduce((acc, [, n]) => acc + n, 0);
      assert.equal(sum, ledger.created, `sum of ledger states (${sum}) != created (${ledger.created}): ${first.ledgerRaw}`);
      assert.equal(
        ledger.states.acked,
        first['count-acked'],
        `ledger states.acked (${ledger.states.acked}) != count-acked (${first['count-acked']})`,
      );

      // The topology must have drawn something: a blank canvas is one colour.
      const colours = await page.getByTestId('topology').evaluate((el) => {
        const ctx = el.getContext('2d');
        if (!ctx || el.width === 0 || el.height === 0) return null;
        const { data } = ctx.getImageData(0, 0, el.width, el.height);
        const seen = new Set();
        for (let i = 0; i < data.length && seen.size < 2; i += 4) {
          seen.add((data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3]);
        }
        return seen.size;
      });
      if (colours !== null) assert.ok(colours > 1, 'topology canvas is blank');

      await screenshot(page, 'slice-1280');
    });
  });

  test('renders at 1920x1080', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1920, height: 1080 }, async (session) => {
      const { page, check } = session;
      await page.goto(server.url, { waitUntil: 'load' });
      await ensurePlaying(session);
      await assertLayout(page);
      await poll(async () => parseCount(await page.getByTestId('count-acked').textContent()) > 20, {
        timeout: 20_000,
        message: 'count-acked > 20',
        check,
      });
      await page.getByTestId('play').click();
      await poll(async () => !(await isPlaying(page)), { message: 'play button aria-pressed="false"', check });
      await nextFrames(page, 3);
      await screenshot(page, 'slice-1920');
    });
  });
});
