#!/usr/bin/env node
// Drives the web client (conf/html) in headless Chromium for t/088: a fake
// microphone plays a WAV, the page places a call, and this prints the
// page's state (window.rtagent) as JSON once the agent's reply is in the
// transcript and its audio has played, or at the timeout.
//
//   node t/helpers/web-browser.mjs --url http://127.0.0.1:PORT/?codec=opus
//        --wav caller.wav --shot page.png [--expect 'You said:']
//        [--timeout-ms 60000] [--chromium /usr/bin/chromium]

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../tools/'));
const { chromium } = require('playwright-core');

const args = { expect: 'You said:', timeoutMs: 60000,
               chromium: '/usr/bin/chromium' };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i], v = () => process.argv[++i];
  if (a === '--url') args.url = v();
  else if (a === '--wav') args.wav = v();
  else if (a === '--shot') args.shot = v();
  else if (a === '--expect') args.expect = v();
  else if (a === '--timeout-ms') args.timeoutMs = Number(v());
  else if (a === '--chromium') args.chromium = v();
  else { console.error(`unknown argument ${a}`); process.exit(2); }
}

const browser = await chromium.launch({
  executablePath: args.chromium,
  args: ['--no-sandbox', '--use-fake-ui-for-media-stream',
         '--use-fake-device-for-media-stream',
         `--use-file-for-fake-audio-capture=${args.wav}`,
         '--autoplay-policy=no-user-gesture-required'],
});

let out = { ok: false };
const console_ = [];
try {
  const page = await browser.newPage();
  page.on('console', (m) => console_.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => console_.push(`pageerror: ${e.message}`));
  await page.goto(args.url);
  out.title = await page.title();
  out.button = await page.getByRole('button', { name: 'Start call' }).count();
  await page.getByRole('button', { name: 'Start call' }).click();

  try {
    await page.waitForFunction((expect) => {
      const s = window.rtagent;
      return s && s.transcript.some((t) => t.role === 'agent'
                                       && t.text.startsWith(expect))
             && s.played > 0.5 * s.rate;
    }, args.expect, { timeout: args.timeoutMs, polling: 200 });
    out.ok = true;
  } catch (e) {
    out.wait = e.message.split('\n')[0];
  }

  out.status = await page.evaluate(() => window.rtagent);
  out.transcriptText = await page.locator('#transcript').innerText();
  out.stateText = await page.locator('#state').innerText();
  out.formatText = await page.locator('#format').innerText();
  out.latencyText = await page.locator('#latency').innerText();
  out.errorText = await page.locator('#error').isHidden()
                  ? '' : await page.locator('#error').innerText();
  if (args.shot) await page.screenshot({ path: args.shot, fullPage: true });

  // the call ends from the page
  await page.getByRole('button', { name: 'End call' }).click();
  await page.waitForFunction(() => window.rtagent.state === 'ended',
                             null, { timeout: 5000 }).catch(() => {});
  out.endState = await page.evaluate(() => window.rtagent.state);
} catch (e) {
  out.error = e.message;
} finally {
  out.console = console_;
  await browser.close();
}

console.log(JSON.stringify(out, null, 1));
process.exit(out.ok ? 0 : 1);
