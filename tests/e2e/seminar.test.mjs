// Seminar mode: the scenario library, every narrated lesson played through in both languages
// with the Next button, the clicker keys, Back restoring the exact state, presenter mode
// (target/e2e/presenter-ko-1280.png) and the embedded player (target/e2e/embed-1280.png).
// The contract (data-testid attributes) is listed in seminar-lib.mjs.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openPage, poll, screenshot, startServer } from './harness.mjs';
import {
  TEST_TIMEOUT,
  choosePreset,
  clockAt,
  clockSeconds,
  expectNarration,
  lessonFiles,
  lessonIds,
  nextPos,
  narrationState,
  readState,
  setLang,
  waitForApp,
} from './seminar-lib.mjs';

/** Clicks through a whole lesson with the Next button, checking each step as it appears. */
async function playThrough(session, id, lesson, lang) {
  const steps = lesson.narration.steps;
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i];
    const where = `${id} (${lang}) step ${i + 1}`;
    const shown = await expectNarration(
      session,
      {
        step: i,
        revealed: false,
        steps: steps.length,
        lang,
        counter: `${i + 1} / ${steps.length}`,
        text: s.text[lang],
        highlight: (s.highlight ?? []).join(' '),
        clock: clockAt(s.at_ms),
        playing: false,
      },
      where,
    );
    assert.equal(shown.goal, lesson.narration.goal[lang], `${where}: goal`);
    assert.ok(await session.page.getByTestId('narration-text').isVisible(), `${where}: text not visible`);
    if (s.question) {
      assert.equal(shown.question, s.question[lang], `${where}: question`);
      assert.equal(shown.answer, null, `${where}: the answer shows before the reveal`);
      await session.page.getByTestId('narration-next').click();
      const revealed = await expectNarration(session, { step: i, revealed: true }, `${where} revealed`);
      assert.equal(revealed.answer, s.answer[lang], `${where}: answer`);
      assert.equal(revealed.clock, clockAt(s.at_ms), `${where}: revealing moved the clock`);
      assert.ok(await session.page.getByTestId('narration-answer').isVisible(), `${where}: answer not visible`);
    }
    if (i + 1 < steps.length) {
      await session.page.getByTestId('narration-next').click();
    }
  }
  const end = await narrationState(session.page);
  assert.ok(end.atEnd && end.nextDisabled, `${id} (${lang}): the last step does not end the lesson`);
}

describe('seminar mode', () => {
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

  test('the library lists lessons, examples and rules in the current language', { timeout: TEST_TIMEOUT }, async () => {
    const session = await openPage(browser);
    const { page, check } = session;
    try {
      await page.goto(server.url);
      await waitForApp(session);
      const ids = await lessonIds(page);
      if (!process.env.LESSONS) assert.deepEqual(ids, Object.keys(lessons), 'the page lists every lesson file, in order');
      for (const lang of ['ko', 'en']) {
        await setLang(session, lang);
        await page.getByTestId('open-picker').click();
        const picker = page.getByTestId('picker');
        await poll(() => picker.isVisible(), { message: 'the picker', check });
        const headings = await picker.locator('h3').allTextContents();
        assert.deepEqual(headings, lang === 'ko' ? ['수업', '예제', '규칙 시연'] : ['Lessons', 'Examples', 'Rule demonstrations']);
        // LESSONS=… narrows the files: the first listed lesson among them.
        const first = ids.find((x) => lessons[x]) ?? ids[0];
        const title = (await page.getByTestId(`preset-${first}`).locator('.preset-title').textContent())?.trim();
        assert.equal(title, lessons[first].title[lang]);
        assert.ok((await picker.locator('button.preset').count()) > 40, 'the rule demonstrations are listed');
        if (lang === 'en') await screenshot(page, 'picker-en-1280');
        await page.keyboard.press('Escape');
        await poll(async () => (await picker.count()) === 0, { message: 'Escape closes the picker', check });
      }
      // Choosing an example loads it and plays it, with no lesson panel.
      await choosePreset(session, 'rmq-01-direct');
      await poll(async () => (await page.getByTestId('scenario-title').textContent())?.startsWith('RMQ-1'), { message: 'the RMQ-1 title', check });
      assert.equal(await page.getByTestId('narration').count(), 0);
      const before = await clockSeconds(page);
      await poll(async () => (await clockSeconds(page)) > before, { message: 'the example to play', check });
      check();
    } finally {
      await session.close();
    }
  });

  for (const lang of ['ko', 'en']) {
    test(`every lesson plays through with Next in ${lang}`, { timeout: 1_500_000 }, async () => {
      const session = await openPage(browser);
      const { page } = session;
      try {
        await page.goto(server.url);
        await waitForApp(session);
        await setLang(session, lang);
        const ids = await lessonIds(page);
        assert.ok(ids.length >= 4, `only ${ids.length} lessons`);
        for (const id of ids) {
          if (!lessons[id]) continue; // narrowed by LESSONS
          await choosePreset(session, id);
          await playThrough(session, id, lessons[id], lang);
        }
        session.check();
      } finally {
        await session.close();
      }
    });
  }

  test('clicker keys drive the lesson and Back restores the exact state', { timeout: TEST_TIMEOUT }, async () => {
    const session = await openPage(browser);
    const { page, check } = session;
    const id = Object.keys(lessons)[0];
    const steps = lessons[id].narration.steps;
    try {
      await page.goto(`${server.url}?scenario=${id}`);
      await waitForApp(session);
      await setLang(session, 'en');
      await expectNarration(session, { step: 0, revealed: false }, 'the first step');
      assert.equal(await page.evaluate(() => document.body.dataset.narration), 'active');
      // Forward with each clicker key; Space must not start playback while a lesson runs.
      const forward = ['PageDown', 'Space', 'ArrowRight', 'PageDown'];
      let expected = { step: 0, revealed: false };
      for (const key of forward) {
        expected = nextPos(steps, expected);
        await page.keyboard.press(key);
        await expectNarration(session, { ...expected, clock: clockAt(steps[expected.step].at_ms), playing: false }, `after ${key}`);
      }
      const here = await readState(page);
      // One click on, then one back (PageUp or ←): the same position and the same state.
      await page.keyboard.press('PageDown');
      const on = nextPos(steps, expected);
      await expectNarration(session, { ...on, clock: clockAt(steps[on.step].at_ms), playing: false }, 'moved on');
      await page.keyboard.press(on.step === expected.step ? 'ArrowLeft' : 'PageUp');
      await expectNarration(session, { ...expected, clock: here.clock }, 'back');
      assert.deepEqual(await readState(page), here, 'Back did not restore the exact state');
      // Going back to step 1 rewinds the clock and the counters.
      for (let i = 0; i < 8; i++) await page.keyboard.press('PageUp');
      await expectNarration(session, { step: 0, revealed: false, clock: clockAt(steps[0].at_ms) }, 'back at the start');
      check();
    } finally {
      await session.close();
    }
  });

  test('Play in a lesson stops at each pause point and the narration moves with it', { timeout: TEST_TIMEOUT }, async () => {
    const session = await openPage(browser);
    const { page, check } = session;
    // A lesson whose first step has no question, so Play must move the clock to step 2.
    const id = Object.keys(lessons).find((k) => !lessons[k].narration.steps[0].question) ?? Object.keys(lessons)[0];
    const steps = lessons[id].narration.steps;
    try {
      await page.goto(`${server.url}?scenario=${id}`);
      await waitForApp(session);
      await setLang(session, 'en');
      let pos = { step: 0, revealed: false };
      await expectNarration(session, { ...pos, clock: clockAt(steps[0].at_ms), playing: false }, 'the first step');
      // Twice: each press of Play runs to the next pause point and stops there.
      for (let i = 0; i < 2; i++) {
        pos = nextPos(steps, pos);
        await page.getByTestId('play').click();
        await expectNarration(session, { ...pos, clock: clockAt(steps[pos.step].at_ms), playing: false }, `after Play ${i + 1}`);
      }
      check();
    } finally {
      await session.close();
    }
  });

  test('an improvised crash warns that the run differs, and the lesson run comes back', { timeout: TEST_TIMEOUT }, async () => {
    const session = await openPage(browser);
    const { page, check } = session;
    const id = Object.keys(lessons).find((k) => k.startsWith('05'));
    const steps = lessons[id].narration.steps;
    try {
      await page.goto(`${server.url}?scenario=${id}`);
      await waitForApp(session);
      await setLang(session, 'ko');
      await expectNarration(session, { step: 0, revealed: false, clock: clockAt(steps[0].at_ms) }, 'the first step');
      const scripted = await readState(page);
      assert.equal(await page.getByTestId('narration-differs').count(), 0, 'a warning before any command');
      // The lab's picker is hidden in a lesson; a click on the node selects it the same way.
      await page.getByTestId('inspect-select').selectOption({ label: 'worker-b' }, { force: true });
      await page.getByTestId('insp-crash').click();
      await poll(async () => (await page.getByTestId('insp-status').getAttribute('data-status')) === 'crashed', { message: 'worker-b crashed', check });
      await poll(() => page.getByTestId('narration-differs').isVisible(), { message: 'the run-differs warning', check });
      assert.match(await page.getByTestId('narration-differs').textContent(), /수업/);
      await page.getByTestId('narration-to-script').click();
      await poll(async () => (await page.getByTestId('narration-differs').count()) === 0, { message: 'the warning gone', check });
      await poll(async () => (await page.getByTestId('insp-status').getAttribute('data-status')) !== 'crashed', { message: 'worker-b back up', check });
      assert.deepEqual(await readState(page), scripted, 'the scripted run at the same step');
      await expectNarration(session, { step: 0, revealed: false }, 'still at the first step');
      check();
    } finally {
      await session.close();
    }
  });

  test('presenter mode in Korean at 1280×720', { timeout: TEST_TIMEOUT }, async () => {
    const session = await openPage(browser, { width: 1280, height: 720 });
    const { page, check } = session;
    const id = Object.keys(lessons)[0];
    try {
      await page.goto(`${server.url}?present=1&scenario=${id}`);
      await waitForApp(session);
      await setLang(session, 'ko');
      assert.ok(await page.evaluate(() => document.documentElement.classList.contains('present')));
      // Editor chrome is hidden; the canvas, the clock, the counters and the lesson are not.
      for (const hidden of ['failure-toolbar', 'dock', 'share', 'export', 'import']) {
        const el = page.getByTestId(hidden);
        assert.ok((await el.count()) === 0 || !(await el.isVisible()), `${hidden} is visible in presenter mode`);
      }
      for (const shown of ['topology', 'clock', 'count-ready', 'narration', 'narration-next', 'present']) {
        assert.ok(await page.getByTestId(shown).isVisible(), `${shown} is hidden in presenter mode`);
      }
      // At the first question, revealed: the busiest the panel gets.
      const steps = lessons[id].narration.steps;
      const q = steps.findIndex((s) => s.question);
      let pos = { step: 0, revealed: false };
      await expectNarration(session, { ...pos, clock: clockAt(steps[0].at_ms) }, 'the first step');
      while (!(pos.step === q && pos.revealed)) {
        pos = nextPos(steps, pos);
        await page.getByTestId('narration-next').click();
        await expectNarration(session, { ...pos, lang: 'ko', clock: clockAt(steps[pos.step].at_ms) }, `step ${pos.step + 1}`);
      }
      // Large type: the step's text is at least 18 px (it may shrink that far to fit the panel;
      // room.test.mjs checks every step), and nothing of the panel is cut off.
      const size = await page.getByTestId('narration-text').evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
      assert.ok(size >= 18, `narration text is ${size}px`);
      const next = await page.getByTestId('narration-next').boundingBox();
      assert.ok(next && next.y + next.height <= 720, 'the Next button is off screen');
      await screenshot(page, 'presenter-ko-1280');
      // The toggle leaves presenter mode (asking for full screen on the way in must not error).
      await page.getByTestId('present').click();
      await poll(async () => !(await page.evaluate(() => document.documentElement.classList.contains('present'))), { message: 'presenter mode off', check });
      await page.getByTestId('present').click();
      await poll(() => page.evaluate(() => document.documentElement.classList.contains('present')), { message: 'presenter mode on', check });
      check();
    } finally {
      await session.close();
    }
  });

  test('the embedded player shows the canvas, the lesson and Play only', { timeout: TEST_TIMEOUT }, async () => {
    const session = await openPage(browser, { width: 1280, height: 720 });
    const { page, check } = session;
    const id = Object.keys(lessons)[Math.min(2, Object.keys(lessons).length - 1)];
    try {
      await page.goto(`${server.url}?embed=1&scenario=${id}`);
      await waitForApp(session);
      for (const hidden of ['seminar-bar', 'lang', 'failure-toolbar', 'dock', 'ledger', 'clock', 'count-published', 'open-compare', 'colour-mode', 'step', 'speed']) {
        const el = page.getByTestId(hidden);
        assert.ok((await el.count()) === 0 || !(await el.isVisible()), `${hidden} is visible in embed mode`);
      }
      for (const shown of ['topology', 'narration', 'play']) {
        assert.ok(await page.getByTestId(shown).isVisible(), `${shown} is hidden in embed mode`);
      }
      const canvas = await page.getByTestId('topology').boundingBox();
      assert.ok(canvas.height > 500, `the canvas is only ${canvas.height}px tall`);
      // The clock first plays to step 1; a press during that move only finishes it (by
      // design), so the player waits for step 1 at rest, as a teacher would see it.
      const steps = lessons[id].narration.steps;
      await expectNarration(session, { step: 0, revealed: false, clock: clockAt(steps[0].at_ms), moving: false }, 'step 1 at rest');
      await page.getByTestId('narration-next').click();
      await expectNarration(session, nextPos(steps, { step: 0, revealed: false }), 'Next works when embedded');
      await screenshot(page, 'embed-1280');
      check();
    } finally {
      await session.close();
    }
  });
});
