// The learning endpoints (PLAN16): insights of a period, recurring theme groups and the
// friction ranking, learning briefs, and the quarterly review. Team cookie rides along.
import { get, patch, post } from '../app/api'
import type { Created } from '../app/commands'
import type { Insights } from './figures'

const team = (t: string) => `/api/teams/${encodeURIComponent(t)}`
const params = (p: Record<string, string | undefined>) => {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(p)) if (v) q.set(k, v)
  const text = q.toString()
  return text ? `?${text}` : ''
}

// ---- insights -------------------------------------------------------------------------

export const getInsights = (t: string, since: string, until: string) => get<Insights>(`${team(t)}/insights${params({ since, until })}`)
/** A figure's download link; the browser fetches it with the team cookie. */
export const figureUrl = (t: string, figure: string, format: 'csv' | 'json', since: string, until: string) =>
  `${team(t)}/insights${params({ since, until, figure, format })}`

// ---- recurring themes and friction -----------------------------------------------------

export interface ThemeRef {
  /** "<review id>:<theme id>" */
  ref: string
  review_id: string
  review_title?: string
  theme_id?: string
  title: string
  category?: string
  votes?: number
}

export interface ThemeGroup {
  /** "s-..." for a suggestion, "g_..." for a group a person confirmed. */
  id: string
  name: string
  confirmed: boolean
  themes: ThemeRef[]
  /** Of a confirmed group: themes of newer reviews that look like they belong too. */
  suggested?: ThemeRef[]
  reviews: number
  votes: number
  actions?: { open?: number; 'in-progress'?: number; done?: number; not_verified?: number }
  friction_rank?: number
}

export interface FrictionEntry {
  rank: number
  id: string
  name: string
  reviews: number
  votes: number
  actions?: { not_verified?: number }
  decided_by?: string
  reason: string
}

export interface ThemesView {
  reviews?: number
  groups: ThemeGroup[]
  friction?: FrictionEntry[]
}

export const getThemes = (t: string, since?: string, until?: string) => get<ThemesView>(`${team(t)}/themes${params({ since, until })}`)
/** Keep these themes together: a new group, or added to the confirmed group `group`. */
export const confirmThemes = (t: string, refs: string[], group = '') =>
  post<unknown>(`${team(t)}/themes/confirm`, group ? { refs, group } : { refs })
/** Take `refs` out of `group`, as shown for the period since..until. */
export const splitThemes = (t: string, group: string, refs: string[], since: string, until: string) =>
  post<unknown>(`${team(t)}/themes/split`, { group, refs, since, until })
export const getFriction = (t: string, since?: string, until?: string) =>
  get<{ friction?: FrictionEntry[]; ranking?: FrictionEntry[] }>(`${team(t)}/friction${params({ since, until })}`)

// ---- learning briefs -------------------------------------------------------------------

export interface Replacement {
  id: string
  original: string
  replacement: string
  /** "name", "first-name", "email", "handle", or "added" by a person. */
  kind: string
  where?: { section: string; line: number; column: number }
  /** Where it sits in the preview text. */
  out_start: number
  out_end: number
  undone: boolean
}

export interface Brief {
  id: string
  name: string
  status: 'draft' | 'published' | string
  /** The Markdown as written, names and all: only the team reads it. */
  text: string
  /** What every export holds: the text with the replacements made. */
  preview: { text: string; replacements: Replacement[]; labels: string[] }
  published_text?: string
  published_ms?: number | null
}

const brief = (t: string, b: string) => `${team(t)}/briefs/${encodeURIComponent(b)}`
export const createBrief = (t: string, name: string, refs: string[]) => post<Brief>(`${team(t)}/briefs`, { group: { name, refs } })
export const getBrief = (t: string, b: string) => get<Brief>(brief(t, b))
export const editBriefText = (t: string, b: string, text: string) => patch<Brief>(brief(t, b), { text })
export const addReplacement = (t: string, b: string, original: string, replacement: string) =>
  patch<Brief>(brief(t, b), { replacements: { add: [{ original, replacement }] } })
export const undoReplacement = (t: string, b: string, id: string) => patch<Brief>(brief(t, b), { replacements: { undo: [id] } })
export const redoReplacement = (t: string, b: string, id: string) => patch<Brief>(brief(t, b), { replacements: { redo: [id] } })
export const publishBrief = (t: string, b: string) => post<Brief>(`${brief(t, b)}/publish`)
export const briefExportUrl = (t: string, b: string, format: 'md' | 'html') => `${brief(t, b)}.${format}`

// ---- the quarterly review --------------------------------------------------------------

export const createQuarterlyReview = (t: string, title: string, since: string, until: string) =>
  post<Created>(`${team(t)}/reviews`, { title, covers: { since, until } })
