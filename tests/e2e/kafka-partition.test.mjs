// A network partition of a Kafka broker from its inspector (KAF-21, KAF-23, KAF-24), on the rule
// scenario scenarios/kafka/kaf-24-isolated-leader-split-brain.json: broker 0 leads both topics
// and is cut off at 2 s; the controller fences it at 11 s. Past that, its inspector says it is
// isolated and fenced, holds records only it has, and offers Heal; healing turns it back
// into a running follower (the records it alone held are lost) and offers Isolate again.
// Screenshots: target/e2e/kafka-partition-*.png (1280x720 and 1024x768).
//
// Contract with the app (data-testid attributes): the inspector picker (inspect-select, the
// broker as "b0"), insp-broker-state, insp-broker-stale, insp-broker-heal,
// insp-broker-isolate; clock, speed, play, lang; ledger (data-ledger).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect, launchBrowser, openScenario, poll, screenshot, startServer, withPage } from './harness.mjs';
import { clockSeconds } from './seminar-lib.mjs';

const TEST_TIMEOUT = 180_000;

async function text(page, id) {
  return ((await page.getByTestId(id).textContent()) ?? '').trim();
}

describe('kafka network partition', () => {
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
    test(`an isolated leader is fenced, holds records alone and heals (${width}x${height})`, { timeout: TEST_TIMEOUT }, async () => {
      await withPage(browser, { width, height }, async (session) => {
        const { page, check } = session;
        await openScenario(session, server, 'kaf-24-isolated-leader-split-brain', 'KAF-24');
        if ((await page.evaluate(() => document.documentElement.lang)) !== 'en') {
          await page.getByTestId('lang').click();
        }
        await page.getByTestId('speed').selectOption('5');
        // Past the second acks=1 burst (14 s), which only broker 0 takes.
        await poll(async () => (await clockSeconds(page)) >= 15, { interval: 20, timeout: 60_000, message: 'the clock at 15 s', check });
        await page.getByTestId('play').click();
        await inspect(session, 'b0');
        assert.equal(await text(page, 'insp-broker-state'), 'isolated · fenced');
        // acks-1: offsets 2 to 6; acks-all: offsets 2 to 4, their requests still open.
        assert.equal(await text(page, 'insp-broker-stale'), '8');
        assert.equal(await page.getByTestId('insp-broker-isolate').count(), 0);
        await screenshot(page, `kafka-partition-isolated-${width}`);

        await page.getByTestId('insp-broker-heal').click();
        await poll(async () => (await text(page, 'insp-broker-state')) === 'running', { message: 'b0 healed', check });
        assert.equal(await page.getByTestId('insp-broker-stale').count(), 0);
        await poll(() => page.getByTestId('insp-broker-isolate').isVisible(), { message: 'Isolate offered again', check });
        const ledger = JSON.parse(await page.getByTestId('ledger').getAttribute('data-ledger'));
        assert.equal(ledger.balanced, true);
        await screenshot(page, `kafka-partition-healed-${width}`);
      });
    });
  }
});
