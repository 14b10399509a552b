// Korean must render as Hangul, not as empty boxes (tofu): a fresh machine without a CJK font
// draws every syllable as the same missing-glyph box, and every Korean screenshot lies.
// `make test` installs Debian's fonts-noto-cjk; this test fails when it is missing.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openPage, startServer } from './harness.mjs';
import { TEST_TIMEOUT, setLang, waitForApp } from './seminar-lib.mjs';

describe('fonts', () => {
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

  test('Hangul renders as distinct glyphs in the page font, not as missing-glyph boxes', { timeout: TEST_TIMEOUT }, async () => {
    const s = await openPage(browser);
    const { page, check } = s;
    try {
      await page.goto(server.url);
      await waitForApp(s);
      await setLang(s, 'ko');
      const result = await page.evaluate(() => {
        const font = getComputedStyle(document.body).fontFamily;
        const canvas = document.createElement('canvas');
        canvas.width = 64;
        canvas.height = 64;
        const ctx = canvas.getContext('2d', { willReadFrequently: true });
        /** The pixels of one character drawn in the page's font, as a string key. */
        const pixels = (ch) => {
          ctx.clearRect(0, 0, 64, 64);
          ctx.font = `40px ${font}`;
          ctx.fillStyle = '#000';
          ctx.textBaseline = 'top';
          ctx.fillText(ch, 4, 4);
          const data = ctx.getImageData(0, 0, 64, 64).data;
          let ink = 0;
          let key = '';
          for (let i = 3; i < data.length; i += 4) {
            if (data[i] > 0) ink++;
            key += data[i] > 127 ? '1' : '0';
          }
          return { ink, key };
        };
        const ga = pixels('가');
        const na = pixels('나');
        const tofu = pixels('\uE000');
        return { font, gaInk: ga.ink, sameAsNa: ga.key === na.key, sameAsTofu: ga.key === tofu.key };
      });
      assert.ok(result.gaInk > 0, `'가' draws no ink in ${result.font}`);
      assert.equal(result.sameAsNa, false, `'가' and '나' draw the same box in ${result.font}: Hangul renders as tofu (install fonts-noto-cjk)`);
      assert.equal(result.sameAsTofu, false, `'가' draws the missing-glyph box in ${result.font}`);
      check();
    } finally {
      await s.close();
    }
  });
});
