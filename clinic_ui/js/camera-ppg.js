// Fingertip-on-camera photoplethysmography in the browser. With the torch on and a fingertip over
// the rear camera, each frame is a red glow that dims slightly with every pulse. We take the mean
// colour of the middle of each frame and resample the red channel onto a steady 30 Hz grid (frame
// times jitter and frames get dropped). Samples are inverted (-red/255) so that pulse peaks point
// up; the server finds the heart rate in them.

export const FS = 30;
const SIZE = 32; // frames are shrunk to 32 x 24 before averaging
const KEEP_S = 3; // seconds of frame history kept for resampling and guidance

function meanColour(ctx, width, height) {
  const { data } = ctx.getImageData(width / 4, height / 4, width / 2, height / 2);
  let r = 0;
  let g = 0;
  let b = 0;
  const n = data.length / 4;
  for (let i = 0; i < data.length; i += 4) {
    r += data[i];
    g += data[i + 1];
    b += data[i + 2];
  }
  return { r: r / n, g: g / n, b: b / n };
}

/** Plain-language guidance from the last second of frames. */
export function guidance(frames) {
  if (frames.length < 5) return { ok: false, text: 'Starting the camera…' };
  const reds = frames.map((f) => f.r);
  const red = reds.reduce((a, x) => a + x, 0) / reds.length;
  const other = Math.max(...frames.map((f) => Math.max(f.g, f.b)));
  if (red < 60 || red < 1.4 * other) {
    return { ok: false, text: 'Cover the camera and the light completely with your fingertip.' };
  }
  if (red > 250) return { ok: false, text: 'Press a little more lightly: the picture is too bright.' };
  const spread = Math.max(...reds) - Math.min(...reds);
  if (spread > 12) return { ok: false, text: 'Hold still: keep your hand and finger steady.' };
  return { ok: true, text: 'Good. Hold still and keep your finger in place.' };
}

export class CameraPpg {
  /** onFrame({r, g, b}) is called for every frame, e.g. for guidance. */
  constructor(video, { onFrame = () => {} } = {}) {
    this.video = video;
    this.onFrame = onFrame;
    this.frames = [];
    this.nextIndex = 0; // the next grid sample to produce: t = nextIndex / FS
    this.stream = null;
    this.torch = false;
    this.stopped = false;
  }

  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: {
        facingMode: { ideal: 'environment' },
        width: { ideal: 320 },
        height: { ideal: 240 },
        frameRate: { ideal: 30 },
      },
    });
    const [track] = this.stream.getVideoTracks();
    this.torch = await this.lightOn(track);
    this.video.srcObject = this.stream;
    await this.video.play();
    this.canvas = document.createElement('canvas');
    this.canvas.width = SIZE;
    this.canvas.height = (SIZE * 3) / 4;
    this.ctx = this.canvas.getContext('2d', { willReadFrequently: true });
    this.startedAt = new Date();
    this.t0 = performance.now();
    this.schedule();
  }

  async lightOn(track) {
    const capabilities = track.getCapabilities ? track.getCapabilities() : {};
    if (!capabilities.torch) return false;
    try {
      await track.applyConstraints({ advanced: [{ torch: true }] });
      return true;
    } catch {
      return false;
    }
  }

  schedule() {
    if (this.stopped) return;
    if (this.video.requestVideoFrameCallback) {
      this.video.requestVideoFrameCallback((now) => this.frame(now));
    } else {
      window.requestAnimationFrame((now) => this.frame(now));
    }
  }

  frame(now) {
    if (this.stopped) return;
    const { width, height } = this.canvas;
    this.ctx.drawImage(this.video, 0, 0, width, height);
    const colour = { t: (now - this.t0) / 1000, ...meanColour(this.ctx, width, height) };
    if (colour.t >= 0) {
      this.frames.push(colour);
      this.onFrame(colour);
    }
    const oldest = colour.t - KEEP_S;
    while (this.frames.length > 2 && this.frames[0].t < oldest) this.frames.shift();
    this.schedule();
  }

  /** Frames of the last second (for guidance). */
  recent() {
    const last = this.frames.at(-1);
    return last ? this.frames.filter((f) => f.t > last.t - 1) : [];
  }

  /** The grid samples now available: {t_offset_s, fs, samples}, or null when none are. */
  take() {
    const frames = this.frames;
    if (frames.length < 2) return null;
    const start = this.nextIndex;
    const samples = [];
    let j = 0;
    for (let t = this.nextIndex / FS; t <= frames.at(-1).t; t = this.nextIndex / FS) {
      while (j < frames.length - 2 && frames[j + 1].t < t) j += 1;
      const a = frames[j];
      const b = frames[j + 1];
      const w = b.t > a.t ? Math.min(1, Math.max(0, (t - a.t) / (b.t - a.t))) : 0;
      const red = a.r + w * (b.r - a.r);
      samples.push(Math.round((-red / 255) * 1e5) / 1e5);
      this.nextIndex += 1;
    }
    return samples.length ? { t_offset_s: start / FS, fs: FS, samples } : null;
  }

  stop() {
    this.stopped = true;
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.video.srcObject = null;
  }
}
