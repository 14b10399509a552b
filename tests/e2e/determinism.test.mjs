// The same scenario and seed give the identical trace natively and in wasm: the page's run
// fingerprint (a digest of every event so far) must equal the headless runner's at the same
// simulated time.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { launchBrowser, poll, REPO_ROOT, screenshot, startServer, withPage } from './harness.mjs';

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

function nativeDigest(scenario, untilUs) {
  const out = execFileSync(
    'cargo',
    ['run', '-q', '--release', '-p', 'broker-sim', '--', 'run', scenario, '--until', `${untilUs}us`],
    { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(out).digest;
}

test('the wasm run and the native runner give the same trace digest', { timeout: 300_000 }, async () => {
  await withPage(browser, { width: 1280, height: 720 }, async ({ page, check }) => {
    await page.goto(server.url, { waitUntil: 'load' });
    const canvas = page.locator('[data-testid=topology]');
    await poll(async () => Number(await canvas.getAttribute('data-now-us')) > 3_000_000, {
      timeout: 30_000,
      message: 'three simulated seconds',
      check,
    });
    const play = page.locator('[data-testid=play]');
    if ((await play.getAttribute('aria-pressed')) === 'true') await play.click();
    // Two reads far apart agree once the pause has landed.
    const read = async () => [await canvas.getAttribute('data-now-us'), await canvas.getAttribute('data-digest')];
    const [nowUs, digest] = await poll(async () => {
      const a = await read();
      await new Promise((r) => setTimeout(r, 300));
      const b = await read();
      return a[0] === b[0] && a[1] === b[1] ? a : null;
    }, { message: 'a paused clock', check });
    assert.match(digest, /^[0-9a-f]{16}$/);
    assert.equal(
      digest,
      nativeDigest('scenarios/default.json', Number(nowUs)),
      `digest at ${nowUs} µs differs between wasm and native`,
    );
    await screenshot(page, 'determinism-1280');
  });
});

test('prefers-reduced-motion stops messages gliding', async () => {
  for (const [reducedMotion, expected] of [['reduce', 'reduced'], ['no-preference', 'full']]) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, reducedMotion });
    try {
      const page = await context.newPage();
      await page.goto(server.url, { waitUntil: 'load' });
      const motion = await poll(
        () => page.locator('[data-testid=topology]').getAttribute('data-motion'),
        { message: 'the canvas motion mode' },
      );
      assert.equal(motion, expected, `with reducedMotion=${reducedMotion}`);
    } finally {
      await context.close();
    }
  }
});
