// What-if sweeps (issue 15, item 5): the dock's What-if tab reruns the loaded scenario once per
// value of one parameter, headless and in chunks while the stage keeps playing, then plots and
// tabulates latency, throughput and drops against it, with Erlang C's wait dashed.
// Scenario: scenarios/ui/theory-lab.json (λ = 8/s, workers at μ = 5/s, prefetch 1).
// Screenshots: target/e2e/sweep-{en,ko}-1280.png, target/e2e/sweep-en-1024.png.
//
// Contract with the app (data-testid attributes):
//   tab-sweep  sweep (data-running, data-done)  sweep-param  sweep-from  sweep-to  sweep-step
//   sweep-secs  sweep-run  sweep-cancel  sweep-progress  sweep-status  sweep-csv  sweep-chart
//   sweep-table  sweep-row (data-value, data-p50, data-p95)

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser, nextFrames, openScenario, poll, screenshot, startServer, withPage } from './harness.mjs';

const TEST_TIMEOUT = 180_000;

const clock = async (page) => Number(((await page.getByTestId('clock').textContent()) ?? '').match(/(\d+(?:\.\d+)?)/)?.[1] ?? NaN);

async function sweepConsumers(page, check, { to, secs }) {
  await page.getByTestId('sweep-param').selectOption({ index: 0 });
  await page.getByTestId('sweep-from').fill('1');
  await page.getByTestId('sweep-to').fill(String(to));
  await page.getByTestId('sweep-step').fill('1');
  await page.getByTestId('sweep-secs').fill(String(secs));
  await page.getByTestId('sweep-run').click();
  // A short sweep may run and finish between two polls (it did on a loaded machine, where the
  // test process polls slowly): started means running or already done.
  const sweep = page.getByTestId('sweep');
  await poll(
    async () => (await sweep.getAttribute('data-running')) === 'true' || (await sweep.getAttribute('data-done')) === 'true',
    { message: 'the sweep starts', check },
  );
}

describe('sweep', () => {
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

  test('a consumers 1–4 sweep of an M/M/c lab: 4 rows, falling latency, CSV, cancel, stage keeps playing (1280×720, en and ko)', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await openScenario(session, server, 'theory-lab', 'Queueing theory lab');
      await page.getByTestId('tab-sweep').click();
      assert.match(await page.getByTestId('sweep-param').locator('option').first().textContent(), /consumers on requests/);

      // Cancel stops a long sweep where it is.
      await sweepConsumers(page, check, { to: 8, secs: 3600 });
      await page.getByTestId('sweep-cancel').click();
      await poll(async () => (await page.getByTestId('sweep-status').textContent()) === 'Cancelled', { message: 'cancelled', check });
      assert.equal(await page.getByTestId('sweep').getAttribute('data-running'), 'false');

      const before = await clock(page);
      const started = Date.now();
      await sweepConsumers(page, check, { to: 4, secs: 300 });
      await poll(async () => (await page.getByTestId('sweep').getAttribute('data-done')) === 'true', { timeout: 120_000, message: 'the sweep finishes', check });
      const wall = Date.now() - started;
      const after = await clock(page);
      console.log(`sweep: 4 variants × 300 s simulated in ${wall} ms (${(wall / 4).toFixed(0)} ms per variant); the stage clock went ${before} → ${after} s`);
      assert.ok(after > before, `the stage kept playing during the sweep: ${before} → ${after}`);

      const rows = page.getByTestId('sweep-row');
      assert.equal(await rows.count(), 4);
      const p95 = [];
      for (let i = 0; i < 4; i++) {
        assert.equal(await rows.nth(i).getAttribute('data-value'), String(i + 1));
        p95.push(Number(await rows.nth(i).getAttribute('data-p95')));
      }
      for (let i = 1; i < 4; i++) {
        assert.ok(p95[i] < p95[i - 1], `p95 falls with more consumers: ${p95.join(', ')}`);
      }
      assert.equal(await page.getByTestId('sweep-status').textContent(), '4 / 4 runs');
      assert.equal(Number(await page.getByTestId('sweep-progress').getAttribute('value')), 1);

      const dir = await mkdtemp(path.join(os.tmpdir(), 'sweep-'));
      const file = path.join(dir, 'sweep.csv');
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('sweep-csv').click()]);
      assert.equal(download.suggestedFilename(), 'broker-lab-sweep-consumers.csv');
      await download.saveAs(file);
      const lines = (await readFile(file, 'utf8')).trim().split('\n');
      assert.equal(lines[0], 'consumers,completed,p50_ms,p95_ms,throughput_per_s,drops,wq_ms,wq_theory_ms,model,halted');
      assert.equal(lines.length, 5, 'a header and one line per variant');
      const cells = lines.slice(1).map((l) => l.split(','));
      assert.deepEqual(cells.map((c) => c[0]), ['1', '2', '3', '4']);
      cells.forEach((c, i) => assert.ok(Math.abs(Number(c[3]) - p95[i]) < 0.001, `CSV p95 is the table's: ${c[3]} vs ${p95[i]}`));
      assert.equal(cells[0][7], '', 'c = 1 is unstable: no theory wait');
      assert.ok(cells.slice(1).every((c) => c[8] === 'M/M/c' && Number(c[7]) > 0), `Erlang C from c = 2: ${lines.join(' | ')}`);

      await nextFrames(page, 3);
      await screenshot(page, 'sweep-en-1280');
      await page.getByTestId('lang').click();
      await poll(async () => (await page.getByTestId('tab-sweep').textContent()) === '가정 실험', { message: 'Korean labels', check });
      await nextFrames(page, 3);
      await screenshot(page, 'sweep-ko-1280');
    });
  });

  test('the What-if tab at 1024×768', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1024, height: 768 }, async (session) => {
      const { page, check } = session;
      await openScenario(session, server, 'theory-lab', 'Queueing theory lab');
      await page.getByTestId('tab-sweep').click();
      await sweepConsumers(page, check, { to: 6, secs: 120 });
      await poll(async () => (await page.getByTestId('sweep').getAttribute('data-done')) === 'true', { timeout: 120_000, message: 'the sweep finishes', check });
      assert.equal(await page.getByTestId('sweep-row').count(), 6);
      const scroll = await page.evaluate(() => document.scrollingElement.scrollWidth - window.innerWidth);
      assert.ok(scroll <= 0, `no sideways scroll: ${scroll}px`);
      await nextFrames(page, 3);
      await screenshot(page, 'sweep-en-1024');
    });
  });
});
