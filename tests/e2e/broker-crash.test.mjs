// Stopping and starting RabbitMQ nodes from the inspector's node buttons (the broker crash
// action), checked by what follows: a quorum queue on three nodes keeps delivering after one
// node stops (a new leader after the election), stops confirming and delivering when two are
// down (the publishes wait in flight, unconfirmed), and resumes when one comes back.
// Scenarios: scenarios/ui/quorum-lab.json (3 nodes; quorum queue 'orders', rabbit-1 leads;
// 'shop' publishes 5/s with confirms; 'billing' 150 ms, prefetch 3) and
// scenarios/rules/rmq-qq-majority.json (its script stops rabbit-1 at 3 s, rabbit-2 at 8 s,
// starts rabbit-1 at 13 s).
// Screenshots: target/e2e/broker-crash-*.png.
//
// Contract with the app (data-testid attributes):
//   a node's inspector: insp-node-state ("running" / "stopped"), insp-node-table,
//   insp-stop-node-<node> / insp-start-node-<node> (one place; the same buttons, one per node,
//   in a queue's or exchange's inspector); a queue's inspector: insp-queue-members
//   ("★leader · follower · …"), insp-queue-held; ledger (data-ledger).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect, launchBrowser, openScenario, poll, screenshot, startServer, withPage } from './harness.mjs';

const TEST_TIMEOUT = 180_000;

async function clockSeconds(page) {
  const m = ((await page.getByTestId('clock').textContent()) ?? '').match(/(\d+(?:\.\d+)?)/);
  assert.ok(m, 'the clock shows a number');
  return Number(m[1]);
}

/** The ledger's counts by state (acked, in_flight, dropped, …). */
async function ledger(page) {
  return JSON.parse(await page.getByTestId('ledger').getAttribute('data-ledger')).states;
}

/** Waits `seconds` of simulated time. */
async function runFor(session, seconds) {
  const { page, check } = session;
  const t0 = await clockSeconds(page);
  await poll(async () => (await clockSeconds(page)) >= t0 + seconds, { interval: 20, timeout: 60_000, message: `${seconds} simulated seconds`, check });
}

/** Waits until the clock reads at least `seconds`. */
async function runUntil(session, seconds) {
  const { page, check } = session;
  await poll(async () => (await clockSeconds(page)) >= seconds, { interval: 20, timeout: 60_000, message: `the clock at ${seconds} s`, check });
}

async function text(page, id) {
  return ((await page.getByTestId(id).textContent()) ?? '').trim();
}

describe('broker crash', () => {
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

  test('a quorum queue survives one stopped node, waits without a majority and resumes', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await openScenario(session, server, 'quorum-lab', 'Quorum lab');
      await runUntil(session, 2);
      await inspect(session, 'orders');
      assert.equal(await text(page, 'insp-queue-members'), '★rabbit-1 · rabbit-2 · rabbit-3');
      await inspect(session, 'rabbit-1');
      assert.equal(await text(page, 'insp-node-state'), 'running');
      await screenshot(page, 'broker-crash-1-running');

      // Stop rabbit-1, the leader's node: it shows as stopped, and after the election the
      // queue on rabbit-2 delivers again.
      await page.getByTestId('insp-stop-node-rabbit-1').click();
      await poll(async () => (await text(page, 'insp-node-state')) === 'stopped', { message: 'rabbit-1 stopped', check });
      assert.equal(await page.getByTestId('insp-start-node-rabbit-1').count(), 1, 'the button flips to start');
      await runFor(session, 1.5);
      const acked = (await ledger(page)).acked;
      await runFor(session, 2);
      assert.ok((await ledger(page)).acked > acked, 'one node down: still delivering and acking');
      await inspect(session, 'orders');
      assert.equal(await text(page, 'insp-queue-members'), '★rabbit-2 · rabbit-1 · rabbit-3');
      await screenshot(page, 'broker-crash-2-one-down');

      // Stop rabbit-2 as well, from the queue's own node buttons: no majority.
      await page.getByTestId('insp-stop-node-rabbit-2').click();
      await poll(async () => (await page.getByTestId('insp-start-node-rabbit-2').count()) === 1, { message: 'rabbit-2 stopped', check });
      await runFor(session, 0.5);
      const stalled = await ledger(page);
      await runFor(session, 2);
      const later = await ledger(page);
      assert.equal(later.acked, stalled.acked, 'no majority: nothing delivered');
      assert.ok(later.in_flight > stalled.in_flight, 'publishes wait in flight, unconfirmed');
      assert.ok(Number((await text(page, 'insp-queue-held')).replace(/\D/g, '')) > 0, 'held publishes are shown');
      await screenshot(page, 'broker-crash-3-no-majority');

      // Start rabbit-1 again: a majority, an election, and the queue resumes.
      await page.getByTestId('insp-start-node-rabbit-1').click();
      await runFor(session, 2);
      const resumed = await ledger(page);
      assert.ok(resumed.acked > later.acked, 'a majority again: delivering');
      assert.ok(resumed.in_flight < later.in_flight, 'the held publishes went in');
      assert.equal(await text(page, 'insp-queue-members'), '★rabbit-3 · rabbit-1 · rabbit-2');
      await screenshot(page, 'broker-crash-4-resumed');
      check();
    });
  });

  test('the majority scenario on stage, before and after its nodes stop', { timeout: TEST_TIMEOUT }, async () => {
    for (const [width, height] of [[1280, 720], [1024, 768]]) {
      await withPage(browser, { width, height }, async (session) => {
        const { page } = session;
        await openScenario(session, server, 'rmq-qq-majority', 'Quorum queue on three nodes');
        const size = `${width}x${height}`;
        await runUntil(session, 2);
        await screenshot(page, `broker-crash-majority-${size}-a-three-up`);
        await runUntil(session, 5);
        await screenshot(page, `broker-crash-majority-${size}-b-one-down`);
        await runUntil(session, 10);
        assert.equal((await ledger(page)).dropped, 0, 'nothing lost');
        await screenshot(page, `broker-crash-majority-${size}-c-two-down`);
        await runUntil(session, 15);
        await screenshot(page, `broker-crash-majority-${size}-d-resumed`);
      });
    }
  });
});
