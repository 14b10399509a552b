// Sharing a run: a Share link opened in a fresh browser reproduces the exact state (clock,
// counters, ledger, lesson step, language); Export then Import does the same through a file;
// the autosaved session is offered back after a reload. The contract is in seminar-lib.mjs.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT, launchBrowser, openPage, poll, screenshot, startServer } from './harness.mjs';
import {
  TEST_TIMEOUT,
  choosePreset,
  clockAt,
  clockSeconds,
  expectNarration,
  lessonFiles,
  lessonIds,
  nextPos,
  readState,
  setLang,
  waitForApp,
} from './seminar-lib.mjs';

/** Runs the default scenario a while, crashes and restarts its worker, then pauses. */
async function makeHistory(session) {
  const { page, check } = session;
  const play = page.getByTestId('play');
  if ((await play.getAttribute('aria-pressed')) !== 'true') await play.click();
  await poll(async () => (await clockSeconds(page)) > 1.5, { message: 'the clock past 1.5 s', check });
  await page.getByTestId('tb-crash').click();
  await poll(async () => (await clockSeconds(page)) > 2.5, { message: 'the clock past 2.5 s', check });
  await page.getByTestId('tb-restart').click();
  await poll(async () => (await clockSeconds(page)) > 3.2, { message: 'the clock past 3.2 s', check });
  await play.click();
  await poll(async () => (await play.getAttribute('aria-pressed')) === 'false', { message: 'paused', check });
}

/** The state once it has stopped changing (the last frame has landed). */
async function settledState(page) {
  let last = await readState(page);
  for (;;) {
    await page.waitForTimeout(150);
    const now = await readState(page);
    if (JSON.stringify(now) === JSON.stringify(last)) return now;
    last = now;
  }
}

describe('sharing', () => {
  let server;
  let browser;
  let dir;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    dir = await mkdtemp(path.join(tmpdir(), 'broker-lab-share-'));
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a shared link reproduces the exact state in a fresh browser', { timeout: TEST_TIMEOUT }, async () => {
    const a = await openPage(browser);
    let link;
    let want;
    try {
      await a.page.goto(server.url);
      await waitForApp(a);
      await setLang(a, 'ko');
      await makeHistory(a);
      want = await settledState(a.page);
      assert.ok(want.published > 0);
      await a.page.getByTestId('share').click();
      await poll(async () => (await a.page.getByTestId('share-link').count()) === 1, { message: 'the share link', check: a.check });
      link = await a.page.getByTestId('share-link').inputValue();
      assert.match(link, /#s=[A-Za-z0-9_-]+$/);
      assert.equal(await a.page.evaluate(() => location.href), link, 'the address bar holds the link');
      // The clipboard may be refused headless; either way the status says what to do.
      const status = (await a.page.getByTestId('share-status').textContent())?.trim();
      assert.ok(['링크를 복사했습니다', '이 링크를 복사하세요'].includes(status), status);
      a.check();
    } finally {
      await a.close();
    }
    const b = await openPage(browser);
    try {
      await b.page.goto(link);
      await waitForApp(b);
      await poll(async () => (await readState(b.page)).clock === want.clock, { message: `the clock at ${want.clock}`, check: b.check });
      const got = await settledState(b.page);
      assert.deepEqual(got, want, 'the link did not reproduce the state');
      // And it is a live run: it plays on from there.
      await b.page.getByTestId('play').click();
      await poll(async () => (await clockSeconds(b.page)) > 3.6, { message: 'the restored run to play on', check: b.check });
      b.check();
    } finally {
      await b.close();
    }
  });

  test('a lesson step and its revealed answer travel in the link', { timeout: TEST_TIMEOUT }, async () => {
    const a = await openPage(browser);
    let link;
    let want;
    try {
      await a.page.goto(server.url);
      await waitForApp(a);
      await setLang(a, 'en');
      const [id] = await lessonIds(a.page);
      const steps = lessonFiles()[id].narration.steps;
      await choosePreset(a, id);
      let pos = { step: 0, revealed: false };
      await expectNarration(a, { ...pos, clock: clockAt(steps[0].at_ms) }, 'the first step');
      for (let i = 0; i < 3; i++) {
        pos = nextPos(steps, pos);
        await a.page.getByTestId('narration-next').click();
        await expectNarration(a, { ...pos, clock: clockAt(steps[pos.step].at_ms) }, `position ${i + 1}`);
      }
      want = await settledState(a.page);
      await a.page.getByTestId('share').click();
      link = await a.page.getByTestId('share-link').inputValue();
      a.check();
    } finally {
      await a.close();
    }
    const b = await openPage(browser);
    try {
      await b.page.goto(link);
      await waitForApp(b);
      await poll(async () => (await readState(b.page)).step === want.step, { message: `step ${want.step}`, check: b.check });
      assert.deepEqual(await settledState(b.page), want);
      b.check();
    } finally {
      await b.close();
    }
  });

  test('export then import reproduces the state', { timeout: TEST_TIMEOUT }, async () => {
    const a = await openPage(browser);
    const file = path.join(dir, 'session.json');
    let want;
    try {
      await a.page.goto(server.url);
      await waitForApp(a);
      await setLang(a, 'en');
      await makeHistory(a);
      want = await settledState(a.page);
      const [download] = await Promise.all([a.page.waitForEvent('download'), a.page.getByTestId('export').click()]);
      assert.equal(download.suggestedFilename(), 'broker-lab-session.json');
      await download.saveAs(file);
      a.check();
    } finally {
      await a.close();
    }
    const saved = JSON.parse(await readFile(file, 'utf8'));
    assert.equal(saved.kind, 'broker-lab-session');
    assert.ok(saved.scenario.inline, 'an exported file carries its scenario');
    assert.equal(saved.log.length, 2, 'the crash and the restart are logged');

    const b = await openPage(browser);
    try {
      await b.page.goto(server.url);
      await waitForApp(b);
      await b.page.getByTestId('import-file').setInputFiles(file);
      await poll(async () => (await readState(b.page)).clock === want.clock, { message: `the clock at ${want.clock}`, check: b.check });
      assert.deepEqual(await settledState(b.page), want, 'the import did not reproduce the state');
      assert.equal(await b.page.getByTestId('notice').count(), 0);
      b.check();
    } finally {
      await b.close();
    }
  });

  test('an imported lesson file opens at its first step', { timeout: TEST_TIMEOUT }, async () => {
    const s = await openPage(browser);
    const { page, check } = s;
    try {
      await page.goto(server.url);
      await waitForApp(s);
      await setLang(s, 'ko');
      const [id] = await lessonIds(page);
      const file = path.join(REPO_ROOT, 'scenarios', 'lessons', `${id}.json`);
      const lesson = JSON.parse(await readFile(file, 'utf8'));
      await page.getByTestId('import-file').setInputFiles(file);
      await poll(async () => (await readState(page)).step === '0/false', { message: 'the lesson panel', check });
      assert.equal((await page.getByTestId('narration-text').textContent())?.trim(), lesson.narration.steps[0].text.ko);
      assert.equal(await clockSeconds(page), lesson.narration.steps[0].at_ms / 1000);
      assert.equal((await page.getByTestId('scenario-title').textContent())?.trim(), lesson.title.ko);
      check();
    } finally {
      await s.close();
    }
  });

  test('the last session is offered back after a reload', { timeout: TEST_TIMEOUT }, async () => {
    const s = await openPage(browser);
    const { page, check } = s;
    try {
      await page.goto(server.url);
      await waitForApp(s);
      await setLang(s, 'en');
      await choosePreset(s, 'rmq-13-requeue-position');
      await poll(async () => (await clockSeconds(page)) > 1, { message: 'the example to play', check });
      await page.getByTestId('play').click();
      const want = await settledState(page);
      // The autosave runs every 3 s.
      await page.waitForTimeout(3_500);
      await page.reload();
      await waitForApp(s);
      const offer = page.getByTestId('restore-offer');
      await poll(() => offer.isVisible(), { message: 'the restore offer', check });
      assert.match((await offer.textContent()) ?? '', /RMQ-13/);
      await screenshot(page, 'restore-offer-1280');
      await page.getByTestId('restore-yes').click();
      await poll(async () => (await readState(page)).clock === want.clock, { message: `the clock at ${want.clock}`, check });
      assert.deepEqual(await settledState(page), want);
      assert.equal(await offer.count(), 0, 'the offer stays after restoring');
      check();
    } finally {
      await s.close();
    }
  });
});
