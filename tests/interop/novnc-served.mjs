// The page vcmux serves on its websocket port, in headless Chromium: every
// request the page makes goes to vcmux (any other is a failure). Run by
// novnc-served.sh:
//   node novnc-served.mjs http|https WS_PORT WORK_DIR VCMUX QMP_SOCKET [HOME]
// Over https, Chromium runs with HOME (whose NSS database trusts the test CA)
// and the page is wss: nothing ignores certificate errors.
// 0. (https) A Chromium whose HOME trusts no CA refuses the page.
// 1. SCHEME://127.0.0.1:WS_PORT/ connects at once; its canvas equals `vcmux
//    render` of the console's bytes; a command typed on its keyboard runs.
// 2. A view-only share link (`vcmux ctl share --view-only`), opened as printed
//    and again without the page's own view_only setting (so only the server
//    stops it): its canvas matches, and what it types never reaches the shell.
// 3. `vcmux ctl unshare` disconnects that page within a second.
// 4. A link past its `--expires` is refused: the page never connects.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as browser from './browser.mjs';

const [scheme, wsPort, work, vcmux, qmp, home] = process.argv.slice(2);
const origin = `${scheme}://127.0.0.1:${wsPort}`;
const wsOrigin = `${scheme === 'https' ? 'wss' : 'ws'}://127.0.0.1:${wsPort}/`;
const consoleLog = join(work, 'console.log');
const say = (m) => console.log(`[novnc-served.mjs ${scheme}] ${m}`);
const ctl = (...args) => execFileSync(vcmux, ['ctl', `unix:${qmp}`, ...args]).toString();
const { until, state } = browser;

const context = await browser.launch(work, home);
const foreign = [];
context.on('request', (r) => { if (!r.url().startsWith(origin) && !r.url().startsWith(wsOrigin)) foreign.push(r.url()); });
const vcmuxLog = () => readFileSync(join(work, 'vcmux.log'), 'utf8');
const open = (url) => browser.open(context, url, say);
const connected = (page, what) => browser.connected(page, what, say);
const canvasMatches = (page, what) => browser.canvasMatches({ page, what, say, vcmux, work, consoleLog });
const typeOn = browser.typeOn;
const ran = (marker) => browser.ran(consoleLog, marker);

let ok = false;
try {
  // 0. Over https, the trust is the CA's.
  if (scheme === 'https') {
    say(`a Chromium without the CA refuses the page: ${await browser.refusedWithoutTheCa(work, `${origin}/`)}`);
  }
  // 1. The page as it comes.
  const { page: main, responses, sockets } = await open(`${origin}/`);
  await connected(main, 'the page at /');
  if (sockets.join(' ') !== `${wsOrigin}websockify`) throw new Error(`the page's WebSockets: ${sockets.join(' ')}`);
  say(`its WebSocket: ${sockets[0]}`);
  const first = responses.find((r) => r.url() === `${origin}/`);
  if (first.headers()['cache-control'] !== 'no-cache') throw new Error('the page is not served no-cache');
  await canvasMatches(main, 'the page at /');
  await typeOn(main, 'echo typed-in-served-page');
  await ran('typed-in-served-page');
  await canvasMatches(main, 'after typing');

  // 2. A view-only link.
  const link = ctl('share', '--view-only').trim();
  say(`view-only link: ${link}`);
  if (!link.startsWith(`${origin}/#path=websockify%3Ftoken%3D`)) throw new Error(`an odd link: ${link}`);
  const pages = [];
  for (const url of [link, link.replace('&view_only=true', '')]) {
    const { page } = await open(url);
    await connected(page, `view-only link${url === link ? '' : ' without the page\'s view_only'}`);
    await canvasMatches(page, 'the view-only page');
    await typeOn(page, 'echo leaked-from-view-only');
    pages.push(page);
  }
  // The read-write page types after them: when its line has run, the
  // view-only pages' keys had long arrived, and must have been dropped.
  await typeOn(main, 'echo after-the-view-only-pages');
  await ran('after-the-view-only-pages');
  if (readFileSync(consoleLog, 'utf8').includes('leaked')) throw new Error('a view-only page typed into the shell');
  say('the view-only pages typed nothing into the shell');
  const viewers = JSON.parse(ctl('query', 'vnc', '--json')).clients.filter((c) => c['x-vcmux-share']);
  if (viewers.length !== 2 || !viewers.every((c) => c['x-vcmux-view-only'])) {
    throw new Error(`query-vnc does not list the two view-only share viewers: ${JSON.stringify(viewers)}`);
  }

  // 3. Unshared: its pages are disconnected within a second.
  const shares = JSON.parse(ctl('share', '--list', '--json'));
  const started = Date.now();
  ctl('unshare', link);
  for (const page of pages) await until('an unshared page is disconnected', async () => (await state(page)) === 'ended', 1000);
  say(`unshared: both pages disconnected in ${Date.now() - started} ms (share ${shares[0].id})`);
  const refusedBefore = (vcmuxLog().match(/refused .*: no share has this token or id/g) || []).length;
  const { page: again } = await open(link);
  await until('a revoked link is refused', async () => (await state(again)) === 'ended');
  if ((vcmuxLog().match(/refused .*: no share has this token or id/g) || []).length !== refusedBefore + 1) {
    throw new Error('vcmux did not log the revoked link refused');
  }
  say('a revoked link is refused');

  // 4. Expired.
  const brief = ctl('share', '--expires', '1s').trim();
  await until('the brief link expires', () => !ctl('share', '--list').includes('read-write'), 10_000);
  const { page: late } = await open(brief);
  await until('an expired link is refused', async () => (await state(late)) === 'ended');
  if (!/refused .*: the share share\d+ has expired/.test(vcmuxLog())) {
    throw new Error('vcmux did not log the expired link');
  }
  say('an expired link is refused');
  if (foreign.length) throw new Error(`the page loaded from elsewhere: ${foreign.join(' ')}`);
  ok = true;
} catch (e) {
  say(`FAIL: ${e.message}`);
} finally {
  await context.close();
}
process.exit(ok ? 0 : 1);
