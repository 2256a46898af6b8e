// noVNC (core only) in headless Chromium, connected straight to vcmux's
// WebSocket port, once as it comes (Tight) and once with ZRLE: commands typed
// through it run, and its canvas shows what `vcmux render` makes of the
// console's bytes, pixel for pixel, before and after, the last time a screen
// full of text. Then two Tight pages share one encoding (encode once): the
// first watches a flood of screens in thousands of colours (Tight pieces of
// 196 KB in full colour, past pako's 100 KB output buffer), the second opens
// during the flood and joins the first's group, and both end pixel-exact
// and typing through the second runs.
// Run by novnc.sh:
//   node novnc.mjs WS_PORT WORK_DIR VCMUX HTTP_PORT
// novnc.html is served from 127.0.0.1:HTTP_PORT, so the page and the server
// share the loopback address space (Chromium blocks public pages from it).
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [wsPort, work, vcmux, httpPort] = process.argv.slice(2);
const consoleLog = join(work, 'console.log');
const vcmuxLog = join(work, 'vcmux.log');
const deadline = () => Date.now() + 60_000;
const say = (m) => console.log(`[novnc.mjs] ${m}`);

const context = await chromium.launchPersistentContext(mkdtempSync(join(work, 'chromium-')), {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});

/** A page of noVNC asking for `encoding`, connected; `name` tells it apart. */
const openPage = async (encoding, name) => {
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') say(`browser (${name}): ${m.text()}`); });
  await page.goto(`http://127.0.0.1:${httpPort}/novnc.html?port=${wsPort}&encoding=${encoding}`);
  await page.waitForFunction(() => window.connected || window.disconnected, null, { timeout: 60_000 });
  const failed = await page.evaluate(() => window.disconnected);
  if (failed) throw new Error(`${name}: noVNC disconnected: ${failed}`);
  say(`${name}: noVNC connected over WebSocket`);
  return page;
};

/** Whether the canvas of `page` equals `vcmux render` of the console log now. */
const canvasMatches = async (page, name) => {
  const captured = join(work, `novnc-${name}.png`);
  const expected = join(work, `expected-${name}.png`);
  const url = await page.evaluate(() => document.querySelector('#screen canvas').toDataURL('image/png'));
  writeFileSync(captured, Buffer.from(url.split(',')[1], 'base64'));
  try {
    execFileSync(vcmux, ['render', consoleLog, '-o', expected]);
    return execFileSync('python3', [join(here, 'compare.py'), captured, expected]).toString().trim();
  } catch (e) {
    return null;
  }
};

/** Waits until the canvas of `page` equals the render; fails after a minute. */
const waitForMatch = async (page, name, what) => {
  const end = deadline();
  for (;;) {
    const failed = await page.evaluate(() => window.disconnected);
    if (failed) throw new Error(`${name}: ${what}: noVNC disconnected: ${failed}`);
    const result = await canvasMatches(page, name);
    if (result) return say(`${name}: ${what}: ${result}`);
    if (Date.now() > end) {
      try {
        execFileSync('python3', [join(here, 'compare.py'), join(work, `novnc-${name}.png`),
          join(work, `expected-${name}.png`)], { stdio: 'inherit' });
      } catch (e) {}
      throw new Error(`${name}: ${what}: the canvas never matched`);
    }
    await page.waitForTimeout(200);
  }
};

/** Types `command` and Return through noVNC in `page`. */
const type = (page, command) => page.evaluate((text) => {
  for (const c of text) window.rfb.sendKey(c.codePointAt(0));
  window.rfb.sendKey(0xff0d, 'Enter');
}, command);

/** Waits until `check` holds, polling through `page`; fails after a minute. */
const until = async (page, what, check) => {
  const end = deadline();
  while (!check()) {
    if (Date.now() > end) throw new Error(`${what}: not within a minute`);
    await page.waitForTimeout(100);
  }
};

/** Waits until `marker` was printed on a line of its own. */
const printed = (page, marker) =>
  until(page, `'${marker}' ran`, () => readFileSync(consoleLog, 'utf8').includes(`\n${marker}\r`));

/** Types `command` in `page` and waits for its `marker`. */
const run = async (page, command, marker) => {
  await type(page, command);
  await printed(page, marker);
};

const logSize = () => statSync(consoleLog).size;
const joins = () => (readFileSync(vcmuxLog, 'utf8').match(/joined a Tight group at a keyframe/g) || []).length;

let ok = false;
try {
  for (const encoding of ['tight', 'zrle']) {
    const page = await openPage(encoding, encoding);
    await waitForMatch(page, encoding, 'canvas');
    await run(page, `echo typed-in-novnc-${encoding}`, `typed-in-novnc-${encoding}`);
    await waitForMatch(page, encoding, 'canvas after typing a command');
    await run(page, `clear; ls -l /usr/bin | head -40; echo full-${encoding}`, `full-${encoding}`);
    await waitForMatch(page, encoding, 'canvas of a screen full of text');
    const sent = new RegExp(`pixels go as ${encoding}`, 'i');
    if (!sent.test(readFileSync(vcmuxLog, 'utf8'))) throw new Error(`vcmux did not send ${encoding}`);
    await page.close();
  }

  // Two Tight pages, the second joining the first's group during a flood.
  const first = await openPage('tight', 'first');
  await waitForMatch(first, 'first', 'canvas');
  // Screen after screen of spaces on random true-colour backgrounds (1920
  // colours a screen, so Tight's pieces go in full colour), until told to stop
  // (5000 at most, 200 MB).
  const stop = join(work, 'stop-flood');
  const cells = `awk -v s=$i 'BEGIN { srand(s); for (c = 0; c < 1920; c++) ` +
    `printf "\\033[48;2;%d;%d;%dm ", rand() * 256, rand() * 256, rand() * 256; printf "\\033[0m\\n" }'`;
  await type(first, `i=0; while [ ! -e ${stop} ] && [ $i -lt 5000 ]; do i=$((i + 1)); ${cells}; done; echo flood-done`);
  let from = logSize();
  await until(first, 'a megabyte of colours before the join', () => logSize() > from + 1_000_000);
  const before = joins();
  const second = await openPage('tight', 'second');
  await until(second, 'the second page joins the group', () => joins() > before);
  say(`second: joined the group at a keyframe after ${Math.round((logSize() - from) / 1000)} KB of flood`);
  from = logSize();
  await until(second, 'a megabyte of colours after the join', () => logSize() > from + 1_000_000);
  writeFileSync(stop, '');
  await printed(first, 'flood-done');
  await waitForMatch(first, 'first', 'canvas after the flood, the second page beside it');
  await waitForMatch(second, 'second', 'canvas after the flood');
  await run(second, 'echo typed-in-the-second', 'typed-in-the-second');
  await waitForMatch(first, 'first', 'canvas after typing in the second');
  await waitForMatch(second, 'second', 'canvas after typing in the second');
  for (const [name, page] of [['first', first], ['second', second]]) {
    const failed = await page.evaluate(() => window.disconnected);
    if (failed) throw new Error(`${name}: noVNC disconnected: ${failed}`);
  }
  ok = true;
} catch (e) {
  say(`FAIL: ${e.message}`);
} finally {
  await context.close();
}
process.exit(ok ? 0 : 1);
