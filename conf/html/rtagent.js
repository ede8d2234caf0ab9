// rtagent web client: the browser as a caller on /ws/web (README, "Talk
// from the browser").  The microphone goes through an AudioWorklet in
// 20 ms pieces, as Opus packets (WebCodecs AudioEncoder) where the browser
// has them, PCM16 otherwise; the agent's audio comes back the same way and
// is played by a second AudioWorklet, which drops its queue at once when
// the gateway says stop_audio (the caller barged in).
//
// window.rtagent holds the client's state for people debugging it and for
// the browser test (t/088): state, callId, codec, played (samples played),
// flushed, stopAudio, transcript, errors.

const $ = (id) => document.getElementById(id);

const ui = {
  button: $('call'), agent: $('agent'), codec: $('codec'), state: $('state'),
  callId: $('call-id'), format: $('format'), latency: $('latency'),
  error: $('error'), transcript: $('transcript'),
};

const status = window.rtagent = {
  state: 'idle', callId: null, codec: null, rate: 0, played: 0, flushed: 0,
  stopAudio: 0, transcript: [], errors: [],
};

const OPUS_RATES = [8000, 12000, 16000, 24000, 48000];

function setState(state, text) {
  status.state = state;
  ui.state.dataset.state = state;
  ui.state.textContent = text;
}

function showError(text) {
  status.errors.push(text);
  ui.error.textContent = text;
  ui.error.hidden = false;
}

function clearError() {
  ui.error.hidden = true;
  ui.error.textContent = '';
}

function showFormat() {
  if (!status.codec) {
    ui.format.textContent = '–';
    return;
  }
  const secs = status.rate ? (status.played / status.rate).toFixed(1) : '0';
  ui.format.textContent = `${status.codec === 'opus' ? 'Opus' : 'PCM16'} at `
    + `${status.rate / 1000} kHz · agent audio played: ${secs} s`;
}

function addLine(m) {
  status.transcript.push(m);
  const li = document.createElement('li');
  li.className = m.role === 'agent' ? 'agent' : 'caller';
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = m.role === 'agent' ? `Agent (${m.agent || 'agent'}):` : 'You:';
  const text = document.createElement('span');
  text.className = 'text';
  text.textContent = m.text;
  li.append(who, text);
  if (m.role === 'agent' && typeof m.latencyMs === 'number') {
    const meta = document.createElement('span');
    meta.className = 'meta';
    meta.textContent = `${m.latencyMs} ms`;
    li.append(meta);
    ui.latency.textContent = `turn ${m.turn}: ${m.latencyMs} ms from the end `
      + "of your speech to the agent's first audio";
  }
  ui.transcript.append(li);
  li.scrollIntoView({ block: 'nearest' });
}

async function opusSupported(rate) {
  if (!('AudioEncoder' in window) || !('AudioDecoder' in window)
      || !OPUS_RATES.includes(rate)) {
    return false;
  }
  const config = { codec: 'opus', sampleRate: rate, numberOfChannels: 1 };
  try {
    const [e, d] = await Promise.all([AudioEncoder.isConfigSupported(config),
                                      AudioDecoder.isConfigSupported(config)]);
    return e.supported && d.supported;
  } catch {
    return false;
  }
}

class Call {
  constructor() {
    this.seq = 0;            // agent packets decoded, for flushes
    this.flushedSeq = 0;
    this.ts = 0;             // microseconds of microphone audio encoded
    this.closing = false;
  }

  async start({ codec, agent }) {
    setState('connecting', 'Asking for the microphone…');
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true,
               noiseSuppression: true, autoGainControl: true },
    });

    try {
      this.ctx = new AudioContext({ sampleRate: 48000, latencyHint: 'interactive' });
    } catch {
      this.ctx = new AudioContext({ latencyHint: 'interactive' });
    }
    await Promise.all([this.ctx.audioWorklet.addModule('capture-worklet.js'),
                       this.ctx.audioWorklet.addModule('playback-worklet.js')]);
    await this.ctx.resume();

    const rate = this.ctx.sampleRate;
    const opus = await opusSupported(rate);
    if (codec === 'auto') {
      codec = opus ? 'opus' : 'pcm16';
    } else if (codec === 'opus' && !opus) {
      throw new Error('This browser cannot encode Opus at '
                      + `${rate} Hz (WebCodecs): choose PCM16.`);
    }
    this.codec = codec;
    this.rate = rate;

    this.player = new AudioWorkletNode(this.ctx, 'rtagent-playback', {
      numberOfInputs: 0, numberOfOutputs: 1, outputChannelCount: [1],
    });
    this.player.connect(this.ctx.destination);
    this.player.port.onmessage = (e) => {
      status.played = e.data.played;
      status.flushed = e.data.flushed;
      showFormat();
    };

    setState('connecting', 'Connecting…');
    const url = new URL(new URLSearchParams(location.search).get('ws') || '/ws/web',
                        location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    this.ws = new WebSocket(url);
    this.ws.binaryType = 'arraybuffer';
    this.ws.onopen = () => {
      const start = { type: 'start', sampleRate: rate, codec };
      if (agent) start.agent = agent;
      this.ws.send(JSON.stringify(start));
    };
    this.ws.onmessage = (e) => {
      if (typeof e.data === 'string') {
        this.onEvent(JSON.parse(e.data));
      } else {
        this.onAudio(e.data);
      }
    };
    this.ws.onclose = (e) => this.onClose(e);
  }

  onEvent(m) {
    switch (m.type) {
    case 'ready':
      status.callId = m.callId;
      status.codec = m.codec;
      status.rate = m.sampleRate;
      ui.callId.textContent = m.callId;
      showFormat();
      this.startCapture();
      setState('live', 'Connected: speak now');
      break;
    case 'transcript':
      addLine(m);
      break;
    case 'stop_audio':
      this.flush();
      break;
    case 'error':
      showError(`The gateway refused the call: ${m.message} (close ${m.code})`);
      break;
    default:
      break;
    }
  }

  startCapture() {
    if (this.codec === 'opus') {
      this.encoder = new AudioEncoder({
        output: (chunk) => {
          const b = new ArrayBuffer(chunk.byteLength);
          chunk.copyTo(b);
          this.send(b);
        },
        error: (e) => this.fail(`Opus encoder: ${e.message}`),
      });
      this.encoder.configure({ codec: 'opus', sampleRate: this.rate,
                               numberOfChannels: 1, bitrate: 32000,
                               opus: { frameDuration: 20000 } });
      this.decoder = new AudioDecoder({
        output: (d) => this.played(d),
        error: (e) => this.fail(`Opus decoder: ${e.message}`),
      });
      this.decoder.configure({ codec: 'opus', sampleRate: this.rate,
                               numberOfChannels: 1 });
    }

    this.source = this.ctx.createMediaStreamSource(this.stream);
    this.capture = new AudioWorkletNode(this.ctx, 'rtagent-capture', {
      numberOfInputs: 1, numberOfOutputs: 0, channelCount: 1,
      channelCountMode: 'explicit',
    });
    this.capture.port.onmessage = (e) => this.captured(e.data);
    this.source.connect(this.capture);
  }

  send(buf) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN && !this.closing) {
      this.ws.send(buf);
    }
  }

  // 20 ms of microphone samples
  captured(f32) {
    if (this.codec === 'opus') {
      if (this.encoder.state !== 'configured') return;
      const data = new AudioData({ format: 'f32', sampleRate: this.rate,
                                   numberOfFrames: f32.length,
                                   numberOfChannels: 1, timestamp: this.ts,
                                   data: f32 });
      this.ts += Math.round(f32.length * 1e6 / this.rate);
      this.encoder.encode(data);
      data.close();
      return;
    }
    const pcm = new Int16Array(f32.length);
    for (let i = 0; i < f32.length; i++) {
      const s = Math.max(-1, Math.min(1, f32[i]));
      pcm[i] = s < 0 ? s * 0x8000 : s * 0x7fff;
    }
    this.send(pcm.buffer);
  }

  onAudio(buf) {
    if (this.codec === 'opus') {
      if (this.decoder.state !== 'configured') return;
      this.seq++;
      this.decoder.decode(new EncodedAudioChunk({ type: 'key',
                                                  timestamp: this.seq * 20000,
                                                  data: buf }));
      return;
    }
    const pcm = new Int16Array(buf);
    const f32 = new Float32Array(pcm.length);
    for (let i = 0; i < pcm.length; i++) f32[i] = pcm[i] / 0x8000;
    this.player.port.postMessage(f32, [f32.buffer]);
  }

  // a decoded Opus packet; those decoded before a flush are dropped
  played(d) {
    if (d.timestamp <= this.flushedSeq * 20000) {
      d.close();
      return;
    }
    const f32 = new Float32Array(d.numberOfFrames);
    d.copyTo(f32, { planeIndex: 0, format: 'f32-planar' });
    d.close();
    this.player.port.postMessage(f32, [f32.buffer]);
  }

  flush() {
    status.stopAudio++;
    this.flushedSeq = this.seq;
    this.player.port.postMessage({ type: 'flush' });
  }

  stop() {
    this.closing = true;
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({ type: 'stop' }));
    } else {
      this.release();
      setState('ended', 'Call ended');
    }
  }

  fail(text) {
    showError(text);
    this.stop();
  }

  onClose(e) {
    this.release();
    if (e.code === 1000) {
      setState('ended', 'Call ended');
    } else {
      const why = e.reason ? `: ${e.reason}` : '';
      setState('error', `Disconnected (${e.code}${why})`);
      if (!status.errors.length || e.code !== 1006) {
        showError(e.code === 1006
          ? 'The connection to the gateway was lost (is it running?).'
          : `The call ended with an error (${e.code}${why}).`);
      }
    }
    ui.button.textContent = 'Start call';
    ui.button.setAttribute('aria-pressed', 'false');
    current = null;
  }

  release() {
    if (this.source) this.source.disconnect();
    if (this.capture) this.capture.port.onmessage = null;
    if (this.stream) this.stream.getTracks().forEach((t) => t.stop());
    for (const c of [this.encoder, this.decoder]) {
      if (c && c.state !== 'closed') c.close();
    }
    // let the reply's last words play out before the context goes
    if (this.ctx) setTimeout(() => this.ctx.close(), 3000);
  }
}

let current = null;

ui.button.addEventListener('click', async () => {
  if (current) {
    current.stop();
    return;
  }
  clearError();
  ui.transcript.replaceChildren();
  ui.latency.textContent = '–';
  ui.callId.textContent = '–';
  Object.assign(status, { callId: null, codec: null, rate: 0, played: 0,
                          flushed: 0, stopAudio: 0, transcript: [], errors: [] });
  const agent = ui.agent.value.trim();
  if (agent && !ui.agent.checkValidity()) {
    showError('An agent name is 1 to 128 letters, digits or . _ : -');
    return;
  }
  current = new Call();
  ui.button.textContent = 'End call';
  ui.button.setAttribute('aria-pressed', 'true');
  try {
    await current.start({ codec: ui.codec.value, agent });
  } catch (e) {
    const text = e.name === 'NotAllowedError'
      ? 'The microphone is blocked: allow it for this page to talk.'
      : e.name === 'NotFoundError' ? 'No microphone was found.' : e.message;
    setState('error', 'Not connected');
    showError(text);
    if (current) current.release();
    current = null;
    ui.button.textContent = 'Start call';
    ui.button.setAttribute('aria-pressed', 'false');
  }
});

const params = new URLSearchParams(location.search);
if (params.get('codec')) ui.codec.value = params.get('codec');
if (params.get('agent')) ui.agent.value = params.get('agent');
