// bench/llm/load.mjs: R requests, C at a time, over keepalive connections;
// prints one JSON line {"n":R,"ok":K,"elapsed_ms":..,"per_s":..,"p50_ms":..,
// "p99_ms":..}.  ok counts 200 answers whose body matches --expect.
//
//   node load.mjs --url URL [--n 200] [--c 10] [--body TEXT] [--expect RE]

import http from 'node:http';
import { performance } from 'node:perf_hooks';

const args = Object.fromEntries(
    process.argv.slice(2).reduce((acc, a, i, all) => {
        if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
        return acc;
    }, []));

const url = new URL(args.url);
const n = Number(args.n ?? 200);
const c = Number(args.c ?? 10);
const body = args.body;
const expect = args.expect ? new RegExp(args.expect) : null;
const agent = new http.Agent({ keepAlive: true, maxSockets: c });

function one() {
    return new Promise((resolve) => {
        const t0 = performance.now();
        const req = http.request(url, {
            agent, method: body === undefined ? 'GET' : 'POST',
            headers: body === undefined ? {} : {
                'content-length': Buffer.byteLength(body) },
        }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d) => { text += d; });
            res.on('end', () => resolve({
                ok: res.statusCode === 200 && (!expect || expect.test(text)),
                ms: performance.now() - t0,
                text,
            }));
        });
        req.on('error', () => resolve({ ok: false, ms: performance.now() - t0 }));
        if (body !== undefined) req.write(body);
        req.end();
    });
}

const all = [];
let next = 0;
const t0 = performance.now();
await Promise.all(Array.from({ length: c }, async () => {
    while (next < n) {
        next++;
        all.push(await one());
    }
}));
const elapsed = performance.now() - t0;
const ms = all.map((r) => r.ms).sort((a, b) => a - b);
const pct = (p) => ms[Math.min(ms.length - 1, Math.floor(ms.length * p))];
const bad = all.find((r) => !r.ok);
console.log(JSON.stringify({
    n, ok: all.filter((r) => r.ok).length,
    elapsed_ms: +elapsed.toFixed(1),
    per_s: Math.round(n * 1000 / elapsed),
    p50_ms: +pct(0.5).toFixed(3), p99_ms: +pct(0.99).toFixed(3),
    first_bad: bad ? String(bad.text ?? '').slice(0, 200) : undefined,
}));
agent.destroy();
