// Two consoles through one nginx port, in headless Chromium trusting the test
// CA (run by gateway.sh):
//   node gateway.mjs NGINX_PORT WORK_DIR VCMUX HOME
// A Chromium without the CA refuses https://127.0.0.1:NGINX_PORT/console/a/.
// For each console NAME (a, b; console log WORK_DIR/NAME/console.log,
// password pw-NAME, control socket WORK_DIR/NAME/qmp.sock): its page
// https://127.0.0.1:NGINX_PORT/console/NAME/ asks for the password; console
// a's is typed into it, console b's page is opened again through a share link
// (`vcmux ctl share --page` with the gateway's URL) instead. Each connects
// over wss to /console/NAME/websockify, its canvas equals `vcmux render` of
// that console's bytes, and a line typed into it runs in that console's shell
// and not in the other's.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as browser from './browser.mjs';

const [nginxPort, work, vcmux, home] = process.argv.slice(2);
const origin = `https://127.0.0.1:${nginxPort}`;
const say = (m) => console.log(`[gateway.mjs] ${m}`);
const names = ['a', 'b'];
const consoleLog = (name) => join(work, name, 'console.log');

let ok = false;
const context = await browser.launch(work, home);
try {
  say(`a Chromium without the CA refuses the gateway: ${await browser.refusedWithoutTheCa(work, `${origin}/console/a/`)}`);
  const pages = {};
  for (const name of names) {
    const url = `${origin}/console/${name}/`;
    let { page, sockets } = await browser.open(context, url, say);
    await browser.until(`${url} asks for the password`, async () => {
      if ((await browser.state(page)) === 'ended') throw new Error(`${url}: noVNC gave up without asking for the password`);
      return page.evaluate(() => document.getElementById('noVNC_credentials_dlg').classList.contains('noVNC_open'));
    });
    say(`${url} asks for the password`);
    let expected = `wss://127.0.0.1:${nginxPort}/console/${name}/websockify`;
    if (name === 'a') {
      await page.fill('#noVNC_password_input', `pw-${name}`);
      await page.click('#noVNC_credentials_button');
      await browser.connected(page, `${url} with its password`, say);
    } else {
      await page.close();
      const link = execFileSync(vcmux, ['ctl', `unix:${join(work, name, 'qmp.sock')}`, 'share', '--page', url]).toString().trim();
      say(`share link: ${link}`);
      if (!link.startsWith(`${url}#path=websockify%3Ftoken%3D`)) throw new Error(`an odd link: ${link}`);
      ({ page, sockets } = await browser.open(context, link, say));
      await browser.connected(page, `${url} through a share link`, say);
      expected += `?token=${link.split('%3D')[1]}`;
    }
    if (sockets.join(' ') !== expected) throw new Error(`${url}: its WebSockets: ${sockets.join(' ')}, not ${expected}`);
    say(`its WebSocket: ${sockets[0].replace(/token=.*/, 'token=…')}`);
    await browser.canvasMatches({ page, what: `${url} shows console ${name}`, say, vcmux, work,
                                  consoleLog: consoleLog(name), name: `canvas-${name}` });
    pages[name] = page;
  }
  // nginx sends /console/a (no slash, where the page would look for its
  // files and WebSocket one level up) to /console/a/.
  const bare = await context.newPage();
  await bare.goto(`${origin}/console/a`);
  if (bare.url() !== `${origin}/console/a/`) throw new Error(`${origin}/console/a ended at ${bare.url()}`);
  say(`${origin}/console/a is redirected to ${bare.url()}`);
  await bare.close();
  // The two screens differ (else "each its own" would prove nothing).
  const [a, b] = names.map((name) => readFileSync(join(work, `canvas-${name}.png`)));
  if (a.equals(b)) throw new Error('the two consoles show the same picture');
  for (const name of names) {
    const marker = `typed-into-${name}`;
    await browser.typeOn(pages[name], `echo ${marker}`);
    await browser.ran(consoleLog(name), marker);
    await browser.canvasMatches({ page: pages[name], what: `console ${name} after typing`, say, vcmux, work,
                                  consoleLog: consoleLog(name), name: `canvas-${name}` });
  }
  for (const name of names) {
    const other = names.find((n) => n !== name);
    if (readFileSync(consoleLog(other), 'utf8').includes(`typed-into-${name}`)) {
      throw new Error(`what was typed into console ${name}'s page reached console ${other}`);
    }
  }
  say('keys typed into each page reached its own shell only');
  ok = true;
} catch (e) {
  say(`FAIL: ${e.message}`);
} finally {
  await context.close();
}
process.exit(ok ? 0 : 1);
