// Headless Chromium (playwright-core) driving noVNC pages served by vcmux,
// shared by novnc-served.mjs and gateway.mjs: launching it (trusting a CA
// through the NSS database of its own HOME, never by ignoring certificate
// errors), opening a page, waiting for noVNC to connect or give up, comparing
// its canvas with `vcmux render` of a console's bytes, and typing into it.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Polls `check` every 100 ms until it returns something true; throws after `ms`. */
export const until = async (what, check, ms = 60_000) => {
  const end = Date.now() + ms;
  for (;;) {
    const result = await check();
    if (result) return result;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

/**
 * A Chromium whose HOME is `home` (when given): Debian's Chromium trusts the
 * CAs of `$HOME/.pki/nssdb` (made by trusting_home in common.sh). Its
 * profile is a fresh directory under `work`.
 */
export const launch = (work, home) => chromium.launchPersistentContext(mkdtempSync(join(work, 'chromium-')), {
  executablePath: '/usr/bin/chromium',
  headless: true,
  env: home ? { ...process.env, HOME: home } : process.env,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});

/**
 * noVNC's state in `page`: 'connected'; 'ended' once it gave up (its connect
 * panel opens, as after any disconnection or refusal, since the page does not
 * reconnect); else 'connecting'.
 */
export const state = (page) => page.evaluate(() => {
  if (document.documentElement.classList.contains('noVNC_connected')) return 'connected';
  const panel = document.getElementById('noVNC_connect_dlg');
  return panel && panel.classList.contains('noVNC_open') ? 'ended' : 'connecting';
});

/**
 * Opens `url` in a new page of `context`; the page's errors go to `say`.
 * Returns the page, its responses and the URLs of its WebSockets.
 */
export const open = async (context, url, say) => {
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') say(`browser: ${m.text()}`); });
  const responses = [];
  const sockets = [];
  page.on('response', (r) => responses.push(r));
  page.on('websocket', (w) => sockets.push(w.url()));
  await page.goto(url);
  return { page, responses, sockets };
};

/** Waits until noVNC in `page` is connected. */
export const connected = async (page, what, say) => {
  await until(`${what}: connected`, async () => (await state(page)) === 'connected');
  say(`${what}: connected`);
};

/**
 * Waits until the canvas of `page` equals `vcmux render` of `consoleLog`
 * (pictures written in `work`, named after `name`), and says how it compared.
 */
export const canvasMatches = async ({ page, what, say, vcmux, work, consoleLog, name = 'served' }) => {
  const captured = join(work, `${name}.png`);
  const expected = join(work, `${name}-expected.png`);
  let last = '';
  await until(`${what}: the canvas equals vcmux render`, async () => {
    const url = await page.evaluate(() => document.querySelector('#noVNC_container canvas').toDataURL('image/png'));
    writeFileSync(captured, Buffer.from(url.split(',')[1], 'base64'));
    try {
      execFileSync(vcmux, ['render', consoleLog, '-o', expected]);
      last = execFileSync('python3', [join(here, 'compare.py'), captured, expected]).toString().trim();
      return true;
    } catch (e) {
      last = e.stdout ? e.stdout.toString() : String(e);
      return false;
    }
  }).catch((e) => { throw new Error(`${e.message}: ${last}`); });
  say(`${what}: ${last}`);
};

/** Clicks the canvas of `page` and types `text` and Enter. */
export const typeOn = async (page, text) => {
  await page.click('#noVNC_container canvas');
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
};

/** Waits until `marker` was printed on a line of its own in `consoleLog`. */
export const ran = (consoleLog, marker) =>
  until(`'${marker}' ran`, () => readFileSync(consoleLog, 'utf8').includes(`\n${marker}\r`));

/**
 * Checks that a Chromium whose HOME trusts no CA refuses `url`: the page does
 * not load, with a certificate error. Returns that error.
 */
export const refusedWithoutTheCa = async (work, url) => {
  const home = mkdtempSync(join(work, 'home-untrusting-'));
  const context = await launch(work, home);
  try {
    const page = await context.newPage();
    const error = await page.goto(url).then(() => null, (e) => e.message);
    if (!error || !/ERR_CERT_AUTHORITY_INVALID/.test(error)) {
      throw new Error(`a Chromium without the CA did not refuse ${url}: ${error || 'it loaded'}`);
    }
    return error.split('\n')[0];
  } finally {
    await context.close();
  }
};
