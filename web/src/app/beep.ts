// A short two-tone chime made with WebAudio: no audio file to fetch.
let ctx: AudioContext | null = null

function context(): AudioContext | null {
  if (ctx) return ctx
  const Ctor = window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext
  if (!Ctor) return null
  ctx = new Ctor()
  return ctx
}

/** Browsers only allow sound after a user gesture: unlock on the first click or key. */
export function unlockAudioOnGesture(): void {
  const unlock = () => {
    const c = context()
    if (c && c.state === 'suspended') void c.resume()
    window.removeEventListener('pointerdown', unlock)
    window.removeEventListener('keydown', unlock)
  }
  window.addEventListener('pointerdown', unlock)
  window.addEventListener('keydown', unlock)
}

export function chime(): void {
  const c = context()
  if (!c) return
  if (c.state === 'suspended') void c.resume()
  const start = c.currentTime + 0.02
  ;[880, 660, 880].forEach((freq, i) => {
    const osc = c.createOscillator()
    const gain = c.createGain()
    osc.type = 'sine'
    osc.frequency.value = freq
    const t = start + i * 0.28
    gain.gain.setValueAtTime(0.0001, t)
    gain.gain.exponentialRampToValueAtTime(0.25, t + 0.02)
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.25)
    osc.connect(gain).connect(c.destination)
    osc.start(t)
    osc.stop(t + 0.26)
  })
}
