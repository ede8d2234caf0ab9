// bench/speech-turns/load.mjs: N concurrent ACS media calls, each taking
// T turns: the caller's utterance and the silence that ends it go in one
// burst (the gateway's VAD then ends the utterance as soon as it reads
// it), and the time from that write to the first AudioData of the answer
// is the turn's latency.  With --barge, once the answer plays the caller
// sends a short sound (3 frames, 60 ms, too short to confirm a barge-in)
// and the time to the StopAudio is the barge-in latency; the answer then
// resumes.  With --confirm, each call then takes one more turn and talks
// over its answer long enough (a 400 ms tone: more than
// rtagent_barge_in_min) to confirm the barge-in, which cancels the answer,
// and waits for the answer to the interruption; these turns are not in the
// turn and stop figures (the gateway writes their timings with the turn
// events).  One JSON line at the end:
//   {"calls":N,"turns":..,"answered":..,"turn_p50_ms":..,"turn_p99_ms":..,
//    "barges":..,"stop_p50_ms":..,"stop_p99_ms":..,"confirmed":..,
//    "elapsed_ms":..}
//
//   node load.mjs --url ws://127.0.0.1:PORT/path [--calls 1] [--turns 3]
//        [--pcm caller.raw (PCM16 16 kHz; default a 400 ms tone)]
//        [--spread-ms 1000] [--barge] [--confirm] [--quiet-ms 400]
//        [--timeout-ms 30000]

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const require = createRequire(new URL('../../tools/', import.meta.url));
const WebSocket = require('ws');

const args = Object.fromEntries(
    process.argv.slice(2).reduce((acc, a, i, all) => {
        if (a.startsWith('--')) {
            const v = all[i + 1];
            acc.push([a.slice(2), v === undefined || v.startsWith('--')
                                  ? '1' : v]);
        }
        return acc;
    }, []));

const calls = Number(args.calls ?? 1);
const turns = Number(args.turns ?? 3);
const spread = Number(args['spread-ms'] ?? 1000);
const quietMs = Number(args['quiet-ms'] ?? 400);
const timeout = Number(args['timeout-ms'] ?? 30000);
const barge = args.barge === '1';
const confirm = args.confirm === '1';
const RATE = 16000;
const FRAME = RATE / 50 * 2;

function tone(ms, amp = 8000) {
    const n = Math.floor(RATE * ms / 1000);
    const b = Buffer.alloc(n * 2);
    for (let i = 0; i < n; i++) {
        b.writeInt16LE(Math.round(amp * Math.sin(2 * Math.PI * 440 * i / RATE)),
                       i * 2);
    }
    return b;
}

const silence = (ms) => Buffer.alloc(Math.floor(RATE * ms / 1000) * 2);

function frames(pcm) {
    const out = [];
    for (let off = 0; off + FRAME <= pcm.length; off += FRAME) {
        const f = pcm.subarray(off, off + FRAME);
        const silent = !f.some((x) => x !== 0);
        out.push(JSON.stringify({ kind: 'AudioData', audioData: {
            timestamp: new Date().toISOString(),
            participantRawID: '4:+15550100',
            data: f.toString('base64'), silent } }));
    }
    return out;
}

let said = args.pcm ? readFileSync(args.pcm) : tone(400);
said = said.subarray(0, said.length - said.length % FRAME);
const utterance = frames(Buffer.concat([silence(100), said, silence(700)]));
const interruption = frames(Buffer.concat([tone(60), silence(700)]));
const talkOver = frames(Buffer.concat([tone(400), silence(700)]));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const turnMs = [];
const stopMs = [];
let answered = 0;
let failed = 0;
let confirmed = 0;

function call(i) {
    return new Promise((resolve) => {
        const ws = new WebSocket(args.url, {
            headers: { 'x-ms-call-connection-id': `bench-${process.pid}-${i}` },
            perMessageDeflate: false,
        });
        let waiter = null;
        let lastAudio = 0;
        // the answer has been heard: quiet for a while
        const quiet = async () => {
            while (performance.now() - lastAudio < quietMs) {
                await sleep(quietMs / 4);
            }
        };
        const done = (ok) => {
            if (!ok) failed++;
            try { ws.close(1000); } catch { /* gone */ }
            resolve();
        };
        // resolves on the next message of kind k, or null on timeout
        const next = (k) => new Promise((r) => {
            const t = setTimeout(() => { waiter = null; r(null); }, timeout);
            waiter = { k, r: (v) => { clearTimeout(t); waiter = null; r(v); } };
        });
        ws.on('message', (data) => {
            const m = JSON.parse(data.toString());
            const now = performance.now();
            if (m.kind === 'AudioData') lastAudio = now;
            if (waiter && waiter.k === m.kind) waiter.r(now);
        });
        ws.on('error', () => done(false));
        ws.on('open', async () => {
            ws.send(JSON.stringify({ kind: 'AudioMetadata', audioMetadata: {
                subscriptionId: 'bench', encoding: 'PCM', sampleRate: RATE,
                channels: 1, length: FRAME } }));
            await sleep(Math.random() * spread);
            for (let t = 0; t < turns; t++) {
                const got = next('AudioData');
                const t0 = performance.now();
                for (const f of utterance) ws.send(f);
                const at = await got;
                if (at === null) return done(false);
                turnMs.push(at - t0);
                answered++;
                if (barge) {
                    await sleep(40);
                    const stop = next('StopAudio');
                    const b0 = performance.now();
                    for (const f of interruption) ws.send(f);
                    const st = await stop;
                    if (st !== null) stopMs.push(st - b0);
                }
                await quiet();
            }
            if (confirm) {
                // an answer, talked over: StopAudio, then the answer to
                // the interruption
                let got = next('AudioData');
                for (const f of utterance) ws.send(f);
                if (await got === null) return done(false);
                await sleep(40);
                const stop = next('StopAudio');
                for (const f of talkOver) ws.send(f);
                if (await stop === null) return done(false);
                got = next('AudioData');
                if (await got === null) return done(false);
                confirmed++;
                await quiet();
            }
            done(true);
        });
    });
}

const pct = (a, p) => {
    if (!a.length) return null;
    const s = [...a].sort((x, y) => x - y);
    return +s[Math.min(s.length - 1, Math.floor(s.length * p))].toFixed(2);
};

const t0 = performance.now();
await Promise.all(Array.from({ length: calls }, (_, i) => call(i)));
console.log(JSON.stringify({
    calls, turns: calls * turns, answered, failed,
    turn_p50_ms: pct(turnMs, 0.5), turn_p99_ms: pct(turnMs, 0.99),
    turn_max_ms: pct(turnMs, 1),
    barges: stopMs.length, stop_p50_ms: pct(stopMs, 0.5),
    stop_p99_ms: pct(stopMs, 0.99), stop_max_ms: pct(stopMs, 1),
    confirmed,
    elapsed_ms: Math.round(performance.now() - t0),
}));
process.exit(0);
