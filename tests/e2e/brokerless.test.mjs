// The broker-or-brokerless view (`?scenario=brokerless`): RabbitMQ beside ZeroMQ, and its
// three buttons. Contract with the app (data-testid attributes):
//   brokerless                    the panel beside the canvas (a queue and a ZeroMQ reader)
//   bl-broker, bl-brokerless      the two cards
//   rmq-done, rmq-kept, rmq-redelivered, zmq-done, zmq-kept
//                                 one figure each, its count in data-n
//   rmq-lost, zmq-lost            one per loss reason: data-reason (the ledger's code), data-n
//   crash-broker / restart-broker, crash-peer / restart-peer, slow-workers / normal-speed
//                                 the buttons, named by what they do now
//   --band-message-*, --band-peer-*  the canvas's two bands (top, left, width, height of each
//                                 heading row), CSS properties on the canvas's parent

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, nextFrames, poll, screenshot, startServer, withPage } from './harness.mjs';
import { setLang } from './seminar-lib.mjs';

const TEST_TIMEOUT = 120_000;

async function setPlaying(session, playing) {
  const { page, check } = session;
  const now = async () => (await page.getByTestId('play').getAttribute('aria-pressed')) === 'true';
  if ((await now()) !== playing) await page.getByTestId('play').click();
  await poll(async () => (await now()) === playing, { message: `playing = ${playing}`, check });
}

/** Every figure: {rmqDone, rmqKept, ..., lost: {rmq: {reason: n}, zmq: {reason: n}}}. */
async function figures(page) {
  return page.evaluate(() => {
    const n = (id) => Number(document.querySelector(`[data-testid="${id}"]`)?.dataset.n ?? NaN);
    const lost = (side) =>
      Object.fromEntries(
        [...document.querySelectorAll(`[data-testid="${side}-lost"]`)].map((el) => [el.dataset.reason, Number(el.dataset.n)]),
      );
    return {
      rmqDone: n('rmq-done'),
      rmqKept: n('rmq-kept'),
      rmqRedelivered: n('rmq-redelivered'),
      zmqDone: n('zmq-done'),
      zmqKept: n('zmq-kept'),
      lost: { rmq: lost('rmq'), zmq: lost('zmq') },
    };
  });
}

/** The heading rows of the canvas's bands and the canvas's box, in page px. */
async function bands(page) {
  return page.evaluate(() => {
    const canvas = document.querySelector('[data-testid="topology"]');
    const style = getComputedStyle(canvas.parentElement);
    const band = (name) => {
      const v = (p) => parseFloat(style.getPropertyValue(`--band-${name}-${p}`));
      return { top: v('top'), left: v('left'), width: v('width'), height: v('height') };
    };
    const r = canvas.getBoundingClientRect();
    return { message: band('message'), peer: band('peer'), canvas: { width: r.width, height: r.height } };
  });
}

async function press(session, id, next) {
  const { page, check } = session;
  await page.getByTestId(id).click();
  await poll(async () => (await page.getByTestId(next).count()) === 1, { message: `${id} turns into ${next}`, check });
  assert.equal(await page.locator('.compare-error').count(), 0, `${id} was refused`);
}

async function threeButtons(session, server, size) {
  const { page, check } = session;
  await page.goto(`${server.url}?scenario=brokerless`, { waitUntil: 'load' });
  await setLang(session, 'ko');
  await poll(async () => (await page.getByTestId('brokerless').count()) === 1, { message: 'the brokerless panel', check });
  for (const id of ['crash-broker', 'crash-peer', 'slow-workers']) {
    assert.ok(await page.getByTestId(id).isVisible(), `[data-testid=${id}] is not visible`);
  }
  // Two bands, RabbitMQ above ZeroMQ, each inside the canvas and the lower one below the upper.
  const b = await bands(page);
  for (const name of ['message', 'peer']) {
    const band = b[name];
    assert.ok(Number.isFinite(band.top) && band.height > 0, `no ${name} band: ${JSON.stringify(b)}`);
    assert.ok(band.left >= 0 && band.left + band.width <= b.canvas.width + 0.5, `${name} band outside: ${JSON.stringify(b)}`);
  }
  assert.ok(b.peer.top > b.message.top + b.message.height + 40, `the peer band is not below the broker band: ${JSON.stringify(b)}`);
  assert.ok(b.peer.top + b.peer.height < b.canvas.height, `the peer band leaves the canvas: ${JSON.stringify(b)}`);

  await page.getByTestId('speed').selectOption('2');
  await setPlaying(session, true);
  await poll(async () => (await figures(page)).zmqDone >= 5, { message: 'both workers at work', check });
  const start = await figures(page);
  assert.deepEqual(start.lost, { rmq: {}, zmq: {} }, 'nothing is lost at first');

  // Slowed: the queue grows, the ZeroMQ pipes fill and the PUSH blocks without dropping.
  await press(session, 'slow-workers', 'normal-speed');
  await poll(
    async () => {
      const f = await figures(page);
      return f.rmqKept >= 8 && f.zmqKept >= 4;
    },
    { timeout: 40_000, message: 'the queue and the pipes to fill', check },
  );
  const slowed = await figures(page);
  assert.deepEqual(slowed.lost.zmq, {}, `PUSH never drops: ${JSON.stringify(slowed)}`);
  await setPlaying(session, false);
  await nextFrames(page, 2);
  const before = await figures(page);
  await screenshot(page, `brokerless-${size}-slowed`);

  // A crashed peer loses what its pipes held (ZMQ-1).
  await press(session, 'crash-peer', 'restart-peer');
  await nextFrames(page, 2);
  const crashed = await figures(page);
  assert.equal(crashed.zmqKept, 0, `the pipes are gone: ${JSON.stringify(crashed)}`);
  assert.ok(crashed.lost.zmq.process_exit >= before.zmqKept, `process_exit: ${JSON.stringify(crashed)}`);

  // A crashed broker keeps its durable queue's persistent messages on disk (RMQ-32).
  await press(session, 'crash-broker', 'restart-broker');
  await nextFrames(page, 2);
  const down = await figures(page);
  const notOnDisk = down.lost.rmq.not_yet_on_disk ?? 0;
  assert.equal(down.rmqKept, before.rmqKept - notOnDisk, `the queue after the crash: ${JSON.stringify(down)}`);
  await setPlaying(session, true);
  await poll(async () => ((await figures(page)).lost.rmq.broker_down ?? 0) > 0, { message: 'a job sent to the stopped node', check });
  await setPlaying(session, false);
  await screenshot(page, `brokerless-${size}-crashed`);

  await press(session, 'restart-broker', 'crash-broker');
  await press(session, 'restart-peer', 'crash-peer');
  await setPlaying(session, true);
  await poll(
    async () => {
      const f = await figures(page);
      return f.rmqRedelivered >= 1 && f.zmqDone > crashed.zmqDone;
    },
    { timeout: 30_000, message: 'the broker to redeliver and the peer to work again', check },
  );
  const back = await figures(page);
  assert.ok(back.rmqKept >= down.rmqKept - 1, `the queue came back: ${JSON.stringify(back)}`);
  assert.equal(back.lost.zmq.process_exit, crashed.lost.zmq.process_exit, 'the lost jobs never come back');
  await press(session, 'normal-speed', 'slow-workers');
  await setPlaying(session, false);
  await screenshot(page, `brokerless-${size}-restarted`);
}

describe('broker or brokerless: the compare view of RabbitMQ and ZeroMQ', () => {
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

  for (const [w, h] of [
    [1280, 720],
    [1024, 768],
  ]) {
    test(`slow, crash a peer, crash and restart the broker (${w}x${h})`, { timeout: TEST_TIMEOUT }, async () => {
      await withPage(browser, { width: w, height: h }, (session) => threeButtons(session, server, `${w}`));
    });
  }
});
