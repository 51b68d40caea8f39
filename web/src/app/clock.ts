// The server's clock, estimated NTP-style: a few GET /api/time samples, keep the one
// with the shortest round trip, and assume the server read its clock half-way through.

let offsetMs = 0
let known = false

export function serverNow(): number {
  return Date.now() + offsetMs
}

export function clockOffset(): { offsetMs: number; known: boolean } {
  return { offsetMs, known }
}

async function sample(): Promise<{ rtt: number; offset: number }> {
  const t0 = Date.now()
  const response = await fetch('/api/time', { cache: 'no-store', credentials: 'same-origin' })
  const body = (await response.json()) as { now_ms: number }
  const t1 = Date.now()
  return { rtt: t1 - t0, offset: body.now_ms - (t0 + t1) / 2 }
}

export async function syncClock(samples = 5): Promise<void> {
  let best: { rtt: number; offset: number } | null = null
  for (let i = 0; i < samples; i++) {
    try {
      const s = await sample()
      if (s.rtt >= 0 && (best === null || s.rtt < best.rtt)) best = s
    } catch {
      // offline: keep the previous estimate
    }
  }
  if (best) {
    offsetMs = best.offset
    known = true
  }
}

let started = false

/** Sample once the page is idle (the clock is not needed to show a meeting, only to count
 *  its timer down to the second), then every five minutes and when the network comes back. */
export function keepClockSynced(): void {
  if (started) return
  started = true
  if ('requestIdleCallback' in window) requestIdleCallback(() => void syncClock(), { timeout: 2000 })
  else setTimeout(() => void syncClock(), 500)
  setInterval(() => void syncClock(3), 5 * 60_000)
  window.addEventListener('online', () => void syncClock(3))
}
