// The call: one RTCPeerConnection per other member ("leg"), signalled over the RoomSocket.
//
// The server says who is in the call ('call', 'peer') and, for each pair, which side is polite.
// The impolite side creates the leg and offers; the polite side creates its leg when an offer
// with a new leg id arrives. Within a leg the W3C "perfect negotiation" pattern handles any
// later renegotiation (ICE restarts, glare). Candidates trickle both ways. A peer that comes
// back with a new generation (a reload) gets a fresh leg; one that only lost its socket keeps
// the leg, and a leg whose ICE fails is restarted.
//
// Quality: every few seconds each leg's getStats() gives round trip, loss, jitter, frame rate
// and bitrate; the worst leg sets the level shown to the user and sent to the server (which
// keeps the consultation's quality record and tells the other side). Video that stays poor
// switches us to sound only until the user asks for video again.

const SAMPLE_MS = 2000;
const REPORT_EVERY = 3; // samples between quality messages to the server
const POOR_SAMPLES_FOR_AUDIO_ONLY = 4;

function newId() {
  const bytes = new Uint8Array(9);
  window.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function gradeSample(sample, audioOnly) {
  if (!audioOnly && sample.framesStalled) return 'poor';
  const grade = (value, good, fair) => (value == null || value <= good ? 0 : value <= fair ? 1 : 2);
  let level = Math.max(grade(sample.rtt_ms, 300, 600), grade(sample.loss_pct, 2, 5), grade(sample.jitter_ms, 30, 60));
  if (!audioOnly && sample.fps != null) level = Math.max(level, sample.fps >= 12 ? 0 : sample.fps >= 5 ? 1 : 2);
  return ['good', 'fair', 'poor'][level];
}

export class CallManager {
  /**
   * socket: RoomSocket; stream: the local MediaStream (audio, and video unless audio only);
   * hooks: onRemote(pid, stream, peer), onGone(pid), onQuality(level, sample), onAudioOnly(on).
   */
  constructor(socket, stream, iceServers, hooks) {
    this.socket = socket;
    this.stream = stream;
    this.iceServers = iceServers || [];
    this.hooks = hooks;
    this.legs = new Map();
    this.peers = new Map();
    this.appointment = null;
    this.audioOnly = !stream.getVideoTracks().length;
    this.forcedAudioOnly = false;
    this.poorRun = 0;
    this.samples = 0;
    this.last = null;
    for (const type of ['call', 'peer', 'sdp', 'ice', 'bye']) socket.on(type, (m) => this.handle(type, m));
    socket.on('peer_quality', (m) => {
      const peer = this.peers.get(m.participant);
      if (peer) peer.audioOnly = m.audio_only;
    });
    this.timer = window.setInterval(() => this.measure(), SAMPLE_MS);
  }

  async handle(type, m) {
    try {
      if (type === 'call') await this.onCall(m);
      else if (type === 'peer') await this.onPeer(m);
      else if (type === 'sdp') await this.onSdp(m);
      else if (type === 'ice') await this.onIce(m);
      else if (type === 'bye') this.dropLeg(m.from);
    } catch (error) {
      console.warn(`call: ${type} not handled`, error); // eslint-disable-line no-console
    }
  }

  async onCall(m) {
    this.appointment = m.appointment;
    const wanted = new Map(m.peers.map((p) => [p.participant, p]));
    for (const pid of [...this.legs.keys()]) {
      const peer = wanted.get(pid);
      if (!peer || this.legs.get(pid).peerGen !== peer.gen) this.dropLeg(pid, !peer);
    }
    for (const pid of [...this.peers.keys()]) if (!wanted.has(pid)) this.peers.delete(pid);
    for (const peer of m.peers) {
      this.peers.set(peer.participant, peer);
      const leg = this.legs.get(peer.participant);
      if (!peer.polite && !leg) this.openLeg(peer, newId());
      else if (leg && ['failed', 'disconnected'].includes(leg.pc.iceConnectionState)) leg.pc.restartIce();
    }
  }

  async onPeer(m) {
    const peer = m.peer;
    if (m.status === 'left') {
      // Gone from the call (left, on hold, or the call ended): close the leg, so no ICE restarts
      // are sent to nobody.
      this.peers.delete(peer.participant);
      this.dropLeg(peer.participant, true);
      this.hooks.onPeerStatus?.(peer, m.status, m.state);
      return;
    }
    this.peers.set(peer.participant, peer);
    const leg = this.legs.get(peer.participant);
    if (m.status === 'joined') {
      this.dropLeg(peer.participant);
      if (!peer.polite) this.openLeg(peer, newId());
    } else if (m.status === 'connected' && !peer.polite) {
      if (!leg || ['failed', 'closed'].includes(leg.pc.connectionState) || leg.pc.signalingState !== 'stable') {
        this.dropLeg(peer.participant);
        this.openLeg(peer, newId());
      } else if (leg.pc.iceConnectionState !== 'connected' && leg.pc.iceConnectionState !== 'completed') {
        leg.pc.restartIce();
      }
    }
    this.hooks.onPeerStatus?.(peer, m.status);
  }

  openLeg(peer, pcId) {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    const leg = {
      pid: peer.participant, pcId, pc, polite: peer.polite, peerGen: peer.gen,
      makingOffer: false, ignoreOffer: false, pending: [], prev: null, disconnectTimer: null,
    };
    this.legs.set(peer.participant, leg);
    pc.onicecandidate = ({ candidate }) =>
      this.socket.send({ t: 'ice', to: leg.pid, pc: leg.pcId, candidate: candidate ? candidate.toJSON() : null });
    pc.ontrack = ({ track, streams }) =>
      this.hooks.onRemote(leg.pid, streams[0] || new MediaStream([track]), this.peers.get(leg.pid));
    pc.onnegotiationneeded = async () => {
      try {
        leg.makingOffer = true;
        await pc.setLocalDescription();
        this.socket.send({ t: 'sdp', to: leg.pid, pc: leg.pcId, description: pc.localDescription.toJSON() });
      } catch (error) {
        console.warn('offer failed', error); // eslint-disable-line no-console
      } finally {
        leg.makingOffer = false;
      }
    };
    pc.oniceconnectionstatechange = () => this.iceChanged(leg);
    if (!peer.polite) this.addLocal(leg);
    return leg;
  }

  addLocal(leg) {
    for (const track of this.stream.getTracks()) {
      const sender = leg.pc.addTrack(track, this.stream);
      if (track.kind === 'video' && this.forcedAudioOnly) sender.replaceTrack(null);
    }
    if (!this.stream.getVideoTracks().length && !leg.polite) leg.pc.addTransceiver('video', { direction: 'recvonly' });
    leg.tracksAdded = true;
  }

  iceChanged(leg) {
    const state = leg.pc.iceConnectionState;
    window.clearTimeout(leg.disconnectTimer);
    if (state === 'failed') leg.pc.restartIce();
    if (state === 'disconnected') {
      // Often heals by itself; if not, restart ICE (a new offer flows through perfect negotiation).
      leg.disconnectTimer = window.setTimeout(() => {
        if (leg.pc.iceConnectionState === 'disconnected') leg.pc.restartIce();
      }, 3000);
    }
  }

  async onSdp(m) {
    const description = m.description;
    let leg = this.legs.get(m.from);
    if (description.type === 'offer' && (!leg || leg.pcId !== m.pc)) {
      this.dropLeg(m.from);
      const peer = this.peers.get(m.from) || { participant: m.from, polite: true, gen: m.from_gen };
      leg = this.openLeg({ ...peer, gen: m.from_gen }, m.pc);
    }
    if (!leg || leg.pcId !== m.pc) return; // an answer for a leg we have already replaced
    const collision = description.type === 'offer' && (leg.makingOffer || leg.pc.signalingState !== 'stable');
    leg.ignoreOffer = !leg.polite && collision;
    if (leg.ignoreOffer) return;
    await leg.pc.setRemoteDescription(description);
    if (description.type === 'offer') {
      if (!leg.tracksAdded) this.addLocal(leg);
      await leg.pc.setLocalDescription();
      this.socket.send({ t: 'sdp', to: leg.pid, pc: leg.pcId, description: leg.pc.localDescription.toJSON() });
    }
    for (const candidate of leg.pending.splice(0)) await this.addCandidate(leg, candidate);
  }

  async onIce(m) {
    const leg = this.legs.get(m.from);
    if (!leg || leg.pcId !== m.pc) return;
    if (!leg.pc.remoteDescription) leg.pending.push(m.candidate);
    else await this.addCandidate(leg, m.candidate);
  }

  async addCandidate(leg, candidate) {
    try {
      await leg.pc.addIceCandidate(candidate || undefined);
    } catch (error) {
      if (!leg.ignoreOffer) console.warn('candidate refused', error); // eslint-disable-line no-console
    }
  }

  dropLeg(pid, gone = false) {
    const leg = this.legs.get(pid);
    if (leg) {
      window.clearTimeout(leg.disconnectTimer);
      leg.pc.close();
      this.legs.delete(pid);
    }
    if (gone) this.hooks.onGone(pid);
  }

  /** Sound only (true) or video again (false), for every leg, without renegotiating. */
  async setAudioOnly(on, { user = false } = {}) {
    this.forcedAudioOnly = on;
    if (user) this.poorRun = 0;
    const video = this.stream.getVideoTracks()[0] || null;
    for (const leg of this.legs.values()) {
      for (const transceiver of leg.pc.getTransceivers()) {
        if (transceiver.receiver.track?.kind !== 'video' || transceiver.currentDirection === 'stopped') continue;
        if (on) await transceiver.sender.replaceTrack(null).catch(() => {});
        else if (video) await transceiver.sender.replaceTrack(video).catch(() => {});
      }
    }
    this.hooks.onAudioOnly?.(on || !video);
    this.report(true);
  }

  async legSample(leg) {
    const report = await leg.pc.getStats();
    const sample = { framesDecoded: 0, bytesIn: 0, bytesOut: 0, lost: 0, received: 0, jitter: null, rtt: null };
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        sample.framesDecoded += s.framesDecoded || 0;
        sample.fps = s.framesPerSecond;
      }
      if (s.type === 'inbound-rtp') {
        sample.lost += Math.max(s.packetsLost || 0, 0);
        sample.received += s.packetsReceived || 0;
        sample.bytesIn += s.bytesReceived || 0;
        if (s.jitter != null) sample.jitter = Math.max(sample.jitter || 0, s.jitter * 1000);
      }
      if (s.type === 'outbound-rtp') sample.bytesOut += s.bytesSent || 0;
      if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded' && s.currentRoundTripTime != null)
        sample.rtt = s.currentRoundTripTime * 1000;
    });
    const prev = leg.prev;
    leg.prev = { ...sample, at: performance.now() };
    if (!prev) return null;
    const seconds = (leg.prev.at - prev.at) / 1000;
    const lost = sample.lost - prev.lost;
    const got = sample.received - prev.received;
    return {
      rtt_ms: sample.rtt,
      loss_pct: lost + got > 0 ? (100 * lost) / (lost + got) : 0,
      jitter_ms: sample.jitter,
      fps: sample.fps ?? null,
      bitrate_kbps: (8 * (sample.bytesIn - prev.bytesIn)) / 1000 / seconds,
      frames_decoded: sample.framesDecoded,
      framesStalled: sample.framesDecoded === prev.framesDecoded && !this.peerAudioOnly(leg.pid),
    };
  }

  peerAudioOnly(pid) {
    return Boolean(this.peers.get(pid)?.audioOnly);
  }

  async measure() {
    const samples = [];
    for (const leg of this.legs.values()) {
      if (leg.pc.connectionState !== 'connected') continue;
      const sample = await this.legSample(leg).catch(() => null);
      if (sample) samples.push(sample);
    }
    if (!samples.length) return;
    const audioOnly = this.forcedAudioOnly || !this.stream.getVideoTracks().length;
    const order = ['good', 'fair', 'poor'];
    let worst = samples[0];
    let level = 'good';
    for (const sample of samples) {
      const graded = gradeSample(sample, audioOnly);
      if (order.indexOf(graded) >= order.indexOf(level)) [level, worst] = [graded, sample];
    }
    const framesDecoded = samples.reduce((sum, s) => sum + (s.frames_decoded || 0), 0);
    this.last = { ...worst, level, audio_only: audioOnly, frames_decoded: framesDecoded };
    this.hooks.onQuality(level, this.last);
    this.poorRun = level === 'poor' && !audioOnly ? this.poorRun + 1 : 0;
    if (this.poorRun >= POOR_SAMPLES_FOR_AUDIO_ONLY && !this.forcedAudioOnly) {
      await this.setAudioOnly(true); // automatic fallback: sound keeps the consultation going
      this.hooks.onAutoAudioOnly?.();
    }
    this.samples += 1;
    if (this.samples % REPORT_EVERY === 1) this.report(); // the first sample, then every few
  }

  report(force = false) {
    if (!this.last || (!force && !this.appointment)) return;
    const { framesStalled, ...sample } = this.last;
    sample.audio_only = this.forcedAudioOnly || !this.stream.getVideoTracks().length;
    for (const key of Object.keys(sample)) if (sample[key] == null || Number.isNaN(sample[key])) delete sample[key];
    for (const key of ['rtt_ms', 'loss_pct', 'jitter_ms', 'fps', 'bitrate_kbps'])
      if (key in sample) sample[key] = Math.round(Math.max(0, sample[key]) * 10) / 10;
    this.socket.send({ t: 'quality', sample });
  }

  close() {
    window.clearInterval(this.timer);
    for (const pid of [...this.legs.keys()]) this.dropLeg(pid);
  }
}
