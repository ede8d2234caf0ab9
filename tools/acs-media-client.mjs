#!/usr/bin/env node
// Plays the ACS side of a media stream against rtagent, as ACS would:
// AudioMetadata, then one AudioData message per 20 ms frame (real-time pace),
// silence after the caller's audio, and records what the gateway sends back.
//
//   node tools/acs-media-client.mjs [--url ws://127.0.0.1:8080/ws/acs/media]
//        [--wav caller.wav | --tone-ms 1000] [--out agent.wav]
//        [--rate 16000] [--call-id ID] [--listen-ms 4000] [--fast]
//
// Prints one line per event and a summary; exits 0 when the gateway answered
// with audio and closed the stream cleanly, 1 otherwise.

import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const WebSocket = require('ws');

function parseArgs(argv) {
  const args = { url: 'ws://127.0.0.1:8080/ws/acs/media', rate: 16000,
                 toneMs: 1000, listenMs: 4000, callId: `sim-${process.pid}`,
                 fast: false };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i], v = () => argv[++i];
    if (a === '--url') args.url = v();
    else if (a === '--wav') args.wav = v();
    else if (a === '--out') args.out = v();
    else if (a === '--rate') args.rate = Number(v());
    else if (a === '--tone-ms') args.toneMs = Number(v());
    else if (a === '--listen-ms') args.listenMs = Number(v());
    else if (a === '--call-id') args.callId = v();
    else if (a === '--fast') args.fast = true;
    else { console.error(`unknown argument ${a}`); process.exit(2); }
  }
  return args;
}

// PCM16 mono little-endian samples of a RIFF/WAVE file
function readWav(path) {
  const b = readFileSync(path);
  if (b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE')
    throw new Error(`${path}: not a WAV file`);
  let off = 12, fmt = null;
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4), len = b.readUInt32LE(off + 4);
    if (id === 'fmt ') fmt = { format: b.readUInt16LE(off + 8), channels: b.readUInt16LE(off + 10),
                               rate: b.readUInt32LE(off + 12), bits: b.readUInt16LE(off + 22) };
    if (id === 'data') {
      if (!fmt || fmt.format !== 1 || fmt.channels !== 1 || fmt.bits !== 16)
        throw new Error(`${path}: PCM16 mono needed`);
      return { rate: fmt.rate, pcm: b.subarray(off + 8, off + 8 + len) };
    }
    off += 8 + len + (len & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

function writeWav(path, rate, pcm) {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0); h.writeUInt32LE(36 + pcm.length, 4); h.write('WAVE', 8);
  h.write('fmt ', 12); h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22); h.writeUInt32LE(rate, 24); h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32); h.writeUInt16LE(16, 34); h.write('data', 36);
  h.writeUInt32LE(pcm.length, 40);
  writeFileSync(path, Buffer.concat([h, pcm]));
}

function tone(rate, ms) {
  const n = Math.floor(rate * ms / 1000), pcm = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++)
    pcm.writeInt16LE(Math.round(8000 * Math.sin(2 * Math.PI * 440 * i / rate)), i * 2);
  return pcm;
}

const args = parseArgs(process.argv);
let caller;
if (args.wav) {
  const w = readWav(args.wav);
  args.rate = w.rate;
  caller = w.pcm;
} else {
  caller = tone(args.rate, args.toneMs);
}

const frameBytes = args.rate / 50 * 2;
const received = [];
let stops = 0, closeCode = null, closeReason = '', sent = 0;
const t0 = Date.now();
const log = (s) => console.log(`${String(Date.now() - t0).padStart(6)} ms  ${s}`);

const ws = new WebSocket(args.url, { headers: { 'x-ms-call-connection-id': args.callId } });

ws.on('unexpected-response', (req, res) => {
  log(`handshake refused: HTTP ${res.statusCode}`);
  process.exit(1);
});

ws.on('error', (e) => { log(`error: ${e.message}`); process.exit(1); });

ws.on('message', (data, isBinary) => {
  if (isBinary) { log('unexpected binary message'); return; }
  const msg = JSON.parse(data.toString());
  const kind = String(msg.kind ?? msg.Kind).toLowerCase();
  if (kind === 'audiodata') {
    const payload = msg.audioData ?? msg.AudioData;
    received.push(Buffer.from(payload.data ?? payload.Data, 'base64'));
    if (received.length === 1) log('first agent audio frame');
  } else if (kind === 'stopaudio') {
    stops++;
    log('StopAudio');
  } else {
    log(`message of kind ${kind}`);
  }
});

ws.on('close', (code, reason) => {
  closeCode = code;
  closeReason = reason.toString();
  const audio = Buffer.concat(received);
  if (args.out) writeWav(args.out, args.rate, audio);
  log(`closed: ${code} ${closeReason}`);
  console.log(`summary: sent ${sent} frames, received ${received.length} frames ` +
              `(${audio.length / (args.rate / 500)} ms), ${stops} StopAudio, close ${code}`);
  process.exit(received.length > 0 && code === 1000 ? 0 : 1);
});

ws.on('open', () => {
  log(`connected to ${args.url} as call ${args.callId}`);
  ws.send(JSON.stringify({ kind: 'AudioMetadata', audioMetadata: {
    subscriptionId: '00000000-0000-4000-8000-000000000000', encoding: 'PCM',
    sampleRate: args.rate, channels: 1, length: frameBytes } }));

  // caller audio, then silence until the listening time is over, as ACS
  // keeps streaming for the whole call
  const total = Math.ceil(caller.length / frameBytes) + Math.ceil(args.listenMs / 20);
  const silence = Buffer.alloc(frameBytes);
  const sendFrame = () => {
    if (sent >= total) {
      log('closing');
      ws.close(1000, 'caller hung up');
      return false;
    }
    let frame = caller.subarray(sent * frameBytes, (sent + 1) * frameBytes);
    if (frame.length < frameBytes) frame = Buffer.concat([frame, silence]).subarray(0, frameBytes);
    const isSilent = sent * frameBytes >= caller.length;
    ws.send(JSON.stringify({ kind: 'AudioData', audioData: {
      timestamp: new Date().toISOString(), participantRawID: '4:+15550100',
      data: frame.toString('base64'), silent: isSilent } }));
    sent++;
    return true;
  };
  if (args.fast) {
    const burst = () => { for (let i = 0; i < 50; i++) if (!sendFrame()) return; setImmediate(burst); };
    burst();
  } else {
    // real-time pace from the clock, so timer lateness does not add up
    const start = Date.now();
    const tick = () => {
      while (sent < (Date.now() - start) / 20 + 1) if (!sendFrame()) return;
      setTimeout(tick, 5);
    };
    tick();
  }
});
