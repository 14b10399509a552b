// The sequence diagram (issue 15 item 3) as the saga panel's swimlane (issue 14): lesson 23, the
// naive pipeline, draws the selected transaction's hops across the services; clicking a row
// picks another; clicking an arrow opens that message's journey. Counts come from the canvas's
// data attributes (data-lanes, data-arrows, data-ends, data-notes), never from pixels.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openPage, poll, screenshot, startServer } from './harness.mjs';
import { TEST_TIMEOUT, expectNarration, setLang, waitForApp } from './seminar-lib.mjs';

const LESSON = '23-naive-pipeline';

async function lane(page) {
  return page.evaluate(() => {
    const c = document.querySelector('[data-testid="saga-swimlane"]');
    const title = document.querySelector('[data-testid="saga-swimlane-title"]')?.textContent ?? '';
    return c && {
      lanes: Number(c.dataset.lanes),
      names: c.dataset.laneNames,
      arrows: Number(c.dataset.arrows),
      ends: Number(c.dataset.ends),
      notes: Number(c.dataset.notes),
      title,
    };
  });
}

describe('sequence diagram and swimlane', () => {
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

  test('lesson 23 draws the selected transaction as arrows across the services', { timeout: TEST_TIMEOUT }, async () => {
    const session = await openPage(browser, { width: 1280, height: 720 });
    const { page, check } = session;
    try {
      await page.goto(`${server.url}?scenario=${LESSON}`);
      await waitForApp(session);
      await setLang(session, 'en');
      await expectNarration(session, { step: 0, revealed: false }, 'the first step');
      // Step 1 (1.0 s): no anomaly yet, so the first order, m0, is drawn from the shop to shipping.
      await page.getByTestId('narration-next').click();
      await expectNarration(session, { step: 0, revealed: true }, 'the first question');
      let s = await poll(async () => {
        const v = await lane(page);
        return v && v.arrows >= 4 && v;
      }, { check, message: 'the swimlane of m0' });
      assert.match(s.title, /m0/);
      assert.equal(s.names, 'shop|order-svc|payment-svc|inventory-svc|shipping-svc');
      assert.equal(s.ends, 0);
      assert.ok(s.notes >= 3, `notes ${s.notes}`);

      // Step 2 (1.5 s): order-svc died between its write and its publish; m4 is the first
      // anomalous order and its lane ends in a cross at order-svc.
      await page.getByTestId('narration-next').click();
      await expectNarration(session, { step: 1, revealed: false }, 'step 2');
      s = await poll(async () => {
        const v = await lane(page);
        return v && /m4/.test(v.title) && v.ends === 1 && v;
      }, { check, message: 'the swimlane of the lost order m4' });
      assert.equal(s.names, 'shop|order-svc');
      assert.equal(s.arrows, 1);

      // Clicking m0's row draws m0 again.
      await page.locator('.saga tbody tr[data-txn="0"]').click();
      s = await poll(async () => {
        const v = await lane(page);
        // The lanes appear a frame before the last arrow: wait for both.
        return v && /m0/.test(v.title) && v.lanes === 5 && v.arrows >= 5 && v;
      }, { check, message: 'the swimlane of the clicked row, with at least 5 arrows' });
      assert.ok(s.arrows >= 5, `arrows ${s.arrows}`);

      // Clicking the first arrow (shop → order-svc) opens m0's journey.
      const box = await page.getByTestId('saga-swimlane').boundingBox();
      await screenshot(page, 'sequence-l23-en');
      // The arrow leaves the shop lane at its left end: sweep its first lane for a hit.
      const pitch = (box.height - 22 - 4) / 5;
      for (let x = 0; x < box.width; x += 4) {
        await page.mouse.click(box.x + x, box.y + 4 + pitch * 0.5);
        if ((await page.getByTestId('trace').count()) === 1) break;
      }
      await poll(async () => (await page.getByTestId('trace').getAttribute('data-msg')) === 'm0', {
        check,
        message: 'the journey of m0',
      });
      check();
    } finally {
      await session.close();
    }
  });

  test('the dock draws the messages its form picks', { timeout: TEST_TIMEOUT }, async () => {
    const session = await openPage(browser, { width: 1280, height: 720 });
    const { page, check } = session;
    try {
      await page.goto(`${server.url}?scenario=${LESSON}`);
      await waitForApp(session);
      await setLang(session, 'ko');
      await expectNarration(session, { step: 0, revealed: false }, 'the first step');
      await page.getByTestId('narration-next').click();
      await expectNarration(session, { step: 0, revealed: true }, 'the first question');
      await page.getByTestId('tab-sequence').click();
      await page.getByTestId('seq-msgs').fill('m0 m1');
      await page.getByTestId('seq-apply').click();
      const v = await poll(async () => {
        const c = page.getByTestId('sequence-canvas');
        const arrows = Number(await c.getAttribute('data-arrows'));
        return arrows > 0 && { arrows, names: await c.getAttribute('data-lane-names') };
      }, { check, message: 'the sequence of m0 and m1' });
      // m0: shop → orders → order-svc; m1: order-svc → payments → payment-svc.
      assert.equal(v.names, 'shop|orders|order-svc|payments|payment-svc');
      assert.equal(v.arrows, 4);
      check();
    } finally {
      await session.close();
    }
  });
});
