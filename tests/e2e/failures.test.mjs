// Failure injection from the toolbar and the inspector, by mouse and by keyboard, each checked
// by its visible consequence: a crash requeues and redelivers, a poison message is redelivered
// then dead-lettered, a burst fills the queue, a paused producer stops publishing, slow
// consumers build a backlog, a slow group member builds lag.
// Scenarios: scenarios/ui/failure-lab.json (quorum queue, delivery limit 3, DLX → 'dead';
// worker-a and worker-b, prefetch 2, 800 ms each; 'shop' publishes 2/s) and kafka-lag-lab.json.
// Screenshots: target/e2e/failures-*.png.
//
// Contract with the app (data-testid attributes), besides those in inspector.test.mjs:
//   failure-toolbar; tb-producer / tb-consumer (the targets' names); tb-burst, tb-burst-n,
//   tb-poison, tb-pause (aria-pressed); tb-crash / tb-restart (one place), tb-slow
//   (aria-pressed); tb-consumer-status (data-status), tb-consumer-redelivered;
//   the same buttons in the inspector with the insp- prefix; *-producer-error.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect, launchBrowser, nextFrames, openScenario, parseCount, poll, screenshot, startServer, withPage } from './harness.mjs';

const TEST_TIMEOUT = 120_000;

async function clockSeconds(page) {
  const m = ((await page.getByTestId('clock').textContent()) ?? '').match(/(\d+(?:\.\d+)?)/);
  assert.ok(m, 'the clock shows a number');
  return Number(m[1]);
}

async function count(page, id) {
  return parseCount(await page.getByTestId(id).first().textContent());
}

async function isPlaying(page) {
  return (await page.getByTestId('play').getAttribute('aria-pressed')) === 'true';
}



/** Presses a button by keyboard: focus it, then Enter. */
async function pressByKeyboard(page, id) {
  await page.getByTestId(id).focus();
  await page.keyboard.press('Enter');
}

async function ledger(page) {
  return JSON.parse(await page.getByTestId('ledger').getAttribute('data-ledger'));
}

/** Waits `seconds` of simulated time. */
async function runFor(session, seconds) {
  const { page, check } = session;
  const t0 = await clockSeconds(page);
  await poll(async () => (await clockSeconds(page)) >= t0 + seconds, { interval: 20, message: `${seconds} simulated seconds`, check });
}

describe('failure injection', () => {
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

  test('a crash before the ack requeues the messages; after a restart they are redelivered', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await openScenario(session, server, 'failure-lab', 'Failure lab');
      const status = page.getByTestId('tb-consumer-status');

      // Crash worker-b from the inspector, by keyboard, so nothing else takes the requeued work.
      await inspect(session, 'worker-b');
      await poll(async () => (await page.getByTestId('tb-consumer').textContent()) === 'worker-b', { message: 'the toolbar follows the selection', check });
      await pressByKeyboard(page, 'insp-crash');
      await poll(async () => (await page.getByTestId('insp-status').getAttribute('data-status')) === 'crashed', { message: 'worker-b crashed', check });
      assert.equal(await status.getAttribute('data-status'), 'crashed');

      // worker-a, holding unacked messages, crashes from the toolbar, by mouse, while paused.
      await inspect(session, 'worker-a');
      const unacked = page.getByTestId('insp-unacked');
      await poll(async () => parseCount((await unacked.textContent()).split('/')[0]) === 2, { message: 'worker-a holding 2', check });
      await page.getByTestId('play').click();
      await poll(async () => !(await isPlaying(page)), { message: 'paused', check });
      const ready0 = await count(page, 'count-ready');
      const held = parseCount((await unacked.textContent()).split('/')[0]);
      assert.equal(await page.getByTestId('insp-redelivered').textContent(), '0');
      await page.getByTestId('tb-crash').click();
      await poll(async () => (await status.getAttribute('data-status')) === 'crashed', { message: 'worker-a crashed', check });
      await poll(async () => (await count(page, 'count-ready')) === ready0 + held, { message: `Ready up by the ${held} requeued`, check });
      assert.equal(await page.getByTestId('insp-status').getAttribute('data-status'), 'crashed');
      assert.match(await unacked.textContent(), /^0 \//);
      await nextFrames(page, 2);
      await screenshot(page, 'failures-crash-1280');

      // Restart by keyboard (the crash button turned into the restart button).
      await page.getByTestId('tb-restart').focus();
      await page.keyboard.press('Enter');
      await poll(async () => (await status.getAttribute('data-status')) === 'running', { message: 'worker-a restarted', check });
      await page.getByTestId('play').click();
      await poll(async () => (await count(page, 'insp-redelivered')) >= 1, { message: 'worker-a gets redelivered messages', check });
      assert.ok((await count(page, 'tb-consumer-redelivered')) >= 1, 'the toolbar shows the redelivery count');
      await inspect(session, 'tasks');
      assert.ok((await count(page, 'insp-queue-redelivered')) >= 1, 'the queue shows redeliveries');
      assert.equal((await ledger(page)).balanced, true);
    });
  });

  test('a poison message is redelivered until the delivery limit, then dead-lettered', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await openScenario(session, server, 'failure-lab', 'Failure lab');
      assert.equal((await ledger(page)).states.dead_lettered, 0);
      await page.getByTestId('tb-poison').click();
      await page.getByTestId('speed').selectOption('5');
      await poll(async () => (await ledger(page)).states.dead_lettered >= 1, { message: 'the poison message dead-lettered', check });
      await inspect(session, 'tasks');
      assert.ok((await count(page, 'insp-queue-redelivered')) >= 2, 'it was redelivered before dying');
      await inspect(session, 'dead');
      assert.equal(await count(page, 'insp-ready'), 1, 'it waits in the dead-letter queue');
      // The inspector's poison button, by keyboard, does it again.
      await inspect(session, 'shop');
      await pressByKeyboard(page, 'insp-poison');
      await poll(async () => (await ledger(page)).states.dead_lettered >= 2, { message: 'a second poison message dead-lettered', check });
    });
  });

  test('a burst of N makes the queue depth jump; an invalid N is refused', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await openScenario(session, server, 'failure-lab', 'Failure lab');
      await poll(async () => (await clockSeconds(page)) > 1, { message: 'the run to settle', check });
      assert.ok((await count(page, 'count-ready')) <= 2, 'the workers keep up at first');

      // By keyboard: type N and press Enter in the field.
      const n = page.getByTestId('tb-burst-n');
      await n.fill('50');
      await n.press('Enter');
      await poll(async () => (await count(page, 'count-ready')) >= 40, { message: 'Ready jumps after a burst of 50', check });
      await inspect(session, 'tasks');
      assert.ok((await count(page, 'insp-ready')) >= 40);

      for (const [bad, reason] of [['many', /whole number/], ['2000000', /at most 1000000/]]) {
        await n.fill(bad);
        await page.getByTestId('tb-burst').click();
        await poll(() => page.getByTestId('tb-producer-error').isVisible(), { message: `N=${bad} refused`, check });
        assert.match(await page.getByTestId('tb-producer-error').textContent(), reason);
      }
      // By mouse, from the inspector of the producer.
      const published = await count(page, 'count-published');
      await inspect(session, 'shop');
      await page.getByTestId('insp-burst-n').fill('30');
      await page.getByTestId('insp-burst').click();
      await poll(async () => (await count(page, 'count-published')) >= published + 30, { message: '30 more published at once', check });
    });
  });

  test('a paused producer stops publishing; resumed, it publishes again', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await openScenario(session, server, 'failure-lab', 'Failure lab');
      await page.getByTestId('speed').selectOption('5');
      const pause = page.getByTestId('tb-pause');
      await pause.click();
      await poll(async () => (await pause.getAttribute('aria-pressed')) === 'true', { message: 'paused producer', check });
      assert.match(await pause.textContent(), /Resume/);
      const published = await count(page, 'count-published');
      await runFor(session, 3);
      assert.equal(await count(page, 'count-published'), published, 'nothing published while paused');
      await inspect(session, 'shop');
      assert.equal(await page.getByTestId('insp-producer-state').textContent(), 'paused');

      await pressByKeyboard(page, 'insp-pause');
      await poll(async () => (await count(page, 'count-published')) >= published + 3, { message: 'publishing again', check });
      assert.equal(await pause.getAttribute('aria-pressed'), 'false');
    });
  });

  test('slow consumers (5×) build a backlog; back to 1× they drain it', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await openScenario(session, server, 'failure-lab', 'Failure lab');
      await page.getByTestId('speed').selectOption('10');
      assert.equal(await page.getByTestId('tb-consumer').textContent(), 'worker-a', 'the first consumer is the target');
      await page.getByTestId('tb-slow').click();
      await inspect(session, 'worker-b');
      await pressByKeyboard(page, 'tb-slow');
      await poll(async () => (await page.getByTestId('tb-slow').getAttribute('aria-pressed')) === 'true', { message: 'worker-b slowed', check });
      assert.match(await page.getByTestId('insp-status').textContent(), /slowed ×5/);
      await poll(async () => (await count(page, 'count-ready')) >= 8, { message: 'a backlog at 5× slower', check });

      await page.getByTestId('insp-slow').click(); // worker-b back to normal
      await inspect(session, 'worker-a');
      await page.getByTestId('insp-slow').click();
      await poll(async () => (await page.getByTestId('insp-slow').getAttribute('aria-pressed')) === 'false', { message: 'worker-a normal', check });
      const peak = await count(page, 'count-ready');
      await poll(async () => (await count(page, 'count-ready')) <= Math.max(2, peak - 5), { message: 'the backlog draining', check });
    });
  });

  test('Kafka: a slowed group member makes the group\'s lag grow', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await openScenario(session, server, 'kafka-lag-lab', 'Lag lab');
      await page.getByTestId('speed').selectOption('10');
      await inspect(session, 'events');
      const lag = page.getByTestId('insp-group-lag');
      await runFor(session, 3);
      assert.ok((await count(page, 'insp-group-lag')) <= 3, `the group keeps up: lag ${await lag.textContent()}`);
      assert.equal(await page.getByTestId('tb-consumer').textContent(), 'reader-1');
      await page.getByTestId('tb-slow').click();
      await poll(async () => (await count(page, 'insp-group-lag')) >= 20, { message: 'lag growing', check });
      await nextFrames(page, 2);
      await screenshot(page, 'failures-lag-1280');
    });
  });
});
