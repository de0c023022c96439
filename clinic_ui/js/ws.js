// One reconnecting WebSocket to /ws/clinic with typed message dispatch.
//
// The socket joins on every (re)connection. After a drop it reconnects with a growing delay and
// asks to resume its call generation, so calls continue without renegotiation when the media
// path is still up. Heartbeats keep the server's view of our presence fresh; a silent socket is
// replaced. Closes that mean "do not come back" (not signed in, not invited, replaced by another
// window, appointment over, room not open yet) are reported once as 'fatal' and end reconnection.
// Close codes: docs/clinic-protocol.md. The id of the last signalling message received goes with
// a resume, so what was sent while we were away (even on another server process) is given to us.

const FATAL = new Set([4400, 4401, 4403, 4404, 4409, 4410, 4425]);
const SIGNALS = new Set(['sdp', 'ice', 'bye']);
const LEAVE_ACK_MS = 3000;
const DELAYS_MS = [300, 1000, 2000, 4000, 5000];
const SILENCE_MS = 15_000;

export class RoomSocket {
  /** `join` is {appointment} or {clinic}; the session or guest cookie identifies us. */
  constructor(join) {
    this.join = join;
    this.handlers = new Map();
    this.gen = null;
    this.attempt = 0;
    this.stopped = false;
    this.ws = null;
    this.pingTimer = null;
    this.lastHeard = 0;
    this.connected = false;
    this.lastSignal = 0;
  }

  /** Register a handler for a message type ('welcome', 'state', ...) or 'open', 'lost', 'fatal'. */
  on(type, handler) {
    if (!this.handlers.has(type)) this.handlers.set(type, []);
    this.handlers.get(type).push(handler);
    return this;
  }

  emit(type, message) {
    for (const handler of this.handlers.get(type) || []) {
      try {
        handler(message);
      } catch (error) {
        console.error(`handler for ${type} failed`, error); // eslint-disable-line no-console
      }
    }
  }

  start() {
    this.stopped = false;
    this.connect();
    return this;
  }

  connect() {
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${window.location.host}/ws/clinic`);
    this.ws = ws;
    ws.addEventListener('open', () => {
      const join = { t: 'join', ...this.join };
      if (this.gen !== null) {
        join.resume = this.gen;
        join.last_signal = this.lastSignal;
      }
      ws.send(JSON.stringify(join));
      this.lastHeard = Date.now();
    });
    ws.addEventListener('message', (event) => this.receive(event.data));
    ws.addEventListener('close', (event) => this.closed(ws, event.code));
    ws.addEventListener('error', () => {});
  }

  receive(data) {
    this.lastHeard = Date.now();
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (SIGNALS.has(message.t) && Number.isInteger(message.id)) this.lastSignal = Math.max(this.lastSignal, message.id);
    if (message.t === 'welcome') {
      if (message.gen !== this.gen) this.lastSignal = 0; // a new generation: nothing kept to resume
      this.gen = message.gen;
      this.attempt = 0;
      this.connected = true;
      this.heartbeat((message.heartbeat_seconds || 5) * 1000);
      this.emit('open', message);
    }
    if (message.t === 'error' && message.code === 'replaced') this.stopped = true;
    this.emit(message.t, message);
  }

  heartbeat(every) {
    window.clearInterval(this.pingTimer);
    this.pingTimer = window.setInterval(() => {
      if (Date.now() - this.lastHeard > SILENCE_MS) {
        this.ws?.close(); // the network went quiet: start again
        return;
      }
      this.send({ t: 'ping' });
    }, every);
  }

  closed(ws, code) {
    if (ws !== this.ws) return;
    window.clearInterval(this.pingTimer);
    const wasConnected = this.connected;
    this.connected = false;
    if (this.stopped) return;
    if (FATAL.has(code)) {
      this.stopped = true;
      this.emit('fatal', { code });
      return;
    }
    if (wasConnected || this.attempt === 0) this.emit('lost', { code });
    const delay = DELAYS_MS[Math.min(this.attempt, DELAYS_MS.length - 1)];
    this.attempt += 1;
    window.setTimeout(() => {
      if (!this.stopped) this.connect();
    }, delay);
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  /** Wait for the next message of a type (optionally matching), or reject after `ms`. */
  next(type, ms = 15_000, match = () => true) {
    return new Promise((resolve, reject) => {
      const timer = window.setTimeout(() => {
        off();
        reject(new Error(`no ${type} within ${ms} ms`));
      }, ms);
      const handler = (message) => {
        if (!match(message)) return;
        off();
        resolve(message);
      };
      const off = () => {
        window.clearTimeout(timer);
        const list = this.handlers.get(type) || [];
        const index = list.indexOf(handler);
        if (index >= 0) list.splice(index, 1);
      };
      this.on(type, handler);
    });
  }

  /**
   * Leave on purpose: the server records it and tells the others that we left (not that we are
   * reconnecting). Resolves true once the server has confirmed, false if it could not be told.
   */
  async leave() {
    let told = false;
    if (this.connected) {
      const confirmed = this.next('state', LEAVE_ACK_MS, (m) => m.state === 'left');
      if (this.send({ t: 'leave' })) told = await confirmed.then(() => true, () => false);
      else confirmed.catch(() => {});
    }
    this.stop();
    return told;
  }

  stop() {
    this.stopped = true;
    window.clearInterval(this.pingTimer);
    this.ws?.close(1000);
  }
}
