#!/usr/bin/env node
// Drives the web client (conf/html) in headless Chromium for t/088: a fake
// microphone plays a WAV, the page places a call, and this prints the
// page's state (window.rtagent) as JSON once the agent's reply is in the
// transcript and its audio has played, or at the timeout.
//
//   node t/helpers/web-browser.mjs --url http://127.0.0.1:PORT/?codec=opus
//        --wav caller.wav --shot page.png [--expect 'You said:']
//        [--timeout-ms 60000] [--chromium /usr/bin/chromium]
//        [--callers N]   (wait for N caller turns, each answered)
//        [--barge-in]    (wait instead for a stop_audio and its flush)

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../tools/'));
const { chromium } = require('playwright-core');

const args = { expect: 'You said:', timeoutMs: 60000, callers: 1,
               chromium: '/usr/bin/chromium' };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i], v = () => process.argv[++i];
  if (a === '--url') args.url = v();
  else if (a === '--wav') args.wav = v();
  else if (a === '--shot') args.shot = v();
  else if (a === '--expect') args.expect = v();
  else if (a === '--timeout-ms') args.timeoutMs = Number(v());
  else if (a === '--chromium') args.chromium = v();
  else if (a === '--callers') args.callers = Number(v());
  else if (a === '--barge-in') args.bargeIn = true;
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
    await page.waitForFunction(([expect, callers, bargeIn]) => {
      const s = window.rtagent;
      if (bargeIn) return s && s.stopAudio > 0 && s.played > 0;
      const said = (role) => s.transcript.filter((t) => t.role === role);
      return s && said('caller').length >= callers
             && said('agent').filter((t) => t.text.startsWith(expect)).length
                >= callers
             && s.played > 0.5 * s.rate;
    }, [args.expect, args.callers, args.bargeIn],
    { timeout: args.timeoutMs, polling: 100 });
    // the worklet reports the flush through its port
    if (args.bargeIn) await page.waitForTimeout(300);
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
