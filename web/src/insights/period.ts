// The period the insights cover: presets counted in whole UTC days, or a custom range.
// Dates are inclusive ISO days (YYYY-MM-DD), as the API's since/until take them. The
// default, "the last quarter", is the server's own: the 90 days up to today.

export type PresetId = 'last-quarter' | 'previous-quarter' | 'last-30' | 'last-12-months' | 'custom'

export interface Period {
  preset: PresetId
  since: string
  until: string
}

export const PRESETS: [PresetId, string][] = [
  ['last-quarter', 'Last quarter (90 days)'],
  ['previous-quarter', 'Previous calendar quarter'],
  ['last-30', 'Last 30 days'],
  ['last-12-months', 'Last 12 months'],
  ['custom', 'Custom dates'],
]

const DAY = 86_400_000
const day = (d: Date) => d.toISOString().slice(0, 10)
const utc = (y: number, m: number, d: number) => new Date(Date.UTC(y, m, d))
const daysBack = (now: Date, n: number) => day(new Date(now.getTime() - n * DAY))

export function periodOf(preset: PresetId, now = new Date(), custom?: { since: string; until: string }): Period {
  const today = day(now)
  switch (preset) {
    case 'last-quarter':
      return { preset, since: daysBack(now, 89), until: today } // 90 days, today included
    case 'previous-quarter': {
      const startThis = Math.floor(now.getUTCMonth() / 3) * 3
      return { preset, since: day(utc(now.getUTCFullYear(), startThis - 3, 1)), until: day(utc(now.getUTCFullYear(), startThis, 0)) }
    }
    case 'last-30':
      return { preset, since: daysBack(now, 30), until: today }
    case 'last-12-months':
      return { preset, since: daysBack(now, 365), until: today }
    case 'custom':
      return { preset, since: custom?.since ?? daysBack(now, 89), until: custom?.until ?? today }
  }
}

export const DEFAULT_PERIOD: PresetId = 'last-quarter'
