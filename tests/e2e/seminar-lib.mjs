// Helpers for the seminar-mode tests (seminar, share, untrusted): reading the visible state,
// switching language, choosing presets, and building share links the way the app does.
//
// Contract with the app (data-testid attributes):
//   seminar-bar                 header bar; data-lessons = the lesson ids, space separated
//   open-picker, picker, preset-<id>, picker-close
//                               the scenario library (a modal dialog)
//   narration                   the lesson panel; data-step, data-steps, data-revealed,
//                               data-at-end, lang
//   narration-counter, narration-text, narration-goal, narration-question, narration-answer,
//   narration-next, narration-back
//   share, share-link, share-status, export, import, import-file (input type=file), present
//   notice, notice-title, notice-detail, notice-close
//                               a refused link or file, with the located reason
//   restore-offer, restore-yes, restore-no
//                               the autosaved session offered back on load

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { REPO_ROOT, parseCount, poll } from './harness.mjs';

export const TEST_TIMEOUT = 180_000;

/** Wait until the app has mounted. */
export async function waitForApp(session) {
  const { page, check } = session;
  await poll(async () => (await page.getByTestId('play').count()) === 1 && (await page.getByTestId('seminar-bar').count()) === 1, {
    message: 'the app to mount',
    check,
  });
}

/** Switch the UI language with the header toggle until <html lang> is `lang`. */
export async function setLang(session, lang) {
  const { page, check } = session;
  if ((await page.evaluate(() => document.documentElement.lang)) !== lang) {
    await page.getByTestId('lang').click();
  }
  await poll(async () => (await page.evaluate(() => document.documentElement.lang)) === lang, {
    message: `<html lang="${lang}">`,
    check,
  });
}

/** Everything two runs are compared by: clock, counters, ledger, lesson step, language. */
export async function readState(page) {
  const raw = await page.evaluate(() => {
    const q = (id) => document.querySelector(`[data-testid="${id}"]`);
    const n = q('narration');
    return {
      clock: q('clock')?.textContent?.trim() ?? null,
      published: q('count-published')?.textContent,
      ready: q('count-ready')?.textContent,
      unacked: q('count-unacked')?.textContent,
      acked: q('count-acked')?.textContent,
      ledger: q('ledger')?.getAttribute('data-ledger') ?? null,
      step: n ? `${n.getAttribute('data-step')}/${n.getAttribute('data-revealed')}` : null,
      title: q('scenario-title')?.textContent ?? null,
      lang: document.documentElement.lang,
      playing: q('play')?.getAttribute('aria-pressed') === 'true',
    };
  });
  for (const k of ['published', 'ready', 'unacked', 'acked']) raw[k] = parseCount(raw[k]);
  assert.ok(raw.ledger, 'the ledger has no data-ledger');
  return raw;
}

/** Simulated seconds on the clock. */
export async function clockSeconds(page) {
  const text = (await page.getByTestId('clock').textContent()) ?? '';
  const m = text.match(/(\d+(?:\.\d+)?)/);
  assert.ok(m, `clock text ${JSON.stringify(text)} holds no number`);
  return Number(m[1]);
}

/** Choose a preset in the scenario library. */
export async function choosePreset(session, id) {
  const { page, check } = session;
  await page.getByTestId('open-picker').click();
  await poll(async () => (await page.getByTestId('picker').count()) === 1, { message: 'the picker', check });
  await page.getByTestId(`preset-${id}`).click();
  await poll(async () => (await page.getByTestId('picker').count()) === 0, { message: 'the picker to close', check });
}

/** The lesson ids the page lists. */
export async function lessonIds(page) {
  const ids = (await page.getByTestId('seminar-bar').getAttribute('data-lessons')) ?? '';
  return ids.split(' ').filter(Boolean);
}

/** The lesson files as authored, by id. */
/**
 * Every lesson file by id, in picker order. `LESSONS=14,15-jms` (id prefixes, comma-separated)
 * narrows the lesson walks to those lessons while one is being written.
 */
export function lessonFiles() {
  const dir = path.join(REPO_ROOT, 'scenarios', 'lessons');
  const only = (process.env.LESSONS ?? '').split(',').filter(Boolean);
  const out = {};
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    if (only.length && !only.some((p) => f.startsWith(p))) continue;
    out[f.replace(/\.json$/, '')] = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
  }
  return out;
}

/** A `#s=` fragment for a session object, encoded as the app encodes it. */
export function fragmentFor(session) {
  return `#s=${deflateRawSync(Buffer.from(JSON.stringify(session))).toString('base64url')}`;
}

/** The visible refusal: its title and located detail. */
export async function readNotice(session) {
  const { page, check } = session;
  await poll(async () => (await page.getByTestId('notice').count()) === 1, { message: 'a notice', check });
  const notice = page.getByTestId('notice');
  assert.ok(await notice.isVisible(), 'the notice is not visible');
  return {
    title: (await page.getByTestId('notice-title').textContent())?.trim(),
    detail: (await page.getByTestId('notice-detail').textContent())?.trim(),
  };
}

/** The app still runs: Play moves the clock. */
export async function assertStillRunning(session) {
  const { page, check } = session;
  const play = page.getByTestId('play');
  if ((await play.getAttribute('aria-pressed')) !== 'true') await play.click();
  const before = await clockSeconds(page);
  await poll(async () => (await clockSeconds(page)) > before, { message: 'the clock to move after Play', check });
}

/** The clock text the app shows at `atMs` (whole milliseconds). */
export function clockAt(atMs) {
  const ms = Math.round(atMs);
  return `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')} s`;
}

/** The position after one Next click (as src/narration.rs: a question is revealed first). */
export function nextPos(steps, { step, revealed }) {
  if (steps[step].question && !revealed) return { step, revealed: true };
  return { step: step + 1, revealed: false };
}

export async function narrationState(page) {
  return page.evaluate(() => {
    const n = document.querySelector('[data-testid="narration"]');
    const text = (id) => document.querySelector(`[data-testid="${id}"]`)?.textContent?.trim() ?? null;
    return n && {
      step: Number(n.getAttribute('data-step')),
      steps: Number(n.getAttribute('data-steps')),
      revealed: n.getAttribute('data-revealed') === 'true',
      atEnd: n.getAttribute('data-at-end') === 'true',
      moving: n.getAttribute('data-moving') === 'true',
      lang: n.getAttribute('lang'),
      highlight: n.getAttribute('data-highlight'),
      counter: text('narration-counter'),
      text: text('narration-text'),
      goal: text('narration-goal'),
      question: document.querySelector('[data-testid="narration-question"] p')?.textContent?.trim() ?? null,
      answer: document.querySelector('[data-testid="narration-answer"] p')?.textContent?.trim() ?? null,
      nextDisabled: document.querySelector('[data-testid="narration-next"]')?.disabled ?? null,
      clock: text('clock'),
      playing: document.querySelector('[data-testid="play"]')?.getAttribute('aria-pressed') === 'true',
    };
  });
}

/** Waits until the panel shows `want` (a partial narrationState), returning the state. */
export async function expectNarration(session, want, message) {
  // Next plays the clock to the step: a position is reached when that move is over.
  want = { moving: false, ...want };
  let last;
  try {
    return await poll(
      async () => {
        last = await narrationState(session.page);
        return last && Object.entries(want).every(([k, v]) => last[k] === v) && last;
      },
      { check: session.check, timeout: 10_000, message },
    );
  } catch (err) {
    throw new Error(`${err.message}\n  wanted ${JSON.stringify(want)}\n  shown  ${JSON.stringify(last)}`);
  }
}
