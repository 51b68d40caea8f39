// What the timer shows, computed from its stored state in server time.
import type { TimerState } from '../app/model'

export type TimerStatus = 'idle' | 'running' | 'paused' | 'expired'

export function remainingMs(t: TimerState, serverNowMs: number): number {
  if (t.status === 'running' && t.deadline_ms !== null) return Math.max(0, t.deadline_ms - serverNowMs)
  if (t.status === 'paused' && t.remaining_ms !== null) return Math.max(0, t.remaining_ms)
  return t.duration_ms
}

export function timerStatus(t: TimerState, serverNowMs: number): TimerStatus {
  if (t.status === 'running' && t.deadline_ms !== null && serverNowMs >= t.deadline_ms) return 'expired'
  return t.status
}

/** 12:05, or 1:02:05 past an hour. Rounds up so 0:00 appears exactly at the deadline. */
export function formatClock(ms: number): string {
  const total = Math.ceil(Math.max(0, ms) / 1000)
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  const mm = h ? String(m).padStart(2, '0') : String(m)
  return `${h ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`
}

/** Spoken form for screen readers, e.g. "4 minutes 30 seconds left". */
export function spokenClock(ms: number): string {
  const total = Math.ceil(Math.max(0, ms) / 1000)
  const m = Math.floor(total / 60)
  const s = total % 60
  const parts = []
  if (m) parts.push(`${m} minute${m === 1 ? '' : 's'}`)
  if (s || !m) parts.push(`${s} second${s === 1 ? '' : 's'}`)
  return `${parts.join(' ')} left`
}
