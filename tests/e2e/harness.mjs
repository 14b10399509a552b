// Shared helpers for Broker Lab's end-to-end tests.
//
// - startServer(): a tiny static file server (node:http) for dist/ on 127.0.0.1
//   with an ephemeral port and correct MIME types (application/wasm included).
// - launchBrowser(): Debian's headless Chromium (/usr/bin/chromium) through
//   playwright-core; no browser is ever downloaded. Playwright gives every launch
//   a fresh temporary profile directory and deletes it when the browser closes.
// - openPage(): a page at a given viewport that records console errors, page
//   errors, crashes and any text containing "panicked"; check() throws on any,
//   and every poll() calls it, so a panic fails the test at once.
// - screenshot(): saves target/e2e/<name>.png.
//
// Environment overrides: BROKER_LAB_DIST (directory to serve, default dist/),
// CHROMIUM_PATH (default /usr/bin/chromium).

import { createServer } from 'node:http';
import { gzipSync } from 'node:zlib';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DIST_DIR = path.resolve(process.env.BROKER_LAB_DIST ?? path.join(REPO_ROOT, 'dist'));
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'target', 'e2e');
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.toml': 'text/plain; charset=utf-8',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.webmanifest': 'application/manifest+json',
};

export function mimeType(file) {
  return MIME_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

async function isFile(p) {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/**
 * Serve `root` (default dist/) on 127.0.0.1 with an ephemeral port.
 * Paths without a file extension that match no file fall back to index.html.
 * With `gzip`, bodies are gzipped for clients that accept it, as a real static server does
 * (the first-paint figures over a throttled network need that).
 * @returns {Promise<{url: string, port: number, close: () => Promise<void>}>}
 */
export async function startServer(root = DIST_DIR, { gzip = false } = {}) {
  const gzipped = new Map();
  if (!existsSync(path.join(root, 'index.html'))) {
    throw new Error(`${root}/index.html not found: build the app first (trunk build --release)`);
  }
  const server = createServer(async (req, res) => {
    try {
      const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');
      const rel = path.normalize(decodeURIComponent(pathname)).replace(/^([/\\])+/, '');
      let file = path.resolve(root, rel);
      if (file !== root && !file.startsWith(root + path.sep)) {
        res.writeHead(403).end('forbidden');
        return;
      }
      if (!(await isFile(file))) {
        const dirIndex = path.join(file, 'index.html');
        if (await isFile(dirIndex)) {
          file = dirIndex;
        } else if (path.extname(rel) === '') {
          file = path.join(root, 'index.html');
        } else {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
          return;
        }
      }
      let body = await readFile(file);
      const headers = { 'content-type': mimeType(file), 'cache-control': 'no-store' };
      if (gzip && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
        if (!gzipped.has(file)) gzipped.set(file, gzipSync(body, { level: 9 }));
        body = gzipped.get(file);
        headers['content-encoding'] = 'gzip';
      }
      headers['content-length'] = body.length;
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** Launch headless Debian Chromium. Close it with `await browser.close()`. */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} not found: run \`make setup-test\` (apt-get install chromium)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
}

function describeLocation(loc) {
  if (!loc || !loc.url) return '';
  return ` (${loc.url}:${loc.lineNumber ?? 0}:${loc.columnNumber ?? 0})`;
}

/**
 * Open a page at the given viewport in its own browser context.
 * `allow` is a list of RegExps for errors a test provokes on purpose (a panic
 * test, say): matching reports go to `allowed` instead of `errors`.
 * `serviceWorkers: 'block'` keeps static/sw.js out, so `page.route` sees every request.
 * @returns {Promise<{page: import('playwright-core').Page, errors: string[],
 *   allowed: string[], check: () => void, close: () => Promise<void>}>}
 */
export async function openPage(browser, { width = 1280, height = 720, allow = [], welcome = false, serviceWorkers = 'allow' } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1, serviceWorkers });
  // The start screen shows on a browser's first visit; a test sees it only when it asks.
  if (!welcome) {
    await context.addInitScript(() => localStorage.setItem('broker-lab.welcomed', '1'));
  }
  const page = await context.newPage();
  const errors = [];
  const allowed = [];
  const record = (report) => (allow.some((re) => re.test(report)) ? allowed : errors).push(report);
  page.on('console', (msg) => {
    const text = msg.text();
    if (msg.type() === 'error' || /panicked/i.test(text)) {
      record(`console.${msg.type()}: ${text}${describeLocation(msg.location())}`);
    }
  });
  page.on('pageerror', (err) => {
    record(`pageerror: ${err?.stack ?? err}`);
  });
  page.on('crash', () => {
    errors.push('page crashed');
  });
  const check = () => {
    if (errors.length > 0) {
      throw new Error(`the page reported ${errors.length} error(s):\n  ${errors.join('\n  ')}`);
    }
  };
  return {
    page,
    errors,
    allowed,
    check,
    close: () => context.close(),
  };
}

/**
 * Open a page, run `fn(session)`, then fail if the page reported any error.
 * The context is closed whatever happens.
 */
export async function withPage(browser, viewport, fn) {
  const session = await openPage(browser, viewport);
  try {
    await fn(session);
    session.check();
  } finally {
    await session.close();
  }
}

/**
 * Poll `fn` until it returns a truthy value (returned) or `timeout` ms pass.
 * `check` (e.g. session.check) runs before each attempt so page errors fail fast.
 */
export async function poll(fn, { timeout = 20_000, interval = 100, message = 'condition', check } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  let lastError;
  for (;;) {
    check?.();
    try {
      last = await fn();
      lastError = undefined;
      if (last) return last;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastError ? `last error: ${lastError.message ?? lastError}` : `last value: ${JSON.stringify(last)}`;
      throw new Error(`timed out after ${timeout} ms waiting for ${message} (${detail})`);
    }
    await sleep(interval);
  }
}

/** Parse a counter such as "12,345" or "12 345" by stripping non-digits. */
export function parseCount(text) {
  const digits = String(text ?? '').replace(/\D/g, '');
  if (digits === '') {
    throw new Error(`counter text ${JSON.stringify(text)} holds no digits`);
  }
  return Number(digits);
}

/** Wait for `n` animation frames in the page (lets a last render land). */
export async function nextFrames(page, n = 2) {
  await page.evaluate(
    (count) =>
      new Promise((resolve) => {
        let left = count;
        const step = () => (--left <= 0 ? resolve() : requestAnimationFrame(step));
        requestAnimationFrame(step);
      }),
    n,
  );
}

/** Save a viewport screenshot to target/e2e/<name>.png and return its path. */
export async function screenshot(page, name) {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/** Opens the app on an embedded scenario (`?scenario=id`) and waits for its title. */
export async function openScenario(session, server, id, title) {
  const { page, check } = session;
  await page.goto(`${server.url}?scenario=${id}`, { waitUntil: 'load' });
  await poll(async () => ((await page.getByTestId('scenario-title').textContent()) ?? '').includes(title), {
    message: `scenario ${id}`,
    check,
  });
}

/** Selects an entity in the inspector's picker and waits for the inspector to show it. */
export async function inspect(session, name) {
  const { page, check } = session;
  await page.getByTestId('inspect-select').selectOption({ label: name });
  await poll(async () => (await page.getByTestId('inspector-title').textContent()) === name, {
    message: `the inspector on ${name}`,
    check,
  });
}
