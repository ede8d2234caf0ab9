// Mock Azure Speech (REST text to speech) and OpenAI audio (speech,
// transcriptions; also the Azure OpenAI deployment form) for the speech
// provider tests (t/05x-speech-*.t), over plain HTTP.  It speaks the wire
// formats of PROTOCOLS.md 4.2, 9 and 10, checks what it gets as the
// services do (auth, content types, output format, SSML, multipart, the
// WAV header) and records each request for the tests to assert on.
//
//   node speech_mock.mjs [--port N] [--cert server.pem --key server.key]
//
// prints one JSON line {"port":N} when it listens; with --cert also
// "tls_port":M, the same routes over TLS (for wss://); "hold_port":H is a
// TCP port that takes connections and never says a byte (a TLS server
// that never answers the hello).
//
// A request's behaviour comes from an optional path prefix
// /m/<k=v,k=v,...>/ before the service's own path (the providers are
// pointed at it by their URL directives):
//   key=K        record the request under K (default "-")
//   code=C       answer status C (a JSON error body for OpenAI routes)
//   times=T      ... for the first T requests of K only, then normally
//   chunks=N     audio in N chunks (default 4), samples=S each (480)
//   delay=MS     between chunks (default 20)
//   wait=1       hold the chunks after the first until GET /signal?key=K
//   close=N      drop the connection after N chunks (a cut stream)
//   hang=1       never answer
//   text=T       the transcript (URI-escaped; default "heard N ms at R Hz")
//   texts=A|B|C  OpenAI STT: the transcripts of K's transcriptions in
//                order, one each (URI-escaped; the last repeats)
//
// Audio is 16-bit little-endian PCM whose every sample is 0x0201 (513), so
// a sample cut in two or misaligned shows in the sum of what arrives; the
// chunks go out with odd byte counts.
//
// Service routes:
//   POST .../cognitiveservices/v1               Azure TTS (key
//        "test-azure-key" in Ocp-Apim-Subscription-Key or "Bearer
//        test-azure-token"; Content-Type application/ssml+xml;
//        X-Microsoft-OutputFormat raw-16khz- or raw-24khz-16bit-mono-pcm;
//        User-Agent; SSML with <speak xml:lang> and <voice name>)
//   POST .../sts/v1.0/issueToken                Azure token (the key in
//        Ocp-Apim-Subscription-Key; answers "test-azure-token" as text;
//        ttl=S: a JWT whose claims say it lasts S seconds, good as well)
//   POST .../audio/speech                       OpenAI TTS (JSON, pcm)
//   POST .../audio/transcriptions               OpenAI STT (multipart)
//        Both: "Authorization: Bearer test-openai-key", or with the path
//        /openai/deployments/<name>/audio/... and ?api-version=,
//        "api-key: test-openai-key".
//   GET (WebSocket) .../speech/recognition/<mode>/cognitiveservices/v1
//        Azure STT, USP (PROTOCOLS.md 8): the key or token as for TTS,
//        X-ConnectionId of 32 hex; checks speech.config (once per
//        connection), speech.context and the audio messages of each turn
//        (Path, X-RequestId, X-Timestamp, Content-Type: audio/x-wav on
//        the first only, a RIFF header at 16 kHz first); at the empty one
//        answers turn.start, speech.startDetected, two hypotheses, a
//        detailed phrase (NBest[0], Confidence 0.93), speech.endDetected,
//        turn.end.  code=C refuses the upgrade with C; nomatch=1 /
//        silence=1 answer a NoMatch / InitialSilenceTimeout phrase;
//        partial=N sends a hypothesis (the text's first three words) at
//        the turn's Nth audio message, while the audio still comes;
//        slow=MS answers the end of the audio MS later;
//        early=N closes (1000) the first N connections at the turn's
//        speech.context, before taking it (no turn.start);
//        close=1 closes (1011) after turn.start; bye=1 closes (1000)
//        after turn.end; hang=1 answers nothing after the audio; stall=1
//        never answers the upgrade.  The record: the upgrade's path and headers, then
//        conns=, usp.*, wav.*, audio.* of the last turn.
// Test routes:
//   GET /signal?key=K
//   GET /__last?key=K[&aborted=1]   the last request of K as text lines
//        (path, h.<name>=<value>, then what the route read: ssml.*,
//        json.*, field.*, wav.*), "hits=N aborted=A"; aborted=1 waits
//        (up to 3 s) for a client of K to go away.  Forgets K.
//   GET /__said?key=K   the input of every OpenAI TTS request of K so
//        far, one a line (does not forget K)

import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { createRequire } from 'node:module';

const args = Object.fromEntries(
    process.argv.slice(2).reduce((acc, a, i, all) => {
        if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
        return acc;
    }, []));

const AZURE_KEY = 'test-azure-key';
const AZURE_TOKEN = 'test-azure-token';
const OPENAI_KEY = 'test-openai-key';

const keys = new Map();
const issued = new Set();      // JWTs of ttl=S, good as AZURE_TOKEN

const bearerOk = (h) => h === `Bearer ${AZURE_TOKEN}`
    || (h?.startsWith('Bearer ') && issued.has(h.slice(7)));

function state(key) {
    if (!keys.has(key)) {
        keys.set(key, { hits: 0, aborted: 0, last: null, signalled: false,
                        waiters: [], heard: 0, said: [] });
    }
    return keys.get(key);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function reply(res, code, body, type = 'text/plain') {
    if (res.destroyed) return;
    res.writeHead(code, { 'content-type': type });
    res.end(body);
}

function openaiError(res, code, message) {
    reply(res, code, JSON.stringify({
        error: { message, type: 'invalid_request_error', code: null },
    }), 'application/json');
}

// "&amp;" and the other four back to text
function unescapeXml(s) {
    return s.replace(/&(amp|lt|gt|quot|apos);/g, (m, e) => ({
        amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[e]);
}

function parseSsml(xml) {
    const m = /^<speak version='1\.0' xmlns='http:\/\/www\.w3\.org\/2001\/10\/synthesis' xmlns:mstts='https:\/\/www\.w3\.org\/2001\/mstts' xml:lang='([^'<>&]+)'><voice name='([^'<>&]+)'>(.*)<\/voice><\/speak>$/s
        .exec(xml);
    if (!m) return null;
    const out = { lang: m[1], voice: m[2], style: '-', rate: '-' };
    let inner = m[3];
    let s = /^<mstts:express-as style='([^']+)'>(.*)<\/mstts:express-as>$/s
        .exec(inner);
    if (s) { out.style = s[1]; inner = s[2]; }
    s = /^<prosody rate='([^']+)'>(.*)<\/prosody>$/s.exec(inner);
    if (s) { out.rate = s[1]; inner = s[2]; }
    // character data only: markup or a bare '&' is not what we send
    if (/[<>]|&(?!(amp|lt|gt|quot|apos);)/.test(inner)) return null;
    out.text = unescapeXml(inner);
    return out;
}

// audio as the services send it: chunks of PCM, odd-sized on the wire
async function sendAudio(req, res, o, st, rate) {
    const chunks = Number(o.chunks ?? 4);
    const samples = Number(o.samples ?? 480);
    const delay = Number(o.delay ?? 20);
    const close = o.close === undefined ? Infinity : Number(o.close);
    const pcm = Buffer.alloc(chunks * samples * 2);
    for (let i = 0; i < pcm.length; i += 2) pcm.writeUInt16LE(0x0201, i);

    let done = false;
    res.on('close', () => { if (!done) st.aborted++; });
    res.writeHead(200, { 'content-type': 'audio/pcm',
                         'x-mock-rate': String(rate) });

    const piece = samples * 2 - 1;
    let off = 0;
    for (let i = 1; off < pcm.length; i++) {
        if (res.destroyed) return;
        const end = Math.min(pcm.length, off + piece);
        res.write(pcm.subarray(off, end));
        off = end;
        if (i >= close) {
            // a cut stream: no closing chunk
            await sleep(delay);
            res.socket.destroy();
            return;
        }
        if (i === 1 && o.wait && !st.signalled) {
            await new Promise((r) => st.waiters.push(r));
        }
        if (off < pcm.length) await sleep(delay);
    }
    done = true;
    res.end();
}

function readBody(req) {
    return new Promise((resolve) => {
        const parts = [];
        req.on('data', (d) => parts.push(d));
        req.on('end', () => resolve(Buffer.concat(parts)));
    });
}

function headerLines(req) {
    return Object.keys(req.headers).sort()
        .map((k) => `h.${k}=${req.headers[k]}`);
}

// the OpenAI auth of either form; null when good, else the status
function openaiAuth(req, url) {
    if (url.pathname.includes('/openai/deployments/')) {
        if (!url.searchParams.get('api-version')) return 404;
        return req.headers['api-key'] === OPENAI_KEY ? null : 401;
    }
    return req.headers.authorization === `Bearer ${OPENAI_KEY}` ? null : 401;
}

function parseMultipart(body, type) {
    const m = /^multipart\/form-data; boundary=([!-~]{1,70})$/.exec(type ?? '');
    if (!m) return null;
    const delim = Buffer.from(`--${m[1]}`);
    const parts = {};
    let pos = body.indexOf(delim);
    if (pos !== 0) return null;
    for (;;) {
        pos += delim.length;
        if (body.subarray(pos, pos + 4).toString() === '--\r\n') break;
        if (body.subarray(pos, pos + 2).toString() !== '\r\n') return null;
        pos += 2;
        const headEnd = body.indexOf('\r\n\r\n', pos);
        if (headEnd < 0) return null;
        const head = body.subarray(pos, headEnd).toString();
        const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]),
                                  headEnd + 4);
        if (next < 0) return null;
        const name = /name="([^"]*)"/.exec(head);
        if (!name) return null;
        parts[name[1]] = {
            head,
            filename: (/filename="([^"]*)"/.exec(head) ?? [])[1],
            type: (/\r\nContent-Type: ([^\r]*)/i.exec(head) ?? [])[1],
            data: body.subarray(headEnd + 4, next),
        };
        pos = next + 2;
    }
    return parts;
}

function parseWav(b) {
    if (b.length < 44 || b.toString('latin1', 0, 4) !== 'RIFF'
        || b.toString('latin1', 8, 16) !== 'WAVEfmt '
        || b.readUInt32LE(16) !== 16 || b.readUInt16LE(20) !== 1
        || b.toString('latin1', 36, 40) !== 'data') {
        return null;
    }
    const w = {
        riff: b.readUInt32LE(4), channels: b.readUInt16LE(22),
        rate: b.readUInt32LE(24), byterate: b.readUInt32LE(28),
        align: b.readUInt16LE(32), bits: b.readUInt16LE(34),
        data: b.readUInt32LE(40), actual: b.length - 44,
    };
    w.ok = w.riff === w.data + 36 && w.data === w.actual && w.channels === 1
        && w.bits === 16 && w.align === 2 && w.byterate === w.rate * 2;
    return w;
}

const routes = {
    async token_azure(req, res, o, st, url, lines) {
        const body = await readBody(req);
        lines.push(`body.length=${body.length}`);
        if (req.headers['ocp-apim-subscription-key'] !== AZURE_KEY) {
            return reply(res, 401, '');
        }
        if (o.code) return reply(res, Number(o.code), '');
        if (o.ttl) {
            // a JWT as the service issues, claiming a lifetime of ttl s
            const b64 = (j) => Buffer.from(JSON.stringify(j)).toString('base64url');
            const now = Math.floor(Date.now() / 1000);
            const jwt = `${b64({ alg: 'none', typ: 'JWT' })}.`
                + `${b64({ region: 'mock', iat: now,
                           exp: now + Number(o.ttl) })}.c2ln`;
            issued.add(jwt);
            return reply(res, 200, jwt, 'application/jwt; charset=us-ascii');
        }
        return reply(res, 200, AZURE_TOKEN, 'application/jwt; charset=us-ascii');
    },

    async tts_azure(req, res, o, st, url, lines) {
        const body = (await readBody(req)).toString();
        lines.push(`body=${body}`);
        const auth = req.headers['ocp-apim-subscription-key'] === AZURE_KEY
            || bearerOk(req.headers.authorization);
        if (!auth) return reply(res, 401, '');
        if (req.headers['content-type'] !== 'application/ssml+xml') {
            return reply(res, 415, '');
        }
        const fmt = /^raw-(16|24)khz-16bit-mono-pcm$/
            .exec(req.headers['x-microsoft-outputformat'] ?? '');
        if (!fmt || !req.headers['user-agent']) return reply(res, 400, '');
        const ssml = parseSsml(body);
        if (!ssml) return reply(res, 400, 'bad SSML');
        for (const k of Object.keys(ssml)) lines.push(`ssml.${k}=${ssml[k]}`);
        if (o.code) return reply(res, Number(o.code), '');
        return sendAudio(req, res, o, st, Number(fmt[1]) * 1000);
    },

    async tts_openai(req, res, o, st, url, lines) {
        const body = (await readBody(req)).toString();
        lines.push(`body=${body}`);
        const bad = openaiAuth(req, url);
        if (bad) return openaiError(res, bad, 'Incorrect API key provided');
        let j;
        try { j = JSON.parse(body); } catch (e) { j = null; }
        if (!j || req.headers['content-type'] !== 'application/json') {
            return openaiError(res, 400, 'We could not parse the JSON body');
        }
        for (const k of Object.keys(j).sort()) lines.push(`json.${k}=${j[k]}`);
        if (!j.model || !j.input || !j.voice || j.response_format !== 'pcm') {
            return openaiError(res, 400, 'model, input, voice, pcm wanted');
        }
        st.said.push(String(j.input).replace(/\n/g, ' '));
        if (o.code) {
            return openaiError(res, Number(o.code),
                               o.code === '429' ? 'Rate limit reached'
                                                : 'The server had an error');
        }
        return sendAudio(req, res, o, st, 24000);
    },

    async stt_openai(req, res, o, st, url, lines) {
        const body = await readBody(req);
        const bad = openaiAuth(req, url);
        if (bad) return openaiError(res, bad, 'Incorrect API key provided');
        const parts = parseMultipart(body, req.headers['content-type']);
        if (!parts || !parts.file || !parts.model) {
            return openaiError(res, 400, 'a multipart body with file, model');
        }
        for (const k of Object.keys(parts).sort()) {
            if (k !== 'file') lines.push(`field.${k}=${parts[k].data}`);
        }
        const f = parts.file;
        lines.push(`file.name=${f.filename}`, `file.type=${f.type}`);
        const wav = parseWav(f.data);
        if (!wav || !/\.wav$/.test(f.filename ?? '')) {
            return openaiError(res, 400, 'Invalid file format.');
        }
        for (const k of Object.keys(wav)) lines.push(`wav.${k}=${wav[k]}`);
        if (!wav.ok) return openaiError(res, 400, 'Invalid file format.');
        if (o.code) {
            return openaiError(res, Number(o.code),
                               o.code === '429' ? 'Rate limit reached'
                                                : 'The server had an error');
        }
        const ms = Math.round(wav.data / 2 / wav.rate * 1000);
        const list = o.texts?.split('|');
        const text = list ? decodeURIComponent(
                                list[Math.min(st.heard++, list.length - 1)])
            : o.text !== undefined ? decodeURIComponent(o.text)
                                   : `heard ${ms} ms at ${wav.rate} Hz`;
        const delay = Number(o.delay ?? 20);

        if (parts.stream?.data.toString() !== 'true') {
            return reply(res, 200, JSON.stringify({
                text, usage: { type: 'duration', seconds: ms / 1000 },
            }), 'application/json');
        }

        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const words = text.split(/(?= )/).filter((w) => w.length);
        let n = 0;
        for (const w of words) {
            if (res.destroyed) return;
            res.write(`data: ${JSON.stringify({
                type: 'transcript.text.delta', delta: w })}\n\n`);
            if (++n >= Number(o.close ?? Infinity)) {
                await sleep(delay);
                res.socket.destroy();
                return;
            }
            await sleep(delay);
        }
        res.end(`data: ${JSON.stringify({
            type: 'transcript.text.done', text,
            usage: { type: 'tokens', input_tokens: 14, output_tokens: 8,
                     total_tokens: 22 } })}\n\n`);
    },
};

function route(path) {
    if (/\/cognitiveservices\/v1$/.test(path)) return 'tts_azure';
    if (/\/sts\/v1\.0\/issueToken$/.test(path)) return 'token_azure';
    if (/\/audio\/speech$/.test(path)) return 'tts_openai';
    if (/\/audio\/transcriptions$/.test(path)) return 'stt_openai';
    return null;
}

async function handle(req, res) {
    const url = new URL(req.url, 'http://mock');
    let path = url.pathname;

    if (path === '/signal') {
        const st = state(url.searchParams.get('key'));
        st.signalled = true;
        st.waiters.splice(0).forEach((r) => r());
        return reply(res, 200, 'signalled\n');
    }

    if (path === '/__said') {
        const st = state(url.searchParams.get('key'));
        return reply(res, 200, st.said.map((s) => `${s}\n`).join(''));
    }

    if (path === '/__last') {
        const key = url.searchParams.get('key');
        const st = state(key);
        for (let i = 0; url.searchParams.get('aborted') && !st.aborted
             && i < 300; i++) {
            await sleep(10);
        }
        keys.delete(key);
        const lines = [...(st.last ?? ['none']),
                       `hits=${st.hits} aborted=${st.aborted}`];
        return reply(res, 200, lines.join('\n') + '\n');
    }

    const o = {};
    const m = /^\/m\/([^/]*)(\/.*)$/.exec(path);
    if (m) {
        for (const kv of m[1].split(',')) {
            const [k, ...v] = kv.split('=');
            if (k) o[k] = v.join('=');
        }
        path = m[2];
    }

    const name = route(path);
    if (req.method !== 'POST' || !name) return reply(res, 404, 'no route\n');

    const st = state(o.key ?? '-');
    st.hits++;
    const lines = [`path=${url.pathname}${url.search}`, ...headerLines(req)];
    st.last = lines;

    if (o.times !== undefined && st.hits > Number(o.times)) delete o.code;
    if (o.hang) {
        res.on('close', () => st.aborted++);
        return;
    }

    await routes[name](req, res, o, st, url, lines);
}

// Azure STT over WebSocket

const require = createRequire(new URL('../../tools/', import.meta.url));
const { WebSocketServer } = require('ws');
const wss = new WebSocketServer({ noServer: true });

function uspParse(data, binary) {
    let head, body;
    if (binary) {
        const n = data.readUInt16BE(0);
        head = data.subarray(2, 2 + n).toString('latin1');
        body = data.subarray(2 + n);
    } else {
        const s = data.toString();
        const i = s.indexOf('\r\n\r\n');
        if (i < 0) return null;
        head = s.slice(0, i);
        body = s.slice(i + 4);
    }
    const h = {};
    for (const line of head.split('\r\n')) {
        const i = line.indexOf(':');
        if (i > 0) h[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
    }
    return { h, body };
}

function uspText(path, rid, type, body) {
    return `Path: ${path}\r\nX-RequestId: ${rid}\r\n`
        + `X-Timestamp: ${new Date().toISOString()}\r\n`
        + `Content-Type: ${type}\r\n\r\n${body}`;
}

function sttAzure(ws, o, st, lines) {
    st.conns = (st.conns ?? 0) + 1;
    let configs = 0;
    let turn = null;
    const bad = (why) => { lines.push(`usp.bad=${why}`); };
    const send = (path, body) => {
        if (ws.readyState === ws.OPEN) {
            ws.send(uspText(path, turn.rid, 'application/json; charset=utf-8',
                            body));
        }
    };

    ws.on('message', (data, binary) => {
        if (ws.readyState !== ws.OPEN) return;    // what crossed our close
        const m = uspParse(Buffer.from(data), binary);
        if (!m) return bad('no header end');
        const path = m.h.path;
        const rid = m.h['x-requestid'] ?? '';
        if (!m.h['x-timestamp']
            || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/
                .test(m.h['x-timestamp'])) {
            return bad(`timestamp of ${path}`);
        }
        if (path === 'speech.config') {
            configs++;
            return;
        }
        if (!/^[0-9A-F]{32}$/i.test(rid)) return bad(`request id of ${path}`);
        if (path === 'speech.context') {
            if (configs !== 1) bad(`speech.config sent ${configs} times`);
            if (st.conns <= Number(o.early ?? 0)) {
                // gone as the turn begins, before it is taken
                lines.push(`early.closed=${st.conns}`);
                ws.close(1000, 'idle');
                return;
            }
            let ctx;
            try { ctx = JSON.parse(m.body); } catch { return bad('context'); }
            turn = { rid, msgs: 0, bytes: 0, format: ctx?.phraseOutput?.format };
            return;
        }
        if (path !== 'audio' || !binary) return bad(`path ${path}`);
        if (!turn || turn.rid !== rid) return bad('audio of no turn');
        turn.msgs++;
        if (turn.msgs === 1) {
            if (m.h['content-type'] !== 'audio/x-wav') bad('first type');
            const w = parseWav(m.body);
            turn.wav = w;
            turn.bytes += m.body.length - 44;
            send('turn.start', '{"context":{"serviceTag":"mock"}}');
            if (o.close) {
                ws.close(1011, 'mock error');
            }
            return;
        }
        if (m.h['content-type'] !== undefined) bad('type on a later chunk');
        if (m.body.length > 0) {
            turn.bytes += m.body.length;
            if (turn.msgs === Number(o.partial)) {
                // recognised while the caller still talks
                const said = o.text ? decodeURIComponent(o.text) : 'heard';
                send('speech.hypothesis', JSON.stringify({
                    Text: said.split(' ').slice(0, 3).join(' '),
                    Offset: 100000, Duration: turn.bytes * 10000 / 32 }));
            }
            return;
        }
        // the end of the turn's audio
        if (o.hang) {
            ws.on('close', () => st.aborted++);
            return;
        }
        if (o.slow) {
            // the service takes its time; a client that goes meanwhile
            // (it gave the turn up) gets nothing
            ws.on('close', () => st.aborted++);
            setTimeout(answer, Number(o.slow), turn);
            return;
        }
        answer(turn);
    });

    function answer(turn) {
        if (ws.readyState !== ws.OPEN) return;
        const ms = Math.round(turn.bytes / 32);
        lines.push(`conns=${st.conns}`, `usp.configs=${configs}`,
                   `usp.format=${turn.format}`,
                   ...Object.entries(turn.wav).map(([k, v]) => `wav.${k}=${v}`),
                   `audio.msgs=${turn.msgs}`, `audio.bytes=${turn.bytes}`);
        const text = o.text ? decodeURIComponent(o.text)
            : `heard ${ms} ms at 16000 Hz`;
        const ticks = ms * 10000;
        send('speech.startDetected', '{"Offset":100000}');
        const words = text.split(' ');
        send('speech.hypothesis', JSON.stringify({
            Text: words.slice(0, 1).join(' '), Offset: 100000,
            Duration: ticks / 2 }));
        send('speech.hypothesis', JSON.stringify({
            Text: words.slice(0, 3).join(' '), Offset: 100000,
            Duration: ticks }));
        const status = o.nomatch ? 'NoMatch'
            : o.silence ? 'InitialSilenceTimeout' : 'Success';
        send('speech.phrase', JSON.stringify(status === 'Success'
            ? { RecognitionStatus: status, Offset: 100000, Duration: ticks,
                NBest: [{ Confidence: 0.93, Lexical: text.toLowerCase(),
                          ITN: text, MaskedITN: text, Display: text },
                        { Confidence: 0.5, Display: 'wrong' }] }
            : { RecognitionStatus: status, Offset: 0, Duration: 0 }));
        send('speech.endDetected', '{"Offset":200000}');
        if (ws.readyState === ws.OPEN) {
            ws.send(`Path: turn.end\r\nX-RequestId: ${turn.rid}\r\n`
                    + `X-Timestamp: ${new Date().toISOString()}\r\n\r\n`);
        }
        if (o.bye) ws.close(1000, 'bye');
    }
}

function refuse(socket, code) {
    socket.end(`HTTP/1.1 ${code} Refused\r\nContent-Length: 0\r\n`
               + 'Connection: close\r\n\r\n');
}

function upgrade(req, socket, head) {
    const url = new URL(req.url, 'http://mock');
    let path = url.pathname;
    const o = {};
    const m = /^\/m\/([^/]*)(\/.*)$/.exec(path);
    if (m) {
        for (const kv of m[1].split(',')) {
            const [k, ...v] = kv.split('=');
            if (k) o[k] = v.join('=');
        }
        path = m[2];
    }
    if (!/\/speech\/recognition\/(conversation|interactive|dictation)\/cognitiveservices\/v1$/
        .test(path)) {
        return refuse(socket, 404);
    }
    const st = state(o.key ?? '-');
    st.hits++;
    const lines = [`path=${url.pathname}${url.search}`, ...headerLines(req)];
    st.last = lines;
    const auth = req.headers['ocp-apim-subscription-key'] === AZURE_KEY
        || bearerOk(req.headers.authorization);
    if (!auth) return refuse(socket, 401);
    if (o.times !== undefined && st.hits > Number(o.times)) delete o.code;
    if (o.code) return refuse(socket, Number(o.code));
    if (o.stall) {
        // read on, so that the client's close (half-open here) is seen
        socket.on('end', () => { st.aborted++; socket.destroy(); });
        socket.resume();
        return;
    }
    if (!/^[0-9A-F]{32}$/.test(req.headers['x-connectionid'] ?? '')) {
        return refuse(socket, 400);
    }
    wss.handleUpgrade(req, socket, head, (ws) => sttAzure(ws, o, st, lines));
}

const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => reply(res, 500, String(e)));
});
server.keepAliveTimeout = 30000;
server.on('upgrade', upgrade);

const hold = net.createServer((s) => {
    s.on('data', () => {});
    s.on('error', () => {});
});

function listening() {
    const out = { port: server.address().port };
    if (tls) out.tls_port = tls.address().port;
    hold.listen(0, '127.0.0.1', () => {
        out.hold_port = hold.address().port;
        process.stdout.write(JSON.stringify(out) + '\n');
    });
}

let tls = null;
if (args.cert) {
    tls = https.createServer({ cert: fs.readFileSync(args.cert),
                               key: fs.readFileSync(args.key) },
                             (req, res) => {
        handle(req, res).catch((e) => reply(res, 500, String(e)));
    });
    tls.on('upgrade', upgrade);
}

// a deep backlog: bench/speech-turns opens 1,000 calls' STT at once
server.listen(Number(args.port ?? 0), '127.0.0.1', 4096, () => {
    if (!tls) return listening();
    tls.listen(0, '127.0.0.1', listening);
});

for (const sig of ['SIGTERM', 'SIGINT']) {
    process.on(sig, () => process.exit(0));
}
