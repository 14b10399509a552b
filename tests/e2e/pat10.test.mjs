// Kafka's log-based alternative (PAT-10) in the saga panel: the Kafka transactional pipeline
// shows its remedy as a switch on every service and counts the transactions its two crashes
// aborted, with no anomaly, in Korean and English.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openPage, poll, screenshot, startServer } from './harness.mjs';
import { TEST_TIMEOUT, clockSeconds, setLang, waitForApp } from './seminar-lib.mjs';

const SCENARIO = 'kafka-transactional-pipeline';
const SWITCH = { en: 'Kafka transactions', ko: '카프카 트랜잭션' };

async function figures(page) {
  return page.evaluate(() => {
    const q = (id) => document.querySelector(`[data-testid="saga-${id}"]`)?.textContent ?? null;
    const switches = [...document.querySelectorAll('.saga thead .saga-switch')].map((s) => s.textContent);
    return {
      aborted: q('txn-aborted'),
      charged: q('charged-twice'),
      shipped: q('shipped-twice'),
      switches,
    };
  });
}

describe('PAT-10 in the saga panel', () => {
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
    test(`the transactional pipeline aborts two transactions and duplicates nothing at ${width}x${height}`, { timeout: TEST_TIMEOUT }, async () => {
      const session = await openPage(browser, { width, height });
      const { page, check } = session;
      try {
        await page.goto(`${server.url}?scenario=${SCENARIO}`);
        await waitForApp(session);
        const speed = page.getByTestId('speed');
        await speed.selectOption('10');
        await poll(async () => (await speed.inputValue()) === '10', { message: 'speed 10×', check });
        const play = page.getByTestId('play');
        const playing = async (on) => {
          if (((await play.getAttribute('aria-pressed')) === 'true') !== on) await play.click();
          await poll(async () => ((await play.getAttribute('aria-pressed')) === 'true') === on, { message: `playing ${on}`, check });
        };
        await playing(true);
        // Both crashes (2 s and 4 s) and their restarts are behind at 6 s.
        await poll(async () => (await clockSeconds(page)) >= 6, { timeout: 60_000, message: 'the clock at 6 s', check });
        await playing(false);
        for (const lang of ['ko', 'en']) {
          await setLang(session, lang);
          const f = await poll(async () => {
            const v = await figures(page);
            return v.aborted === '2' && v.switches.filter((s) => s === SWITCH[lang]).length === 4 && v;
          }, { check, message: `two aborted transactions and four switches in ${lang}` });
          assert.equal(f.charged, '0');
          assert.equal(f.shipped, '0');
          await page.locator('.saga').scrollIntoViewIfNeeded();
          await screenshot(page, `pat10-saga-${lang}-${width}x${height}`);
        }
        check();
      } finally {
        await session.close();
      }
    });
  }
});
