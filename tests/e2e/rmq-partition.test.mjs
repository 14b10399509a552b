// A network partition of a RabbitMQ node from its inspector (partitions, quorum-queues), on the
// rule scenario scenarios/rules/rmq-qq-partition.json, whose script cuts off rabbit-3, a
// follower of the quorum queue, at 2 s. Before it pauses (3 s) its inspector says it is
// isolated, how many entries it is behind, and offers Heal only; healing turns it back into a
// running node and offers Isolate again, which cuts it off once more.
// Screenshots: target/e2e/rmq-partition-*.png (1280x720 and 1024x768).
//
// Contract with the app (data-testid attributes): the inspector picker (inspect-select, the
// node as "rabbit-3"), insp-node-state, insp-node-behind, insp-node-heal, insp-node-isolate;
// clock, speed, play, lang; ledger (data-ledger).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect, launchBrowser, openScenario, poll, screenshot, startServer, withPage } from './harness.mjs';
import { clockSeconds } from './seminar-lib.mjs';

const TEST_TIMEOUT = 180_000;

async function text(page, id) {
  return ((await page.getByTestId(id).textContent()) ?? '').trim();
}

describe('rabbitmq network partition', () => {
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

  for (const [width, height] of [[1280, 720], [1024, 768]]) {
    test(`an isolated node lags, heals and is cut off again (${width}x${height})`, { timeout: TEST_TIMEOUT }, async () => {
      await withPage(browser, { width, height }, async (session) => {
        const { page, check } = session;
        await openScenario(session, server, 'rmq-qq-partition', 'pause_minority');
        if ((await page.evaluate(() => document.documentElement.lang)) !== 'en') {
          await page.getByTestId('lang').click();
        }
        // Past the cut at 2 s, before the pause at 3 s.
        await poll(async () => (await clockSeconds(page)) >= 2.4, { interval: 20, timeout: 60_000, message: 'the clock at 2.4 s', check });
        await page.getByTestId('play').click();
        assert.ok((await clockSeconds(page)) < 3, 'paused before the node pauses');
        await inspect(session, 'rabbit-3');
        assert.equal(await text(page, 'insp-node-state'), 'isolated (running)');
        assert.ok(Number(await text(page, 'insp-node-behind')) > 0, 'committed without it');
        assert.equal(await page.getByTestId('insp-node-isolate').count(), 0);
        await screenshot(page, `rmq-partition-isolated-${width}`);

        await page.getByTestId('insp-node-heal').click();
        await poll(async () => (await text(page, 'insp-node-state')) === 'running', { message: 'rabbit-3 healed', check });
        assert.equal(await page.getByTestId('insp-node-behind').count(), 0, 'caught up');
        await page.getByTestId('insp-node-isolate').click();
        await poll(async () => (await text(page, 'insp-node-state')) === 'isolated (running)', { message: 'cut off again', check });
        const ledger = JSON.parse(await page.getByTestId('ledger').getAttribute('data-ledger'));
        assert.equal(ledger.balanced, true);
        await screenshot(page, `rmq-partition-again-${width}`);
      });
    });
  }
});
