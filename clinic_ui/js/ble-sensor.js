// Bluetooth finger pulse oximeters and heart-rate sensors through Web Bluetooth (standard GATT
// services: Heart Rate 0x180D, Pulse Oximeter 0x1822). Notifications are decoded here only for
// display; the raw bytes are sent to the server, which decodes them again with sensors.ble.

export const HEART_RATE_SERVICE = 0x180d;
export const PLX_SERVICE = 0x1822;
const HEART_RATE_MEASUREMENT = 0x2a37;
const PLX_SPOT_CHECK = 0x2a5e;
const PLX_CONTINUOUS = 0x2a5f;

export function bluetoothAvailable() {
  return 'bluetooth' in navigator && window.isSecureContext;
}

/** IEEE 11073 16-bit SFLOAT: 4-bit signed exponent, 12-bit signed mantissa; specials give NaN or ±Infinity. */
export function sfloat(raw) {
  const specials = { 0x07ff: NaN, 0x0800: NaN, 0x0801: NaN, 0x07fe: Infinity, 0x0802: -Infinity };
  if (raw in specials) return specials[raw];
  let mantissa = raw & 0x0fff;
  let exponent = raw >> 12;
  if (mantissa >= 0x0800) mantissa -= 0x1000;
  if (exponent >= 0x8) exponent -= 0x10;
  return mantissa * 10 ** exponent;
}

/** Heart Rate Measurement (0x2A37): {bpm, contact (true, false or null), rr (seconds)}. */
export function decodeHeartRate(view) {
  const flags = view.getUint8(0);
  let at = 1;
  const wide = flags & 0x01;
  const bpm = wide ? view.getUint16(at, true) : view.getUint8(at);
  at += wide ? 2 : 1;
  const contact = flags & 0x04 ? Boolean(flags & 0x02) : null;
  if (flags & 0x08) at += 2;
  const rr = [];
  if (flags & 0x10) for (; at + 1 < view.byteLength; at += 2) rr.push(view.getUint16(at, true) / 1024);
  return { bpm: contact === false ? null : bpm, contact, rr };
}

/** PLX Spot-check or Continuous measurement: {spo2, pulse} (the first SpO2PR pair of both). */
export function decodePlx(view) {
  const spo2 = sfloat(view.getUint16(1, true));
  const pulse = sfloat(view.getUint16(3, true));
  return { spo2: Number.isFinite(spo2) ? spo2 : null, bpm: Number.isFinite(pulse) ? pulse : null };
}

function base64(view) {
  let text = '';
  for (let i = 0; i < view.byteLength; i += 1) text += String.fromCharCode(view.getUint8(i));
  return btoa(text);
}

async function listen(service, uuid, characteristic, onPayload) {
  const found = await service.getCharacteristic(uuid);
  found.addEventListener('characteristicvaluechanged', (event) =>
    onPayload(characteristic, event.target.value),
  );
  await found.startNotifications();
  return found;
}

/**
 * Ask the person to choose a sensor and subscribe to its measurements.
 * onPayload({characteristic, data_b64, reading}) for each notification. Resolves to
 * {kind: 'ble-hr' | 'ble-plx', model, stop()}.
 */
export async function connectSensor(onPayload) {
  const device = await navigator.bluetooth.requestDevice({
    filters: [{ services: [HEART_RATE_SERVICE] }, { services: [PLX_SERVICE] }],
  });
  const server = await device.gatt.connect();
  const emit = (characteristic, view) =>
    onPayload({
      characteristic,
      data_b64: base64(view),
      reading: characteristic === '2a37' ? decodeHeartRate(view) : decodePlx(view),
    });
  let kind = 'ble-hr';
  try {
    const service = await server.getPrimaryService(HEART_RATE_SERVICE);
    await listen(service, HEART_RATE_MEASUREMENT, '2a37', emit);
  } catch {
    kind = 'ble-plx';
    const service = await server.getPrimaryService(PLX_SERVICE);
    try {
      await listen(service, PLX_CONTINUOUS, '2a5f', emit);
    } catch {
      await listen(service, PLX_SPOT_CHECK, '2a5e', emit);
    }
  }
  return {
    kind,
    model: (device.name || 'Bluetooth sensor').slice(0, 100),
    stop: () => device.gatt.connected && device.gatt.disconnect(),
  };
}
