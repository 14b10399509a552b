// Fork (#15 item 2): play the default scenario, scrub back, crash the consumer there. The run
// forks: the timeline shows two branches, the charts overlay the original dashed from the fork
// point, and switching plays the original again, in the exact state of a fresh replay (its
// digest equals the native runner's). A share link carries both branches.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { launchBrowser, poll, REPO_ROOT, screenshot, startServer, withPage } from './harness.mjs';
import { setLang, waitForApp } from './seminar-lib.mjs';

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

/** The digest of the default scenario without commands (the original branch) at `untilUs`. */
function nativeDigest(untilUs) {
  const out = execFileSync(
    'cargo',
    ['run', '-q', '--release', '-p', 'broker-sim', '--', 'run', 'scenarios/default.json', '--until', `${untilUs}us`],
    { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(out).digest;
}

async function openDashboard(session) {
  const { page, check } = session;
  await page.getByTestId('tab-dashboard').click();
  await poll(async () => (await page.getByTestId('tab-dashboard').getAttribute('aria-selected')) === 'true', {
    message: 'the dashboard tab',
    check,
  });
}

/** Two branches on the timeline and a dashed overlay on every chart. */
async function expectFork(session, playing) {
  const { page, check } = session;
  const timeline = page.getByTestId('timeline');
  await poll(async () => (await timeline.getAttribute('data-branches')) === '2', { message: 'two branches', check });
  await poll(async () => ((await page.getByTestId('branch-playing').textContent()) ?? '').includes(playing), {
    message: `playing ${playing}`,
    check,
  });
  // A crashed consumer finishes nothing: its latency may have a point or two; its backlog grows.
  for (const id of ['chart-backlog', 'chart-throughput', 'chart-latency']) {
    const min = id === 'chart-backlog' ? 10 : 0;
    await poll(async () => Number(await page.getByTestId(id).getAttribute('data-ghost-points')) > min, {
      message: `${id} overlays the other branch`,
      check,
    });
  }
}

test('a command behind the end forks the run; both branches play, overlay and travel in a link', { timeout: 300_000 }, async () => {
  let link;
  await withPage(browser, { width: 1280, height: 720 }, async (session) => {
    const { page, check } = session;
    await page.goto(server.url);
    await waitForApp(session);
    await setLang(session, 'ko');
    await openDashboard(session);
    const timeline = page.getByTestId('timeline');
    const topology = page.getByTestId('topology');
    const nowUs = async () => Number(await timeline.getAttribute('data-now-us'));
    const play = page.getByTestId('play');
    const setPlaying = async (on) => {
      if (((await play.getAttribute('aria-pressed')) === 'true') !== on) await play.click();
      await poll(async () => ((await play.getAttribute('aria-pressed')) === 'true') === on, { message: `playing ${on}`, check });
    };
    const speed = page.getByTestId('speed');
    // Chosen in the select: pressing + until it reads 10 can overshoot when a press lands
    // before the select shows the previous one.
    await speed.selectOption('10');
    await poll(async () => (await speed.inputValue()) === '10', { message: 'speed 10×', check });

    // 30 s of the original, then back to 40 % (12 s) and crash the consumer there.
    await setPlaying(true);
    await poll(async () => (await nowUs()) >= 30_000_000, { timeout: 60_000, message: '30 simulated seconds', check });
    await setPlaying(false);
    assert.equal(await timeline.getAttribute('data-branches'), '1');
    const box = await timeline.boundingBox();
    await page.mouse.click(box.x + 0.4 * box.width, box.y + box.height / 2);
    await poll(async () => (await nowUs()) < 20_000_000, { message: 'scrubbed back', check });
    const forkUs = await nowUs();
    await page.getByTestId('tb-crash').click();
    await poll(async () => (await page.getByTestId('tb-consumer-status').getAttribute('data-status')) === 'crashed', {
      message: 'the consumer crashed',
      check,
    });
    // The fork plays on 10 s without its consumer.
    await setPlaying(true);
    await poll(async () => (await nowUs()) >= forkUs + 10_000_000, { timeout: 60_000, message: 'the fork played on', check });
    await setPlaying(false);
    await expectFork(session, '분기');
    await poll(async () => (await timeline.boundingBox()).height >= 48, { message: 'a second row', check });
    await screenshot(page, 'fork-1280-ko');

    // Switch: the original at the same time, in the state of a fresh replay without the crash.
    const at = await nowUs();
    await page.getByTestId('branch-switch').click();
    await expectFork(session, '원래 실행');
    const [drawnUs, digest] = await poll(async () => {
      const drawn = Number(await topology.getAttribute('data-now-us'));
      return drawn === at ? [drawn, await topology.getAttribute('data-digest')] : null;
    }, { message: 'the original drawn', check });
    assert.equal(digest, nativeDigest(drawnUs), 'the original branch replays to the state of a fresh run');
    assert.notEqual(await page.getByTestId('tb-consumer-status').getAttribute('data-status'), 'crashed');
    await screenshot(page, 'fork-original-1280-ko');

    await page.getByTestId('share').click();
    await poll(async () => (await page.getByTestId('share-link').count()) === 1, { message: 'the share link', check });
    link = await page.getByTestId('share-link').inputValue();
    check();
  });

  // The link opens both branches, here at 1024×768 in English.
  await withPage(browser, { width: 1024, height: 768 }, async (session) => {
    const { page } = session;
    await page.goto(link);
    await waitForApp(session);
    await setLang(session, 'en');
    await openDashboard(session);
    await expectFork(session, 'Original');
    const ghosts = {};
    for (const id of ['chart-backlog', 'chart-throughput', 'chart-latency']) ghosts[id] = await page.getByTestId(id).getAttribute('data-ghost-points');
    console.log(`fork: overlay points from the link ${JSON.stringify(ghosts)}`);
    await screenshot(page, 'fork-1024-en');
    session.check();
  });
});
