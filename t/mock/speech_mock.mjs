// Mock Azure Speech (REST text to speech) and OpenAI audio (speech,
// transcriptions; also the Azure OpenAI deployment form) for the speech
// provider tests (t/05x-speech-*.t), over plain HTTP.  It speaks the wire
// formats of PROTOCOLS.md 4.2, 9 and 10, checks what it gets as the
// services do (auth, content types, output format, SSML, multipart, the
// WAV header) and records each request for the tests to assert on.
//
//   node speech_mock.mjs [--port N]
//
// prints one JSON line {"port":N} when it listens.
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
//        Ocp-Apim-Subscription-Key; answers "test-azure-token" as text)
//   POST .../audio/speech                       OpenAI TTS (JSON, pcm)
//   POST .../audio/transcriptions               OpenAI STT (multipart)
//        Both: "Authorization: Bearer test-openai-key", or with the path
//        /openai/deployments/<name>/audio/... and ?api-version=,
//        "api-key: test-openai-key".
// Test routes:
//   GET /signal?key=K
//   GET /__last?key=K[&aborted=1]   the last request of K as text lines
//        (path, h.<name>=<value>, then what the route read: ssml.*,
//        json.*, field.*, wav.*), "hits=N aborted=A"; aborted=1 waits
//        (up to 3 s) for a client of K to go away.  Forgets K.

import http from 'node:http';

const args = Object.fromEntries(
    process.argv.slice(2).reduce((acc, a, i, all) => {
        if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
        return acc;
    }, []));

const AZURE_KEY = 'test-azure-key';
const AZURE_TOKEN = 'test-azure-token';
const OPENAI_KEY = 'test-openai-key';

const keys = new Map();

function state(key) {
    if (!keys.has(key)) {
        keys.set(key, { hits: 0, aborted: 0, last: null, signalled: false,
                        waiters: [] });
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
        return reply(res, 200, AZURE_TOKEN, 'application/jwt; charset=us-ascii');
    },

    async tts_azure(req, res, o, st, url, lines) {
        const body = (await readBody(req)).toString();
        lines.push(`body=${body}`);
        const auth = req.headers['ocp-apim-subscription-key'] === AZURE_KEY
            || req.headers.authorization === `Bearer ${AZURE_TOKEN}`;
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
        const text = o.text !== undefined ? decodeURIComponent(o.text)
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

const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => reply(res, 500, String(e)));
});
server.keepAliveTimeout = 30000;

server.listen(Number(args.port ?? 0), '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ port: server.address().port })
                         + '\n');
});

for (const sig of ['SIGTERM', 'SIGINT']) {
    process.on(sig, () => process.exit(0));
}
