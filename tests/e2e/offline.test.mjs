// A classroom with poor Wi-Fi or none (issue #16): the loading screen before the wasm
// arrives, the first-paint figures (printed, never asserted as times), and the app opening
// with the network off after one visit, through the service worker (static/sw.js), and any
// lesson of the library opening then too (the app fetches scenario files on demand; the worker
// keeps every one the app lists).
//
// Contract with the app: #boot (the plain-HTML loading screen, removed once the app runs),
// #boot-fill (its bar), the performance mark `broker-lab-ready` (static/boot.js), and
// data-testid="play" once the app is mounted.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DIST_DIR, launchBrowser, openPage, poll, screenshot, startServer } from './harness.mjs';

const TEST_TIMEOUT = 120_000;
const MBIT = 1_000_000 / 8;

/** How many scenario files dist/ holds (trunk copies scenarios/ there). */
function scenarioFileCount() {
  return fs
    .readdirSync(path.join(DIST_DIR, 'scenarios'), { recursive: true })
    .filter((f) => String(f).endsWith('.json')).length;
}

async function scenarioTitle(session, text) {
  const { page, check } = session;
  await poll(async () => ((await page.getByTestId('scenario-title').textContent()) ?? '').includes(text), {
    message: `the scenario "${text}"`,
    check,
  });
}

async function waitForApp(session) {
  const { page, check } = session;
  await poll(async () => (await page.getByTestId('play').count()) === 1, {
    message: 'the app to mount',
    check,
    timeout: 60_000,
  });
}

/** Milliseconds from navigation to the first contentful paint and to the app running. */
async function paintFigures(page) {
  await page.waitForFunction(() => performance.getEntriesByName('broker-lab-ready').length > 0, null, {
    timeout: 60_000,
  });
  return page.evaluate(() => ({
    firstPaint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
    ready: performance.getEntriesByName('broker-lab-ready')[0].startTime,
    wasmBytes: performance
      .getEntriesByType('resource')
      .filter((e) => e.name.endsWith('.wasm'))
      .map((e) => e.transferSize || e.encodedBodySize)[0],
  }));
}

describe('offline and first paint', () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer(undefined, { gzip: true });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('a loading screen with a progress bar shows before the wasm, then the app replaces it', { timeout: TEST_TIMEOUT }, async () => {
    const figures = {};
    for (const [name, mbit] of [
      ['localhost', 0],
      ['10 Mbit/s', 10],
    ]) {
      const session = await openPage(browser);
      try {
        const { page } = session;
        if (mbit > 0) {
          const cdp = await page.context().newCDPSession(page);
          await cdp.send('Network.enable');
          await cdp.send('Network.emulateNetworkConditions', {
            offline: false,
            latency: 20,
            downloadThroughput: mbit * MBIT,
            uploadThroughput: mbit * MBIT,
          });
        }
        await page.goto(server.url, { waitUntil: 'commit' });
        if (mbit > 0) {
          // While the wasm is on its way, the plain-HTML screen is up and its bar moves.
          await page.waitForSelector('#boot', { state: 'visible' });
          await poll(async () => page.evaluate(() => parseFloat(document.getElementById('boot-fill')?.style.width || '0') > 0), {
            message: 'the loading bar to move',
            interval: 20,
          });
          await screenshot(page, 'offline-loading-screen');
        }
        figures[name] = await paintFigures(page);
        await waitForApp(session);
        assert.equal(await page.locator('#boot').count(), 0, 'the loading screen is removed once the app runs');
        session.check();
      } finally {
        await session.close();
      }
    }
    for (const [name, f] of Object.entries(figures)) {
      console.log(
        `first paint (${name}): loading screen ${f.firstPaint.toFixed(0)} ms, app running ${f.ready.toFixed(0)} ms, wasm ${f.wasmBytes} bytes on the wire`,
      );
    }
  });

  test('after one visit the app opens with the network off', { timeout: TEST_TIMEOUT }, async () => {
    // A server of its own, shut down before the offline visit: nothing can come from it then.
    const own = await startServer();
    const session = await openPage(browser);
    try {
      const { page } = session;
      await page.goto(own.url);
      await waitForApp(session);
      // The service worker installs after the app runs and keeps the page and its files.
      await poll(
        async () =>
          page.evaluate(async () => {
            if (!navigator.serviceWorker?.controller) return false;
            const keys = await (await caches.open('broker-lab')).keys();
            return keys.some((r) => r.url.endsWith('.wasm')) && keys.some((r) => r.url.endsWith('.js'));
          }),
        { message: 'the service worker to control the page with the app cached', timeout: 60_000 },
      );
      // ...and every scenario file of the library, each under its versioned address.
      const files = scenarioFileCount();
      assert.ok(files > 100, `dist/scenarios holds ${files} files`);
      await poll(
        async () =>
          (await page.evaluate(async () => {
            const keys = await (await caches.open('broker-lab')).keys();
            return keys.filter((r) => /\/scenarios\/.+\.json\?v=[0-9a-f]{16}$/.test(r.url)).length;
          })) === files,
        { message: `the service worker to keep the ${files} scenario files`, timeout: 60_000 },
      );
      await own.close();
      await page.context().setOffline(true);
      await page.reload();
      await waitForApp(session);
      // The simulation runs: the clock moves.
      const clock = async () => (await page.getByTestId('clock').textContent()) ?? '';
      const first = await clock();
      await poll(async () => (await clock()) !== first, { message: 'the clock to move offline' });
      // A link into a lesson opens offline too (the cached page, whatever the query).
      await page.goto(`${own.url}?lang=ko`);
      await waitForApp(session);
      await screenshot(page, 'offline-app');
      // A lesson opens offline, by link and from the picker, from the worker's cache.
      await page.goto(`${own.url}?scenario=05-crash-redelivery&lang=en`);
      await waitForApp(session);
      await scenarioTitle(session, 'Lesson 5');
      await page.getByTestId('narration').waitFor();
      await page.getByTestId('open-picker').click();
      await page.getByTestId('preset-01-deleted-on-ack').click();
      await scenarioTitle(session, 'Lesson 1');
      assert.equal(await page.getByTestId('notice').count(), 0, 'no error notice offline');
      await screenshot(page, 'offline-lesson');
      session.check();
    } finally {
      await session.close();
      await own.close();
    }
  });
});
