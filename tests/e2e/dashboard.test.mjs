// The visual lab: the dock under the canvas with the dashboard (management-UI table, losses
// by reason, charts), the virtualised event log and the message trace. Contract (data-testid):
//   tab-dashboard, tab-eventlog, tab-trace   open a tab (the dock starts collapsed)
//   queue-table  tr[data-queue=<name>] td[data-col=ready|unacked|total], then 4 rate cells
//                (incoming, deliver / get, redelivered, ack), blank while zero (RMQ-35)
//   chart-backlog, chart-throughput, chart-latency   canvases; data-points, data-draws
//   losses       li[data-reason][data-kind]
//   eventlog     data-kept (events kept, max 100,000), data-rows (rows after the filter);
//                .log-row[data-msg] are the rows in the DOM; eventlog-filter is the filter box
//   trace        li.trace-step[data-step][data-time-us], in journey order
//   data-renders on panels counts their renders (it must not move while paused)

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { launchBrowser, nextFrames, parseCount, poll, screenshot, startServer, withPage } from './harness.mjs';

const TEST_TIMEOUT = 120_000;

async function isPlaying(page) {
  return (await page.getByTestId('play').getAttribute('aria-pressed')) === 'true';
}

/** Open `query` (e.g. "?scenario=burst-10k") and wait for the app to mount. */
async function open(session, url) {
  const { page, check } = session;
  await page.goto(url, { waitUntil: 'load' });
  await poll(async () => (await page.getByTestId('play').count()) === 1, {
    message: 'the app to mount',
    check,
  });
}

async function setPlaying(session, playing) {
  const { page, check } = session;
  if ((await isPlaying(page)) !== playing) await page.getByTestId('play').click();
  await poll(async () => (await isPlaying(page)) === playing, { message: `playing=${playing}`, check });
  await nextFrames(page, 3);
}

async function clockSecs(page) {
  const text = await page.getByTestId('clock').textContent();
  return Number.parseFloat(String(text).replace(/[^0-9.]/g, ''));
}

async function openTab(page, id) {
  await page.getByTestId(`tab-${id}`).click();
  await poll(async () => (await page.getByTestId(`tab-${id}`).getAttribute('aria-selected')) === 'true', {
    message: `tab ${id} selected`,
  });
}

/** Distinct colours on a canvas (capped): a blank canvas has one. */
async function canvasColours(locator) {
  return locator.evaluate((el) => {
    const ctx = el.getContext('2d');
    if (!ctx || el.width === 0 || el.height === 0) return 0;
    const { data } = ctx.getImageData(0, 0, el.width, el.height);
    const seen = new Set();
    for (let i = 0; i < data.length && seen.size < 16; i += 4) {
      seen.add((data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3]);
    }
    return seen.size;
  });
}

async function queueRow(page, name) {
  return page.locator(`[data-testid=queue-table] tr[data-queue="${name}"]`).evaluate((tr) => {
    const cells = [...tr.querySelectorAll('td')].map((td) => td.textContent.trim());
    return { ready: cells[0], unacked: cells[1], total: cells[2], rates: cells.slice(3) };
  });
}

async function renderCounts(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('[data-renders]'), ...document.querySelectorAll('canvas[data-draws]')].map(
      (el) => `${el.getAttribute('data-testid') ?? el.className}:${el.getAttribute('data-renders') ?? el.getAttribute('data-draws')}`,
    ),
  );
}

describe('visual lab: dashboard, event log, message trace', () => {
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

  test('dashboard table matches the counters, rates after 5 s, charts drawn, stays still while paused', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await open(session, server.url);
      await setPlaying(session, false);
      assert.equal(await page.getByTestId('dock').getAttribute('data-open'), 'false', 'the dock starts collapsed');
      await openTab(page, 'dashboard');
      await poll(async () => (await page.locator('[data-testid=queue-table] tr[data-queue="orders"]').count()) === 1, {
        message: 'the orders row',
        check,
      });
      if ((await clockSecs(page)) < 4.5) {
        const early = await queueRow(page, 'orders');
        assert.deepEqual(early.rates, ['', '', '', ''], `rates are blank before the first 5 s window: ${JSON.stringify(early)}`);
      }

      await page.getByTestId('speed').selectOption('10');
      await setPlaying(session, true);
      await poll(async () => (await clockSecs(page)) >= 12, { message: 'clock ≥ 12 s', check });
      await poll(async () => (await queueRow(page, 'orders')).rates[0] !== '', { message: 'incoming rate shown', check });
      await setPlaying(session, false);

      // Ready / Unacked / Total agree with the counters (one queue: the totals are its own).
      const row = await queueRow(page, 'orders');
      const ready = parseCount(await page.getByTestId('count-ready').textContent());
      const unacked = parseCount(await page.getByTestId('count-unacked').textContent());
      assert.equal(parseCount(row.ready), ready, `Ready ${row.ready} vs counter ${ready}`);
      assert.equal(parseCount(row.unacked), unacked, `Unacked ${row.unacked} vs counter ${unacked}`);
      assert.equal(parseCount(row.total), ready + unacked, `Total ${row.total}`);
      const [incoming, deliver, , ack] = row.rates;
      for (const [name, rate] of [['incoming', incoming], ['deliver', deliver], ['ack', ack]]) {
        assert.match(rate, /^\d[\d,]*(\.\d)?\/s$/, `${name} rate "${rate}"`);
        const n = Number.parseFloat(rate);
        assert.ok(n > 1 && n < 6, `${name} rate ${rate} is not about 2.8/s`);
      }

      // Three charts, each drawn with data.
      for (const id of ['chart-backlog', 'chart-throughput', 'chart-latency']) {
        const chart = page.getByTestId(id);
        await poll(async () => Number(await chart.getAttribute('data-points')) > 10, { message: `${id} has points`, check });
        const box = await chart.boundingBox();
        assert.ok(box && box.width > 120 && box.height > 90, `${id} is too small: ${JSON.stringify(box)}`);
        assert.ok((await canvasColours(chart)) > 3, `${id} is blank`);
      }
      assert.match(await page.getByTestId('losses').textContent(), /Nothing dropped/);

      // The ledger: every state present, the sum equals created, the reason maps are there.
      const ledger = JSON.parse(await page.getByTestId('ledger').getAttribute('data-ledger'));
      for (const state of ['in_flight', 'ready', 'unacked', 'processing', 'retained', 'acked', 'dead_lettered', 'expired', 'removed_by_retention', 'dropped']) {
        assert.ok(Number.isInteger(ledger.states[state]), `ledger state ${state} missing: ${JSON.stringify(ledger)}`);
      }
      const sum = Object.values(ledger.states).reduce((a, n) => a + n, 0);
      assert.equal(sum, ledger.created);
      assert.equal(ledger.balanced, true);
      assert.deepEqual(ledger.dropped_by, {});
      assert.deepEqual(ledger.dead_lettered_by, {});

      // Nothing re-renders or redraws while paused.
      await sleep(1200);
      const before = await renderCounts(page);
      await sleep(1500);
      check();
      assert.deepEqual(await renderCounts(page), before, 'a panel re-rendered while paused');
      assert.ok(before.some((s) => s.startsWith('queue-table:')), `no render counter on the table: ${before}`);

      // The whole page still fits: the ledger is on screen.
      const ledgerBox = await page.getByTestId('ledger').boundingBox();
      assert.ok(ledgerBox && ledgerBox.y + ledgerBox.height <= 720, `ledger off screen: ${JSON.stringify(ledgerBox)}`);
      await screenshot(page, 'dashboard-1280');

      // Korean labels.
      await page.getByTestId('lang').click();
      await poll(async () => (await page.getByTestId('tab-dashboard').textContent()) === '대시보드', { message: 'Korean tab', check });
      assert.match(await page.getByTestId('queue-table').textContent(), /대기 \(Ready\)/);
      await nextFrames(page, 2);
      await sleep(500);
      await screenshot(page, 'dashboard-ko-1280');
    });
  });

  test('losses are listed by their real reason, and the ledger opens them', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await open(session, `${server.url}?scenario=rmq-07-unroutable`);
      await page.getByTestId('speed').selectOption('10');
      await setPlaying(session, true);
      await poll(
        async () => (JSON.parse(await page.getByTestId('ledger').getAttribute('data-ledger')).dropped_by.unroutable ?? 0) > 0,
        { message: 'an unroutable drop', check },
      );
      await setPlaying(session, false);
      const ledger = JSON.parse(await page.getByTestId('ledger').getAttribute('data-ledger'));
      const dropped = Object.values(ledger.dropped_by).reduce((a, n) => a + n, 0);
      assert.equal(dropped, ledger.states.dropped, 'dropped_by sums to the dropped state');
      await openTab(page, 'dashboard');
      const item = page.locator('[data-testid=losses] li[data-reason=unroutable]');
      await poll(async () => (await item.count()) === 1, { message: 'the unroutable item', check });
      assert.match(await item.textContent(), new RegExp(`unroutable\\s*${ledger.dropped_by.unroutable}`));
      const term = page.locator('[data-testid=ledger] button[data-state=dropped]');
      await term.click();
      assert.match(await page.locator('[data-testid=ledger] [data-reasons=dropped]').textContent(), /unroutable/);
    });
  });

  test('the event log stays fast with 100,000 events: few DOM rows, scroll, filter by id', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await open(session, `${server.url}?scenario=burst-10k`);
      await poll(async () => /10,000/.test(await page.getByTestId('scenario-title').textContent()), {
        message: 'the burst scenario to load',
        check,
      });
      await page.getByTestId('speed').selectOption('100');
      await setPlaying(session, true);
      await openTab(page, 'eventlog');
      const log = page.getByTestId('eventlog');
      await poll(async () => Number(await log.getAttribute('data-kept')) >= 100_000, {
        timeout: 60_000,
        message: '100,000 events kept',
        check,
      });
      assert.match(await page.getByTestId('eventlog-count').textContent(), /100,000/);
      const domRows = await log.locator('.log-row:not(.log-probe)').count();
      assert.ok(domRows > 3 && domRows < 200, `${domRows} rows in the DOM`);
      assert.equal(await page.getByTestId('eventlog-following').count(), 1, 'follows the newest while at the bottom');

      // The page stays responsive while the log holds 100,000 events and the run goes on.
      const fps = await page.evaluate(
        () =>
          new Promise((resolve) => {
            let frames = 0;
            const start = performance.now();
            const step = (now) => (now - start < 1000 ? (frames++, requestAnimationFrame(step)) : resolve(frames));
            requestAnimationFrame(step);
          }),
      );
      assert.ok(fps >= 15, `only ${fps} frames in a second`);
      await setPlaying(session, false);
      await sleep(400);
      await screenshot(page, 'eventlog-1280');

      // Scroll to the top: it stops following and shows the oldest kept events.
      await log.locator('.log-scroller').evaluate((el) => {
        el.scrollTop = 0;
      });
      await poll(async () => (await page.getByTestId('eventlog-jump').count()) === 1, { message: 'jump button', check });
      const topTimes = await log.locator('.log-row:not(.log-probe) .log-time').allTextContents();
      const lastTime = await page.getByTestId('clock').textContent();
      assert.ok(Number.parseFloat(topTimes[0]) < Number.parseFloat(lastTime), `top row ${topTimes[0]} is not older than ${lastTime}`);
      assert.ok((await log.locator('.log-row:not(.log-probe)').count()) < 200);

      // Filter by the id of the first row's message: only its events remain, in order.
      const id = await log.locator('.log-row.has-msg').first().getAttribute('data-msg');
      assert.match(id, /^m\d+$/);
      await page.getByTestId('eventlog-filter').fill(id);
      await poll(async () => Number(await log.getAttribute('data-rows')) < 40, { message: `filter ${id}`, check });
      const msgs = await log.locator('.log-row:not(.log-probe)').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-msg')));
      assert.ok(msgs.length >= 3, `only ${msgs.length} rows for ${id}`);
      assert.ok(msgs.every((m) => m === id), `rows of other messages: ${msgs}`);
      assert.match(await page.getByTestId('eventlog-count').textContent(), new RegExp(`${msgs.length}\\s*/\\s*100,000`));

      // A text filter over all 100,000 events.
      await page.getByTestId('eventlog-filter').fill('redelivered');
      await poll(async () => Number(await log.getAttribute('data-rows')) > 10, { message: 'text filter', check });
      // The filter searches the trace line, each row's tooltip; the row reads in names.
      const lines = await log.locator('.log-row:not(.log-probe)').evaluateAll((rows) => rows.map((r) => r.title));
      assert.ok(lines.every((s) => s.includes('redelivered')), `rows without "redelivered": ${lines}`);
      const texts = await log.locator('.log-row:not(.log-probe) .log-text').allTextContents();
      assert.ok(texts.every((s) => / → /.test(s) && !/\bq\d+\b|\bc\d+\b/.test(s)), `rows not in names: ${texts.slice(0, 3)}`);
    });
  });

  test('the event log stops following when scrolled up, and resumes with Jump to newest', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await open(session, server.url);
      await page.getByTestId('speed').selectOption('10');
      await setPlaying(session, true);
      await openTab(page, 'eventlog');
      const log = page.getByTestId('eventlog');
      await poll(async () => Number(await log.getAttribute('data-kept')) > 300, { message: '300 events', check });
      const firstText = () => log.locator('.log-row:not(.log-probe)').first().textContent();
      await log.locator('.log-scroller').evaluate((el) => {
        el.scrollTop = 200;
      });
      await poll(async () => (await page.getByTestId('eventlog-jump').count()) === 1, { message: 'stops following', check });
      const top = await firstText();
      const kept = Number(await log.getAttribute('data-kept'));
      await poll(async () => Number(await log.getAttribute('data-kept')) > kept + 20, { message: 'more events', check });
      assert.equal(await firstText(), top, 'the rows moved while scrolled up');
      await page.getByTestId('eventlog-jump').click();
      await poll(async () => (await page.getByTestId('eventlog-following').count()) === 1, { message: 'follows again', check });
      // Following: the last row is the newest event.
      await setPlaying(session, false);
      await sleep(600);
      const rows = Number(await log.getAttribute('data-rows'));
      const scroller = await log.locator('.log-scroller').evaluate((el) => ({
        bottom: el.scrollTop + el.clientHeight,
        height: el.scrollHeight,
      }));
      assert.ok(scroller.height - scroller.bottom < 2, `not at the bottom: ${JSON.stringify(scroller)} (${rows} rows)`);
    });
  });

  test('tracing a redelivered message shows its journey in order', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await open(session, `${server.url}?scenario=rmq-15-consumer-crash`);
      await page.getByTestId('speed').selectOption('5');
      await setPlaying(session, true);
      await poll(async () => parseCount(await page.getByTestId('count-acked').textContent()) === 6, {
        timeout: 30_000,
        message: 'all six tasks acked',
        check,
      });
      await setPlaying(session, false);

      await openTab(page, 'eventlog');
      await page.getByTestId('eventlog-filter').fill('redelivered');
      const log = page.getByTestId('eventlog');
      await poll(async () => Number(await log.getAttribute('data-rows')) === 3, { message: 'three redeliveries', check });
      const row = log.locator('.log-row.has-msg').first();
      const id = await row.getAttribute('data-msg');
      await row.locator('.msg-link').click();

      await poll(async () => (await page.getByTestId('tab-trace').getAttribute('aria-selected')) === 'true', {
        message: 'the trace tab opens',
        check,
      });
      const trace = page.getByTestId('trace');
      await poll(async () => (await trace.getAttribute('data-msg')) === id && (await trace.locator('.trace-step').count()) > 5, {
        message: `the journey of ${id}`,
        check,
      });
      const steps = await trace.locator('.trace-step').evaluateAll((els) =>
        els.map((el) => ({ step: el.getAttribute('data-step'), us: Number(el.getAttribute('data-time-us')), text: el.textContent })),
      );
      const names = steps.map((s) => s.step);
      const order = ['published', 'delivered', 'crashed', 'requeued', 'redelivered', 'acked'];
      let at = -1;
      for (const name of order) {
        const next = names.indexOf(name, at + 1);
        assert.ok(next > at, `${name} missing or out of order in ${names.join(' → ')}`);
        at = next;
      }
      for (let i = 1; i < steps.length; i++) {
        assert.ok(steps[i].us >= steps[i - 1].us, `times go backwards at step ${i}: ${JSON.stringify(steps)}`);
      }
      const delivered = steps.find((s) => s.step === 'delivered');
      const redelivered = steps.find((s) => s.step === 'redelivered');
      assert.match(delivered.text, /worker-a/);
      assert.match(redelivered.text, /worker-b/);
      assert.match(steps.find((s) => s.step === 'published').text, /0\.000 s/);
      assert.equal(await page.getByTestId('trace-truncated').count(), 0);
      await screenshot(page, 'trace-1280');
    });
  });
});
