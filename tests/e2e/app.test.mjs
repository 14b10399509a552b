// The app beyond the vertical slice: the panic box, languages, speed, keyboard, resizing
// and crisp drawing on high-DPI screens. Screenshots go to target/e2e/app-*.png.
//
// Contract with the app (data-testid attributes), besides those in slice.test.mjs:
//   panic-box (role=alert)      shown after a Rust panic; holds the message
//   panic-reset (button)        reloads without the URL fragment and without ?debug=panic
//   lang (button)               toggles 한국어 / English; <html lang> follows
//   speed (select)              0.1, 0.5, 1, 2, 5, 10, 100 (× real time)
//   scenario-title              the scenario's title in the current language
//   legend                      the drawing's legend
// The only test hook is the query switch ?debug=panic: the app panics once after mount.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { launchBrowser, nextFrames, openPage, parseCount, poll, screenshot, startServer, withPage } from './harness.mjs';
import { fragmentFor, setLang } from './seminar-lib.mjs';

const TEST_TIMEOUT = 90_000;

/** Simulated seconds shown by the clock ("12.345 s"). */
async function clockSeconds(page) {
  const text = (await page.getByTestId('clock').textContent()) ?? '';
  const m = text.match(/(\d+(?:\.\d+)?)/);
  assert.ok(m, `clock text ${JSON.stringify(text)} holds no number`);
  return Number(m[1]);
}

async function isPlaying(page) {
  return (await page.getByTestId('play').getAttribute('aria-pressed')) === 'true';
}

async function waitForApp(session) {
  const { page, check } = session;
  await poll(async () => (await page.getByTestId('play').count()) === 1, {
    message: 'the app to mount',
    check,
  });
}

/** Like harness.openPage, but with extra browser-context options (locale, scale factor). */
async function openPageWith(browser, contextOptions) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, deviceScaleFactor: 1, ...contextOptions });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' || /panicked/i.test(msg.text())) errors.push(`console.${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err?.stack ?? err}`));
  page.on('crash', () => errors.push('page crashed'));
  const check = () => {
    if (errors.length > 0) throw new Error(`the page reported ${errors.length} error(s):\n  ${errors.join('\n  ')}`);
  };
  return { page, errors, check, close: () => context.close() };
}

describe('app', () => {
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

  test('a panic shows the panic box, and Reset reloads a working page', { timeout: TEST_TIMEOUT }, async () => {
    // The deliberate panic is expected: its console.warn details and the wasm trap it ends in.
    const session = await openPage(browser, {
      width: 1280,
      height: 720,
      allow: [/deliberate panic/i, /panicked/i, /unreachable/i, /RuntimeError/],
    });
    const { page, check, allowed } = session;
    try {
      await page.goto(`${server.url}?debug=panic#some-fragment`, { waitUntil: 'load' });
      const box = page.getByTestId('panic-box');
      await poll(async () => (await box.count()) === 1 && (await box.isVisible()), {
        message: 'the panic box to appear',
        check,
      });
      assert.equal(await box.getAttribute('role'), 'alert');
      const text = await box.textContent();
      assert.match(text, /deliberate panic/, 'the box shows the panic message');
      assert.match(text, /Reset/);
      assert.match(text, /초기화/);
      assert.ok(allowed.some((r) => /panicked|deliberate/i.test(r)), `the details went to the console: ${allowed}`);
      await screenshot(page, 'app-panic');

      const reset = page.getByTestId('panic-reset');
      assert.equal(await reset.evaluate((el) => el.tagName), 'BUTTON');
      await Promise.all([page.waitForEvent('load'), reset.click()]);

      const url = new URL(page.url());
      assert.equal(url.hash, '', 'the fragment is gone');
      assert.equal(url.searchParams.get('debug'), null, 'the panic switch is gone');
      await waitForApp(session);
      await poll(async () => (await clockSeconds(page)) > 0.5, { message: 'the clock to run after Reset', check });
      assert.equal(await page.getByTestId('panic-box').count(), 0, 'no panic box after Reset');
      assert.ok(await isPlaying(page));
      check();
    } finally {
      await session.close();
    }
  });

  test('the language toggle switches every panel and <html lang>', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await page.goto(server.url, { waitUntil: 'load' });
      await waitForApp(session);
      // Headless Chromium says en-US, so the app starts in English.
      assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
      assert.equal(await page.getByTestId('scenario-title').textContent(), 'One producer, one queue, one consumer');

      await page.getByTestId('lang').click();
      await poll(async () => (await page.evaluate(() => document.documentElement.lang)) === 'ko', {
        message: '<html lang="ko">',
        check,
      });
      assert.equal(await page.getByTestId('scenario-title').textContent(), '프로듀서 하나, 큐 하나, 컨슈머 하나');
      assert.match(await page.getByTestId('play').textContent(), /일시정지/);
      const body = await page.locator('body').textContent();
      for (const word of ['대기 (Ready)', '미확인 (Unacked)', '발행됨', '장부', '재전달됨']) {
        assert.ok(body.includes(word), `Korean UI lacks ${JSON.stringify(word)}`);
      }
      assert.match(await page.getByTestId('ledger').textContent(), /일치/);
      await poll(async () => parseCount(await page.getByTestId('count-acked').textContent()) > 8, {
        message: 'some acked messages for the screenshot',
        check,
      });
      await nextFrames(page, 2);
      await screenshot(page, 'app-ko-1280');

      // The choice survives a reload.
      await page.reload({ waitUntil: 'load' });
      await waitForApp(session);
      assert.equal(await page.evaluate(() => document.documentElement.lang), 'ko');

      await page.getByTestId('lang').click();
      await poll(async () => (await page.evaluate(() => document.documentElement.lang)) === 'en', {
        message: '<html lang="en">',
        check,
      });
      assert.match(await page.getByTestId('play').textContent(), /Pause/);
    });
  });

  // Korean must render as Hangul, not as empty boxes (tofu): without a CJK font every syllable
  // is the same missing-glyph box and every Korean screenshot lies. `make test` installs
  // Debian's fonts-noto-cjk; this fails when it is missing.
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

  test('a shared link opens in the language it carries, whatever the browser speaks', { timeout: TEST_TIMEOUT }, async () => {
    for (const locale of ['ko-KR', 'en-US']) {
      for (const lang of ['ko', 'en']) {
        const link = fragmentFor({ kind: 'broker-lab-session', version: 1, scenario: { preset: 'default' }, seed: 1, log: [], time_us: 0, lang });
        const s = await openPageWith(browser, { locale });
        try {
          await s.page.goto(`${server.url}${link}`);
          await poll(async () => (await s.page.getAttribute('html', 'lang')) === lang, {
            message: `a ${lang} link in a ${locale} browser to open in ${lang}`,
            check: s.check,
          });
          // And it stays so once the app has settled.
          await nextFrames(s.page, 10);
          assert.equal(await s.page.getAttribute('html', 'lang'), lang, `${lang} link, ${locale} browser`);
          s.check();
        } finally {
          await s.close();
        }
      }
    }
  });

  test('a Korean browser opens in Korean', { timeout: TEST_TIMEOUT }, async () => {
    const session = await openPageWith(browser, { locale: 'ko-KR' });
    try {
      const { page, check } = session;
      await page.goto(server.url, { waitUntil: 'load' });
      await waitForApp(session);
      assert.equal(await page.evaluate(() => document.documentElement.lang), 'ko');
      assert.match(await page.getByTestId('play').textContent(), /일시정지/);
      check();
    } finally {
      await session.close();
    }
  });

  test('a first visit opens on the start screen: lessons first, the lab playing behind; once only', { timeout: TEST_TIMEOUT }, async () => {
    const session = await openPage(browser, { width: 1280, height: 720, welcome: true });
    try {
      const { page, check } = session;
      await page.goto(server.url, { waitUntil: 'load' });
      await waitForApp(session);
      const welcome = page.getByTestId('welcome');
      await poll(async () => (await welcome.count()) === 1, { message: 'the start screen', check });
      assert.match(await page.locator('#picker-title').textContent(), /Welcome/);
      // The three ways in come before the library, and the first is lesson 1.
      const lesson = page.getByTestId('welcome-lesson');
      assert.match(await lesson.textContent(), /Lesson 1\b/);
      const box = await lesson.boundingBox();
      assert.ok(box && box.y + box.height <= 720, `the first choice is below the fold: ${JSON.stringify(box)}`);
      assert.ok(await isPlaying(page), 'the default lab plays behind the start screen');
      // The start screen covers the header's language switch: it has its own.
      await page.getByTestId('picker-lang').click();
      await poll(async () => /환영/.test(await page.locator('#picker-title').textContent()), { message: 'the start screen in Korean', check });
      assert.match(await lesson.textContent(), /1강/);
      assert.equal(await page.locator('html').getAttribute('lang'), 'ko');
      await screenshot(page, 'welcome-ko-1280');
      await page.getByTestId('picker-lang').click();
      await poll(async () => /Welcome/.test(await page.locator('#picker-title').textContent()), { message: 'back to English', check });
      await screenshot(page, 'welcome-1280');
      await lesson.click();
      await poll(async () => (await page.getByTestId('picker').count()) === 0, { message: 'the start screen to close', check });
      await poll(async () => (await page.getByTestId('narration-text').count()) === 1, { message: 'lesson 1 to open', check });
      // A second visit goes straight to work.
      await page.goto(server.url, { waitUntil: 'load' });
      await waitForApp(session);
      await nextFrames(page, 10);
      assert.equal(await page.getByTestId('welcome').count(), 0, 'the start screen shows once');
      check();
    } finally {
      await session.close();
    }
  });

  test('presenter mode: every text at 4.5:1 or more, the focus ring at 3:1 or more', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page } = session;
      await page.goto(`${server.url}?scenario=05-crash-redelivery&present=1`, { waitUntil: 'load' });
      await waitForApp(session);
      await setLang(session, 'ko');
      await nextFrames(page, 5);
      const report = await page.evaluate(() => {
        const parse = (c) => {
          const m = c.match(/[\d.]+/g).map(Number);
          return { r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1 };
        };
        const lum = ({ r, g, b }) => {
          const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
          return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
        };
        const ratio = (x, y) => (Math.max(lum(x), lum(y)) + 0.05) / (Math.min(lum(x), lum(y)) + 0.05);
        const background = (el) => {
          for (let a = el; a; a = a.parentElement) {
            const c = parse(getComputedStyle(a).backgroundColor);
            if (c.a > 0.5) return c;
          }
          return { r: 255, g: 255, b: 255 };
        };
        const low = [];
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          const el = n.parentElement;
          const r = el.getBoundingClientRect();
          if (!n.textContent.trim() || r.width === 0 || r.bottom < 0 || r.top > innerHeight) continue;
          const k = ratio(parse(getComputedStyle(el).color), background(el));
          if (k < 4.5) low.push(`${k.toFixed(2)} "${n.textContent.trim().slice(0, 20)}"`);
        }
        const play = document.querySelector('[data-testid="play"]');
        play.focus({ focusVisible: true });
        const ring = parse(getComputedStyle(play).outlineColor);
        return { low, ring: ratio(ring, background(play.parentElement)) };
      });
      assert.deepEqual(report.low, [], 'text under 4.5:1 in presenter mode');
      assert.ok(report.ring >= 3, `the focus ring is ${report.ring.toFixed(2)}:1`);
      // An old 1024 px projector: "재생" stays on one line (it wrapped letter by letter).
      await page.setViewportSize({ width: 1024, height: 768 });
      await nextFrames(page, 3);
      const play = await page.getByTestId('play').evaluate((el) => {
        const text = el.querySelector('.play-text') ?? el;
        return { h: text.getBoundingClientRect().height, font: parseFloat(getComputedStyle(text).fontSize), text: text.textContent };
      });
      assert.ok(play.h < 1.8 * play.font, `"${play.text}" wraps: ${play.h}px high at ${play.font}px`);
    });
  });

  test('speed scales simulated time; Space toggles play', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await page.goto(server.url, { waitUntil: 'load' });
      await waitForApp(session);
      await poll(() => isPlaying(page), { message: 'auto-play', check });

      const speed = page.getByTestId('speed');
      assert.equal(await speed.inputValue(), '1');
      const options = await speed.locator('option').evaluateAll((els) => els.map((e) => e.value));
      assert.deepEqual(options, ['0.1', '0.5', '1', '2', '5', '10', '100']);

      await speed.selectOption('10');
      const t0 = await clockSeconds(page);
      const w0 = Date.now();
      await sleep(1_500);
      const fast = (await clockSeconds(page)) - t0;
      const wall = (Date.now() - w0) / 1000;
      // At most 10× real time, by construction. The lower bound only says "clearly faster than
      // 1×": a loaded machine clamps long frames, and the exact scaling is a native driver test.
      assert.ok(fast > 2 * wall, `at 10× the clock moved ${fast} s in ${wall} s`);
      assert.ok(fast < 11 * wall + 1, `at 10× the clock moved ${fast} s in ${wall} s`);

      await speed.selectOption('0.1');
      const t1 = await clockSeconds(page);
      await sleep(1_000);
      const slow = (await clockSeconds(page)) - t1;
      assert.ok(slow > 0 && slow < 0.3, `at 0.1× the clock moved ${slow} s in about 1 s`);

      // Space on the page (not on a control) toggles play/pause.
      await page.locator('body').click({ position: { x: 5, y: 700 } });
      await page.keyboard.press('Space');
      await poll(async () => !(await isPlaying(page)), { message: 'Space pauses', check });
      const paused = await clockSeconds(page);
      await sleep(300);
      assert.equal(await clockSeconds(page), paused, 'the clock moved while paused');
      await page.keyboard.press('Space');
      await poll(() => isPlaying(page), { message: 'Space plays again', check });
    });
  });

  test('the canvas follows the window size and is crisp on high-DPI screens', { timeout: TEST_TIMEOUT }, async () => {
    const session = await openPageWith(browser, { deviceScaleFactor: 2 });
    try {
      const { page, check } = session;
      await page.goto(server.url, { waitUntil: 'load' });
      await waitForApp(session);
      const size = () =>
        page.getByTestId('topology').evaluate((el) => ({
          w: el.width,
          h: el.height,
          cw: el.clientWidth,
          ch: el.clientHeight,
        }));
      await poll(async () => {
        const s = await size();
        return s.cw > 0 && s.w === s.cw * 2 && s.h === s.ch * 2;
      }, { message: 'a 2× backing store', check });
      const before = await size();

      await page.setViewportSize({ width: 1024, height: 700 });
      await poll(async () => {
        const s = await size();
        return s.cw < before.cw && s.w === s.cw * 2 && s.h === s.ch * 2;
      }, { message: 'the canvas to follow a smaller window', check });
      await poll(async () => parseCount(await page.getByTestId('count-acked').textContent()) > 5, {
        message: 'a few acked messages',
        check,
      });
      await screenshot(page, 'app-1024-dpr2');
      check();
    } finally {
      await session.close();
    }
  });

  test('busy moments look right: a backlog in the queue at 1280x720', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(browser, { width: 1280, height: 720 }, async (session) => {
      const { page, check } = session;
      await page.goto(server.url, { waitUntil: 'load' });
      await waitForApp(session);
      // Run fast until the queue holds a few messages, then pause and take a picture.
      await page.getByTestId('speed').selectOption('5');
      await poll(async () => parseCount(await page.getByTestId('count-ready').textContent()) >= 3, {
        timeout: 60_000,
        interval: 20,
        message: 'a backlog of 3 ready messages',
        check,
      });
      await page.getByTestId('play').click();
      await poll(async () => !(await isPlaying(page)), { message: 'paused', check });
      await nextFrames(page, 2);
      const ledger = JSON.parse(await page.getByTestId('ledger').getAttribute('data-ledger'));
      assert.equal(ledger.balanced, true);
      await screenshot(page, 'app-backlog-1280');
    });
  });
});
