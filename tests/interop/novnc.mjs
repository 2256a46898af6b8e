// noVNC (core only) in headless Chromium, connected straight to vcmux's
// WebSocket port, once as it comes (Tight) and once with ZRLE: commands typed
// through it run, and its canvas shows what `vcmux render` makes of the
// console's bytes, pixel for pixel, before and after, the last time a screen
// full of text.
// Run by novnc.sh:
//   node novnc.mjs WS_PORT WORK_DIR VCMUX HTTP_PORT
// novnc.html is served from 127.0.0.1:HTTP_PORT, so the page and the server
// share the loopback address space (Chromium blocks public pages from it).
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [wsPort, work, vcmux, httpPort] = process.argv.slice(2);
const consoleLog = join(work, 'console.log');
const expected = join(work, 'expected.png');
const deadline = () => Date.now() + 60_000;
const say = (m) => console.log(`[novnc.mjs] ${m}`);

const context = await chromium.launchPersistentContext(mkdtempSync(join(work, 'chromium-')), {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
let ok = false;
try {
  for (const encoding of ['tight', 'zrle']) {
    const page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') say(`browser: ${m.text()}`); });
    await page.goto(`http://127.0.0.1:${httpPort}/novnc.html?port=${wsPort}&encoding=${encoding}`);
    await page.waitForFunction(() => window.connected || window.disconnected, null, { timeout: 60_000 });
    const failed = await page.evaluate(() => window.disconnected);
    if (failed) throw new Error(`noVNC disconnected: ${failed}`);
    say(`${encoding}: noVNC connected over WebSocket`);

    const canvasMatches = async () => {
      const url = await page.evaluate(() => document.querySelector('#screen canvas').toDataURL('image/png'));
      writeFileSync(join(work, 'novnc.png'), Buffer.from(url.split(',')[1], 'base64'));
      try {
        execFileSync(vcmux, ['render', consoleLog, '-o', expected]);
        return execFileSync('python3', [join(here, 'compare.py'), join(work, 'novnc.png'), expected])
          .toString().trim();
      } catch (e) {
        return null;
      }
    };
    const waitForMatch = async (what) => {
      const end = deadline();
      for (;;) {
        const result = await canvasMatches();
        if (result) return say(`${encoding}: ${what}: ${result}`);
        if (Date.now() > end) {
          try { execFileSync('python3', [join(here, 'compare.py'), join(work, 'novnc.png'), expected], { stdio: 'inherit' }); } catch (e) {}
          throw new Error(`${encoding}: ${what}: the canvas never matched`);
        }
        await page.waitForTimeout(200);
      }
    };
    const run = async (command, marker) => {
      await page.evaluate((text) => {
        for (const c of text) window.rfb.sendKey(c.codePointAt(0));
        window.rfb.sendKey(0xff0d, 'Enter');
      }, command);
      const end = deadline();
      while (!readFileSync(consoleLog, 'utf8').includes(`\n${marker}\r`)) {
        if (Date.now() > end) throw new Error(`${encoding}: the command never ran`);
        await page.waitForTimeout(200);
      }
    };
    await waitForMatch('canvas');
    await run(`echo typed-in-novnc-${encoding}`, `typed-in-novnc-${encoding}`);
    await waitForMatch('canvas after typing a command');
    await run(`clear; ls -l /usr/bin | head -40; echo full-${encoding}`, `full-${encoding}`);
    await waitForMatch('canvas of a screen full of text');
    const sent = new RegExp(`pixels go as ${encoding}`, 'i');
    if (!sent.test(readFileSync(join(work, 'vcmux.log'), 'utf8'))) throw new Error(`vcmux did not send ${encoding}`);
    await page.close();
  }
  ok = true;
} catch (e) {
  say(`FAIL: ${e.message}`);
} finally {
  await context.close();
}
process.exit(ok ? 0 : 1);
