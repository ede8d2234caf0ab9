// Mock Azure Communication Services for the ACS tests: the Call Automation
// REST API (HMAC-SHA256 signed requests, verified as ACS verifies them), the
// media-streaming WebSocket client side (ACS connects to the gateway), the
// Call Automation callbacks (CloudEvents arrays with an RS256 JWT) and the
// Event Grid IncomingCall delivery.  Wire formats: docs/protocols.md
// sections 1-3 and the samples in t/fixtures/.
//
//   node acs_mock.mjs --cert server.pem --key server.key --access-key B64
//        [--resource-id GUID] [--jwks-out FILE] [--host 127.0.0.1]
//
// prints one JSON line {"port":N,"plain_port":P} when it listens: N serves
// HTTPS (the ACS endpoint), P the same routes over plain HTTP (for the tests'
// own queries).
//
// ACS routes (signed; every request recorded, good or bad):
//   POST   /calling/callConnections:answer           200 CallConnectionProperties
//   POST   /calling/callConnections                  201 CallConnectionProperties
//   POST   /calling/callConnections:redirect|:reject 204
//   GET    /calling/callConnections/{id}             200 CallConnectionProperties
//   DELETE /calling/callConnections/{id}             204
//   POST   /calling/callConnections/{id}:terminate   204
//          …:transferToParticipant 202 {operationContext}; …:sendDtmfTones 202;
//          …:start|stopContinuousDtmfRecognition 200; …:play 202;
//          …:start|stopMediaStreaming 202; …:cancelAllMediaOperations 202;
//          …:recognize 202; …:hold|:unhold 200;
//          …:start|stop|updateTranscription 202
//   POST   /calling/recordings                       200 {recordingId,…}
// Unsigned:
//   GET /calling/keys                                the JWKS
//   GET /calling/.well-known/acsopenidconfiguration  {issuer, jwks_uri}
// Control routes (/_mock/…): see the header of t/mock/AcsMock.pm.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../tools/', import.meta.url));
const WebSocket = require('ws');

const args = Object.fromEntries(
    process.argv.slice(2).reduce((acc, a, i, all) => {
        if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
        return acc;
    }, []));

if (!args.cert || !args.key || !args['access-key']) {
    process.stderr.write('usage: acs_mock.mjs --cert F --key F --access-key B64'
                         + ' [--resource-id GUID] [--jwks-out FILE]\n');
    process.exit(2);
}

const accessKey = Buffer.from(args['access-key'], 'base64');
const resourceId = args['resource-id'] ?? crypto.randomUUID();
const ISSUER = 'https://acscallautomation.communication.azure.com';
const API_VERSION_DEFAULT = '2025-05-15';
const DATE_SKEW_MS = 15 * 60 * 1000;

// ---------------------------------------------------------------- JWT / JWKS

const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', {
    modulusLength: 2048,
});
const kid = crypto.randomBytes(12).toString('hex');
const jwk = publicKey.export({ format: 'jwk' });
const jwks = { keys: [{ kty: 'RSA', use: 'sig', alg: 'RS256', kid,
                        n: jwk.n, e: jwk.e }] };
if (args['jwks-out']) {
    fs.writeFileSync(args['jwks-out'], JSON.stringify(jwks) + '\n');
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');

// makeToken({aud, iss, exp_in, nbf_in, kid, tamper, alg}) -> compact JWT.
// exp_in/nbf_in are seconds from now; alg "none" gives an unsigned token.
function makeToken(o = {}) {
    const now = Math.floor(Date.now() / 1000);
    const alg = o.alg ?? 'RS256';
    const header = { alg, typ: 'JWT' };
    if (alg !== 'none') header.kid = o.kid ?? kid;
    const payload = {
        aud: o.aud ?? resourceId,
        iss: o.iss ?? ISSUER,
        iat: now,
        nbf: now + Number(o.nbf_in ?? 0),
        exp: now + Number(o.exp_in ?? 300),
    };
    if (o.claims) Object.assign(payload, o.claims);
    const input = `${b64url(JSON.stringify(header))}.`
        + b64url(JSON.stringify(payload));
    if (alg === 'none') return `${input}.`;
    const sig = crypto.sign('sha256', Buffer.from(input), privateKey);
    if (o.tamper && o.tamper !== '0') sig[sig.length - 1] ^= 0x01;
    return `${input}.${b64url(sig)}`;
}

// the Authorization value for a callback / WebSocket per a "token" option
function bearerFor(spec, lifetime) {
    switch (spec ?? 'valid') {
    case 'valid': return `Bearer ${makeToken({ exp_in: lifetime })}`;
    case 'none': return null;
    case 'expired':
        return `Bearer ${makeToken({ exp_in: -300, nbf_in: -900 })}`;
    case 'wrong-aud':
        return `Bearer ${makeToken({ exp_in: lifetime,
                                     aud: crypto.randomUUID() })}`;
    case 'bad-signature':
        return `Bearer ${makeToken({ exp_in: lifetime, tamper: 1 })}`;
    default: return `Bearer ${spec}`;
    }
}

// ---------------------------------------------------------------- state

const defaults = () => ({
    autoMedia: true,          // open the media WebSocket after answer/create
    autoConnected: false,     // POST CallConnected to the callbackUri
    mediaFrames: null,        // AudioData frames to send (null: until closed)
    mediaSpeech: null,        // {fromFrame, frames, hz, amp}: the caller speaks
                              // (a tone) in those frames, else silence
    closeMediaOnHangup: true, // DELETE/:terminate close the media WebSocket
});
let config = defaults();
let nextIds = [];             // callConnectionIds to hand out next

let requests = [];            // the records of the ACS routes
let fails = [];               // {match, status, times, body, headers}
let lostReplies = [];         // {match, times}: done, but the reply is lost
const calls = new Map();      // callConnectionId -> call state
const contexts = new Map();   // incomingCallContext -> IncomingCall data
let sessions = [];            // media WebSocket sessions
let callbacks = [];           // callbacks/deliveries this mock POSTed
const repeatability = new Map(); // Repeatability-Request-ID -> reply

const uuid = () => crypto.randomUUID();
const serverCallIdNew = () => Buffer.from(
    `https://mock.conv.skype.example/conv/${crypto.randomBytes(12)
        .toString('base64url')}?i=10-128-0-1&e=${Date.now()}`).toString('base64');

function acsError(code, message) {
    return { error: { code: String(code), message } };
}

// "+1555…" / "8:acs:…" / "4:+1…" / "28:…" or a model -> CommunicationIdentifierModel
function identifier(v) {
    if (v && typeof v === 'object') return v;
    const s = String(v);
    if (s.startsWith('+')) {
        return { kind: 'phoneNumber', rawId: `4:${s}`,
                 phoneNumber: { value: s } };
    }
    if (s.startsWith('4:')) {
        return { kind: 'phoneNumber', rawId: s,
                 phoneNumber: { value: s.slice(2) } };
    }
    if (s.startsWith('8:')) {
        return { kind: 'communicationUser', rawId: s,
                 communicationUser: { id: s } };
    }
    if (s.startsWith('28:')) {
        return { kind: 'microsoftTeamsApp', rawId: s,
                 microsoftTeamsApp: { appId: s.slice(3) } };
    }
    return { kind: 'unknown', rawId: s };
}

function rawIdOf(m) {
    if (!m || typeof m !== 'object') return undefined;
    if (m.rawId) return m.rawId;
    if (m.communicationUser?.id) return m.communicationUser.id;
    if (m.phoneNumber?.value) return `4:${m.phoneNumber.value}`;
    return undefined;
}

function isPhone(m) {
    return Boolean(m && typeof m === 'object'
                   && (m.kind === 'phoneNumber' || m.phoneNumber
                       || String(m.rawId ?? '').startsWith('4:')));
}

function properties(call) {
    const p = {
        callConnectionId: call.callConnectionId,
        serverCallId: call.serverCallId,
        targets: call.targets,
        callConnectionState: call.state,
        callbackUri: call.callbackUri,
        correlationId: call.correlationId,
        mediaStreamingSubscription: call.mediaStreamingSubscription,
    };
    if (call.source) p.source = call.source;
    if (call.sourceCallerIdNumber) {
        p.sourceCallerIdNumber = call.sourceCallerIdNumber;
    }
    if (call.sourceDisplayName) p.sourceDisplayName = call.sourceDisplayName;
    if (call.answeredBy) p.answeredBy = call.answeredBy;
    if (call.answeredFor) p.answeredFor = call.answeredFor;
    if (call.transcriptionSubscription) {
        p.transcriptionSubscription = call.transcriptionSubscription;
    }
    return p;
}

function knownCall(id) {
    if (!calls.has(id)) {
        calls.set(id, {
            callConnectionId: id, serverCallId: serverCallIdNew(),
            correlationId: uuid(), targets: [], state: 'connected',
            callbackUri: null, media: null,
            mediaStreamingSubscription: { id: uuid(), state: 'disabled',
                                          subscribedContentTypes: [] },
        });
    }
    return calls.get(id);
}

// ---------------------------------------------------------------- HMAC

const RFC1123 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const AUTH_PREFIX
    = 'HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=';

function safeEqual(a, b) {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && crypto.timingSafeEqual(x, y);
}

// null when the request is signed as ACS wants, else what is wrong
function checkSignature(req, raw) {
    const h = req.headers;
    const date = h['x-ms-date'];
    if (date === undefined) return 'x-ms-date header missing';
    if (!RFC1123.test(date)) return `x-ms-date is not RFC 1123: "${date}"`;
    const t = Date.parse(date);
    if (Number.isNaN(t)) return `x-ms-date is not a date: "${date}"`;
    if (Math.abs(Date.now() - t) > DATE_SKEW_MS) {
        return `x-ms-date is more than 15 minutes off: "${date}"`;
    }
    const hash = crypto.createHash('sha256').update(raw).digest('base64');
    const sent = h['x-ms-content-sha256'];
    if (sent === undefined) return 'x-ms-content-sha256 header missing';
    if (sent !== hash) {
        return `x-ms-content-sha256 "${sent}" is not the body hash "${hash}"`;
    }
    const auth = h.authorization;
    if (auth === undefined) return 'Authorization header missing';
    if (!auth.startsWith(AUTH_PREFIX)) {
        return `Authorization is not "${AUTH_PREFIX}<sig>": "${auth}"`;
    }
    const host = h['x-ms-host'] ?? h.host;
    if (!host) return 'no Host header';
    const toSign = `${req.method}\n${req.url}\n${date};${host};${hash}`;
    const want = crypto.createHmac('sha256', accessKey).update(toSign, 'utf8')
        .digest('base64');
    if (!safeEqual(auth.slice(AUTH_PREFIX.length), want)) {
        return `signature mismatch (string-to-sign ${JSON.stringify(toSign)})`;
    }
    return null;
}

// ---------------------------------------------------------------- media

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function silenceFrame(rate) {
    return Buffer.alloc(rate / 1000 * 20 * 2).toString('base64');
}

// the caller's speech: a PCM16LE tone of sp.frames 20 ms frames
function speechPcm(sp, rate) {
    const n = rate / 1000 * 20 * sp.frames;
    const pcm = Buffer.alloc(n * 2);
    for (let i = 0; i < n; i++) {
        pcm.writeInt16LE(Math.trunc((sp.amp ?? 6000)
            * Math.sin(2 * Math.PI * (sp.hz ?? 350) * i / rate)), i * 2);
    }
    return pcm;
}

// ACS connects to the gateway's transportUrl and streams the caller's
// audio: silence, and speech in the frames config.mediaSpeech names
function startMedia(call) {
    const opts = call.mediaOptions;
    if (!opts?.transportUrl) return null;
    const rate = opts.audioFormat === 'pcm24KMono' ? 24000 : 16000;
    const sess = {
        callConnectionId: call.callConnectionId,
        correlationId: call.correlationId,
        url: opts.transportUrl,
        subscriptionId: call.mediaStreamingSubscription.id,
        sampleRate: rate,
        status: null,            // the handshake's HTTP status
        open: false,
        closed: false,
        closeCode: null,
        closeReason: null,
        closedBy: null,          // "acs" (this mock) or "peer"
        error: null,
        framesSent: 0,
        speech: null,            // base64 of the speech PCM sent, if any
        messages: [],            // text (or base64 "binary:" of binary) received
        started: new Date().toISOString(),
    };
    sessions.push(sess);
    call.media = sess;

    const headers = {
        'x-ms-call-connection-id': call.callConnectionId,
        'x-ms-call-correlation-id': call.correlationId,
    };
    const auth = bearerFor(config.mediaToken, 24 * 3600);
    if (auth) headers.authorization = auth;

    let ws;
    try {
        ws = new WebSocket(opts.transportUrl, {
            headers, rejectUnauthorized: false, perMessageDeflate: false,
            handshakeTimeout: 10000,
        });
    } catch (e) {
        sess.error = String(e.message ?? e);
        sess.closed = true;
        return sess;
    }
    sess.ws = ws;
    ws.on('upgrade', (res) => { sess.status = res.statusCode; });
    ws.on('unexpected-response', (req, res) => {
        sess.status = res.statusCode;
        sess.error = `unexpected response ${res.statusCode}`;
        sess.closed = true;
        res.resume();
        req.destroy();
    });
    ws.on('error', (e) => {
        if (!sess.error) sess.error = String(e.message ?? e);
        sess.closed = true;
    });
    ws.on('message', (data, isBinary) => {
        sess.messages.push(isBinary ? `binary:${data.toString('base64')}`
                                    : data.toString('utf8'));
    });
    ws.on('close', (code, reason) => {
        sess.open = false;
        sess.closed = true;
        sess.closeCode = code;
        sess.closeReason = reason.toString('utf8');
        if (!sess.closedBy) sess.closedBy = 'peer';
        if (call.media === sess) {
            call.mediaStreamingSubscription.state = 'inactive';
        }
    });
    ws.on('open', async () => {
        sess.open = true;
        call.mediaStreamingSubscription.state = 'active';
        ws.send(JSON.stringify({
            kind: 'AudioMetadata',
            audioMetadata: { subscriptionId: sess.subscriptionId,
                             encoding: 'PCM', sampleRate: rate, channels: 1,
                             length: rate / 1000 * 20 * 2 },
        }));
        const data = silenceFrame(rate);
        const limit = config.mediaFrames ?? Infinity;
        const sp = config.mediaSpeech;
        const speech = sp ? speechPcm(sp, rate) : null;
        const flen = rate / 1000 * 20 * 2;
        if (speech) sess.speech = speech.toString('base64');
        const t0 = Date.now();
        const participant = call.callerRawId;
        while (sess.framesSent < limit && ws.readyState === WebSocket.OPEN) {
            const audioData = { timestamp: new Date().toISOString() };
            if (opts.audioChannelType === 'unmixed' && participant) {
                audioData.participantRawID = participant;
            }
            const k = sess.framesSent - (sp ? sp.fromFrame : 0);
            if (speech && k >= 0 && k < sp.frames) {
                audioData.data = speech.subarray(k * flen, (k + 1) * flen)
                    .toString('base64');
                audioData.silent = false;
            } else {
                audioData.data = data;
                audioData.silent = true;
            }
            ws.send(JSON.stringify({ kind: 'AudioData', audioData }));
            sess.framesSent++;
            const wait = t0 + 20 * sess.framesSent - Date.now();
            await sleep(Math.max(wait, 0));
        }
    });
    return sess;
}

function closeMedia(id, code, reason, abort) {
    let n = 0;
    for (const s of sessions) {
        if (s.callConnectionId !== id || !s.ws || s.closed) continue;
        s.closedBy = 'acs';
        if (abort) {
            s.ws.terminate();
        } else {
            s.ws.close(code ?? 1000, reason ?? '');
        }
        n++;
    }
    return n;
}

function sessionView(s, withMessages) {
    const { ws, ...rest } = s;
    if (!withMessages) {
        rest.messageCount = rest.messages.length;
        delete rest.messages;
    }
    return rest;
}

// ---------------------------------------------------------------- outbound POSTs

// POST body to url; resolves {status, body, headers} or {status:0, error}
function post(url, body, headers) {
    return new Promise((resolve) => {
        let u;
        try { u = new URL(url); } catch (e) {
            resolve({ status: 0, error: `bad url ${url}` });
            return;
        }
        const mod = u.protocol === 'https:' ? https : http;
        const buf = Buffer.from(body);
        const req = mod.request(u, {
            method: 'POST',
            headers: { ...headers, 'content-length': buf.length },
            rejectUnauthorized: false,
            timeout: 10000,
        }, (res) => {
            const parts = [];
            res.on('data', (d) => parts.push(d));
            res.on('end', () => resolve({
                status: res.statusCode,
                body: Buffer.concat(parts).toString('utf8'),
                headers: res.headers,
            }));
            res.on('error', (e) => resolve({ status: 0, error: String(e) }));
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', (e) => resolve({ status: 0, error: String(e.message) }));
        req.end(buf);
    });
}

const eventTime = () => new Date().toISOString().replace('Z', '+00:00');

// one Call Automation CloudEvent (PROTOCOLS 1.7)
function cloudEvent(call, id, ev) {
    const name = String(ev.type ?? 'CallConnected')
        .replace(/^Microsoft\.Communication\./, '');
    const type = `Microsoft.Communication.${name}`;
    const data = {
        version: API_VERSION_DEFAULT,
        resultInformation: { code: 200, subCode: 0, message: '' },
        callConnectionId: id,
        serverCallId: call?.serverCallId ?? serverCallIdNew(),
        correlationId: call?.correlationId ?? uuid(),
        publicEventType: type,
        ...(ev.data ?? {}),
    };
    return {
        id: ev.id ?? uuid(),
        source: `calling/callConnections/${id}`,
        type,
        data,
        time: eventTime(),
        specversion: '1.0',
        datacontenttype: 'application/json',
        subject: `calling/callConnections/${id}`,
    };
}

async function sendCallback(o) {
    const id = o.callConnectionId;
    const call = id !== undefined ? calls.get(id) : undefined;
    const url = o.url ?? call?.callbackUri;
    if (!url) {
        return { status: 0, error: 'no url and no callbackUri for that call' };
    }
    const events = (o.events ?? [{ type: 'CallConnected' }])
        .map((ev) => cloudEvent(call, id, ev));
    const body = o.raw ?? JSON.stringify(events);
    const headers = {
        'content-type': o.contentType ?? 'application/json; charset=utf-8',
        ...(o.headers ?? {}),
    };
    const auth = o.authorization ?? bearerFor(o.token, 300);
    if (auth) headers.authorization = auth;
    const r = await post(url, body, headers);
    const out = { ...r, url, sent: body, events };
    callbacks.push({ kind: 'callback', url, status: r.status,
                     error: r.error, sent: body });
    return out;
}

const topic = `/subscriptions/${uuid()}/resourcegroups/rtagent-test/providers/`
    + 'microsoft.communication/communicationservices/rtagent-mock';

function incomingCallContext() {
    const h = b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }));
    const p = b64url(JSON.stringify({
        cc: crypto.randomBytes(96).toString('base64'),
        shrToken: crypto.randomBytes(48).toString('base64url'),
    }));
    return `${h}.${p}.`;
}

async function sendIncoming(o) {
    const from = identifier(o.from ?? '+15551230001');
    const to = identifier(o.to ?? '+15551230000');
    const data = {
        to, from,
        serverCallId: o.serverCallId ?? serverCallIdNew(),
        callerDisplayName: o.callerDisplayName ?? '',
        incomingCallContext: o.incomingCallContext ?? incomingCallContext(),
        correlationId: o.correlationId ?? uuid(),
        ...(o.data ?? {}),
    };
    contexts.set(data.incomingCallContext, data);
    const subject = `/caller/${rawIdOf(from)}/recipient/${rawIdOf(to)}`;
    const id = o.id ?? uuid();
    const time = new Date().toISOString().replace('Z', '0000Z');
    let event;
    let headers;
    if ((o.schema ?? 'eventgrid') === 'cloudevents') {
        event = { id, source: topic, subject, data,
                  type: 'Microsoft.Communication.IncomingCall', time,
                  specversion: '1.0' };
        headers = { 'content-type': 'application/cloudevents+json; charset=utf-8' };
    } else {
        event = { id, topic, subject, data,
                  eventType: 'Microsoft.Communication.IncomingCall',
                  dataVersion: '1.0', metadataVersion: '1', eventTime: time };
        headers = { 'content-type': 'application/json; charset=utf-8',
                    'aeg-data-version': '1.0', 'aeg-metadata-version': '1' };
    }
    Object.assign(headers, {
        'aeg-event-type': 'Notification',
        'aeg-subscription-name': 'RTAGENT-MOCK-INCOMING',
        'aeg-delivery-count': String(o.deliveryCount ?? 0),
        ...(o.headers ?? {}),
    });
    const body = o.raw ?? JSON.stringify(
        o.schema === 'cloudevents' ? event : [event]);
    const r = await post(o.url, body, headers);
    callbacks.push({ kind: 'incoming', url: o.url, status: r.status,
                     error: r.error, sent: body });
    return { ...r, event, sent: body };
}

async function sendValidation(o) {
    const code = o.validationCode ?? uuid();
    const event = {
        id: uuid(), topic: `/subscriptions/${uuid()}`, subject: '',
        data: {
            validationCode: code,
            validationUrl: 'https://rp-eastus2.eventgrid.azure.net:553/'
                + `eventsubscriptions/rtagent/validate?id=${code}&t=`
                + `${new Date().toISOString()}&apiVersion=2018-05-01-preview`
                + '&token=MOCK',
        },
        eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
        eventTime: new Date().toISOString(),
        metadataVersion: '1', dataVersion: '1',
    };
    const body = JSON.stringify([event]);
    const r = await post(o.url, body, {
        'content-type': 'application/json; charset=utf-8',
        'aeg-event-type': 'SubscriptionValidation',
        'aeg-subscription-name': 'RTAGENT-MOCK-INCOMING',
        'aeg-delivery-count': '0',
    });
    callbacks.push({ kind: 'validation', url: o.url, status: r.status,
                     error: r.error, sent: body });
    return { ...r, event, validationCode: code, sent: body };
}

// ---------------------------------------------------------------- ACS routes

function validateMediaOptions(m) {
    if (m === undefined || m === null) return null;
    if (typeof m !== 'object') return 'mediaStreamingOptions must be an object';
    if (m.transportType === undefined) {
        return 'mediaStreamingOptions.transportType is required';
    }
    if (String(m.transportType).toLowerCase() !== 'websocket') {
        return `unsupported transportType "${m.transportType}"`;
    }
    if (!['mixed', 'unmixed'].includes(m.audioChannelType)) {
        return 'mediaStreamingOptions.audioChannelType must be mixed or unmixed';
    }
    if (m.audioFormat !== undefined
        && !['pcm16KMono', 'pcm24KMono'].includes(m.audioFormat)) {
        return `unsupported audioFormat "${m.audioFormat}"`;
    }
    if (m.transportUrl !== undefined
        && !/^wss?:\/\//i.test(String(m.transportUrl))) {
        return `transportUrl must be ws:// or wss://: "${m.transportUrl}"`;
    }
    return null;
}

function newCall(body, extra) {
    const id = nextIds.length ? nextIds.shift() : uuid();
    const m = body.mediaStreamingOptions;
    const call = {
        callConnectionId: id,
        serverCallId: extra.serverCallId ?? serverCallIdNew(),
        correlationId: extra.correlationId ?? uuid(),
        targets: extra.targets ?? [],
        source: extra.source,
        state: 'connecting',
        callbackUri: body.callbackUri,
        operationContext: body.operationContext,
        mediaOptions: m ?? null,
        mediaStreamingSubscription: m
            ? { id: uuid(), state: 'inactive', subscribedContentTypes: ['audio'] }
            : { id: uuid(), state: 'disabled', subscribedContentTypes: [] },
        callerRawId: extra.callerRawId,
        media: null,
    };
    if (body.answeredBy) call.answeredBy = body.answeredBy;
    if (body.sourceCallerIdNumber) {
        call.sourceCallerIdNumber = body.sourceCallerIdNumber;
    }
    if (body.sourceDisplayName) call.sourceDisplayName = body.sourceDisplayName;
    if (extra.answeredFor) call.answeredFor = extra.answeredFor;
    calls.set(id, call);
    return call;
}

// after the 200/201 went out: what ACS does next.  ACS connects the call,
// opens the media WebSocket and sends CallConnected only once it has
// answered, so this runs when the reply has been written to the socket
// (the response's 'finish'), never ahead of it.
function afterEstablish(call, res) {
    if (!res.writableFinished) {
        res.once('finish', () => afterEstablish(call, res));
        return;
    }
    setTimeout(() => {
        call.state = 'connected';
        if (config.autoMedia && call.mediaOptions?.transportUrl
            && call.mediaOptions.startMediaStreaming !== false) {
            startMedia(call);
        }
        if (config.autoConnected && call.callbackUri) {
            sendCallback({ callConnectionId: call.callConnectionId,
                           events: [{ type: 'CallConnected' }] });
        }
    }, 20);
}

const isString = (v) => typeof v === 'string' && v.length > 0;

const actions = {
    terminate: [204],
    transferToParticipant: [202, (b) => (b.targetParticipant
        ? null : 'targetParticipant is required')],
    sendDtmfTones: [202, (b) => (Array.isArray(b.tones) && b.tones.length
        ? (b.targetParticipant ? null : 'targetParticipant is required')
        : 'tones is required')],
    startContinuousDtmfRecognition: [200, (b) => (b.targetParticipant
        ? null : 'targetParticipant is required')],
    stopContinuousDtmfRecognition: [200, (b) => (b.targetParticipant
        ? null : 'targetParticipant is required')],
    play: [202, (b) => (Array.isArray(b.playSources) && b.playSources.length
        ? null : 'playSources is required')],
    startMediaStreaming: [202],
    stopMediaStreaming: [202],
    cancelAllMediaOperations: [202],
    recognize: [202, (b) => (b.recognizeInputType
        ? null : 'recognizeInputType is required')],
    hold: [200, (b) => (b.targetParticipant
        ? null : 'targetParticipant is required')],
    unhold: [200, (b) => (b.targetParticipant
        ? null : 'targetParticipant is required')],
    startTranscription: [202],
    stopTranscription: [202],
    updateTranscription: [202],
};

// -> [status, body object or null, headers?]
function acsRoute(method, path, body) {
    if (path === '/calling/callConnections:answer') {
        if (method !== 'POST') return [405, acsError('MethodNotAllowed', method)];
        if (!isString(body.incomingCallContext)) {
            return [400, acsError('BadRequest',
                                  'incomingCallContext is required')];
        }
        if (!isString(body.callbackUri)) {
            return [400, acsError('BadRequest', 'callbackUri is required')];
        }
        const bad = validateMediaOptions(body.mediaStreamingOptions);
        if (bad) return [400, acsError('BadRequest', bad)];
        const inc = contexts.get(body.incomingCallContext);
        const call = newCall(body, {
            serverCallId: inc?.serverCallId,
            correlationId: inc?.correlationId,
            targets: inc ? [inc.from] : [],
            source: inc?.to,
            callerRawId: inc ? rawIdOf(inc.from) : undefined,
            answeredFor: inc?.to?.phoneNumber
                ? { value: inc.to.phoneNumber.value } : undefined,
        });
        return [200, properties(call), call];
    }
    if (path === '/calling/callConnections') {
        if (method !== 'POST') return [405, acsError('MethodNotAllowed', method)];
        if (!Array.isArray(body.targets) || !body.targets.length) {
            return [400, acsError('BadRequest', 'targets is required')];
        }
        if (!isString(body.callbackUri)) {
            return [400, acsError('BadRequest', 'callbackUri is required')];
        }
        if (body.targets.some(isPhone) && !body.sourceCallerIdNumber?.value) {
            return [400, acsError('BadRequest',
                'sourceCallerIdNumber is required to call a phone number')];
        }
        const bad = validateMediaOptions(body.mediaStreamingOptions);
        if (bad) return [400, acsError('BadRequest', bad)];
        const call = newCall(body, {
            targets: body.targets.map((t) => ({ ...t,
                                                rawId: t.rawId ?? rawIdOf(t) })),
            source: body.source,
            callerRawId: rawIdOf(body.targets[0]),
        });
        return [201, properties(call), call];
    }
    if (path === '/calling/callConnections:redirect'
        || path === '/calling/callConnections:reject') {
        if (method !== 'POST') return [405, acsError('MethodNotAllowed', method)];
        if (!isString(body.incomingCallContext)) {
            return [400, acsError('BadRequest',
                                  'incomingCallContext is required')];
        }
        if (path.endsWith(':redirect') && !body.target) {
            return [400, acsError('BadRequest', 'target is required')];
        }
        return [204, null];
    }
    if (path === '/calling/recordings') {
        if (method !== 'POST') return [405, acsError('MethodNotAllowed', method)];
        if (!isString(body.callLocator?.serverCallId)) {
            return [400, acsError('BadRequest',
                                  'callLocator.serverCallId is required')];
        }
        return [200, { recordingId: Buffer.from(uuid()).toString('base64'),
                       recordingState: 'active',
                       recordingKind: 'AzureCommunicationServices' }];
    }
    const m = /^\/calling\/callConnections\/([^/:]+)(?::([A-Za-z]+))?$/
        .exec(path);
    if (!m) return [404, acsError('NotFound', `no such route ${path}`)];
    let id;
    try { id = decodeURIComponent(m[1]); } catch (e) { id = m[1]; }
    const action = m[2];
    const call = calls.get(id);
    if (!call) return [404, acsError('8522', 'Call not found')];

    if (!action) {
        if (method === 'GET') return [200, properties(call)];
        if (method === 'DELETE') {
            hangUp(call);
            return [204, null];
        }
        return [405, acsError('MethodNotAllowed', method)];
    }
    const spec = actions[action];
    if (!spec) return [404, acsError('NotFound', `no such action ${action}`)];
    if (method !== 'POST') return [405, acsError('MethodNotAllowed', method)];
    const bad = spec[1]?.(body);
    if (bad) return [400, acsError('BadRequest', bad)];
    if (action === 'terminate') hangUp(call);
    if (action === 'startMediaStreaming' && config.autoMedia
        && (!call.media || call.media.closed)) {
        setTimeout(() => startMedia(call), 20);
    }
    if (action === 'stopMediaStreaming') {
        closeMedia(call.callConnectionId, 1000, '');
    }
    if (action === 'transferToParticipant' || action === 'sendDtmfTones') {
        return [202, { operationContext: body.operationContext ?? null }];
    }
    return [spec[0], null];
}

function hangUp(call) {
    call.state = 'disconnected';
    if (config.closeMediaOnHangup) {
        closeMedia(call.callConnectionId, 1000, '');
    }
}

// ---------------------------------------------------------------- HTTP

function send(res, status, obj, headers = {}) {
    if (res.headersSent) return;
    if (obj === null || obj === undefined || status === 204) {
        res.writeHead(status, headers);
        res.end();
        return;
    }
    const text = typeof obj === 'string' ? obj : JSON.stringify(obj);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8',
                            'content-length': Buffer.byteLength(text),
                            ...headers });
    res.end(text);
}

function parseJson(s) {
    try { return JSON.parse(s); } catch (e) { return null; }
}

function handleAcs(req, res, raw) {
    const text = raw.toString('utf8');
    const rec = {
        method: req.method,
        path: req.url,
        headers: { ...req.headers },
        body: text,
        json: text.length ? parseJson(text) : null,
        signature_ok: false,
        signature_error: null,
        status: null,
        time: new Date().toISOString(),
    };
    requests.push(rec);
    const reply = (status, obj, headers) => {
        rec.status = status;
        res.once('finish', () => { rec.replied = new Date().toISOString(); });
        send(res, status, obj, headers);
    };

    const url = new URL(req.url, 'https://mock');
    const why = checkSignature(req, raw);
    if (why) {
        rec.signature_error = why;
        reply(401, acsError('Unauthorized', why));
        return;
    }
    if (!url.searchParams.get('api-version')) {
        rec.signature_error = 'api-version query parameter missing';
        reply(400, acsError('MissingApiVersionParameter',
            'The api-version query parameter (?api-version=) is required'
            + ' for all requests.'));
        return;
    }
    rec.signature_ok = true;

    const rid = req.headers['repeatability-request-id'];
    const rfs = req.headers['repeatability-first-sent'];
    if ((rid === undefined) !== (rfs === undefined)) {
        reply(400, acsError('BadRequest', 'Repeatability-Request-ID and'
                            + ' Repeatability-First-Sent go together'));
        return;
    }
    if (rfs !== undefined && !RFC1123.test(rfs)) {
        reply(400, acsError('BadRequest',
                            `Repeatability-First-Sent not RFC 1123: "${rfs}"`));
        return;
    }

    const line = `${req.method} ${req.url}`;
    const f = fails.find((x) => x.times > 0 && line.includes(x.match));
    if (f) {
        f.times--;
        rec.injected = true;
        reply(f.status, f.body, f.headers);
        return;
    }

    const key = rid !== undefined ? `${line}\n${rid}` : null;
    if (key && repeatability.has(key)) {
        const [s, b] = repeatability.get(key);
        rec.repeated = true;
        reply(s, b, { 'repeatability-result': 'accepted' });
        return;
    }

    let body = {};
    if (text.length) {
        body = rec.json;
        if (body === null || typeof body !== 'object' || Array.isArray(body)) {
            reply(400, acsError('BadRequest', 'the body is not a JSON object'));
            return;
        }
    }
    const [status, obj, call] = acsRoute(req.method, url.pathname, body);
    if (key) repeatability.set(key, [status, obj]);
    const lost = lostReplies.find((x) => x.times > 0 && line.includes(x.match));
    if (lost) {
        // done and remembered, but the reply never arrives: a retry with
        // the same Repeatability-Request-ID gets the stored one
        lost.times--;
        rec.status = 0;
        rec.lost = true;
        req.socket.destroy();
        if (call) afterEstablish(call, { writableFinished: true });
        return;
    }
    reply(status, obj, key ? { 'repeatability-result': 'accepted' } : {});
    if (call) afterEstablish(call, res);
}

async function handleMock(req, res, url, raw) {
    const q = url.searchParams;
    const body = raw.length ? parseJson(raw.toString('utf8')) : {};
    if (body === null) {
        send(res, 400, { error: 'the body is not JSON' });
        return;
    }
    const p = url.pathname;
    const m = req.method;

    if (p === '/_mock/requests' && m === 'GET') {
        const match = q.get('match');
        send(res, 200, requests.filter(
            (r) => !match || `${r.method} ${r.path}`.includes(match)));
    } else if (p === '/_mock/requests' && m === 'DELETE') {
        requests = [];
        send(res, 200, { ok: true });
    } else if (p === '/_mock/fail' && m === 'POST' && body.lose) {
        if (!body.match) {
            send(res, 400, { error: 'match is required' });
            return;
        }
        lostReplies.push({ match: String(body.match),
                           times: Number(body.times ?? 1) });
        send(res, 200, { ok: true,
                         pending: lostReplies.filter((x) => x.times > 0) });
    } else if (p === '/_mock/fail' && m === 'POST') {
        if (!body.match || !body.status) {
            send(res, 400, { error: 'match and status are required' });
            return;
        }
        fails.push({
            match: String(body.match),
            status: Number(body.status),
            times: Number(body.times ?? 1),
            body: body.body ?? acsError(String(body.status),
                                        'injected failure'),
            headers: body.headers ?? {},
        });
        send(res, 200, { ok: true, pending: fails.filter((x) => x.times > 0) });
    } else if (p === '/_mock/fail' && m === 'DELETE') {
        fails = [];
        lostReplies = [];
        send(res, 200, { ok: true });
    } else if (p === '/_mock/config' && m === 'POST') {
        for (const k of ['autoMedia', 'autoConnected', 'closeMediaOnHangup']) {
            if (k in body) config[k] = Boolean(body[k]);
        }
        if ('mediaFrames' in body) {
            config.mediaFrames = body.mediaFrames === null
                ? null : Number(body.mediaFrames);
        }
        if ('mediaToken' in body) config.mediaToken = body.mediaToken;
        if ('mediaSpeech' in body) config.mediaSpeech = body.mediaSpeech;
        if ('nextCallConnectionId' in body) {
            const v = body.nextCallConnectionId;
            nextIds = v === null ? [] : (Array.isArray(v) ? [...v] : [String(v)]);
        }
        for (const id of body.knownCalls ?? []) knownCall(String(id));
        send(res, 200, { ...config, nextCallConnectionIds: nextIds });
    } else if (p === '/_mock/config' && m === 'GET') {
        send(res, 200, { ...config, nextCallConnectionIds: nextIds,
                         resourceId, kid });
    } else if (p === '/_mock/reset' && m === 'POST') {
        for (const c of calls.values()) closeMedia(c.callConnectionId, 1001, '');
        requests = [];
        fails = [];
        lostReplies = [];
        config = defaults();
        nextIds = [];
        calls.clear();
        contexts.clear();
        repeatability.clear();
        sessions = [];
        callbacks = [];
        send(res, 200, { ok: true });
    } else if (p === '/_mock/calls' && m === 'GET') {
        send(res, 200, [...calls.values()].map(properties));
    } else if (p === '/_mock/media' && m === 'GET') {
        const id = q.get('callConnectionId');
        const withMessages = q.get('messages') !== '0';
        send(res, 200, sessions
            .filter((s) => !id || s.callConnectionId === id)
            .map((s) => sessionView(s, withMessages)));
    } else if (p === '/_mock/media/close' && m === 'POST') {
        const n = closeMedia(String(body.callConnectionId),
                             body.code === undefined ? 1000 : Number(body.code),
                             body.reason ?? '', Boolean(body.abort));
        send(res, 200, { closed: n });
    } else if (p === '/_mock/media/send' && m === 'POST') {
        const s = [...sessions].reverse().find(
            (x) => x.callConnectionId === String(body.callConnectionId)
                && x.open);
        if (!s) {
            send(res, 404, { error: 'no open media session for that call' });
            return;
        }
        const msg = typeof body.message === 'string'
            ? body.message : JSON.stringify(body.message);
        s.ws.send(msg);
        send(res, 200, { ok: true });
    } else if (p === '/_mock/media/start' && m === 'POST') {
        const call = calls.get(String(body.callConnectionId));
        if (!call) {
            send(res, 404, { error: 'unknown call' });
            return;
        }
        if (body.transportUrl) {
            call.mediaOptions = { transportType: 'websocket',
                                  audioChannelType: 'mixed',
                                  ...(call.mediaOptions ?? {}),
                                  transportUrl: body.transportUrl };
            if (body.audioFormat) call.mediaOptions.audioFormat = body.audioFormat;
            if (call.mediaStreamingSubscription.state === 'disabled') {
                call.mediaStreamingSubscription = {
                    id: uuid(), state: 'inactive',
                    subscribedContentTypes: ['audio'] };
            }
        }
        const s = startMedia(call);
        send(res, s ? 200 : 400, s ? { ok: true } : { error: 'no transportUrl' });
    } else if (p === '/_mock/token' && m === 'GET') {
        const o = Object.fromEntries(q.entries());
        send(res, 200, { token: makeToken(o) });
    } else if (p === '/_mock/callback' && m === 'POST') {
        send(res, 200, await sendCallback(body));
    } else if (p === '/_mock/incoming' && m === 'POST') {
        if (!body.url) {
            send(res, 400, { error: 'url is required' });
            return;
        }
        send(res, 200, await sendIncoming(body));
    } else if (p === '/_mock/validation' && m === 'POST') {
        if (!body.url) {
            send(res, 400, { error: 'url is required' });
            return;
        }
        send(res, 200, await sendValidation(body));
    } else if (p === '/_mock/callbacks' && m === 'GET') {
        send(res, 200, callbacks);
    } else {
        send(res, 404, { error: `no such mock route ${m} ${p}` });
    }
}

function handle(req, res) {
    const parts = [];
    req.on('data', (d) => parts.push(d));
    req.on('end', () => {
        const raw = Buffer.concat(parts);
        const url = new URL(req.url, 'https://mock');
        if (url.pathname === '/calling/keys' && req.method === 'GET') {
            send(res, 200, jwks);
        } else if (url.pathname === '/calling/.well-known/acsopenidconfiguration'
                   && req.method === 'GET') {
            const host = req.headers.host;
            send(res, 200, { issuer: ISSUER,
                             jwks_uri: `https://${host}/calling/keys` });
        } else if (url.pathname.startsWith('/_mock/')) {
            handleMock(req, res, url, raw).catch((e) => {
                send(res, 500, { error: String(e.stack ?? e) });
            });
        } else {
            try {
                handleAcs(req, res, raw);
            } catch (e) {
                send(res, 500, acsError('InternalServerError', String(e)));
            }
        }
    });
}

const server = https.createServer({
    cert: fs.readFileSync(args.cert),
    key: fs.readFileSync(args.key),
    keepAliveTimeout: 30000,
}, handle);
server.on('clientError', (err, socket) => socket.destroy());
const plain = http.createServer({ keepAliveTimeout: 30000 }, handle);
plain.on('clientError', (err, socket) => socket.destroy());

const host = args.host ?? '127.0.0.1';
server.listen(Number(args.port ?? 0), host, 1024, () => {
    plain.listen(Number(args['plain-port'] ?? 0), host, () => {
        process.stdout.write(JSON.stringify({
            port: server.address().port,
            plain_port: plain.address().port,
        }) + '\n');
    });
});

for (const sig of ['SIGTERM', 'SIGINT']) {
    process.on(sig, () => process.exit(0));
}
