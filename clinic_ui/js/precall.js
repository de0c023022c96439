// The pre-call check: camera and microphone, then a short echo through the server's own peer,
// measured with getStats() here and on the server, ending in the server's plain-language verdict.
//
// The media stream is kept for the call, so nobody is asked for their camera twice. In sound-only
// mode only the microphone is requested: the camera is never asked for.

const MEASURE_MS = 4000;
const GATHER_MS = 3000;
const CONNECT_MS = 10_000;

/** Ask for the microphone (and the camera unless audioOnly); small video is enough for a consultation. */
export function getMedia(audioOnly) {
  const video = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 20, max: 30 }, facingMode: 'user' };
  return navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true }, video: audioOnly ? false : video });
}

/** Plain words for getUserMedia failures. */
export function mediaProblem(error, audioOnly) {
  const what = audioOnly ? 'microphone' : 'camera and microphone';
  if (error?.name === 'NotAllowedError')
    return `Your browser is not allowing this page to use your ${what}. Allow it in the browser's settings (often the padlock or camera icon next to the address), then try again.`;
  if (error?.name === 'NotFoundError' || error?.name === 'OverconstrainedError')
    return `We could not find a ${what} on this device.`;
  if (error?.name === 'NotReadableError')
    return `Your ${what} is being used by another app. Close it and try again.`;
  return `We could not start your ${what}.`;
}

function waitFor(pc, event, test, ms) {
  return new Promise((resolve) => {
    if (test()) return resolve(true);
    const timer = window.setTimeout(() => done(false), ms);
    const listener = () => test() && done(true);
    const done = (value) => {
      window.clearTimeout(timer);
      pc.removeEventListener(event, listener);
      resolve(value);
    };
    pc.addEventListener(event, listener);
  });
}

async function snapshot(pc) {
  const report = await pc.getStats();
  const found = { bytesSent: 0, framesDecoded: 0, lost: 0, received: 0, jitter: null, rtt: null, remoteLoss: null };
  const candidates = new Map();
  let pair = null;
  report.forEach((s) => {
    if (s.type === 'outbound-rtp') found.bytesSent += s.bytesSent || 0;
    if (s.type === 'inbound-rtp') {
      found.lost += Math.max(s.packetsLost || 0, 0);
      found.received += s.packetsReceived || 0;
      if (s.kind === 'video') {
        found.framesDecoded += s.framesDecoded || 0;
        found.width = s.frameWidth;
        found.height = s.frameHeight;
      }
      if (s.jitter != null) found.jitter = Math.max(found.jitter || 0, s.jitter * 1000);
    }
    if (s.type === 'remote-inbound-rtp' && s.fractionLost != null)
      found.remoteLoss = Math.max(found.remoteLoss || 0, s.fractionLost * 100);
    if (s.type === 'local-candidate') candidates.set(s.id, s.candidateType);
    if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s;
  });
  if (pair) {
    found.rtt = pair.currentRoundTripTime != null ? pair.currentRoundTripTime * 1000 : null;
    found.available = pair.availableOutgoingBitrate != null ? pair.availableOutgoingBitrate / 1000 : null;
    found.candidateType = candidates.get(pair.localCandidateId) || null;
  }
  return { ...found, at: performance.now() };
}

/**
 * Run the check over `socket` with `stream`; shows the echo in `echoVideo` and the microphone level
 * via `onLevel(0..1)`. Resolves to the server's verdict, or throws an Error with a plain message.
 */
export async function runPrecall(socket, stream, { iceServers = [], echoVideo = null, onLevel = () => {}, onStep = () => {} }) {
  const audioOnly = !stream.getVideoTracks().length;
  const pc = new RTCPeerConnection({ iceServers });
  const meter = levelMeter(stream, onLevel);
  try {
    for (const track of stream.getTracks()) pc.addTrack(track, stream);
    pc.ontrack = ({ streams, track }) => {
      if (echoVideo && track.kind === 'video') echoVideo.srcObject = streams[0] || new MediaStream([track]);
    };
    onStep('connecting');
    await pc.setLocalDescription();
    await waitFor(pc, 'icegatheringstatechange', () => pc.iceGatheringState === 'complete', GATHER_MS);
    socket.send({ t: 'testing' });
    const answered = socket.next('precall_answer', CONNECT_MS);
    const refused = socket.next('error', CONNECT_MS, (m) => m.refused === 'precall').then((m) => {
      throw new Error(m.detail);
    });
    socket.send({ t: 'precall', description: pc.localDescription.toJSON() });
    const answer = await Promise.race([answered, refused]);
    refused.catch(() => {});
    await pc.setRemoteDescription(answer.description);
    const connected = await waitFor(pc, 'connectionstatechange', () => pc.connectionState === 'connected', CONNECT_MS);
    if (!connected) throw new Error('We could not connect to our test service. Your network may block video calls.');
    onStep('measuring');
    const first = await snapshot(pc);
    await new Promise((resolve) => window.setTimeout(resolve, MEASURE_MS));
    const last = await snapshot(pc);
    const seconds = (last.at - first.at) / 1000;
    const lost = last.lost - first.lost;
    const got = last.received - first.received;
    const stats = {
      rtt_ms: last.rtt,
      jitter_ms: last.jitter,
      loss_pct: Math.max(lost + got > 0 ? (100 * lost) / (lost + got) : 0, last.remoteLoss || 0),
      out_bitrate_kbps: (8 * (last.bytesSent - first.bytesSent)) / 1000 / seconds,
      available_kbps: last.available,
      frames_decoded: last.framesDecoded,
      frame_width: last.width ?? null,
      frame_height: last.height ?? null,
      audio_level: meter.peak(),
      candidate_type: last.candidateType,
      camera: !audioOnly,
      microphone: stream.getAudioTracks().length > 0,
    };
    for (const key of Object.keys(stats)) if (stats[key] == null || Number.isNaN(stats[key])) delete stats[key];
    for (const key of ['rtt_ms', 'jitter_ms', 'loss_pct', 'out_bitrate_kbps', 'available_kbps'])
      if (key in stats) stats[key] = Math.round(stats[key] * 10) / 10;
    onStep('verdict');
    const verdict = socket.next('precall_verdict', CONNECT_MS);
    socket.send({ t: 'precall_result', stats });
    return { ...(await verdict).verdict, frames_decoded: stats.frames_decoded };
  } finally {
    meter.stop();
    pc.close();
    if (echoVideo) echoVideo.srcObject = null;
  }
}

/** Microphone level from WebAudio, reported about ten times a second. */
export function levelMeter(stream, onLevel) {
  const track = stream.getAudioTracks()[0];
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!track || !Context) return { peak: () => null, stop() {} };
  const context = new Context();
  const analyser = context.createAnalyser();
  analyser.fftSize = 512;
  context.createMediaStreamSource(new MediaStream([track])).connect(analyser);
  const data = new Uint8Array(analyser.fftSize);
  let peak = 0;
  const timer = window.setInterval(() => {
    analyser.getByteTimeDomainData(data);
    let max = 0;
    for (const value of data) max = Math.max(max, Math.abs(value - 128) / 128);
    peak = Math.max(peak, max);
    onLevel(max);
  }, 100);
  return {
    peak: () => Math.round(Math.min(1, peak) * 100) / 100,
    stop() {
      window.clearInterval(timer);
      context.close().catch(() => {});
    },
  };
}
