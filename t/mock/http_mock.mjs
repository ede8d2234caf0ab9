// HTTPS mock upstream for the HTTP client tests (t/01x-http-*.t) and the
// bench/http-jobs benchmark.  It records what it receives so that tests can
// assert on it through GET /__hits (per key) and GET /__stats.
//
//   node http_mock.mjs --cert server.pem --key server.key [--port N]
//
// prints one JSON line {"port":N,"silent_port":M,"plain_port":P} when it
// listens.  The silent port accepts TCP connections and never speaks (TLS
// handshake timeouts); the plain port serves the same routes over HTTP,
// for the tests' own queries of /__hits and /__stats.
//
// Routes (query parameters in brackets are optional):
//   /echo[?code=C][&key=K]   the request as text lines: method, te, cl,
//                            body, events (data events), span (ms from the
//                            first to the last body piece), h.<name>=<value>;
//                            sent with status C (default 200) once the whole
//                            body is in; a hit of K
//   /stream?pieces=N&delay=MS[&size=B][&key=K][&wait=1]
//                            a chunked body of N pieces, one every MS ms;
//                            with wait=1 the pieces after the first wait for
//                            GET /signal?key=K.  A client that goes away
//                            early counts as "aborted" for K.
//   /signal?key=K
//   /slow?delay=MS           200 after MS ms
//   /barrier?n=N&key=K[&hold=1]
//                            answers nobody until N requests of K are in
//                            flight together (and, with hold, GET
//                            /release?key=K came), then all of them (503
//                            after 30 s: that never happened)
//   /release?key=K
//   /status?key=K&code=C[&times=T][&retry_after=V][&retry_after_ms=V]
//          [&retry_after_date=S][&should_retry=true|false]
//                            C (with those headers) for the first T hits of
//                            K (default: always), then 200 "ok after N"
//   /close?key=K[&times=T]   drops the connection without a response for
//                            the first T hits of K, then 200
//   /big?size=B              a body of B bytes
//   /__hits?key=K[&min=MS&max=MS][&after=MS][&aborted=1]
//                            "hits=N gaps=a,b aborted=A" (gaps between
//                            hits in ms; "in-range" or "OUT-OF-RANGE" when
//                            min/max are given); forgets K.  after: answer
//                            MS ms later; aborted=1: wait (up to 3 s) for a
//                            client of K to go away
//   /__stats[?reset=1]       "requests=N inflight=I max_inflight=M"

import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

const args = Object.fromEntries(
    process.argv.slice(2).reduce((acc, a, i, all) => {
        if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
        return acc;
    }, []));

const keys = new Map();
// ports: the client ports (connections) that requests came over
const stats = { requests: 0, inflight: 0, max_inflight: 0,
                ports: new Set() };

function state(key) {
    if (!keys.has(key)) {
        keys.set(key, { count: 0, stamps: [], aborted: 0, signalled: false,
                        waiters: [] });
    }
    return keys.get(key);
}

function openBarrier(key) {
    const st = state(key);
    if (st.n && st.count >= st.n && (!st.hold || st.signalled)) {
        keys.delete(key);
        st.waiters.splice(0).forEach((r) => r());
    }
}

function reply(res, code, body, headers = {}) {
    res.writeHead(code, { 'content-type': 'text/plain', ...headers });
    res.end(body);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const routes = {
    '/echo'(req, res, q) {
        if (q.has('key')) state(q.get('key')).stamps.push(Date.now());
        const pieces = [];
        const times = [];
        req.on('data', (d) => { pieces.push(d); times.push(Date.now()); });
        req.on('end', () => {
            const h = Object.keys(req.headers).sort()
                .map((k) => `h.${k}=${req.headers[k]}`);
            const lines = [
                `method=${req.method}`,
                `te=${req.headers['transfer-encoding'] ?? '-'}`,
                `cl=${req.headers['content-length'] ?? '-'}`,
                `body=${Buffer.concat(pieces).toString()}`,
                `events=${pieces.length}`,
                `span=${times.length ? times[times.length - 1] - times[0] : 0}`,
                ...h,
            ];
            reply(res, Number(q.get('code') ?? 200), lines.join('\n') + '\n');
        });
    },

    async '/stream'(req, res, q) {
        const n = Number(q.get('pieces') ?? 3);
        const delay = Number(q.get('delay') ?? 100);
        const size = Number(q.get('size') ?? 0);
        const key = q.get('key');
        const st = key ? state(key) : null;
        let done = false;
        res.on('close', () => { if (!done && st) st.aborted++; });
        res.writeHead(200, { 'content-type': 'text/plain' });
        for (let i = 1; i <= n; i++) {
            if (res.destroyed) return;
            let piece = `piece ${i}\n`;
            if (size > piece.length) {
                piece = 'x'.repeat(size - piece.length) + piece;
            }
            res.write(piece);
            if (i === 1 && q.get('wait') && st && !st.signalled) {
                await new Promise((r) => st.waiters.push(r));
            }
            if (i < n) await sleep(delay);
        }
        done = true;
        res.end();
    },

    '/signal'(req, res, q) {
        const st = state(q.get('key'));
        st.signalled = true;
        st.waiters.splice(0).forEach((r) => r());
        reply(res, 200, 'signalled\n');
    },

    async '/slow'(req, res, q) {
        await sleep(Number(q.get('delay') ?? 1000));
        if (!res.destroyed) reply(res, 200, 'slow done\n');
    },

    '/barrier'(req, res, q) {
        const key = `barrier:${q.get('key')}`;
        const st = state(key);
        st.n = Number(q.get('n') ?? 2);
        st.hold = Boolean(q.get('hold'));
        const timer = setTimeout(() => {
            if (!res.destroyed) {
                reply(res, 503, `barrier: ${st.count} of ${st.n}`
                      + ` released=${st.signalled}\n`);
            }
        }, 30000);
        st.count++;
        st.waiters.push(() => {
            clearTimeout(timer);
            if (!res.destroyed) reply(res, 200, `released ${st.n}\n`);
        });
        openBarrier(key);
    },

    '/release'(req, res, q) {
        const key = `barrier:${q.get('key')}`;
        state(key).signalled = true;
        openBarrier(key);
        reply(res, 200, 'released\n');
    },

    '/status'(req, res, q) {
        const st = state(q.get('key') ?? '-');
        st.count++;
        st.stamps.push(Date.now());
        const times = q.has('times') ? Number(q.get('times')) : Infinity;
        if (st.count > times) {
            reply(res, 200, `ok after ${st.count}\n`);
            return;
        }
        const headers = {};
        if (q.has('retry_after')) headers['retry-after'] = q.get('retry_after');
        if (q.has('retry_after_ms')) {
            headers['retry-after-ms'] = q.get('retry_after_ms');
        }
        if (q.has('retry_after_date')) {
            const at = Date.now() + 1000 * Number(q.get('retry_after_date'));
            headers['retry-after'] = new Date(at).toUTCString();
        }
        if (q.has('should_retry')) {
            headers['x-should-retry'] = q.get('should_retry');
        }
        const code = Number(q.get('code') ?? 500);
        reply(res, code, `status ${code} hit ${st.count}\n`, headers);
    },

    '/close'(req, res, q) {
        const st = state(q.get('key') ?? '-');
        st.count++;
        st.stamps.push(Date.now());
        const times = q.has('times') ? Number(q.get('times')) : Infinity;
        if (st.count > times) {
            // not kept alive: the next test's first request must not meet
            // a cached connection (curl reconnects those on its own)
            reply(res, 200, `ok after ${st.count}\n`, { connection: 'close' });
            return;
        }
        req.socket.destroy();
    },

    // the request as JSON (the tool store's http tools): method, url as
    // sent (still percent-encoded), headers, body, and the body parsed
    '/json'(req, res, q) {
        const pieces = [];
        req.on('data', (d) => pieces.push(d));
        req.on('end', () => {
            const body = Buffer.concat(pieces).toString();
            let json = null;
            try { json = JSON.parse(body); } catch (e) { json = null; }
            res.writeHead(Number(q.get('code') ?? 200),
                          { 'content-type': 'application/json' });
            res.end(JSON.stringify({ method: req.method, url: req.url,
                                     headers: req.headers, body, json }));
        });
    },

    '/big'(req, res, q) {
        reply(res, 200, 'b'.repeat(Number(q.get('size') ?? 1024)));
    },

    async '/__hits'(req, res, q) {
        const key = q.get('key');
        const st = state(key);
        if (q.has('after')) await sleep(Number(q.get('after')));
        for (let i = 0; q.get('aborted') && !st.aborted && i < 300; i++) {
            await sleep(10);
        }
        const gaps = st.stamps.slice(1).map((t, i) => t - st.stamps[i]);
        let line = `hits=${st.stamps.length} gaps=${gaps.join(',') || '-'}`;
        if (q.has('min') || q.has('max')) {
            const min = Number(q.get('min') ?? 0);
            const max = Number(q.get('max') ?? Infinity);
            const ok = gaps.length && gaps.every((g) => g >= min && g <= max);
            line += ok ? ' in-range' : ' OUT-OF-RANGE';
        }
        line += ` aborted=${st.aborted}`;
        keys.delete(key);
        reply(res, 200, line + '\n');
    },

    '/__stats'(req, res, q) {
        const line = `requests=${stats.requests} inflight=${stats.inflight}`
            + ` max_inflight=${stats.max_inflight}`
            + ` connections=${stats.ports.size}`;
        if (q.get('reset')) {
            stats.requests = 0;
            stats.max_inflight = 0;
            stats.ports.clear();
        }
        reply(res, 200, line + '\n');
    },
};

function handle(req, res) {
    const url = new URL(req.url, 'https://mock');
    const route = routes[url.pathname];
    const internal = url.pathname.startsWith('/__');
    if (!internal) {
        stats.requests++;
        stats.ports.add(req.socket.remotePort);
        stats.inflight++;
        stats.max_inflight = Math.max(stats.max_inflight, stats.inflight);
        // 'close' may come late on a kept-alive socket: whichever is first
        let done = false;
        const end = () => { if (!done) { done = true; stats.inflight--; } };
        res.on('finish', end);
        res.on('close', end);
    }
    if (!route) {
        reply(res, 404, 'no such mock route\n');
        return;
    }
    Promise.resolve(route(req, res, url.searchParams)).catch((e) => {
        if (!res.headersSent) reply(res, 500, String(e));
    });
}

const server = https.createServer({
    cert: fs.readFileSync(args.cert),
    key: fs.readFileSync(args.key),
    keepAliveTimeout: 30000,
}, handle);
server.on('clientError', (err, socket) => socket.destroy());

const plain = http.createServer(handle);

const silentSockets = new Set();
const silent = net.createServer((s) => {
    silentSockets.add(s);
    s.on('close', () => silentSockets.delete(s));
    s.on('error', () => {});
});

const host = args.host ?? '127.0.0.1';
server.listen(Number(args.port ?? 0), host, 1024, () => {
    silent.listen(Number(args['silent-port'] ?? 0), host, () => {
        plain.listen(Number(args['plain-port'] ?? 0), host, () => {
            process.stdout.write(JSON.stringify({
                port: server.address().port,
                silent_port: silent.address().port,
                plain_port: plain.address().port,
            }) + '\n');
        });
    });
});

for (const sig of ['SIGTERM', 'SIGINT']) {
    process.on(sig, () => process.exit(0));
}
