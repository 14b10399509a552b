// The canvas beyond the message-broker slice: the compare view (queue vs log) and selecting
// nodes on the canvas. Contract with the app (data-testid attributes):
//   compare                     the compare overlay (shown while the run has a queue and a topic)
//   add-late-consumer (button)  adds a new consumer to the queue
//   add-new-group (button)      adds a consumer group (earliest) with one member to the topic
//   compare-consumer            one per queue consumer: data-name, data-delivered
//   compare-group               one per consumer group: data-name, data-processed, data-lag
//   compare-log-records         data-records = records the topic still holds
//   colour-mode (select)        what a message's colour means
//   .stage[data-selected]       the selected node as kind:name, e.g. queue:orders

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, nextFrames, poll, screenshot, startServer, withPage } from './harness.mjs';

const TEST_TIMEOUT = 120_000;

async function isPlaying(page) {
  return (await page.getByTestId('play').getAttribute('aria-pressed')) === 'true';
}

async function setPlaying(session, playing) {
  const { page, check } = session;
  await poll(async () => (await page.getByTestId('play').count()) === 1, { message: 'the app to mount', check });
  if ((await isPlaying(page)) !== playing) await page.getByTestId('play').click();
  await poll(async () => (await isPlaying(page)) === playing, { message: `playing = ${playing}`, check });
}

/** Seconds on the simulated clock ("12.345 s"). */
async function clockSeconds(page) {
  const text = await page.getByTestId('clock').textContent();
  const m = /([\d.,]+)\s*s/.exec(text ?? '');
  assert.ok(m, `clock text ${JSON.stringify(text)} has no seconds`);
  return Number(m[1].replace(/,/g, ''));
}

/** The compare overlay's figures: {consumers: {name: delivered}, groups: {name: {processed, lag}}, records}. */
async function compareFigures(page) {
  return page.evaluate(() => {
    const out = { consumers: {}, groups: {}, records: null };
    for (const el of document.querySelectorAll('[data-testid="compare-consumer"]')) {
      out.consumers[el.dataset.name] = Number(el.dataset.delivered);
    }
    for (const el of document.querySelectorAll('[data-testid="compare-group"]')) {
      out.groups[el.dataset.name] = { processed: Number(el.dataset.processed), lag: Number(el.dataset.lag) };
    }
    const records = document.querySelector('[data-testid="compare-log-records"]');
    if (records) out.records = Number(records.dataset.records);
    return out;
  });
}

/**
 * The lesson of the compare view: after the producer's 100 orders were handled on both sides,
 * a late queue consumer receives nothing (acked messages were deleted) while a new consumer
 * group replays all 100 records (the log keeps them).
 */
async function runComparison(session, server, name) {
  const { page, check } = session;
  await page.goto(`${server.url}?scenario=compare`, { waitUntil: 'load' });
  await setPlaying(session, true);
  await page.getByTestId('speed').selectOption('10');
  for (const id of ['compare', 'add-late-consumer', 'add-new-group', 'colour-mode']) {
    assert.ok(await page.getByTestId(id).isVisible(), `[data-testid=${id}] is not visible`);
  }

  // The producer is done (100 orders) and both original consumers have caught up.
  await poll(
    async () => {
      const f = await compareFigures(page);
      return f.records === 100 && f.consumers.worker === 100 && f.groups.billing?.processed === 100;
    },
    { timeout: 60_000, message: 'the producer to finish and both sides to catch up', check },
  );
  await setPlaying(session, false);
  await nextFrames(page, 2);
  const before = await compareFigures(page);
  assert.deepEqual(Object.keys(before.consumers), ['worker']);
  assert.deepEqual(Object.keys(before.groups), ['billing']);

  await page.getByTestId('add-late-consumer').click();
  await page.getByTestId('add-new-group').click();
  await poll(
    async () => {
      const f = await compareFigures(page);
      return 'late-worker' in f.consumers && 'analytics' in f.groups;
    },
    { message: 'the late consumer and the new group to appear in the summary', check },
  );
  assert.equal(await page.locator('.compare-error').count(), 0, 'a compare command was refused');

  await setPlaying(session, true);
  const start = await clockSeconds(page);
  await poll(async () => (await compareFigures(page)).groups.analytics?.processed === 100, {
    timeout: 60_000,
    message: 'the new group to replay all 100 records',
    check,
  });
  // Run on a little longer: the late queue consumer still gets nothing.
  await poll(async () => (await clockSeconds(page)) > start + 5, { message: '5 more simulated seconds', check });
  await setPlaying(session, false);
  await nextFrames(page, 3);

  const after = await compareFigures(page);
  assert.equal(after.consumers['late-worker'], 0, `late-worker received messages: ${JSON.stringify(after)}`);
  assert.equal(after.consumers.worker, 100, `worker: ${JSON.stringify(after)}`);
  assert.equal(after.groups.analytics.processed, 100, `analytics: ${JSON.stringify(after)}`);
  assert.equal(after.groups.analytics.lag, 0, `analytics lag: ${JSON.stringify(after)}`);
  assert.equal(after.groups.billing.processed, 100, `billing: ${JSON.stringify(after)}`);
  assert.equal(after.records, 100, `the log no longer holds every record: ${JSON.stringify(after)}`);

  // The overlay's buttons sit inside the canvas, in the two bands' heading rows.
  const stage = await page.locator('.stage').boundingBox();
  const queueSide = await page.getByTestId('compare-queue-side').boundingBox();
  const logSide = await page.getByTestId('compare-log-side').boundingBox();
  for (const [label, box] of [['queue side', queueSide], ['log side', logSide]]) {
    assert.ok(box && box.y >= stage.y && box.y + box.height <= stage.y + stage.height, `${label} is outside the stage`);
  }
  assert.ok(logSide.y > queueSide.y + queueSide.height, 'the log side is not below the queue side');
  await screenshot(page, name);
}

describe('canvas: compare view and selection', () => {
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

  test('compare view: a late queue consumer gets nothing, a new group replays the log (1280x720)', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, (session) => runComparison(session, server, 'compare-1280'));
  });

  test('compare view at 1920x1080', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1920, height: 1080 }, (session) => runComparison(session, server, 'compare-1920'));
  });

  test('the Compare button opens the compare view; colours start by key (KAF-3) and switch to priority', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await page.goto(server.url, { waitUntil: 'load' });
      await setPlaying(session, true);
      assert.equal(await page.getByTestId('compare').count(), 0, 'the default scenario shows the compare overlay');
      await page.getByTestId('open-compare').click();
      await poll(async () => (await page.getByTestId('compare').count()) === 1, { message: 'the compare overlay', check });
      assert.match(await page.getByTestId('scenario-title').textContent(), /Compare/);

      // The producer writes record keys, so colours start by key: four keys and "no key".
      assert.equal(await page.getByTestId('colour-mode').inputValue(), 'key');
      await poll(async () => (await page.getByTestId('colour-swatches').locator('li').count()) === 5, {
        message: 'one swatch per record key',
        check,
      });
      assert.match(await page.getByTestId('colour-swatches').textContent(), /alice.*bob.*carol.*dave/);
      await page.getByTestId('colour-mode').selectOption('producer');
      await poll(async () => (await page.getByTestId('colour-swatches').locator('li').count()) === 0, {
        message: 'no swatches by producer',
        check,
      });
      await page.getByTestId('colour-mode').selectOption('priority');
      await poll(async () => (await page.getByTestId('colour-swatches').locator('li').count()) === 7, {
        message: 'the priority swatches',
        check,
      });
    });
  });

  test('clicking a node on the canvas selects it; the keyboard moves and clears the selection', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await page.goto(server.url, { waitUntil: 'load' });
      await setPlaying(session, false);
      const stage = page.locator('.stage');
      const canvas = page.getByTestId('topology');
      const box = await canvas.boundingBox();
      const selected = () => stage.getAttribute('data-selected');
      // A selection may open a side panel that narrows the canvas: wait for it to close again.
      const clearAndSettle = async () => {
        await page.keyboard.press('Escape');
        await poll(async () => (await selected()) === null, { message: 'Escape to clear the selection', check });
        await poll(async () => (await canvas.boundingBox()).width === box.width, { message: 'the canvas width', check });
        await nextFrames(page, 2);
      };

      // The default scenario is one row of nodes across the middle: sweep a click along it.
      const seen = new Set();
      for (let x = 10; x < box.width; x += 25) {
        await canvas.click({ position: { x, y: box.height / 2 } });
        await nextFrames(page, 2);
        const s = await selected();
        if (s) {
          seen.add(s);
          await clearAndSettle();
        }
      }
      for (const node of ['producer:shop', 'exchange:', 'queue:orders', 'consumer:worker']) {
        assert.ok(seen.has(node), `no click selected ${node}; selected: ${[...seen].join(', ')}`);
      }
      assert.equal(seen.size, 4, `unexpected selections: ${[...seen].join(', ')}`);

      // Hovering a node says what it is, from the glossary (issue 10: every term explained).
      const hints = new Set();
      for (let x = 10; x < box.width; x += 25) {
        await canvas.hover({ position: { x, y: box.height / 2 } });
        hints.add(await canvas.getAttribute('title'));
      }
      assert.ok([...hints].some((h) => /^orders — a store/.test(h)), `hints: ${[...hints].join(' | ')}`);
      assert.ok([...hints].some((h) => /^worker — a consumer/.test(h)), `hints: ${[...hints].join(' | ')}`);
      await canvas.hover({ position: { x: 4, y: 4 } });
      assert.match(await canvas.getAttribute('title'), /^Click a node/);

      // Keyboard: arrows step through the nodes in reading order (not the global step
      // shortcut), Escape clears.
      const clock = await page.getByTestId('clock').textContent();
      await canvas.focus();
      await page.keyboard.press('ArrowRight');
      await poll(async () => (await selected()) === 'producer:shop', { message: 'ArrowRight → producer:shop', check });
      await page.keyboard.press('ArrowRight');
      await poll(async () => (await selected()) === 'exchange:', { message: 'ArrowRight → the default exchange', check });
      await page.keyboard.press('ArrowLeft');
      await poll(async () => (await selected()) === 'producer:shop', { message: 'ArrowLeft → producer:shop', check });
      assert.equal(await page.getByTestId('clock').textContent(), clock, 'an arrow on the canvas stepped the simulation');

      // A click on empty space clears the selection.
      await canvas.click({ position: { x: 4, y: 4 } });
      await poll(async () => (await selected()) === null, { message: 'a click on empty space to clear', check });

      await canvas.focus();
      for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
      await poll(async () => (await selected()) === 'queue:orders', { message: 'the queue, third in reading order', check });
      await nextFrames(page, 3);
      await screenshot(page, 'canvas-selected-1280');
      await clearAndSettle();
    });
  });
});
