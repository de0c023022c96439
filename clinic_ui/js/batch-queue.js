// Reading batches waiting to be sent, kept in IndexedDB so that a network drop, a server outage or
// a page reload loses nothing. One sender sends the oldest batch first and retries with
// exponential backoff; the server stores a repeated (stream_id, seq) only once, so resending a
// batch whose reply was lost is harmless.
//
// Each entry keeps the stream's device token, so batches left by an earlier visit can still be
// delivered. Answers: 200/201 delivered; network error, 408, 425, 429 and 5xx retried; anything
// else is final (the batch is dropped and `onRejected` is told why).

const DB_NAME = 'ohconnect-readings';
const STORE = 'batches';
const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);
const FIRST_WAIT_MS = 500;
const MAX_WAIT_MS = 30_000;

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function openDatabase() {
  const request = indexedDB.open(DB_NAME, 1);
  request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'key' });
  return promised(request);
}

/** The key orders a stream's batches by sequence number. */
function keyOf(batch) {
  return `${batch.stream_id}:${String(batch.seq).padStart(10, '0')}`;
}

export class BatchQueue {
  /**
   * onChange(count): the number of batches waiting changed.
   * onDelivered(receipt, batch): the server has the batch (receipt as it answered).
   * onRejected(batch, status, detail): the server refused the batch for good.
   * onWaiting(ms, reason): the next attempt waits this long (after a failure).
   */
  constructor({
    onChange = () => {},
    onDelivered = () => {},
    onRejected = () => {},
    onWaiting = () => {},
  } = {}) {
    this.hooks = { onChange, onDelivered, onRejected, onWaiting };
    this.db = null;
    this.running = false;
    this.attempt = 0;
    this.wake = null;
    this.onOnline = () => this.kick();
  }

  async start() {
    this.db = await openDatabase();
    window.addEventListener('online', this.onOnline);
    await this.changed();
    this.kick();
  }

  stop() {
    window.removeEventListener('online', this.onOnline);
  }

  store(mode) {
    return this.db.transaction(STORE, mode).objectStore(STORE);
  }

  async count() {
    return promised(this.store('readonly').count());
  }

  async changed() {
    this.hooks.onChange(await this.count());
  }

  /** Keep a batch (before any attempt to send it) and start sending. */
  async add(batch, token) {
    await promised(this.store('readwrite').put({ key: keyOf(batch), batch, token }));
    await this.changed();
    this.kick();
  }

  async oldest() {
    const cursor = await promised(this.store('readonly').openCursor());
    return cursor ? cursor.value : null;
  }

  async remove(entry) {
    await promised(this.store('readwrite').delete(entry.key));
    await this.changed();
  }

  /** Send now: start the sender, or cut short its wait after a failure. */
  kick() {
    if (this.wake) {
      this.wake();
      return;
    }
    if (!this.running) this.run();
  }

  async run() {
    this.running = true;
    try {
      for (let entry = await this.oldest(); entry; entry = await this.oldest()) {
        await this.deliver(entry);
      }
    } finally {
      this.running = false;
    }
  }

  async deliver(entry) {
    const outcome = await this.post(entry);
    if (outcome.status === 200 || outcome.status === 201) {
      this.attempt = 0;
      await this.remove(entry);
      this.hooks.onDelivered(outcome.body, entry.batch);
    } else if (outcome.status === 0 || RETRYABLE.has(outcome.status)) {
      await this.pause(outcome);
    } else {
      await this.remove(entry);
      this.hooks.onRejected(entry.batch, outcome.status, outcome.detail);
    }
  }

  async post(entry) {
    const body = { ...entry.batch, sent_at: new Date().toISOString() };
    let response;
    try {
      response = await fetch('/api/v1/readings/batches', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${entry.token}` },
        body: JSON.stringify(body),
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch {
      return { status: 0, detail: 'offline' };
    }
    let answer = {};
    try {
      answer = await response.json();
    } catch {
      answer = {};
    }
    const retryAfter = Number.parseInt(response.headers.get('Retry-After') || '', 10);
    return {
      status: response.status,
      body: answer,
      detail: answer.detail || `HTTP ${response.status}`,
      retryAfterMs: Number.isFinite(retryAfter) ? retryAfter * 1000 : null,
    };
  }

  /** Wait before the next attempt: exponential with jitter, cut short by `kick` (e.g. back online). */
  pause(outcome) {
    const ceiling = Math.min(MAX_WAIT_MS, FIRST_WAIT_MS * 2 ** this.attempt);
    this.attempt += 1;
    const ms = outcome.retryAfterMs ?? Math.round(ceiling * (0.5 + Math.random() / 2));
    this.hooks.onWaiting(ms, outcome.status === 0 ? 'offline' : 'server');
    return new Promise((resolve) => {
      const timer = window.setTimeout(done, ms);
      const self = this;
      function done() {
        window.clearTimeout(timer);
        self.wake = null;
        resolve();
      }
      this.wake = done;
    });
  }
}
