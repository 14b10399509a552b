// Time controls by mouse and by keyboard: step, speed, reset, seed, the help overlay, and
// shortcuts that stay quiet while typing. Screenshots: target/e2e/controls-help-*.png.
//
// Contract with the app (data-testid attributes):
//   play (aria-pressed)  step (data-next-event while paused)  slower  speed (select)  faster
//   reset  seed (number input)  seed-error  help-button  help (role=dialog)  help-close
//   clock  count-published  count-ready  count-unacked  count-acked
// Shortcuts: Space play/pause, → step, + / − speed, R reset, ? help, Esc close.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, nextFrames, parseCount, poll, screenshot, startServer, withPage } from './harness.mjs';

const TEST_TIMEOUT = 120_000;

async function clockText(page) {
  return (await page.getByTestId('clock').textContent())?.trim() ?? '';
}

/** Simulated seconds shown by the clock ("12.345 s"). */
async function clockSeconds(page) {
  const m = (await clockText(page)).match(/(\d+(?:\.\d+)?)/);
  assert.ok(m, 'the clock shows a number');
  return Number(m[1]);
}

async function isPlaying(page) {
  return (await page.getByTestId('play').getAttribute('aria-pressed')) === 'true';
}

async function count(page, id) {
  return parseCount(await page.getByTestId(id).textContent());
}

/** The visible figures of a run: the clock and the four counters. */
async function figures(page) {
  return {
    clock: await clockText(page),
    published: await count(page, 'count-published'),
    ready: await count(page, 'count-ready'),
    unacked: await count(page, 'count-unacked'),
    acked: await count(page, 'count-acked'),
  };
}

async function open(session, url) {
  const { page, check } = session;
  await page.goto(url, { waitUntil: 'load' });
  await poll(async () => (await page.getByTestId('play').count()) === 1, { message: 'the app to mount', check });
}

/** Pauses by clicking Play/Pause if playing. */
async function pause(session) {
  const { page, check } = session;
  if (await isPlaying(page)) await page.getByTestId('play').click();
  await poll(async () => !(await isPlaying(page)), { message: 'paused', check });
}

/** Moves focus off any field, so the shortcuts apply (Tab from a field reaches a button). */
async function blur(page) {
  await page.evaluate(() => document.activeElement?.blur?.());
}

describe('time controls', () => {
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

  test('step moves the clock to the next event while paused (button and →)', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await open(session, server.url);
      await poll(async () => (await clockSeconds(page)) > 0.3, { message: 'the clock to run', check });
      await pause(session);
      const step = page.getByTestId('step');

      for (const how of ['mouse', 'keyboard', 'mouse', 'keyboard']) {
        const before = await clockSeconds(page);
        const next = await poll(() => step.getAttribute('data-next-event'), { message: 'the next event time', check });
        if (how === 'mouse') await step.click();
        else {
          await blur(page);
          await page.keyboard.press('ArrowRight');
        }
        await poll(async () => (await clockText(page)) === next, { message: `the clock at ${next} after a ${how} step`, check });
        assert.ok((await clockSeconds(page)) >= before, 'time never goes back');
        assert.equal(await isPlaying(page), false, 'stepping leaves the run paused');
      }
      // Paused means paused: a few frames later the clock has not moved.
      const at = await clockText(page);
      await nextFrames(page, 10);
      assert.equal(await clockText(page), at);

      // Stepping while playing pauses first.
      await page.keyboard.press('Space');
      await poll(() => isPlaying(page), { message: 'Space plays', check });
      await page.keyboard.press('ArrowRight');
      await poll(async () => !(await isPlaying(page)), { message: '→ pauses a playing run', check });
    });
  });

  test('speed: + and − keys and buttons step through 0.1× … 100×; at 10× the clock runs about 10× faster', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await open(session, server.url);
      await poll(() => isPlaying(page), { message: 'auto-play', check });
      const speed = page.getByTestId('speed');
      assert.equal(await speed.inputValue(), '1');

      await blur(page);
      for (const want of ['2', '5', '10']) {
        await page.keyboard.press('+');
        await poll(async () => (await speed.inputValue()) === want, { message: `+ to ${want}×`, check });
      }
      // Simulated time against wall time, measured over at least 5 simulated seconds.
      const t0 = await clockSeconds(page);
      const w0 = Date.now();
      await poll(async () => (await clockSeconds(page)) - t0 >= 5, { interval: 50, message: '5 simulated seconds at 10×', check });
      const ratio = ((await clockSeconds(page)) - t0) / ((Date.now() - w0) / 1000);
      // The upper bound holds by construction; the lower bound only says "clearly faster than
      // 1×", since a loaded machine clamps long frames (exact scaling is a native driver test).
      assert.ok(ratio > 2 && ratio < 12, `at 10× the clock ran ${ratio.toFixed(2)}× real time`);

      await page.keyboard.press('-');
      await poll(async () => (await speed.inputValue()) === '5', { message: '− to 5×', check });
      await page.getByTestId('slower').click();
      await poll(async () => (await speed.inputValue()) === '2', { message: 'the − button to 2×', check });
      await page.getByTestId('faster').click();
      await poll(async () => (await speed.inputValue()) === '5', { message: 'the + button to 5×', check });
      for (let i = 0; i < 8; i++) await page.keyboard.press('-');
      await poll(async () => (await speed.inputValue()) === '0.1', { message: 'the slowest speed', check });
      assert.equal(await page.getByTestId('slower').isDisabled(), true, 'no slower than 0.1×');
      for (let i = 0; i < 6; i++) await page.getByTestId('faster').click();
      await poll(async () => (await speed.inputValue()) === '100', { message: 'the fastest speed', check });
      assert.equal(await page.getByTestId('faster').isDisabled(), true, 'no faster than 100×');
    });
  });

  test('reset returns the clock and every counter to 0, paused (button and R)', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await open(session, server.url);
      const zero = { clock: '0.000 s', published: 0, ready: 0, unacked: 0, acked: 0 };
      for (const how of ['mouse', 'keyboard']) {
        if (!(await isPlaying(page))) await page.getByTestId('play').click();
        await page.getByTestId('speed').selectOption('5');
        await poll(async () => (await count(page, 'count-acked')) >= 3, { message: 'a few acked messages', check });
        if (how === 'mouse') await page.getByTestId('reset').click();
        else {
          await blur(page);
          await page.keyboard.press('r');
        }
        await poll(async () => (await clockText(page)) === '0.000 s', { message: `the clock at 0 after a ${how} reset`, check });
        assert.deepEqual(await figures(page), zero);
        assert.equal(await isPlaying(page), false, 'a reset run waits, paused');
        await nextFrames(page, 5);
        assert.deepEqual(await figures(page), zero, 'nothing moves until Play');
      }
    });
  });

  test('the same seed replays the same run, another seed another run; an invalid seed changes nothing', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await open(session, server.url);
      const seed = page.getByTestId('seed');
      assert.equal(await seed.inputValue(), '1', 'the field shows the run\'s seed');

      /** Resets with `value` (typed, then Enter), then takes 150 steps with →. */
      const runWithSeed = async (value) => {
        await seed.fill(value);
        await seed.press('Enter');
        await poll(async () => (await clockText(page)) === '0.000 s', { message: `a reset with seed ${value}`, check });
        await blur(page);
        for (let i = 0; i < 150; i++) await page.keyboard.press('ArrowRight');
        await nextFrames(page, 3);
        return figures(page);
      };
      const a = await runWithSeed('7');
      assert.ok(a.published > 0 && a.acked > 0, `the run moved: ${JSON.stringify(a)}`);
      const b = await runWithSeed('7');
      assert.deepEqual(b, a, 'seed 7 twice gives the same run');
      const c = await runWithSeed('8');
      assert.notDeepEqual(c, a, 'seed 8 gives another run');
      assert.equal(await seed.inputValue(), '8');

      // An invalid seed shows the error beside the field and does not reset.
      const before = await figures(page);
      for (const bad of ['-3', '1.5']) {
        await seed.fill(bad);
        await page.getByTestId('reset').click();
        const error = page.getByTestId('seed-error');
        await poll(() => error.isVisible(), { message: `an error for seed ${bad}`, check });
        assert.match(await error.textContent(), /whole number/);
        assert.equal(await seed.getAttribute('aria-invalid'), 'true');
        assert.deepEqual(await figures(page), before, `seed ${bad} changed the run`);
      }
      await seed.fill('9');
      await poll(async () => (await page.getByTestId('seed-error').count()) === 0, { message: 'the error to go on typing', check });
    });
  });

  test('shortcuts do nothing while typing in a field', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await open(session, server.url);
      await poll(async () => (await clockSeconds(page)) > 0.5, { message: 'the clock to run', check });
      const seed = page.getByTestId('seed');
      await seed.click();
      for (const key of ['Space', 'r', 'ArrowRight', '+', '-', '?']) await page.keyboard.press(key);
      assert.equal(await isPlaying(page), true, 'Space or → in the field did not pause');
      assert.equal(await page.getByTestId('speed').inputValue(), '1', '+ and − in the field left the speed alone');
      assert.equal(await page.getByTestId('help').count(), 0, '? in the field opened no help');
      assert.ok((await clockSeconds(page)) > 0.5, 'r in the field did not reset');
    });
  });

  for (const [width, height] of [[1280, 720], [1920, 1080]]) {
    test(`help overlay at ${width}×${height}: ? opens it, it lists every shortcut, Esc closes`, { timeout: TEST_TIMEOUT }, async () => {
      await withPage(browser, { width, height }, async (session) => {
        const { page, check } = session;
        await open(session, server.url);
        await blur(page);
        await page.keyboard.press('?');
        const help = page.getByTestId('help');
        await poll(() => help.isVisible(), { message: 'the help overlay', check });
        assert.equal(await help.getAttribute('role'), 'dialog');
        const text = await help.textContent();
        for (const key of ['Space', '→', '+', '−', 'R', '?', 'Esc']) {
          assert.ok(text.includes(key), `the help lists ${key}`);
        }
        assert.match(text, /Play \/ pause/);
        assert.match(text, /next event/);
        // Modal: the other shortcuts wait while it is open.
        const playing = await isPlaying(page);
        await page.keyboard.press('r');
        assert.equal(await help.isVisible(), true);
        assert.notEqual(await clockText(page), '0.000 s', 'R did not reset behind the overlay');
        assert.equal(await isPlaying(page), playing);
        await nextFrames(page, 2);
        await screenshot(page, `controls-help-${width}`);

        await page.keyboard.press('Escape');
        await poll(async () => (await help.count()) === 0, { message: 'Esc closes the help', check });

        // By mouse: the ? button opens, the close button closes.
        await page.getByTestId('help-button').click();
        await poll(() => help.isVisible(), { message: 'the ? button opens the help', check });
        await page.getByTestId('help-close').click();
        await poll(async () => (await help.count()) === 0, { message: 'the close button closes the help', check });
        // And by keyboard on the button: focus lands on the close button, Enter closes.
        await page.getByTestId('help-button').focus();
        await page.keyboard.press('Enter');
        await poll(() => help.isVisible(), { message: 'Enter on ? opens the help', check });
        await page.keyboard.press('Enter');
        await poll(async () => (await help.count()) === 0, { message: 'Enter on the focused close button closes', check });
      });
    });
  }
});
