// The cancel saga (PAT-7) in the saga panel: in the orchestrated pipeline a teacher cancels an
// approved order whose parcel still waits in the warehouse, and one whose parcel has left. The
// first ends CANCELLED at every service and counts in the totals; shipping refuses the second,
// and the saga undoes its first step: the order is approved again.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openPage, poll, screenshot, startServer } from './harness.mjs';
import { TEST_TIMEOUT, clockSeconds, setLang, waitForApp } from './seminar-lib.mjs';

/** An order's row: its cells' text, and whether it offers a cancel button. */
async function rowOf(page, txn) {
  return page.evaluate((txn) => {
    const tr = document.querySelector(`.saga tbody tr[data-txn="${txn}"]`);
    if (!tr) return null;
    const cells = [...tr.querySelectorAll('td')].map((c) => c.firstChild?.textContent?.trim() ?? '');
    return { cells: cells.join(' '), cancel: !!tr.querySelector('.saga-cancel') };
  }, txn);
}

describe('the cancel saga in the saga panel', () => {
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

  for (const [width, height, lang] of [[1280, 720, 'ko'], [1024, 768, 'en']]) {
    test(`a waiting parcel is cancelled, a gone one is not, at ${width}x${height} in ${lang}`, { timeout: TEST_TIMEOUT }, async () => {
      const session = await openPage(browser, { width, height });
      const { page, check } = session;
      try {
        await page.goto(`${server.url}?scenario=orchestrated-pipeline`);
        await waitForApp(session);
        await setLang(session, lang);
        const speed = page.getByTestId('speed');
        await speed.selectOption('5');
        const play = page.getByTestId('play');
        const playing = async (on) => {
          if (((await play.getAttribute('aria-pressed')) === 'true') !== on) await play.click();
          await poll(async () => ((await play.getAttribute('aria-pressed')) === 'true') === on, { message: `playing ${on}`, check });
        };
        await playing(true);
        // Parcels leave 3 s after they are scheduled: at 6 s the first ones have left.
        await poll(async () => (await clockSeconds(page)) >= 6, { timeout: 60_000, message: 'the clock at 6 s', check });
        await playing(false);
        const buttons = page.locator('.saga-cancel');
        const ids = await buttons.evaluateAll((bs) => bs.map((b) => b.dataset.testid.replace('saga-cancel-', '')));
        assert.ok(ids.length >= 2, `cancel buttons ${ids}`);
        const [gone, waiting] = [ids[0], ids[ids.length - 1]];
        assert.match((await rowOf(page, waiting)).cells, /SCHEDULED$/);
        assert.match((await rowOf(page, gone)).cells, /SHIPPED$/);
        await page.getByTestId(`saga-cancel-${waiting}`).click();
        await page.getByTestId(`saga-cancel-${gone}`).click();
        // Held under the semantic lock: no second cancel button.
        await poll(async () => {
          const [w, g] = [await rowOf(page, waiting), await rowOf(page, gone)];
          return /^CANCEL_SHIPMENT CANCEL_PENDING/.test(w.cells) && !w.cancel && !g.cancel;
        }, { message: 'both orders CANCEL_PENDING, without a cancel button', check });
        await playing(true);
        await poll(async () => (await rowOf(page, waiting)).cells === 'CONFIRM_CANCEL CANCELLED COMPENSATED COMPENSATED CANCELLED', {
          message: 'the waiting order cancelled everywhere',
          check,
          timeout: 30_000,
        });
        await poll(async () => (await rowOf(page, gone)).cells === 'UNDO_BEGIN_CANCEL SHIPPED PAID RESERVED SHIPPED', {
          message: 'the gone order approved again',
          check,
        });
        await playing(false);
        // Approved again, so it can be cancelled again.
        await poll(async () => (await rowOf(page, gone)).cancel, { message: 'the cancel button back', check });
        const totals = await page.getByTestId('saga-totals').textContent();
        assert.match(totals, lang === 'ko' ? /취소 1/ : /1 cancelled/);
        await page.locator(`.saga tbody tr[data-txn="${waiting}"]`).scrollIntoViewIfNeeded();
        await screenshot(page, `cancel-saga-${lang}-${width}x${height}`);
        check();
      } finally {
        await session.close();
      }
    });
  }
});
