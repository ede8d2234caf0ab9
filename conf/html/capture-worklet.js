// AudioWorklet: the microphone's samples (mono, the context's rate) to the
// page in 20 ms pieces, as Float32Array buffers transferred, not copied.

class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.size = Math.round(sampleRate / 50);
    this.buf = new Float32Array(this.size);
    this.have = 0;
  }

  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    if (!ch) return true;
    let off = 0;
    while (off < ch.length) {
      const n = Math.min(ch.length - off, this.size - this.have);
      this.buf.set(ch.subarray(off, off + n), this.have);
      this.have += n;
      off += n;
      if (this.have === this.size) {
        this.port.postMessage(this.buf, [this.buf.buffer]);
        this.buf = new Float32Array(this.size);
        this.have = 0;
      }
    }
    return true;
  }
}

registerProcessor('rtagent-capture', CaptureProcessor);
