// A scrolling trace on a canvas (the pulse waveform, or a heart-rate trend), scaled to what is on
// screen. Drawing pauses on request (WCAG 2.2.2) and while the page is hidden. The canvas is
// decorative for screen readers: the page states the numbers as text.

const STYLE = { line: '#0b4f8a', grid: '#d8dde0', width: 2 };

export class Trace {
  constructor(canvas, { seconds = 8 } = {}) {
    this.canvas = canvas;
    this.seconds = seconds;
    this.points = []; // [t, value]
    this.paused = false;
    this.pending = false;
  }

  /** Add samples taken at `fs` per second, the first at `t0` seconds. */
  push(samples, fs, t0) {
    samples.forEach((value, i) => this.points.push([t0 + i / fs, value]));
    this.trim();
    this.request();
  }

  /** Add one value at time `t` (seconds). */
  add(t, value) {
    this.points.push([t, value]);
    this.trim();
    this.request();
  }

  trim() {
    const last = this.points.at(-1);
    if (!last) return;
    const from = last[0] - this.seconds;
    while (this.points.length && this.points[0][0] < from) this.points.shift();
  }

  clear() {
    this.points = [];
    this.request();
  }

  setPaused(paused) {
    this.paused = paused;
    if (!paused) this.request();
  }

  request() {
    if (this.paused || this.pending || document.hidden) return;
    this.pending = true;
    window.requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  draw() {
    const { canvas } = this;
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
    const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, width, height);
    ctx.strokeStyle = STYLE.grid;
    ctx.lineWidth = 1;
    for (let y = 1; y < 4; y += 1) {
      ctx.beginPath();
      ctx.moveTo(0, (height * y) / 4);
      ctx.lineTo(width, (height * y) / 4);
      ctx.stroke();
    }
    const finite = this.points.filter((p) => Number.isFinite(p[1]));
    if (finite.length < 2) return;
    const values = finite.map((p) => p[1]);
    const lo = Math.min(...values);
    const span = Math.max(...values) - lo || 1;
    const end = finite.at(-1)[0];
    ctx.strokeStyle = STYLE.line;
    ctx.lineWidth = STYLE.width * ratio;
    ctx.beginPath();
    finite.forEach(([t, v], i) => {
      const x = width - ((end - t) / this.seconds) * width;
      const y = height - 4 * ratio - ((v - lo) / span) * (height - 8 * ratio);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.stroke();
  }
}
