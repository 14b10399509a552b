// Untrusted input: malformed files and links are refused with a visible, located reason
// (never an alert, never HTML), without a panic, a console error or a frozen tab, and the app
// keeps running the scenario it had. The contract is in seminar-lib.mjs.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { REPO_ROOT, launchBrowser, openPage, poll, screenshot, startServer } from './harness.mjs';
import { TEST_TIMEOUT, assertStillRunning, fragmentFor, readNotice, setLang, waitForApp } from './seminar-lib.mjs';

const FILE_TITLE = 'This file could not be opened';
const LINK_TITLE = 'This link could not be opened';

/** A session as the app writes one, with `patch` applied. */
function session(patch) {
  return {
    kind: 'broker-lab-session',
    version: 1,
    scenario: { preset: 'default' },
    seed: 1,
    log: [],
    time_us: 1_000_000,
    lang: 'en',
    ...patch,
  };
}

const crash = (at) => ({ at, command: { crash_consumer: { consumer: 'worker' } } });

describe('untrusted input', () => {
  let server;
  let browser;
  let dir;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    dir = await mkdtemp(path.join(tmpdir(), 'broker-lab-untrusted-'));
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('malformed files are refused with located reasons and the app keeps running', { timeout: TEST_TIMEOUT }, async () => {
    const defaultScenario = JSON.parse(await readFile(path.join(REPO_ROOT, 'scenarios', 'default.json'), 'utf8'));
    const ghost = { ...defaultScenario, script: [{ at_ms: 500, command: { crash_consumer: { consumer: 'ghost' } } }] };
    const cases = [
      ['not-json.json', 'hello {', /^not valid JSON: .*line 1 column/],
      ['wrong-version.json', JSON.stringify({ ...defaultScenario, version: 2 }), /^invalid scenario: version: unsupported version 2/],
      ['deep.json', '['.repeat(200_000) + ']'.repeat(200_000), /^not valid JSON: recursion limit exceeded/],
      ['ghost.json', JSON.stringify(ghost), /^invalid scenario: script\[0\]\.command: no consumer named "ghost" is declared$/],
      ['bad-queue.json', JSON.stringify({ ...defaultScenario, queues: [{ name: 'orders', max_length: -3 }] }), /^invalid scenario: queues\[0\]\.max_length: /],
      ['session-v9.json', JSON.stringify(session({ version: 9 })), /^invalid session: version: unsupported session version 9/],
      ['session-typo.json', JSON.stringify(session({ log: [{ at: 0, command: { crash_consumr: {} } }] })), /^invalid session: log\[0\]\.command: unknown variant `crash_consumr`/],
      ['html.json', '<img src=x onerror=alert(1)>', /^not valid JSON: /],
      ['utf16.json', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(JSON.stringify(defaultScenario), 'utf16le')]),
        /^the file could not be read as text: the file is UTF-16 \(byte-order mark at byte 0\); save it as UTF-8/],
      ['latin1.json', Buffer.from('{"version":1,"title":{"en":"caf\xe9","ko":"x"}}', 'latin1'),
        /^the file could not be read as text: the file is not valid UTF-8: byte 31 /],
    ];
    const big = path.join(dir, 'big.json');
    await writeFile(big, Buffer.alloc(51 * 1024 * 1024, 0x20));

    const s = await openPage(browser);
    const { page, check } = s;
    const dialogs = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      d.dismiss();
    });
    try {
      await page.goto(server.url);
      await waitForApp(s);
      await setLang(s, 'en');
      const title = await page.getByTestId('scenario-title').textContent();
      const files = [...cases.map(([name]) => path.join(dir, name)), big];
      for (const [name, text] of cases) await writeFile(path.join(dir, name), text);
      const expected = [...cases.map(([, , re]) => re), /^the file is larger than 50 MB: 51\.0 MB$/];
      for (let i = 0; i < files.length; i++) {
        await page.getByTestId('import-file').setInputFiles(files[i]);
        const notice = await readNotice(s);
        assert.equal(notice.title, FILE_TITLE, files[i]);
        assert.match(notice.detail, expected[i], path.basename(files[i]));
        if (path.basename(files[i]) === 'ghost.json') await screenshot(page, 'untrusted-file-1280');
        // Text, never markup: the hostile file's tag is not in the DOM as an element.
        assert.equal(await page.locator('[data-testid="notice"] img').count(), 0);
        await page.getByTestId('notice-close').click();
        await poll(async () => (await page.getByTestId('notice').count()) === 0, { message: 'the notice to close', check });
        assert.equal(await page.getByTestId('scenario-title').textContent(), title, 'a refused file replaced the scenario');
      }
      assert.deepEqual(dialogs, [], 'an alert was shown');
      await assertStillRunning(s);
      check();
    } finally {
      await s.close();
    }
  });

  test('a file with a byte-order mark opens, and a zero-time loop stops the clock with the reason shown', { timeout: TEST_TIMEOUT }, async () => {
    const loop = await readFile(path.join(REPO_ROOT, 'sim', 'tests', 'robustness', 'F2-timeout-zero-time-livelock.json'));
    const file = path.join(dir, 'bom-loop.json');
    await writeFile(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), loop]));
    const s = await openPage(browser);
    const { page, check } = s;
    try {
      await page.goto(server.url);
      await waitForApp(s);
      await setLang(s, 'en');
      await page.getByTestId('import-file').setInputFiles(file);
      await page.getByTestId('play').click();
      const text = await poll(async () => {
        const badge = page.getByTestId('halted');
        return (await badge.count()) > 0 ? badge.textContent() : null;
      }, { message: 'the halt badge', check });
      assert.match(text, /The clock stopped at 0\.000 ?s: message m0 went round 10001 times/);
      assert.equal(await page.getByTestId('notice').count(), 0, 'the BOM file was refused');
      await screenshot(page, 'halted-zero-time-1280');
      check();
    } finally {
      await s.close();
    }
  });

  test('malformed links are refused with a message and never freeze the tab', { timeout: TEST_TIMEOUT }, async () => {
    const deflateBomb = `#s=${deflateRawSync(Buffer.alloc(60 * 1024 * 1024, 0x20)).toString('base64url')}`;
    const cases = [
      ['#s=garbage!!', /^the link is damaged or cut short: /],
      [`#s=${'A'.repeat(1_500_000)}`, /^the link is damaged or cut short: it holds no compressed session$/],
      [deflateBomb, /^the link is damaged or cut short: it unpacks to more than 50 MB$/],
      [fragmentFor(session({ log: Array.from({ length: 10_001 }, () => crash(0)) })), /^too many commands \(at most 10,000\): log: 10001 > 10000$/],
      [fragmentFor(session({ time_us: 9e18 })), /^the clock position is past one simulated year/],
      // 300 simulated days of the default scenario: refused after a capped replay.
      [fragmentFor(session({ time_us: 300 * 24 * 3600 * 1e6 })), /^replaying it would take too long: /],
      [fragmentFor(session({ log: [crash(5_000_000)] })), /^invalid session: log\[0\]\.at: after the session's time 1\.000s$/],
      [fragmentFor(session({ scenario: { preset: 'no-such-lesson' } })), /^no built-in scenario has this name: "no-such-lesson"$/],
      [fragmentFor(session({ scenario: { inline: { version: 1, consumers: [{ name: 'c', source: { queue: 'nowhere' } }] } } })), /^invalid scenario: scenario\.inline\.consumers\[0\]/],
      [fragmentFor(session({ step: { index: 4 } })), /^invalid session: step\.index: 4 is not a step of this scenario$/],
    ];
    const s = await openPage(browser);
    const { page, check } = s;
    try {
      // The first link on a fresh load, the rest as the address bar changes (hashchange).
      await page.goto(`${server.url}#s=garbage!!`);
      await waitForApp(s);
      await setLang(s, 'en');
      for (const [fragment, re] of cases) {
        const started = Date.now();
        await page.evaluate((f) => {
          location.hash = f;
        }, fragment);
        const notice = await readNotice(s);
        assert.equal(notice.title, LINK_TITLE);
        assert.match(notice.detail, re, fragment.slice(0, 80));
        assert.ok(Date.now() - started < 15_000, `refusing ${fragment.slice(0, 40)} took ${Date.now() - started} ms`);
        await page.getByTestId('notice-close').click();
        await poll(async () => (await page.getByTestId('notice').count()) === 0, { message: 'the notice to close', check });
        // Back to a plain URL, so the next fragment is a change.
        await page.evaluate(() => history.replaceState(null, '', location.pathname));
      }
      // A fragment over 10 MB is refused before anything is decoded.
      await page.evaluate(() => {
        location.hash = `s=${'A'.repeat(11 * 1024 * 1024)}`;
      });
      const notice = await readNotice(s);
      assert.match(notice.detail, /^the link is longer than 10 MB: 11\.0 MB$/);
      await screenshot(page, 'untrusted-link-1280');
      await assertStillRunning(s);
      check();
    } finally {
      await s.close();
    }
  });

  test('a library file that cannot be fetched or is damaged is refused, naming the file, and the app keeps running', { timeout: TEST_TIMEOUT }, async () => {
    // The browser reports the refused requests itself; the app must report nothing else.
    // No service worker: it would keep the real files and serve them past the page's routes.
    const s = await openPage(browser, { allow: [/Failed to load resource/], serviceWorkers: 'block' });
    const { page, check } = s;
    try {
      const file = (name) => (url) => url.pathname.endsWith(name);
      await page.route(file('/scenarios/lessons/05-crash-redelivery.json'), (route) => route.abort());
      await page.route(file('/scenarios/lessons/01-deleted-on-ack.json'), (route) =>
        route.fulfill({ status: 200, contentType: 'application/json', body: '{"version": 1, "latency_ms": "slow"}' }),
      );
      await page.goto(server.url);
      await waitForApp(s);
      const cases = [
        ['en', '05-crash-redelivery', 'This scenario could not be opened', /^the scenario file could not be fetched: scenarios\/lessons\/05-crash-redelivery\.json: /],
        ['en', '01-deleted-on-ack', 'This scenario could not be opened', /^invalid scenario: scenarios\/lessons\/01-deleted-on-ack\.json: latency_ms: /],
        ['ko', '05-crash-redelivery', '이 시나리오를 열 수 없습니다', /^시나리오 파일을 받아 오지 못했습니다: scenarios\/lessons\/05-crash-redelivery\.json: /],
      ];
      for (const [lang, id, title, re] of cases) {
        await setLang(s, lang);
        await page.getByTestId('open-picker').click();
        await page.getByTestId(`preset-${id}`).click();
        const notice = await readNotice(s);
        assert.equal(notice.title, title);
        assert.match(notice.detail, re);
        assert.equal(await page.getByTestId('preset-loading').count(), 0, 'the loading note goes away');
        if (lang === 'en' && id === '01-deleted-on-ack') await screenshot(page, 'untrusted-library-file-1280');
        await page.getByTestId('notice-close').click();
        await poll(async () => (await page.getByTestId('notice').count()) === 0, { message: 'the notice to close', check });
      }
      // Still the default scenario, and it runs.
      assert.doesNotMatch((await page.getByTestId('scenario-title').textContent()) ?? '', /Lesson|강/);
      await assertStillRunning(s);
      check();
    } finally {
      await s.close();
    }
  });

  test('refusals are shown in Korean too', { timeout: TEST_TIMEOUT }, async () => {
    const s = await openPage(browser);
    const { page, check } = s;
    try {
      await page.goto(server.url);
      await waitForApp(s);
      await setLang(s, 'ko');
      await page.evaluate(() => {
        location.hash = 's=garbage!!';
      });
      const notice = await readNotice(s);
      assert.equal(notice.title, '이 링크를 열 수 없습니다');
      assert.match(notice.detail, /^링크가 손상되었거나 잘렸습니다: /);
      check();
    } finally {
      await s.close();
    }
  });
});
