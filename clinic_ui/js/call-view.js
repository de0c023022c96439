// The call on screen: the other people's video, your own picture, the connection indicator and
// the microphone, camera and sound-only buttons. Shared by the employee's and the nurse's pages.

import { h, replace } from './dom.js';

const LEVEL_TEXT = { good: 'Good', fair: 'Fair', poor: 'Poor' };

function video(attrs) {
  // playsinline: iPhones otherwise take the video full screen; muted self-view may autoplay anywhere.
  const el = h('video', { autoplay: true, playsinline: true, ...attrs });
  el.playsInline = true;
  return el;
}

export class CallView {
  constructor({ heading = 'Your call', level = 2 } = {}) {
    this.tiles = new Map();
    this.heading = h(`h${level}`, { id: 'call-title', tabindex: '-1' }, heading);
    this.grid = h('div', { class: 'video-grid' });
    this.selfVideo = video({ muted: true, class: 'self-view__video', 'aria-label': 'Your own picture' });
    this.selfVideo.muted = true;
    this.self = h('figure', { class: 'self-view' }, this.selfVideo, h('figcaption', {}, 'You'));
    this.quality = h('p', { class: 'quality', id: 'call-quality' }, 'Connection: connecting…');
    this.notice = h('p', { class: 'notice notice--warning call-notice', hidden: true, role: 'status' });
    // Who left the call, read out when it happens.
    this.status = h('p', { class: 'call-status', id: 'call-status', role: 'status' });
    this.mic = h('button', { type: 'button', class: 'button button--secondary', 'aria-pressed': 'false' }, 'Mute microphone');
    this.camera = h('button', { type: 'button', class: 'button button--secondary', 'aria-pressed': 'false' }, 'Turn camera off');
    this.soundOnly = h('button', { type: 'button', class: 'button button--secondary' }, 'Sound only');
    this.extra = h('div', { class: 'call-controls__extra' });
    this.controls = h('div', { class: 'call-controls', role: 'group', 'aria-label': 'Call controls' },
      this.mic, this.camera, this.soundOnly, this.extra);
    this.empty = h('p', { class: 'muted' }, 'Connecting you to the others in the call…');
    this.el = h('section', { class: 'call', 'aria-labelledby': 'call-title' },
      this.heading, this.notice, this.status, h('div', { class: 'call__stage' }, this.grid, this.self), this.quality, this.controls);
    this.grid.append(this.empty);
  }

  /** Wire the buttons to a CallManager and the local stream. */
  bind(manager, stream) {
    this.manager = manager;
    this.stream = stream;
    this.selfVideo.srcObject = stream;
    const hasVideo = stream.getVideoTracks().length > 0;
    this.camera.hidden = !hasVideo;
    this.soundOnly.hidden = !hasVideo;
    this.self.hidden = !hasVideo;
    this.mic.addEventListener('click', () => {
      const track = stream.getAudioTracks()[0];
      if (!track) return;
      track.enabled = !track.enabled;
      this.mic.setAttribute('aria-pressed', String(!track.enabled));
      replace(this.mic, track.enabled ? 'Mute microphone' : 'Unmute microphone');
    });
    this.camera.addEventListener('click', () => {
      const track = stream.getVideoTracks()[0];
      if (!track) return;
      track.enabled = !track.enabled;
      this.camera.setAttribute('aria-pressed', String(!track.enabled));
      replace(this.camera, track.enabled ? 'Turn camera off' : 'Turn camera on');
    });
    this.soundOnly.addEventListener('click', () => manager.setAudioOnly(!manager.forcedAudioOnly, { user: true }));
  }

  showAudioOnly(on, automatic = false) {
    replace(this.soundOnly, on ? 'Try video again' : 'Sound only');
    this.notice.hidden = !on;
    replace(this.notice, automatic
      ? 'Your video is paused because the connection is weak. You can still hear and talk to each other.'
      : 'Your video is off. You can still hear and talk to each other.');
  }

  addRemote(pid, stream, peer) {
    let tile = this.tiles.get(pid);
    if (!tile) {
      const el = video({ 'aria-label': `Video of ${peer?.name || 'the other person'}` });
      const caption = h('figcaption', {}, peer?.name || 'Connecting…');
      tile = { figure: h('figure', { class: 'video-tile', dataset: { participant: pid } }, el, caption), video: el, caption, peer };
      this.tiles.set(pid, tile);
      this.empty.remove();
      this.grid.append(tile.figure);
    }
    if (tile.video.srcObject !== stream) tile.video.srcObject = stream;
    tile.video.play().catch(() => this.needSound());
  }

  /** The browser blocked playing sound without a tap (after a reload, say): ask for one tap. */
  needSound() {
    if (this.soundButton) return;
    this.soundButton = h('button', { type: 'button', class: 'button' }, 'Turn on sound');
    this.soundButton.addEventListener('click', () => {
      for (const tile of this.tiles.values()) tile.video.play().catch(() => {});
      this.soundButton.remove();
      this.soundButton = null;
    });
    this.heading.after(this.soundButton);
  }

  /** Play every video again: a video taken out of the page (the waiting room during a hold) is
   * paused by the browser, and autoplay does not start it again when it is put back. */
  resume() {
    const videos = [this.selfVideo, ...[...this.tiles.values()].map((tile) => tile.video)];
    for (const el of videos) if (el.srcObject && el.paused) el.play().catch(() => {});
  }

  peerStatus(peer, status, state) {
    const name = peer.name || 'The other person';
    if (status === 'left') {
      const back = peer.kind === 'clinician' ? ' Stay on this page: the call carries on here if they come back.' : '';
      const text = state === 'left' ? `${name} left the call.${back}` : state === 'held' ? `${name} is on hold.` : '';
      replace(this.status, text);
      if (text && !this.tiles.size) replace(this.empty, 'Nobody else is in the call now.');
      return;
    }
    if (status === 'joined') {
      replace(this.status, '');
      replace(this.empty, 'Connecting you to the others in the call…');
    }
    const tile = this.tiles.get(peer.participant);
    if (!tile) return;
    const note = status === 'reconnecting' ? ' (reconnecting…)' : peer.audioOnly ? ' (sound only)' : '';
    replace(tile.caption, `${peer.name || 'Participant'}${note}`);
  }

  removeRemote(pid) {
    this.tiles.get(pid)?.figure.remove();
    this.tiles.delete(pid);
    if (!this.tiles.size) this.grid.append(this.empty);
  }

  setQuality(level, sample) {
    this.quality.className = `quality quality--${level}`;
    this.quality.dataset.level = level;
    this.quality.dataset.framesDecoded = String(sample?.frames_decoded ?? 0);
    const rtt = sample?.rtt_ms != null ? `, delay ${Math.round(sample.rtt_ms)} ms` : '';
    replace(this.quality, `Connection: ${LEVEL_TEXT[level] || level}${rtt}`);
  }

  clear() {
    for (const pid of [...this.tiles.keys()]) this.removeRemote(pid);
  }
}
