// Mock chat-completions server (OpenAI /v1/chat/completions and the Azure
// OpenAI deployment form) for the LLM engine tests (t/07x-llm-*.t), over
// plain HTTP.  It replays the recorded SSE streams of t/fixtures
// (PROTOCOLS.md 5.3) or streams it makes from the request's options,
// checks auth as the services do, and records each request for the tests
// to assert on (the tools schema, the messages after tool results, the
// model per route).
//
//   node chat_mock.mjs [--port N] [--fixtures DIR]
//
// prints one JSON line {"port":N} when it listens.
//
// Behaviour comes from a path prefix /m/<k=v,k=v,...>/ before the
// service's own path; a value with '+' is a list, item i for the i-th
// request of the key (the last item repeats):
//   key=K        record under K (default "-")
//   stream=S     what to answer: a fixture (text, single, parallel,
//                length, azure, filter, error: the recorded files), or
//                "say" (the words of text=T as deltas, then stop), or
//                "call" (a tool call name=N with args=A, URI-escaped,
//                then tool_calls; ';' in both: parallel calls); default
//                text.  text, name and args are lists like stream
//   code=C       answer status C with an error body (0: answer normally);
//                retry=S adds Retry-After: S, retryms=MS retry-after-ms
//   delay=MS     between events (default 0)
//   stall=1      send the headers, then nothing (no first token)
//   hang=1       never answer
//   close=N      drop the connection after N events (a cut stream)
//   cycle=1      lists go round (item i mod length) instead of repeating
//                the last; cycle=tool: the second item when the last
//                message is a tool result, else the first (for benchmarks:
//                a tool round every turn, whatever the concurrency)
// Service routes (POST):
//   .../chat/completions                "Authorization: Bearer
//        test-openai-key"; or .../openai/deployments/<d>/chat/completions
//        ?api-version=V with "api-key: test-openai-key" (or the bearer);
//        test-openai-key-2 is taken as well (a key or token rotated)
//   The body must be JSON with messages and stream true.
//   .../contentsafety/text:shieldPrompt?api-version=2024-09-01  Azure AI
//        Content Safety Prompt Shields, "Ocp-Apim-Subscription-Key:
//        test-shield-key", a body {"userPrompt":...,"documents":[...]};
//        shield=attack answers attackDetected true (default false);
//        code=, stall= (no body after the headers) and hang= as above;
//        recorded like a chat request (path, headers, body=)
// Test routes:
//   GET /__last?key=K[&n=I][&aborted=1]   request I of K (1-based; the
//        last by default) as text lines: path=, h.<name>=, body=, then
//        model=, tools=<names,comma-separated>, msg.<i>=<role>:<content>
//        (tool calls as call:<name>(<args>), tool results as
//        tool[<id>]:<content>), and "hits=N aborted=A"; aborted=1 waits
//        up to 3 s for a client of K to go away.  Does not forget K.
//   GET /__forget?key=K

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = Object.fromEntries(
    process.argv.slice(2).reduce((acc, a, i, all) => {
        if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
        return acc;
    }, []));

const KEYS = ['test-openai-key', 'test-openai-key-2'];
const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = args.fixtures ?? process.env.RTAGENT_FIXTURES
                 ?? path.join(here, '..', 'fixtures');

const FILES = {
    text: 'openai_sse_chat_stream_text_content.txt',
    single: 'openai_sse_chat_stream_single_tool_call.txt',
    parallel: 'openai_sse_chat_stream_parallel_tool_calls.txt',
    length: 'openai_sse_chat_stream_finish_length.txt',
    azure: 'chat_sse_azure_filter.txt',
    filter: 'chat_sse_content_filter.txt',
    error: 'chat_sse_error.txt',
};

const keys = new Map();

function state(key) {
    if (!keys.has(key)) keys.set(key, { hits: 0, aborted: 0, reqs: [] });
    return keys.get(key);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function bearer(auth) {
    return KEYS.some((k) => auth === `Bearer ${k}`);
}

function reply(res, code, body, type = 'text/plain', headers = {}) {
    if (res.destroyed) return;
    res.writeHead(code, { 'content-type': type, ...headers });
    res.end(body);
}

let cycle = false;

function pick(v, i) {
    if (v === undefined) return undefined;
    const list = String(v).split('+');
    return cycle ? list[i % list.length] : list[Math.min(i, list.length - 1)];
}

function chunk(delta, finish = null) {
    return {
        id: 'chatcmpl-mock', object: 'chat.completion.chunk',
        created: 1727346000, model: 'gpt-4o-mock',
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    };
}

// the events of a stream: an array of data strings
function events(name, o, i) {
    if (FILES[name]) {
        const text = fs.readFileSync(path.join(fixtures, FILES[name]), 'utf8');
        return text.split('\n\n').filter((e) => e.length)
            .map((e) => e.replace(/^data: /, ''));
    }
    const out = [JSON.stringify(chunk({ role: 'assistant', content: '' }))];
    if (name === 'say') {
        const words = decodeURIComponent(pick(o.text, i) ?? 'Hello there.')
            .split(/(?= )/);
        for (const w of words) out.push(JSON.stringify(chunk({ content: w })));
        out.push(JSON.stringify(chunk({}, 'stop')));
    } else if (name === 'call') {
        const names = decodeURIComponent(pick(o.name, i) ?? 'end_call').split(';');
        const argv = decodeURIComponent(pick(o.args, i) ?? '{}').split(';');
        names.forEach((n, i) => {
            const a = argv[Math.min(i, argv.length - 1)];
            out.push(JSON.stringify(chunk({ tool_calls: [{
                index: i, id: `call_mock_${i}`, type: 'function',
                function: { name: n, arguments: '' } }] })));
            // the arguments in two fragments
            const h = Math.floor(a.length / 2);
            for (const part of [a.slice(0, h), a.slice(h)]) {
                out.push(JSON.stringify(chunk({ tool_calls: [{
                    index: i, function: { arguments: part } }] })));
            }
        });
        out.push(JSON.stringify(chunk({}, 'tool_calls')));
    } else {
        throw new Error(`unknown stream ${name}`);
    }
    out.push(JSON.stringify({ id: 'chatcmpl-mock', choices: [],
        usage: { prompt_tokens: 10, completion_tokens: 5,
                 total_tokens: 15 } }));
    out.push('[DONE]');
    return out;
}

function describe(json) {
    const lines = [];
    if (json.model !== undefined) lines.push(`model=${json.model}`);
    lines.push('tools=' + (json.tools ?? []).map((t) => t.function?.name)
        .join(','));
    for (const t of json.tools ?? []) {
        lines.push(`tool.${t.function?.name}=`
                   + JSON.stringify(t.function?.parameters));
    }
    (json.messages ?? []).forEach((m, i) => {
        let c = m.content ?? '';
        if (m.tool_calls) {
            c = m.tool_calls.map((tc) => `call:${tc.function.name}`
                                 + `(${tc.function.arguments})`).join(' ');
        }
        if (m.role === 'tool') c = `[${m.tool_call_id}]:${c}`;
        lines.push(`msg.${i}=${m.role}:${String(c).replace(/\n/g, '\\n')}`);
    });
    return lines;
}

async function chat(req, res, o, st, url, lines) {
    let i = st.hits - 1;
    let body = '';
    for await (const c of req) body += c;
    lines.push(`body=${body}`);

    const azure = /\/openai\/deployments\/[^/]+\/chat\/completions$/
        .test(url.pathname);
    const auth = azure
        ? (KEYS.includes(req.headers['api-key'])
           || bearer(req.headers.authorization))
          && url.searchParams.get('api-version')
        : bearer(req.headers.authorization);
    if (!auth) {
        return reply(res, 401, JSON.stringify({ error: {
            message: 'Incorrect API key provided', type: 'invalid_request_error',
            code: 'invalid_api_key' } }), 'application/json');
    }

    let json;
    try {
        json = JSON.parse(body);
    } catch (e) {
        return reply(res, 400, JSON.stringify({ error: {
            message: `bad JSON: ${e.message}` } }), 'application/json');
    }
    lines.push(...describe(json));
    if (o.cycle === 'tool') {
        i = json.messages?.at(-1)?.role === 'tool' ? 1 : 0;
    }
    if (!Array.isArray(json.messages) || json.stream !== true) {
        return reply(res, 400, JSON.stringify({ error: {
            message: 'messages and stream:true expected' } }),
            'application/json');
    }

    const code = Number(pick(o.code, i) ?? 0);
    if (code) {
        const h = {};
        if (o.retry !== undefined) h['retry-after'] = pick(o.retry, i);
        if (o.retryms !== undefined) h['retry-after-ms'] = pick(o.retryms, i);
        return reply(res, code, JSON.stringify({ error: {
            code: String(code), message: `mock error ${code}` } }),
            'application/json', h);
    }

    res.writeHead(200, { 'content-type': 'text/event-stream',
                         'apim-request-id': 'mock' });
    if (pick(o.stall, i)) {
        res.flushHeaders();
        return;
    }

    const evs = events(pick(o.stream, i) ?? 'text', o, i);
    const delay = Number(o.delay ?? 0);
    const close = pick(o.close, i);
    for (let k = 0; k < evs.length; k++) {
        if (close !== undefined && k >= Number(close)) {
            // what was written goes out first, then the connection dies
            await sleep(50);
            res.socket?.destroy();
            return;
        }
        if (res.destroyed) return;
        res.write(`data: ${evs[k]}\n\n`);
        if (delay) await sleep(delay);
    }
    res.end();
}

async function shield(req, res, o, st, url, lines) {
    const i = st.hits - 1;
    let body = '';
    for await (const c of req) body += c;
    lines.push(`body=${body}`);

    if (req.headers['ocp-apim-subscription-key'] !== 'test-shield-key') {
        return reply(res, 401, JSON.stringify({ error: {
            code: '401', message: 'Access denied due to invalid '
            + 'subscription key.' } }), 'application/json');
    }
    let json;
    try {
        json = JSON.parse(body);
    } catch (e) {
        json = null;
    }
    if (url.searchParams.get('api-version') !== '2024-09-01'
        || typeof json?.userPrompt !== 'string'
        || !Array.isArray(json?.documents)) {
        return reply(res, 400, JSON.stringify({ error: {
            code: 'InvalidRequestBody', message: 'bad request' } }),
            'application/json');
    }
    lines.push(`userPrompt=${json.userPrompt}`);

    const code = Number(pick(o.code, i) ?? 0);
    if (code) {
        return reply(res, code, JSON.stringify({ error: {
            code: String(code), message: `mock error ${code}` } }),
            'application/json');
    }
    if (pick(o.stall, i)) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        return;
    }
    reply(res, 200, JSON.stringify({
        userPromptAnalysis: { attackDetected: pick(o.shield, i) === 'attack' },
        documentsAnalysis: [] }), 'application/json');
}

async function handle(req, res) {
    const url = new URL(req.url, 'http://x');
    let p = url.pathname;

    if (p === '/__last' || p === '/__forget') {
        const key = url.searchParams.get('key');
        const st = state(key);
        if (p === '/__forget') {
            keys.delete(key);
            return reply(res, 200, 'forgotten\n');
        }
        for (let i = 0; url.searchParams.get('aborted') && !st.aborted
             && i < 300; i++) {
            await sleep(10);
        }
        const n = Number(url.searchParams.get('n') ?? st.reqs.length);
        const lines = [...(st.reqs[n - 1] ?? ['none']),
                       `hits=${st.hits} aborted=${st.aborted}`];
        return reply(res, 200, lines.join('\n') + '\n');
    }

    const o = {};
    const m = /^\/m\/([^/]*)(\/.*)$/.exec(p);
    if (m) {
        for (const kv of m[1].split(',')) {
            const [k, ...v] = kv.split('=');
            if (k) o[k] = v.join('=');
        }
        p = m[2];
    }

    const isShield = /\/contentsafety\/text:shieldPrompt$/.test(p);
    if (req.method !== 'POST'
        || !(isShield || /\/chat\/completions$/.test(p))) {
        return reply(res, 404, 'no route\n');
    }

    const st = state(o.key ?? '-');
    st.hits++;
    cycle = o.cycle === '1';
    const lines = [`path=${url.pathname}${url.search}`,
                   ...Object.keys(req.headers).sort()
                       .map((k) => `h.${k}=${req.headers[k]}`)];
    st.reqs.push(lines);

    let done = false;
    res.on('close', () => { if (!done) st.aborted++; });
    res.on('finish', () => { done = true; });

    if (pick(o.hang, st.hits - 1)) return;

    await (isShield ? shield : chat)(req, res, o, st, url, lines);
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
