// node /work/notes/shot.mjs <dist> <lesson-id> <w> <h> <present 0|1> <steps> <out.png>
import { startServer, launchBrowser, openPage } from './harness.mjs';
import { waitForApp, setLang } from './seminar-lib.mjs';
const [dist, id, w, h, present, steps, out] = process.argv.slice(2);
process.env.BROKER_LAB_DIST = dist;
const server = await startServer(dist);
const browser = await launchBrowser();
const session = await openPage(browser, { width: +w, height: +h });
const { page } = session;
await page.goto(`${server.url}?scenario=${id}${present === '1' ? '&present=1' : ''}`);
await waitForApp(session);
await setLang(session, 'ko');
for (let i = 0; i < +steps; i++) { await page.getByTestId('narration-next').click(); await page.waitForTimeout(2500); }
await page.waitForTimeout(800);
const c = await page.evaluate(() => { const c = document.querySelector('canvas'); const r = c.getBoundingClientRect(); return [r.width, r.height, c.width, c.height, devicePixelRatio]; });
console.log('canvas', c);
await page.screenshot({ path: out });
await browser.close(); await server.close();
