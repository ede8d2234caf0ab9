// AudioWorklet: plays the agent's audio (Float32Array pieces posted by the
// page) in order.  {type: "flush"} drops everything queued at once: the
// caller barged in.  It counts the samples it has played and reports them
// to the page, which shows and exposes them.

class PlaybackProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = [];
    this.off = 0;          // into queue[0]
    this.played = 0;       // samples played, in all
    this.flushed = 0;      // samples dropped by flushes
    this.reported = 0;
    this.port.onmessage = (e) => {
      const m = e.data;
      if (m instanceof Float32Array) {
        this.queue.push(m);
      } else if (m && m.type === 'flush') {
        for (const b of this.queue) this.flushed += b.length;
        this.flushed -= this.off;
        this.queue = [];
        this.off = 0;
        this.report(true);
      }
    };
  }

  report(now) {
    if (now || this.played - this.reported >= sampleRate / 10
        || (this.queue.length === 0 && this.played !== this.reported)) {
      this.reported = this.played;
      this.port.postMessage({ played: this.played, flushed: this.flushed,
                              queued: this.queue.length });
    }
  }

  process(inputs, outputs) {
    const out = outputs[0][0];
    let i = 0;
    while (i < out.length && this.queue.length) {
      const b = this.queue[0];
      const n = Math.min(out.length - i, b.length - this.off);
      out.set(b.subarray(this.off, this.off + n), i);
      i += n;
      this.off += n;
      this.played += n;
      if (this.off === b.length) {
        this.queue.shift();
        this.off = 0;
      }
    }
    out.fill(0, i);
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    this.report(false);
    return true;
  }
}

registerProcessor('rtagent-playback', PlaybackProcessor);
