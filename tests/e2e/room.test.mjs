// The room test (issue 10): a teacher clicks through every lesson in Korean while fifty people
// watch. At 1280×720, 1024×768 and in presenter mode at 1280×720, every step's narration text,
// its question and its revealed answer lie fully inside the viewport and are not cut off by the
// panel, and no canvas text is drawn smaller than the room can read. The smallest canvas text per
// viewport is printed, with how many steps draw under the target (issue 10 asks 14 px, 18 px in
// presenter mode), and asserted; so is the smallest node name or figure in a node box (16 px,
// 22 px in presenter mode), which the canvas reports in its data-name-px.
// target/e2e/room-*.png are lesson 12's revealed answer.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openPage, screenshot, startServer } from './harness.mjs';
import { clockAt, expectNarration, lessonFiles, nextPos, setLang, waitForApp } from './seminar-lib.mjs';

// The smallest canvas text, in CSS px, the room can read at each viewport.
// The narration may shrink its type to fit the panel, down to `minText`.
const VIEWPORTS = [
  { name: '1280x720', width: 1280, height: 720, present: false, minFont: 14, minName: 16, minText: 15 },
  { name: '1024x768', width: 1024, height: 768, present: false, minFont: 14, minName: 16, minText: 15 },
  { name: 'present-1280x720', width: 1280, height: 720, present: true, minFont: 18, minName: 22, minText: 18 },
];

// Records the smallest font each fillText uses, in CSS px on the screen.
function instrumentCanvas() {
  const fill = CanvasRenderingContext2D.prototype.fillText;
  window.__roomFont = { min: Infinity, text: '' };
  CanvasRenderingContext2D.prototype.fillText = function (text, x, y, ...rest) {
    const m = /(\d+(?:\.\d+)?)px/.exec(this.font);
    const canvas = this.canvas;
    if (m && String(text).trim() && canvas.width > 0) {
      const px = (Number(m[1]) * this.getTransform().a * canvas.clientWidth) / canvas.width;
      if (px < window.__roomFont.min) window.__roomFont = { min: px, text: String(text) };
    }
    return fill.call(this, text, x, y, ...rest);
  };
}

// What of the element is hidden: outside the viewport, or clipped by a scrolling ancestor.
function hiddenPart(testid) {
  const el = document.querySelector(`[data-testid="${testid}"]`);
  if (!el) return `${testid} is missing`;
  const r = el.getBoundingClientRect();
  const fmt = (b) => `${Math.round(b.top)}..${Math.round(b.bottom)} × ${Math.round(b.left)}..${Math.round(b.right)}`;
  if (r.height === 0) return `${testid} has no height`;
  if (r.top < -0.5 || r.left < -0.5 || r.bottom > innerHeight + 0.5 || r.right > innerWidth + 0.5) {
    return `${testid} at ${fmt(r)} leaves the ${innerWidth}×${innerHeight} viewport`;
  }
  for (let a = el.parentElement; a; a = a.parentElement) {
    const cs = getComputedStyle(a);
    if (cs.overflowY === 'visible' && cs.overflowX === 'visible') continue;
    const b = a.getBoundingClientRect();
    if (r.top < b.top - 0.5 || r.bottom > b.bottom + 0.5 || r.left < b.left - 0.5 || r.right > b.right + 0.5) {
      return `${testid} at ${fmt(r)} is cut off by .${a.className.split(' ')[0]} at ${fmt(b)}`;
    }
  }
  if (el.scrollHeight > el.clientHeight + 1) return `${testid} hides ${el.scrollHeight - el.clientHeight}px of its own text`;
  return null;
}

async function settle(page) {
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 50)))));
}

describe('the room test', () => {
  let server;
  let browser;
  const lessons = lessonFiles();

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const vp of VIEWPORTS) {
    test(`every lesson step fits the room in Korean at ${vp.name}`, { timeout: 1_800_000 }, async () => {
      const session = await openPage(browser, { width: vp.width, height: vp.height });
      const { page } = session;
      await page.addInitScript(instrumentCanvas);
      const problems = [];
      let smallSteps = 0;
      let smallestText = Infinity;
      let smallest = { min: Infinity, text: '', where: '' };
      let smallestName = { px: Infinity, where: '' };
      try {
        for (const [id, lesson] of Object.entries(lessons)) {
          await page.goto(`${server.url}?scenario=${id}${vp.present ? '&present=1' : ''}`);
          await waitForApp(session);
          await setLang(session, 'ko');
          const steps = lesson.narration.steps;
          let pos = { step: 0, revealed: false };
          for (;;) {
            const where = `${id} step ${pos.step + 1}${pos.revealed ? ' (answer)' : ''}`;
            await expectNarration(session, { ...pos, lang: 'ko', clock: clockAt(steps[pos.step].at_ms), playing: false }, where);
            await settle(page);
            const s = steps[pos.step];
            const ids = ['narration-text', 'narration-next'];
            if (s.question) ids.push('narration-question');
            if (pos.revealed) ids.push('narration-answer');
            for (const tid of ids) {
              const hidden = await page.evaluate(hiddenPart, tid);
              if (hidden) problems.push(`${where}: ${hidden}`);
            }
            const text = await page
              .getByTestId('narration-text')
              .evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
            smallestText = Math.min(smallestText, text);
            if (text < vp.minText) problems.push(`${where}: narration text shrunk to ${text.toFixed(1)}px to fit`);
            const font = await page.evaluate(() => window.__roomFont);
            if (font.min < smallest.min) smallest = { ...font, where };
            if (font.min < vp.minFont) smallSteps++;
            const namePx = Number((await page.getByTestId('topology').getAttribute('data-name-px')) || Infinity);
            if (namePx < smallestName.px) smallestName = { px: namePx, where };
            if (id.startsWith('12') && pos.revealed) await screenshot(page, `room-${vp.name}-${id}`);
            if (pos.step + 1 >= steps.length && (!s.question || pos.revealed)) break;
            pos = nextPos(steps, pos);
            await page.evaluate(() => {
              window.__roomFont = { min: Infinity, text: '' };
            });
            await page.getByTestId('narration-next').click();
          }
        }
        console.log(
          `room ${vp.name}: smallest canvas text ${smallest.min.toFixed(1)}px ("${smallest.text}", ${smallest.where}); ` +
            `${smallSteps} steps draw under ${vp.minFont}px; node names and figures at least ` +
            `${smallestName.px.toFixed(1)}px (${smallestName.where}); narration text at least ${smallestText.toFixed(1)}px; ` +
            `${problems.length} narration problems`,
        );
        assert.ok(smallest.min < Infinity, 'no canvas text was drawn');
        assert.equal(smallSteps, 0, `canvas text at ${smallest.min.toFixed(1)}px ("${smallest.text}", ${smallest.where})`);
        assert.ok(smallestName.px < Infinity, 'no node name was drawn');
        assert.ok(smallestName.px >= vp.minName, `a node name or figure at ${smallestName.px}px (${smallestName.where})`);
        assert.deepEqual(problems, [], `${problems.length} problems at ${vp.name}:\n  ${problems.slice(0, 40).join('\n  ')}`);
        session.check();
      } finally {
        await session.close();
      }
    });
  }
});
