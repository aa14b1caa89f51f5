/** A ringtone made with Web Audio (no audio file, nothing fetched): the North American ring,
 * 440 Hz + 480 Hz, two seconds on and four off, starting at once. Extension pages may play
 * sound without a user gesture, so it sounds as soon as the incoming-call window opens. */

const ON_S = 2;
const PERIOD_S = 6;
const VOLUME = 0.2;

export function createRingtone({ AudioContextImpl = globalThis.AudioContext } = {}) {
  let context = null;
  let analyser = null;
  let timer = null;

  function burst() {
    const start = context.currentTime + 0.01;
    for (const hz of [440, 480]) {
      const tone = context.createOscillator();
      tone.frequency.value = hz;
      const gain = context.createGain();
      gain.gain.setValueAtTime(0, start);
      gain.gain.linearRampToValueAtTime(VOLUME, start + 0.02);
      gain.gain.setValueAtTime(VOLUME, start + ON_S - 0.02);
      gain.gain.linearRampToValueAtTime(0, start + ON_S);
      tone.connect(gain).connect(analyser);
      tone.start(start);
      tone.stop(start + ON_S);
    }
  }

  function start() {
    if (context) return;
    context = new AudioContextImpl();
    analyser = context.createAnalyser();
    analyser.connect(context.destination);
    context.resume().catch(() => {});
    burst();
    timer = setInterval(burst, PERIOD_S * 1000);
  }

  function stop() {
    if (!context) return;
    clearInterval(timer);
    context.close().catch(() => {});
    context = analyser = timer = null;
  }

  /** The loudest sample right now (0 = silence, 1 = full scale). */
  function level() {
    if (!analyser) return 0;
    const samples = new Float32Array(analyser.fftSize);
    analyser.getFloatTimeDomainData(samples);
    return samples.reduce((peak, value) => Math.max(peak, Math.abs(value)), 0);
  }

  return {
    start,
    stop,
    level,
    get state() {
      return context ? context.state : "stopped";
    },
  };
}
