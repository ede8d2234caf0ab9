// bench/acs-events/load.mjs: Call Automation callback deliveries against
// the events endpoint (rtagent_acs_events) and, with the same requests, a
// baseline location; then the asynchronous side in Redis.  Prints one
// section of figures; judges nothing.
//
//   node load.mjs --port P --secret S --redis-port RP --pids W1[,W2]
//       --redis-pid R [--n 20000] [--c 32] [--m 500] [--warmup 1000]
//       [--redeliver 0] [--scenarios baseline,events] [--events-path
//       /api/acs/events] [--baseline-path /baseline] [--clk-tck 100]
//       [--timeout-s 60] [--label TEXT]
//
// Each delivery is what ACS POSTs to a call's callbackUri: a JSON array of
// one CloudEvent (docs/protocols.md 1.7) with a fresh id, to
// <path>?call=<ref>&token=<base64url HMAC-SHA256(secret, ref)>.  Event i
// belongs to call i % M, and the types cycle per call through CallConnected,
// ParticipantsUpdated, MediaStreamingStarted, PlayCompleted.  C keepalive
// connections each send one request at a time; a call never has two
// deliveries in flight (so "the call's last event" is well defined).
// With --redeliver F, a fraction F of the deliveries is sent a second time
// (same id, same body) right after its reply, as Event Grid's at-least-once
// delivery does; Redis must apply each event once.

import net from 'node:net';
import fs from 'node:fs';
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';

const args = {};
for (let i = 2; i < process.argv.length; i++) {
    const a = process.argv[i];
    if (a.startsWith('--')) args[a.slice(2)] = process.argv[++i];
}

const HOST = '127.0.0.1';
const port = Number(args.port);
const secret = args.secret;
const redisPort = Number(args['redis-port']);
const pids = String(args.pids ?? '').split(',').filter(Boolean).map(Number);
const redisPid = Number(args['redis-pid'] ?? 0);
const N = Number(args.n ?? 20000);
const C = Number(args.c ?? 32);
const M = Number(args.m ?? 500);
const W = Number(args.warmup ?? 1000);
const redeliver = Number(args.redeliver ?? 0);
const scenarios = String(args.scenarios ?? 'baseline,events').split(',');
const eventsPath = args['events-path'] ?? '/api/acs/events';
const baselinePath = args['baseline-path'] ?? '/baseline';
const TCK = Number(args['clk-tck'] ?? 100);
const timeoutMs = Number(args['timeout-s'] ?? 60) * 1000;
const label = args.label ?? '';

if (!port || !secret || !redisPort || !pids.length) {
    console.error('load.mjs: --port, --secret, --redis-port and --pids are needed');
    process.exit(2);
}

const TYPES = ['CallConnected', 'ParticipantsUpdated', 'MediaStreamingStarted',
               'PlayCompleted'];
const API_VERSION = '2025-05-15';

// --- the calls and their deliveries ------------------------------------------

function newCall(k, tag) {
    const ref = crypto.randomBytes(16).toString('hex');
    const phone = '+1555' + String(1000000 + k).slice(-7);
    return {
        k,
        id: crypto.randomUUID(),
        ref,
        token: crypto.createHmac('sha256', secret).update(ref).digest('base64url'),
        correlationId: crypto.randomUUID(),
        serverCallId: Buffer.from('https://api.flightproxy.skype.com/api/v2/cp/'
            + `conv-bench.conv.skype.com/conv/${tag}${k}?i=10-128-76-7&e=`
            + String(Date.now() * 10000 + k)).toString('base64'),
        caller: `4:${phone}`,
        phone,
        bot: `8:acs:6d889502-3d7a-41a8-befa-d21fd80e8767_${tag}-${k}`,
        seq: 0,            // deliveries so far
        pseq: 0,           // ParticipantsUpdated sequenceNumber
        last: null,        // { type, message } of its last event
        busy: null,
    };
}

function ident(raw) {
    return raw.startsWith('4:')
        ? { rawId: raw, kind: 'phoneNumber', phoneNumber: { value: raw.slice(2) } }
        : { rawId: raw, kind: 'communicationUser', communicationUser: { id: raw } };
}

function cloudEvent(call) {
    const s = call.seq++;
    const name = TYPES[s % TYPES.length];
    const type = `Microsoft.Communication.${name}`;
    const message = `Action completed successfully. [bench ${call.k}.${s}]`;
    let data = {};
    if (name === 'ParticipantsUpdated') {
        data = {
            participants: [call.caller, call.bot].map((raw) => ({
                identifier: ident(raw), isMuted: false, isOnHold: false })),
            sequenceNumber: ++call.pseq,
        };
    } else if (name === 'MediaStreamingStarted') {
        data = { mediaStreamingUpdate: { contentType: 'Audio',
            mediaStreamingStatus: 'mediaStreamingStarted',
            mediaStreamingStatusDetails: 'subscriptionStarted' } };
    }
    data = {
        ...data,
        version: API_VERSION,
        resultInformation: { code: 200, subCode: 0, message },
        callConnectionId: call.id,
        serverCallId: call.serverCallId,
        correlationId: call.correlationId,
        publicEventType: type,
    };
    const ev = {
        id: crypto.randomUUID(),
        source: `calling/callConnections/${call.id}`,
        type,
        data,
        time: new Date().toISOString().replace('Z', '0000+00:00'),
        specversion: '1.0',
        datacontenttype: 'application/json',
        subject: `calling/callConnections/${call.id}`,
    };
    call.last = { type: name, message };
    return { id: ev.id, name, body: Buffer.from(JSON.stringify([ev])) };
}

function request(path, call, body) {
    return Buffer.concat([Buffer.from(
        `POST ${path}?call=${call.ref}&token=${call.token} HTTP/1.1\r\n`
        + `Host: ${HOST}:${port}\r\n`
        + 'Content-Type: application/json; charset=utf-8\r\n'
        + `Content-Length: ${body.length}\r\n\r\n`), body]);
}

// n deliveries over m calls
function plan(n, m, tag) {
    const calls = Array.from({ length: m }, (_, k) => newCall(k, tag));
    const evs = [];
    for (let i = 0; i < n; i++) {
        const call = calls[i % m];
        const e = cloudEvent(call);
        evs.push({ call, id: e.id, name: e.name, body: e.body,
                   dup: redeliver > 0 && Math.floor((i + 1) * redeliver)
                                         > Math.floor(i * redeliver) });
    }
    return { calls, evs };
}

// --- a small HTTP/1.1 client: one request at a time per connection ----------

class Conn {
    constructor() { this.sock = null; this.buf = null; this.pending = null; }

    connect() {
        return new Promise((resolve, reject) => {
            const s = net.connect(port, HOST, () => { s.setNoDelay(true); resolve(); });
            s.once('error', reject);
            s.on('data', (d) => this.data(d));
            s.on('close', () => {
                if (this.sock === s) this.sock = null;
                if (this.pending) { const p = this.pending; this.pending = null; p(0); }
            });
            s.on('error', () => {});
            this.sock = s;
            this.buf = null;
        });
    }

    data(d) {
        this.buf = this.buf ? Buffer.concat([this.buf, d]) : d;
        const end = this.buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = this.buf.toString('latin1', 0, end);
        const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        const total = end + 4 + (cl ? Number(cl[1]) : 0);
        if (this.buf.length < total) return;
        this.buf = this.buf.length > total ? this.buf.subarray(total) : null;
        if (/\r\nconnection:\s*close/i.test(head)) { this.sock?.end(); this.sock = null; }
        const p = this.pending;
        this.pending = null;
        if (p) p(Number(head.slice(9, 12)));
    }

    async send(buf) {
        if (!this.sock) await this.connect();
        return new Promise((resolve) => {
            this.pending = resolve;
            this.sock.write(buf);
        });
    }
}

// --- a small RESP client, pipelined -----------------------------------------

class Redis {
    constructor() { this.buf = Buffer.alloc(0); this.q = []; }

    connect() {
        return new Promise((resolve, reject) => {
            this.sock = net.connect(redisPort, HOST, resolve);
            this.sock.once('error', reject);
            this.sock.on('data', (d) => {
                this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
                for (;;) {
                    const r = this.parse(0);
                    if (!r) break;
                    this.buf = this.buf.subarray(r[1]);
                    this.q.shift()(r[0]);
                }
            });
        });
    }

    parse(at) {
        const nl = this.buf.indexOf('\r\n', at);
        if (nl < 0) return null;
        const t = String.fromCharCode(this.buf[at]);
        const line = this.buf.toString('utf8', at + 1, nl);
        if (t === '+') return [line, nl + 2];
        if (t === '-') return [new Error(line), nl + 2];
        if (t === ':') return [Number(line), nl + 2];
        if (t === '$') {
            const len = Number(line);
            if (len < 0) return [null, nl + 2];
            if (this.buf.length < nl + 2 + len + 2) return null;
            return [this.buf.toString('utf8', nl + 2, nl + 2 + len), nl + 4 + len];
        }
        if (t === '*') {
            const n = Number(line);
            if (n < 0) return [null, nl + 2];
            const out = [];
            let p = nl + 2;
            for (let i = 0; i < n; i++) {
                const r = this.parse(p);
                if (!r) return null;
                out.push(r[0]);
                p = r[1];
            }
            return [out, p];
        }
        throw new Error(`RESP: unexpected ${t}`);
    }

    pipeline(cmds) {
        const out = cmds.map(() => new Promise((res) => this.q.push(res)));
        this.sock.write(cmds.map((c) => `*${c.length}\r\n`
            + c.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')).join(''));
        return Promise.all(out);
    }

    async cmd(...c) { return (await this.pipeline([c]))[0]; }

    close() { this.sock.end(); }
}

async function cmdstats(redis) {
    const info = await redis.cmd('INFO', 'commandstats');
    const s = {};
    for (const m of info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) s[m[1]] = Number(m[2]);
    return s;
}

// --- CPU of a process --------------------------------------------------------

function cpu(pid) {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    let ns = 0;
    try { ns = Number(fs.readFileSync(`/proc/${pid}/schedstat`, 'latin1').split(' ')[0]); }
    catch { /* no schedstat */ }
    return { ticks: Number(f[11]) + Number(f[12]), ns };
}

function cpuOf(list) {
    return list.reduce((a, pid) => {
        const c = cpu(pid);
        return { ticks: a.ticks + c.ticks, ns: a.ns + c.ns };
    }, { ticks: 0, ns: 0 });
}

// µs per unit from two samples: [from stat ticks, from schedstat ns]
const per = (a, b, n) => [(b.ticks - a.ticks) * 1e6 / TCK / n, (b.ns - a.ns) / 1e3 / n];

// --- one scenario ------------------------------------------------------------

async function drive(path, p, conns, watch) {
    const lat = new Float64Array(p.evs.length * 2);
    let nlat = 0, ok = 0, bad = 0, next = 0, requests = 0, replied = 0;
    const statuses = {};

    const one = async (conn, buf) => {
        const t0 = performance.now();
        const status = await conn.send(buf);
        lat[nlat++] = performance.now() - t0;
        requests++;
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status === 200) ok++; else bad++;
    };

    const loop = async (conn) => {
        for (;;) {
            const i = next++;
            if (i >= p.evs.length) return;
            const ev = p.evs[i];
            const call = ev.call;
            while (call.busy) await call.busy;
            let release;
            call.busy = new Promise((r) => { release = r; });
            const buf = request(path, call, ev.body);
            await one(conn, buf);
            if (ev.dup) await one(conn, buf);
            replied++;
            call.busy = null;
            release();
        }
    };

    // during the run: events replied to but not yet applied in Redis
    let backlog = 0, polls = 0, polling = false;
    const timer = watch && setInterval(async () => {
        if (polling) return;
        polling = true;
        const r = replied, a = applied(watch.s0, await watch.stats(), watch.e);
        backlog = Math.max(backlog, r - a.hset);
        polls++;
        polling = false;
    }, 5);

    const t0 = performance.now(), u0 = process.cpuUsage();
    await Promise.all(conns.map(loop));
    const elapsed = performance.now() - t0, u = process.cpuUsage(u0);
    if (timer) clearInterval(timer);
    while (polling) await new Promise((r) => setTimeout(r, 1));
    const sorted = lat.subarray(0, nlat).sort();
    const pct = (q) => sorted[Math.min(nlat - 1, Math.floor(nlat * q))];
    return { requests, ok, bad, statuses, elapsed, backlog, polls,
             client: (u.user + u.system) / requests,
             rps: requests * 1000 / elapsed,
             p50: pct(0.5), p90: pct(0.9), p99: pct(0.99), max: sorted[nlat - 1] };
}

async function connections() {
    const conns = Array.from({ length: C }, () => new Conn());
    await Promise.all(conns.map((c) => c.connect()));
    return conns;
}

const closeAll = (conns) => conns.forEach((c) => c.sock?.end());

// what Redis must have executed once every event of p is applied: per event
// SET NX (dedupe), HSET and PEXPIRE of the hash, plus one EVAL per
// participant of a ParticipantsUpdated (PARTICIPANT_JOINED, written once)
function expected(p) {
    const e = { set: p.evs.length, hset: p.evs.length, pexpire: p.evs.length,
                eval: 0 };
    for (const ev of p.evs) if (ev.name === 'ParticipantsUpdated') e.eval += 2;
    return e;
}

function applied(s0, s, e) {
    const d = (k) => (s[k] ?? 0) - (s0[k] ?? 0);
    return { hset: d('hset'), pexpire: d('pexpire'), eval: d('eval'), set: d('set'),
             done: d('hset') >= e.hset && d('pexpire') >= e.pexpire && d('eval') >= e.eval };
}

async function waitApplied(redis, s0, e, pollMs) {
    const t0 = performance.now();
    let polls = 0, a;
    for (;;) {
        a = applied(s0, await cmdstats(redis), e);
        polls++;
        if (a.done || performance.now() - t0 > timeoutMs) break;
        await new Promise((r) => setTimeout(r, pollMs));
    }
    return { ...a, ms: performance.now() - t0, polls };
}

// --- correctness in Redis ----------------------------------------------------

async function verify(redis, p) {
    const out = { lastOk: 0, lastEarlier: 0, lastMissing: 0, dedupeKeys: 0,
                  joined: 0, joinedDup: 0, joinedMissing: 0 };

    const hm = await redis.pipeline(p.calls.map((c) =>
        ['HMGET', `rtagent:call:{${c.id}}`, 'last_event', 'last_result']));
    p.calls.forEach((c, i) => {
        const [ev, res] = hm[i];
        if (ev === c.last.type && res === c.last.message) out.lastOk++;
        else if (ev == null) out.lastMissing++;
        else out.lastEarlier++;
    });

    for (let i = 0; i < p.evs.length; i += 1000) {
        out.dedupeKeys += await redis.cmd('EXISTS',
            ...p.evs.slice(i, i + 1000).map((e) => `rtagent:event:{${e.id}}`));
    }

    // PARTICIPANT_JOINED: once per (call, participant)
    const ids = new Map(p.calls.map((c) => [c.id, c]));
    const seen = new Map();
    let start = '-';
    for (;;) {
        const page = await redis.cmd('XRANGE', 'rtagent:events', start, '+', 'COUNT', 5000);
        if (!page || !page.length) break;
        for (const [, f] of page) {
            const h = {};
            for (let j = 0; j < f.length; j += 2) h[f[j]] = f[j + 1];
            if (h.type !== 'PARTICIPANT_JOINED' || !ids.has(h.call_id)) continue;
            let who = '';
            try { who = JSON.parse(h.data).participant; } catch { /* counted below */ }
            const k = `${h.call_id} ${who}`;
            seen.set(k, (seen.get(k) ?? 0) + 1);
        }
        if (page.length < 5000) break;
        start = '(' + page[page.length - 1][0];
    }
    for (const c of p.calls) {
        if (c.pseq === 0) continue;
        for (const who of [c.caller, c.bot]) {
            const n = seen.get(`${c.id} ${who}`) ?? 0;
            if (n === 0) out.joinedMissing++;
            else { out.joined++; out.joinedDup += n - 1; }
        }
    }
    return out;
}

// --- the run -----------------------------------------------------------------

const f1 = (x) => x.toFixed(1);
const f2 = (x) => x.toFixed(2);
const f3 = (x) => x.toFixed(3);
const pad = (s, n) => String(s).padStart(n);
const padr = (s, n) => String(s).padEnd(n);

const redis = new Redis();
await redis.connect();

const main = plan(N, M, 'm');
const e = expected(main);
const results = {};

// warm-up: the client, nginx's and Redis's allocators, both locations; its
// own calls, applied before anything is measured
if (W > 0) {
    const warm = plan(W, Math.min(M, Math.max(1, Math.ceil(W / 4))), 'w');
    const s0 = await cmdstats(redis);
    for (const sc of scenarios) {
        const conns = await connections();
        await drive(sc === 'events' ? eventsPath : baselinePath, warm, conns);
        closeAll(conns);
    }
    if (scenarios.includes('events')) await waitApplied(redis, s0, expected(warm), 5);
}

for (const sc of scenarios) {
    const conns = await connections();
    const s0 = await cmdstats(redis);
    const w0 = cpuOf(pids), r0 = redisPid ? cpu(redisPid) : null;
    const d = await drive(sc === 'events' ? eventsPath : baselinePath, main, conns,
                          sc === 'events' && { s0, e, stats: () => cmdstats(redis) });
    const w1 = cpuOf(pids), r1 = redisPid ? cpu(redisPid) : null;
    const res = { ...d, worker: per(w0, w1, d.requests) };

    if (sc === 'events') {
        const sAt = await cmdstats(redis);
        res.atReply = applied(s0, sAt, e);
        res.wait = await waitApplied(redis, s0, e, 1);
        const w2 = cpuOf(pids), r2 = redisPid ? cpu(redisPid) : null;
        res.workerAll = per(w0, w2, N);
        res.redis = r0 ? per(r0, r2, N) : null;
        const sEnd = await cmdstats(redis);
        res.cmds = Object.fromEntries(['set', 'hset', 'pexpire', 'eval']
            .map((k) => [k, (sEnd[k] ?? 0) - (s0[k] ?? 0)]));
        res.verify = await verify(redis, main);
    }
    closeAll(conns);
    results[sc] = res;
}
redis.close();

// --- the report --------------------------------------------------------------

const sizes = main.evs.map((x) => x.body.length);
const dups = main.evs.filter((x) => x.dup).length;
console.log(`${label}`);
console.log(`  ${N} deliveries${dups ? ` (+ ${dups} redelivered)` : ''} over ${M} calls, `
    + `${C} keepalive connections; bodies ${sizes.reduce((a, b) => Math.min(a, b))}-${sizes.reduce((a, b) => Math.max(a, b))} bytes`);
console.log();
const row = (a, ...r) => console.log('  ' + padr(a, 24) + r.map((x, i) => pad(x, i ? 9 : 9)).join(''));
row('', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'us/req', 'us/req');
row('', '', '', '', '', '', '(stat)', '(sched)');
const line = (name, r) => row(name, Math.round(r.rps), f3(r.p50), f3(r.p90), f3(r.p99),
                              f2(r.max), f1(r.worker[0]), f1(r.worker[1]));
if (results.baseline) line(`${baselinePath} (return 200)`, results.baseline);
if (results.events) line(`${eventsPath}`, results.events);
if (results.baseline && results.events) {
    const b = results.baseline, v = results.events;
    row('events / baseline', f2(v.rps / b.rps), f2(v.p50 / b.p50), f2(v.p90 / b.p90),
        f2(v.p99 / b.p99), '', f2(v.worker[0] / b.worker[0]), f2(v.worker[1] / b.worker[1]));
}
console.log('  (us/req: the nginx worker CPU, user+sys, from the first request to the last reply;');
console.log(`  the client (node) used ${Object.values(results).map((r) => f1(r.client)).join(' / ')} us per request`
    + ` on the same cores)`);

const v = results.events;
if (v) {
    const kv = (k, val) => console.log('  ' + padr(k, 46) + val);
    console.log();
    console.log('  asynchronous side (Redis)');
    kv('most events replied to but not yet applied', `${v.backlog} (INFO commandstats `
        + `every 5 ms during the run, ${v.polls} polls)`);
    kv('applied when the last reply arrived', `${v.atReply.hset} of ${N} events `
        + `(${f1(100 * v.atReply.hset / N)}%)`);
    kv('last reply -> every event applied', v.wait.done
        ? `${f1(v.wait.ms)} ms` : `NOT within ${timeoutMs / 1000} s (hset ${v.wait.hset}, `
          + `pexpire ${v.wait.pexpire}, eval ${v.wait.eval} of ${e.hset}/${e.pexpire}/${e.eval})`);
    kv('first request -> every event applied', `${f1(v.elapsed + v.wait.ms)} ms `
        + `(${Math.round(N * 1000 / (v.elapsed + v.wait.ms))} events/s)`);
    kv('worker CPU per event, incl. the async work', `${f1(v.workerAll[0])} us (stat), `
        + `${f1(v.workerAll[1])} us (schedstat)`);
    if (v.redis) {
        kv('redis-server CPU per event', `${f1(v.redis[0])} us (stat), `
            + `${f1(v.redis[1])} us (schedstat)`);
    }
    kv('Redis commands per event', `${f2((v.cmds.set + v.cmds.hset + v.cmds.pexpire
        + v.cmds.eval) / N)} (SET ${v.cmds.set}, HSET ${v.cmds.hset}, PEXPIRE `
        + `${v.cmds.pexpire}, EVAL ${v.cmds.eval})`);

    const x = v.verify;
    const calls = main.calls.filter((c) => c.pseq > 0).length * 2;
    console.log();
    console.log('  correctness');
    kv('replies 200', `${v.ok} of ${v.requests}`
        + (results.baseline ? ` (baseline ${results.baseline.ok} of ${results.baseline.requests})` : '')
        + (v.bad ? `; others: ${JSON.stringify(v.statuses)}` : ''));
    kv("calls whose hash holds the call's last event", `${x.lastOk} of ${M}`
        + (x.lastEarlier ? `; ${x.lastEarlier} hold an earlier one` : '')
        + (x.lastMissing ? `; ${x.lastMissing} have none` : ''));
    kv('events deduplicated (rtagent:event:{id} keys)', `${x.dedupeKeys} of ${N}`);
    kv('events applied (HSET of the call)', `${v.cmds.hset} for ${N} events: `
        + `${v.cmds.hset - N > 0 ? v.cmds.hset - N : 0} duplicates, `
        + `${N - v.cmds.hset > 0 ? N - v.cmds.hset : 0} missing`);
    kv('PARTICIPANT_JOINED (once per participant)', `${x.joined} of ${calls}, `
        + `${x.joinedDup} duplicates, ${x.joinedMissing} missing`);
}

if (args.json) fs.writeFileSync(args.json, JSON.stringify(results, (k, val) =>
    (k === 'lat' ? undefined : val), 1));
