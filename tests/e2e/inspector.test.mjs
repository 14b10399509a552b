// The inspector: select any entity without the canvas, see its figures, edit its settings
// live (a refused value shows the core's reason beside the field and changes nothing), and
// add or remove producers, queues, bindings, consumers and groups.
// Scenarios: scenarios/ui/failure-lab.json and kafka-lag-lab.json, loaded with ?scenario=.
// Screenshots: target/e2e/inspector-*.png.
//
// Contract with the app (data-testid attributes):
//   inspect-select (the entity picker)  inspector  inspector-title  inspector-close
//   producer: insp-sent  insp-pattern  insp-rate (+ -error)  insp-remove-producer
//   consumer: insp-status  insp-delivered  insp-redelivered  insp-unacked ("n / prefetch")
//             insp-prefetch (+ -error)  insp-remove-consumer
//   queue: insp-ready  insp-max-length  insp-overflow  insp-ttl  insp-dlx  insp-delivery-limit
//          insp-bindings  insp-unbind-<i>
//   topic: insp-partitions  insp-group-<name> (insp-group-assignor, insp-group-commit, insp-group-lag)
//   stream: insp-pel (the PEL, one <li> per entry)  insp-stream-claim (one XAUTOCLAIM per live consumer)
//           insp-stream-xclaim (one XCLAIM per idle entry and live consumer other than its owner)
//   add forms (<details>): add-queue  add-binding  add-consumer  add-producer  add-group  add-member,
//          each with -submit and -error

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect, launchBrowser, nextFrames, openScenario, parseCount, poll, screenshot, startServer, withPage } from './harness.mjs';
import { clockAt, expectNarration, lessonFiles, nextPos, setLang, waitForApp } from './seminar-lib.mjs';

const TEST_TIMEOUT = 120_000;

async function clockSeconds(page) {
  const m = ((await page.getByTestId('clock').textContent()) ?? '').match(/(\d+(?:\.\d+)?)/);
  assert.ok(m, 'the clock shows a number');
  return Number(m[1]);
}

async function count(page, id) {
  return parseCount(await page.getByTestId(id).first().textContent());
}



/** Types a value into a field and applies it with Enter. */
async function setField(page, id, value) {
  const field = page.getByTestId(id);
  await field.fill(value);
  await field.press('Enter');
}

/** How fast counter `id` grows per simulated second, over `seconds` simulated seconds. */
async function ratePerSimSecond(session, id, seconds) {
  const { page, check } = session;
  const c0 = await count(page, id);
  const t0 = await clockSeconds(page);
  await poll(async () => (await clockSeconds(page)) >= t0 + seconds, { interval: 20, message: `${seconds} simulated seconds`, check });
  const c1 = await count(page, id);
  const t1 = await clockSeconds(page);
  return (c1 - c0) / (t1 - t0);
}

async function pickerLabels(page) {
  return page.getByTestId('inspect-select').locator('option').allTextContents();
}

async function ledger(page) {
  return JSON.parse(await page.getByTestId('ledger').getAttribute('data-ledger'));
}

/** Opens an add form (a <details>) by keyboard: focus its summary, press Enter. */
async function openForm(page, id) {
  const form = page.getByTestId(id).first();
  await form.locator('summary').focus();
  await page.keyboard.press('Enter');
  await poll(async () => (await form.getAttribute('open')) !== null, { message: `the ${id} form to open` });
  return form;
}

describe('inspector', () => {
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

  for (const [width, height] of [[1280, 720], [1920, 1080]]) {
    test(`every entity can be picked without the canvas; ✕ and Esc close (${width}×${height})`, { timeout: TEST_TIMEOUT }, async () => {
      await withPage(browser, { width, height }, async (session) => {
        const { page, check } = session;
        await openScenario(session, server, 'failure-lab', 'Failure lab');
        assert.equal(await page.getByTestId('inspector').count(), 0, 'no inspector before a selection');
        const names = ['shop', '(default)', 'jobs', 'dlx', 'tasks', 'dead', 'worker-a', 'worker-b'];
        const labels = await pickerLabels(page);
        for (const name of names) assert.ok(labels.includes(name), `the picker lists ${name}: ${labels}`);
        for (const name of names) await inspect(session, name);

        await inspect(session, 'worker-a');
        await poll(async () => (await count(page, 'insp-delivered')) >= 2, { message: 'worker-a to get work', check });
        assert.equal(await page.getByTestId('insp-status').getAttribute('data-status'), 'running');
        assert.match(await page.getByTestId('insp-unacked').textContent(), /\/ 2$/);
        await nextFrames(page, 2);
        await screenshot(page, `inspector-${width}`);

        await page.getByTestId('inspector-close').click();
        await poll(async () => (await page.getByTestId('inspector').count()) === 0, { message: '✕ closes', check });
        assert.equal(await page.getByTestId('inspect-select').inputValue(), '');

        await inspect(session, 'tasks');
        await page.evaluate(() => document.activeElement?.blur?.());
        await page.keyboard.press('Escape');
        await poll(async () => (await page.getByTestId('inspector').count()) === 0, { message: 'Esc closes', check });
      });
    });
  }

  test('editing a producer\'s rate changes how fast it publishes; a negative rate is refused', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await openScenario(session, server, 'failure-lab', 'Failure lab');
      await page.getByTestId('speed').selectOption('10');
      await inspect(session, 'shop');
      const rate = page.getByTestId('insp-rate');
      assert.equal(await rate.inputValue(), '2');
      const base = await ratePerSimSecond(session, 'count-published', 3);
      assert.ok(base > 1 && base < 3, `about 2 per second at first: ${base}`);

      await setField(page, 'insp-rate', '20');
      await poll(async () => (await ratePerSimSecond(session, 'count-published', 2)) > 15, { message: 'publishing at about 20/s', check });

      await setField(page, 'insp-rate', '-1');
      const error = page.getByTestId('insp-rate-error');
      await poll(() => error.isVisible(), { message: 'the refusal beside the field', check });
      assert.match(await error.textContent(), /non-negative/);
      assert.equal(await rate.getAttribute('aria-invalid'), 'true');
      const still = await ratePerSimSecond(session, 'count-published', 2);
      assert.ok(still > 15, `a refused rate changes nothing: ${still}/s`);
      // Esc in the field puts the applied value back.
      await rate.press('Escape');
      await poll(async () => (await rate.inputValue()) === '20' && (await error.count()) === 0, { message: 'Esc reverts', check });

      await setField(page, 'insp-rate', '0');
      await nextFrames(page, 3);
      assert.equal(await ratePerSimSecond(session, 'count-published', 3), 0, 'rate 0 stops publishing');

      await page.getByTestId('insp-pattern').selectOption('manual');
      await poll(async () => (await page.getByTestId('insp-rate').count()) === 0, { message: 'a manual producer has no rate field', check });
      assert.match(await page.getByTestId('inspector').textContent(), /only when you press Burst/);
    });
  });

  test('prefetch 999999 is refused with the core\'s reason; prefetch 10 lets a consumer hold more', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await openScenario(session, server, 'failure-lab', 'Failure lab');
      await inspect(session, 'worker-a');
      const unacked = page.getByTestId('insp-unacked');
      assert.match(await unacked.textContent(), /\/ 2$/);

      await setField(page, 'insp-prefetch', '999999');
      const error = page.getByTestId('insp-prefetch-error');
      await poll(() => error.isVisible(), { message: 'the refusal', check });
      assert.match(await error.textContent(), /prefetch_count is a 16-bit field/);
      await nextFrames(page, 3);
      assert.match(await unacked.textContent(), /\/ 2$/, 'the prefetch did not change');

      await setField(page, 'insp-prefetch', '10');
      await poll(async () => /\/ 10$/.test(await unacked.textContent()), { message: 'prefetch 10 applied', check });
      assert.equal(await error.count(), 0, 'the error is gone once a value applies');
      // With a backlog, worker-a now holds up to 10 unacked messages; with 2 it never could.
      await page.getByTestId('tb-burst-n').fill('40');
      await page.getByTestId('tb-burst').click();
      await page.getByTestId('speed').selectOption('2');
      await poll(async () => parseCount((await unacked.textContent()).split('/')[0]) >= 8, {
        message: 'worker-a holding 8 or more',
        check,
      });
      assert.ok((await count(page, 'count-unacked')) > 4, 'more unacked than two prefetch-2 consumers allow');
    });
  });

  test('queue settings: max-length drops the head to the DLX; invalid values show the core\'s reason', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await openScenario(session, server, 'failure-lab', 'Failure lab');
      await inspect(session, 'tasks');

      await setField(page, 'insp-max-length', 'lots');
      await poll(() => page.getByTestId('insp-max-length-error').isVisible(), { message: 'a parse error', check });
      assert.match(await page.getByTestId('insp-max-length-error').textContent(), /whole number/);

      await setField(page, 'insp-delivery-limit', '0');
      await poll(() => page.getByTestId('insp-delivery-limit-error').isVisible(), { message: 'a delivery-limit refusal', check });
      assert.match(await page.getByTestId('insp-delivery-limit-error').textContent(), /-1 \(off\) or 1 to 65535/);

      await setField(page, 'insp-ttl', '-5');
      await poll(() => page.getByTestId('insp-ttl-error').isVisible(), { message: 'a TTL refusal', check });
      assert.match(await page.getByTestId('insp-ttl-error').textContent(), /non-negative/);

      // Quorum queues refuse reject-publish-dlx: the select goes back to drop-head.
      const overflow = page.getByTestId('insp-overflow');
      await overflow.selectOption('reject-publish-dlx');
      await poll(() => page.getByTestId('insp-overflow-error').isVisible(), { message: 'an overflow refusal', check });
      assert.match(await page.getByTestId('insp-overflow-error').textContent(), /quorum/);
      assert.equal(await overflow.inputValue(), 'drop-head');

      await setField(page, 'insp-max-length', '5');
      await poll(async () => (await page.getByTestId('insp-max-length').getAttribute('aria-invalid')) === 'false', { message: 'max-length 5 applied', check });
      const before = await ledger(page);
      await page.getByTestId('tb-burst-n').fill('60');
      await page.getByTestId('tb-burst').click();
      await page.getByTestId('speed').selectOption('2');
      await poll(async () => (await ledger(page)).states.dead_lettered >= before.states.dead_lettered + 40, {
        message: 'the overflow dead-lettered to the DLX',
        check,
      });
      assert.ok((await count(page, 'insp-ready')) <= 5, 'never more than 5 ready');
      await inspect(session, 'dead');
      assert.ok((await count(page, 'insp-ready')) >= 40, 'the dead-letter queue holds them');
    });
  });

  test('add and remove a queue, bindings, a consumer and a producer', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await openScenario(session, server, 'failure-lab', 'Failure lab');
      await page.getByTestId('speed').selectOption('5');

      // A queue bound to 'jobs' with key 'task' gets a copy of every job.
      await inspect(session, 'jobs');
      await openForm(page, 'add-queue');
      assert.equal(await page.getByTestId('add-queue-name').inputValue(), 'queue-1', 'a free name is offered');
      await page.getByTestId('add-queue-key').fill('task');
      await page.getByTestId('add-queue-submit').click();
      await poll(async () => (await pickerLabels(page)).includes('queue-1'), { message: 'queue-1 in the picker', check });
      await poll(async () => (await page.getByTestId('insp-bindings').locator('li').count()) === 2, { message: 'two bindings on jobs', check });
      await inspect(session, 'queue-1');
      await poll(async () => (await count(page, 'insp-ready')) >= 3, { message: 'queue-1 filling up', check });

      // A consumer on it drains it.
      await openForm(page, 'add-consumer');
      await page.getByTestId('add-consumer-ms').fill('50');
      await page.keyboard.press('Enter'); // submits the form
      await poll(async () => (await pickerLabels(page)).includes('worker-1'), { message: 'worker-1 in the picker', check });
      await poll(async () => (await count(page, 'insp-ready')) === 0, { message: 'worker-1 drains queue-1', check });

      // Unbinding stops the copies.
      await page.getByTestId('insp-unbind-0').click();
      await poll(async () => (await page.getByTestId('insp-bindings').count()) === 0, { message: 'queue-1 unbound', check });
      await inspect(session, 'worker-1');
      const delivered = await count(page, 'insp-delivered');
      await ratePerSimSecond(session, 'count-published', 3);
      assert.ok((await count(page, 'insp-delivered')) <= delivered + 1, 'nothing reaches an unbound queue');
      await page.getByTestId('insp-remove-consumer').click();
      await poll(async () => (await page.getByTestId('inspector').count()) === 0, { message: 'removing closes the inspector', check });
      await poll(async () => !(await pickerLabels(page)).includes('worker-1'), { message: 'worker-1 gone from the picker', check });

      // A binding from jobs to 'dead' sends it copies too.
      await inspect(session, 'jobs');
      await openForm(page, 'add-binding');
      await page.getByTestId('add-binding-target').selectOption('dead');
      await page.getByTestId('add-binding-key').fill('task');
      await page.getByTestId('add-binding-submit').click();
      await poll(async () => (await page.getByTestId('insp-bindings').locator('li').count()) === 2, { message: 'jobs → dead bound', check });
      await inspect(session, 'dead');
      await poll(async () => (await count(page, 'insp-ready')) >= 3, { message: 'dead receiving copies', check });

      // A second producer; then remove it.
      await inspect(session, 'jobs');
      await openForm(page, 'add-producer');
      await page.getByTestId('add-producer-key').fill('task');
      await page.getByTestId('add-producer-rate').fill('5');
      await page.getByTestId('add-producer-submit').click();
      await poll(async () => (await pickerLabels(page)).includes('producer-1'), { message: 'producer-1 in the picker', check });
      await inspect(session, 'producer-1');
      await poll(async () => (await count(page, 'insp-sent')) >= 5, { message: 'producer-1 publishing', check });
      await page.getByTestId('insp-remove-producer').click();
      await poll(async () => !(await pickerLabels(page)).includes('producer-1'), { message: 'producer-1 removed', check });

      // A refused add shows the core's reason.
      await inspect(session, 'jobs');
      await openForm(page, 'add-queue');
      await page.getByTestId('add-queue-name').fill('tasks');
      await page.getByTestId('add-queue-submit').click();
      await poll(() => page.getByTestId('add-queue-error').isVisible(), { message: 'a duplicate refused', check });
      assert.match(await page.getByTestId('add-queue-error').textContent(), /exists already/);
      assert.equal(await ledger(page).then((l) => l.balanced), true);
    });
  });

  test('Kafka: topic settings are read-only; groups show assignor and commit; add a group and a member', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await openScenario(session, server, 'kafka-lag-lab', 'Lag lab');
      await inspect(session, 'events');
      assert.equal(await page.getByTestId('insp-partitions').textContent(), '2');
      const panel = page.getByTestId('inspector');
      assert.match(await panel.textContent(), /fixed when the topic is created/);
      assert.match(await panel.textContent(), /read-only/);
      const group = page.getByTestId('insp-group-analytics');
      assert.equal(await group.getByTestId('insp-group-assignor').textContent(), 'range');
      assert.match(await group.getByTestId('insp-group-commit').textContent(), /after processing/);
      assert.equal(await group.locator('.insp-stats input, .insp-stats select').count(), 0, 'no editable group settings');

      await group.getByTestId('add-member').locator('summary').click();
      await group.getByTestId('add-member-submit').click();
      await poll(async () => (await pickerLabels(page)).includes('analytics-1'), { message: 'a third member', check });
      await poll(async () => /analytics-1/.test(await group.textContent()), { message: 'the member listed in its group', check });

      await openForm(page, 'add-group');
      await page.getByTestId('add-group-assignor').selectOption('round-robin');
      await page.getByTestId('add-group-submit').click();
      const added = page.getByTestId('insp-group-group-1');
      await poll(() => added.isVisible(), { message: 'group-1 listed on the topic', check });
      assert.equal(await added.getByTestId('insp-group-assignor').textContent(), 'round-robin');
      await poll(async () => /group-1-1/.test(await added.textContent()), { message: 'group-1 starts with a member', check });
    });
  });

  for (const xclaim of [false, true]) test(`Redis Streams (RST-8): ${xclaim ? 'an entry\'s XCLAIM' : 'a group\'s XAUTOCLAIM'} button hands a dead reader's pending entry to a live consumer`, { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      const id = '16-redis-pubsub-vs-streams';
      await page.goto(`${server.url}?scenario=${id}`);
      await waitForApp(session);
      await setLang(session, 'en');
      // Step 5 (6.5 s): reader died holding m9 (5050-0); standby is back. The lesson's own
      // XAUTOCLAIM runs at 7 s, so a claim seen before 7 s is the button's.
      const steps = lessonFiles()[id].narration.steps;
      let pos = { step: 0, revealed: false };
      while (pos.step < 4) {
        await expectNarration(session, { ...pos, lang: 'en', clock: clockAt(steps[pos.step].at_ms), playing: false }, `to step ${pos.step + 1}`);
        pos = nextPos(steps, pos);
        await page.getByTestId('narration-next').click();
      }
      await expectNarration(session, { ...pos, lang: 'en', clock: clockAt(6500), playing: false }, 'step 5 at 6.5 s');
      const canvas = page.getByTestId('topology');
      await canvas.focus();
      for (let i = 0; i < 12 && (await page.locator('.stage').getAttribute('data-selected')) !== 'stream:news'; i++) {
        // ← → are the lesson's clicker keys; ↑ ↓ move the selection.
        await page.keyboard.press('ArrowDown');
        await nextFrames(page, 1);
      }
      await poll(async () => (await page.getByTestId('inspector-title').textContent()) === 'news', { message: 'the inspector on the stream news', check });
      const pel = page.getByTestId('insp-pel');
      assert.match(await pel.textContent(), /5050-0 · reader · idle [\d.]+ s · deliveries 1/);
      const claims = page.getByTestId('insp-stream-claim');
      assert.deepEqual(await claims.allTextContents(), ['XAUTOCLAIM → standby'], 'only the live consumer is offered; reader is dead');
      // The entry's own XCLAIM is offered to the live consumer too, never to its owner.
      assert.deepEqual(await page.getByTestId('insp-stream-xclaim').allTextContents(), ['XCLAIM → standby'], 'one XCLAIM per idle entry and live non-owner');
      await (xclaim ? page.getByTestId('insp-stream-xclaim') : claims).click();
      await page.getByTestId('play').click();
      await poll(async () => /5050-0 · standby · idle [\d.]+ s · deliveries 2/.test(await pel.textContent()), { interval: 20, message: 'm9 to move to standby with a second delivery', check });
      assert.ok((await clockSeconds(page)) < 7, 'claimed by the button, before the lesson\'s scripted claim at 7 s');
      await screenshot(page, xclaim ? 'inspector-stream-xclaim' : 'inspector-stream-claim');
    });
  });
});
