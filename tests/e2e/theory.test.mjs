// Queueing theory on screen (issue 15, item 4): the inspector of a queue shows the measured
// λ, μ, c and ρ, and the observed wait, queue length and P(wait) beside the prediction of the
// model the measured variation calls for (here M/M/2, Erlang C).
// Scenario: scenarios/ui/theory-lab.json (λ = 8/s, two workers at μ = 5/s, prefetch 1).
// Screenshots: target/e2e/theory-{en,ko}-1280.png.
//
// Contract with the app (data-testid attributes):
//   theory (data-renders)  theory-lambda  theory-mu  theory-c  theory-rho  theory-model
//   theory-measuring  theory-unstable  theory-observed-<i>  theory-predicted-<i> (0 Wq, 1 Lq, 2 P(wait))

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect, launchBrowser, nextFrames, openScenario, poll, screenshot, startServer, withPage } from './harness.mjs';

const TEST_TIMEOUT = 120_000;

const number = (text) => Number(String(text).replace(/[^0-9.]/g, ''));

describe('theory', () => {
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

  test('the queue of an M/M/2 lab shows λ, μ, c, ρ and Erlang C beside the observed wait (1280×720, en and ko)', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await openScenario(session, server, 'theory-lab', 'Queueing theory lab');
      await page.getByTestId('speed').selectOption('10');
      await inspect(session, 'requests');
      const theory = page.getByTestId('theory');
      await poll(async () => (await page.getByTestId('theory-model').count()) === 1, { timeout: 60_000, message: 'enough samples for a model', check });
      await poll(async () => (await page.getByTestId('theory-observed-0').textContent()).includes('±'), { timeout: 60_000, message: 'a batch-means band', check });

      // A minute of simulated time (about 480 arrivals) settles the estimates.
      await poll(async () => {
        const m = ((await page.getByTestId('clock').textContent()) ?? '').match(/(\d+(?:\.\d+)?)/);
        return m && Number(m[1]) >= 60;
      }, { timeout: 60_000, message: '60 simulated seconds', check });
      // Paused, the figures hold still while they are read.
      await page.getByTestId('play').click();
      await nextFrames(page, 5);
      const lambda = number(await page.getByTestId('theory-lambda').textContent());
      const mu = number(await page.getByTestId('theory-mu').textContent());
      const rho = number(await page.getByTestId('theory-rho').textContent());
      assert.equal(await page.getByTestId('theory-c').textContent(), '2');
      assert.ok(lambda > 5 && lambda < 11, `λ about 8/s: ${lambda}`);
      assert.ok(mu > 3.5 && mu < 6.5, `μ about 5/s: ${mu}`);
      assert.ok(Math.abs(rho - lambda / (2 * mu)) < 0.02, `ρ = λ/(cμ): ${rho} vs ${lambda}/(2·${mu})`);
      assert.match(await page.getByTestId('theory-model').textContent(), /Erlang C/);
      const predicted = number(await page.getByTestId('theory-predicted-0').textContent());
      assert.ok(predicted > 0.05 && predicted < 2, `a predicted Wq in seconds: ${predicted}`);
      assert.match(await page.getByTestId('theory-predicted-2').textContent(), /^\d+%$/);
      assert.equal(await page.getByTestId('theory-unstable').count(), 0, 'ρ < 1: no warning');

      // The whole page does not scroll at 1280×720, and the section is in view.
      const scroll = await page.evaluate(() => document.scrollingElement.scrollHeight - window.innerHeight);
      assert.ok(scroll <= 0, `the page does not scroll: ${scroll}px`);
      const box = await theory.boundingBox();
      assert.ok(box && box.y + box.height <= 720, `the section fits on screen: ${JSON.stringify(box)}`);

      // Paused, nothing changes, so the section does not re-render.
      const renders = await theory.getAttribute('data-renders');
      await nextFrames(page, 20);
      assert.equal(await theory.getAttribute('data-renders'), renders, 'still while paused');
      await screenshot(page, 'theory-en-1280');

      await page.getByTestId('lang').click();
      await poll(async () => (await page.getByTestId('theory-model').textContent()).includes('얼랑'), { message: 'Korean labels', check });
      await nextFrames(page, 3);
      await screenshot(page, 'theory-ko-1280');
      check();
    });
  });
});
