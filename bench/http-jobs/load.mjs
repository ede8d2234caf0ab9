// bench/http-jobs/load.mjs: N concurrent GETs per round over keepalive
// connections (one per request in flight), one JSON line per round:
//   {"round":1,"n":1000,"ok":1000,"elapsed_ms":..,"jobs_per_s":..,
//    "p50_ms":..,"p99_ms":..}
//
//   node load.mjs --url URL [--n 1000] [--rounds 5]

import http from 'node:http';
import { performance } from 'node:perf_hooks';

const args = Object.fromEntries(
    process.argv.slice(2).reduce((acc, a, i, all) => {
        if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
        return acc;
    }, []));

const url = new URL(args.url);
const n = Number(args.n ?? 1000);
const rounds = Number(args.rounds ?? 5);
const agent = new http.Agent({ keepAlive: true, maxSockets: n });

function one() {
    return new Promise((resolve) => {
        const t0 = performance.now();
        const req = http.get(url, { agent }, (res) => {
            res.resume();
            res.on('end', () => resolve({
                ok: res.statusCode === 200,
                ms: performance.now() - t0,
            }));
        });
        req.on('error', () => resolve({ ok: false, ms: performance.now() - t0 }));
    });
}

const pct = (sorted, p) =>
    sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

for (let round = 1; round <= rounds; round++) {
    const t0 = performance.now();
    const all = await Promise.all(Array.from({ length: n }, one));
    const elapsed = performance.now() - t0;
    const ms = all.map((r) => r.ms).sort((a, b) => a - b);
    console.log(JSON.stringify({
        round,
        n,
        ok: all.filter((r) => r.ok).length,
        elapsed_ms: +elapsed.toFixed(1),
        jobs_per_s: Math.round(n * 1000 / elapsed),
        p50_ms: +pct(ms, 0.5).toFixed(3),
        p99_ms: +pct(ms, 0.99).toFixed(3),
    }));
}

agent.destroy();
