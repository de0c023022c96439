// The signal-quality meter shown on the phone's measuring page and in the clinician's live panel.
// The words and their thresholds are the server's (sensors/signal_quality.py): both pages show the
// quality_word the server sends and have no thresholds of their own. The meter's colour bands sit
// on the same thresholds; tests/sensors/test_signal_quality.py checks that they match.

export const QUALITY_BANDS = { low: 0.45, high: 0.7 };

export function qualityMeter() {
  return { min: 0, max: 1, ...QUALITY_BANDS, optimum: 1, value: 0, 'aria-label': 'Signal quality' };
}
