// Typed, defensive readers for the three shared docs (layout: docs/shared-docs.md).
import * as Y from 'yjs'
import { compareText } from './intl'

export interface Phase {
  id: string
  title: string
  minutes: number
  objective: string
}

export interface TimerState {
  status: 'idle' | 'running' | 'paused'
  duration_ms: number
  deadline_ms: number | null
  remaining_ms: number | null
  started_at_ms: number | null
  extended_ms: number
}

export interface Scope {
  event: string
  question: string
  window_start: string
  window_end: string
  expected_output: string
}

export interface Metric {
  name: string
  planned: number | string | null
  actual: number | string | null
  unit: string
}

export interface Link {
  url: string
  title: string
}

export interface Settings {
  votes_per_person: number
  hide_counts_until_closed: boolean
  anonymous: boolean
  leaders_last: boolean
  auto_start_timer: boolean
}

export interface ReviewInfo {
  id: string
  title: string
  status: 'draft' | 'scheduled' | 'live' | 'closed'
  scope: Scope
  metrics: Metric[]
  links: Link[]
  settings: Settings
  questionnaire: string[]
  version: { number: number; hash: string; finalized_at: string } | null
  close_reason: string
}

export interface Person {
  participant_id: string
  name: string
  leader?: boolean
}

export interface Speaking {
  active: boolean
  order: Person[]
  index: number
  current: Person | null
  skipped: string[]
}

export interface Note {
  id: string
  text: string
  kind: string
  theme_id: string | null
  prompt: number | null
  // questionnaire answers: the question they answer (as asked when revealed)
  question?: string
  author?: string
}

export interface Theme {
  id: string
  title: string
  category: string
  section: string
  absorbed: string[]
}

export interface Voting {
  status: 'open' | 'closed'
  opened_ms: number | null
  closed_ms: number | null
}

export interface TimelineEvent {
  id: string
  time: string
  text: string
  source: string
  link: string
  markers: string[]
  created_ms: number
  /** Participant id of whoever added it; "" for imported events (nobody's). */
  by: string
  /** The scribe's choice for the recap: "" (marked events go in), "keep" or "drop". */
  recap: string
}

/** Whether the recap's timeline shows an event (the server's rule, meeting/recap.py). */
export const inRecap = (e: TimelineEvent): boolean => e.recap === 'keep' || (e.markers.length > 0 && e.recap !== 'drop')

export interface Action {
  id: string
  what: string
  owner: string
  due: string
  verify: string
  kind: string
  created_ms: number
}

const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback)
const num = (v: unknown, fallback = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback)
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {})
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
const optNum = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

export const DEFAULT_SETTINGS: Settings = {
  votes_per_person: 3,
  hide_counts_until_closed: true,
  anonymous: true,
  leaders_last: false,
  auto_start_timer: false,
}

export function readReview(room: Y.Doc): ReviewInfo {
  const m = room.getMap('review')
  const scope = obj(m.get('scope'))
  const settings = obj(m.get('settings'))
  const version = obj(m.get('version'))
  const status = str(m.get('status'), 'draft')
  return {
    id: str(m.get('id')),
    title: str(m.get('title')),
    status: (['draft', 'scheduled', 'live', 'closed'].includes(status) ? status : 'draft') as ReviewInfo['status'],
    scope: {
      event: str(scope.event),
      question: str(scope.question),
      window_start: str(scope.window_start),
      window_end: str(scope.window_end),
      expected_output: str(scope.expected_output),
    },
    metrics: arr(m.get('metrics')).map((x) => {
      const o = obj(x)
      const val = (v: unknown) => (typeof v === 'number' || typeof v === 'string' ? v : null)
      return { name: str(o.name), planned: val(o.planned), actual: val(o.actual), unit: str(o.unit) }
    }),
    links: arr(m.get('links')).map((x) => ({ url: str(obj(x).url), title: str(obj(x).title) })),
    settings: {
      votes_per_person: num(settings.votes_per_person, DEFAULT_SETTINGS.votes_per_person),
      hide_counts_until_closed: settings.hide_counts_until_closed !== false,
      anonymous: settings.anonymous !== false,
      leaders_last: settings.leaders_last === true,
      auto_start_timer: settings.auto_start_timer === true,
    },
    questionnaire: arr(m.get('questionnaire')).filter((q): q is string => typeof q === 'string'),
    version: typeof version.hash === 'string'
      ? { number: num(version.number), hash: version.hash, finalized_at: str(version.finalized_at) }
      : null,
    close_reason: str(m.get('close_reason')),
  }
}

export function readAgenda(room: Y.Doc): Phase[] {
  return arr(room.getMap('meeting').get('agenda')).map((x) => {
    const o = obj(x)
    return { id: str(o.id), title: str(o.title), minutes: num(o.minutes), objective: str(o.objective) }
  })
}

export function readPhaseId(room: Y.Doc): string | null {
  const v = room.getMap('meeting').get('phase_id')
  return typeof v === 'string' ? v : null
}

export function readTimer(room: Y.Doc): TimerState {
  const o = obj(room.getMap('meeting').get('timer'))
  const status = str(o.status, 'idle')
  return {
    status: status === 'running' || status === 'paused' ? status : 'idle',
    duration_ms: num(o.duration_ms),
    deadline_ms: optNum(o.deadline_ms),
    remaining_ms: optNum(o.remaining_ms),
    started_at_ms: optNum(o.started_at_ms),
    extended_ms: num(o.extended_ms),
  }
}

export function readElmo(room: Y.Doc): { count: number; last_ms: number | null } {
  const o = obj(room.getMap('meeting').get('elmo'))
  return { count: num(o.count), last_ms: optNum(o.last_ms) }
}

function person(x: unknown): Person {
  const o = obj(x)
  return { participant_id: str(o.participant_id), name: str(o.name), leader: o.leader === true }
}

export function readHands(room: Y.Doc): (Person & { raised_ms: number })[] {
  return arr(room.getMap('meeting').get('hands')).map((x) => ({ ...person(x), raised_ms: num(obj(x).raised_ms) }))
}

export function readSpeaking(room: Y.Doc): Speaking {
  const o = obj(room.getMap('meeting').get('speaking'))
  return {
    active: o.active === true,
    order: arr(o.order).map(person),
    index: num(o.index),
    current: o.current ? person(o.current) : null,
    skipped: arr(o.skipped).filter((x): x is string => typeof x === 'string'),
  }
}

export function readSignoffs(room: Y.Doc): number {
  return num(room.getMap('meeting').get('signoffs'))
}

export interface Discussion {
  active: boolean
  section: string
  order: string[] // theme ids, most votes first
  index: number
  minutes: number
}

export function readDiscussion(room: Y.Doc): Discussion {
  const o = obj(room.getMap('meeting').get('discussion'))
  return {
    active: o.active === true,
    section: str(o.section, 'contributing-factor'),
    order: arr(o.order).filter((x): x is string => typeof x === 'string'),
    index: num(o.index),
    minutes: num(o.minutes) || 5,
  }
}

export interface ThemeComment {
  id: string
  theme_id: string
  text: string
}

export function readComments(room: Y.Doc): ThemeComment[] {
  const out: ThemeComment[] = []
  room.getMap('comments').forEach((v, k) => {
    const o = obj(v)
    out.push({ id: k, theme_id: str(o.theme_id), text: str(o.text) })
  })
  return out.sort((a, b) => compareText(a.text, b.text)) // no order that could name anyone
}

export interface ParkedTopic {
  id: string
  text: string
  created_ms: number
}

export function readParked(room: Y.Doc): ParkedTopic[] {
  const out: ParkedTopic[] = []
  room.getMap('parking_lot').forEach((v, k) => {
    const o = obj(v)
    out.push({ id: k, text: str(o.text), created_ms: num(o.created_ms) })
  })
  return out.sort((a, b) => a.created_ms - b.created_ms || (a.id < b.id ? -1 : 1))
}

export interface Signer {
  name: string
  current: boolean // signed the wording as it reads now
}

export function readSigners(room: Y.Doc): Signer[] {
  return arr(room.getMap('meeting').get('signers'))
    .map((v) => obj(v))
    .map((o) => ({ name: str(o.name, 'Unnamed attendee'), current: o.current === true }))
}

export function readRevealed(room: Y.Doc): Record<string, boolean> {
  const o = obj(room.getMap('meeting').get('revealed'))
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === true]))
}

/** Hidden notes per section: as the server shows them (`shown`, from its awareness entry),
 * else as older versions kept them in the room doc. */
export function readNoteCounts(room: Y.Doc, shown: Record<string, number> | null): Record<string, number> {
  if (shown) return shown
  const out: Record<string, number> = {}
  room.getMap('note_counts').forEach((v, k) => (out[k] = num(v)))
  return out
}

export function readNotes(room: Y.Doc): Note[] {
  const out: Note[] = []
  room.getMap('notes').forEach((v, k) => {
    const o = obj(v)
    const note: Note = {
      id: str(o.id, k),
      text: str(o.text),
      kind: str(o.kind, 'other'),
      theme_id: typeof o.theme_id === 'string' ? o.theme_id : null,
      prompt: optNum(o.prompt),
    }
    if (typeof o.author === 'string') note.author = o.author
    if (typeof o.question === 'string' && o.question) note.question = o.question
    out.push(note)
  })
  return out
}

export function readThemes(room: Y.Doc): Theme[] {
  const out: Theme[] = []
  room.getMap('themes').forEach((v, k) => {
    const o = obj(v)
    out.push({
      id: str(o.id, k),
      title: str(o.title),
      category: str(o.category, 'other'),
      section: str(o.section, 'contributing-factor'),
      absorbed: arr(o.absorbed).filter((x): x is string => typeof x === 'string'),
    })
  })
  return out.sort((a, b) => compareText(a.title, b.title))
}

export function readVoting(room: Y.Doc): Record<string, Voting> {
  const out: Record<string, Voting> = {}
  room.getMap('voting').forEach((v, k) => {
    const o = obj(v)
    out[k] = { status: o.status === 'open' ? 'open' : 'closed', opened_ms: optNum(o.opened_ms), closed_ms: optNum(o.closed_ms) }
  })
  return out
}

export function readVotes(room: Y.Doc): Map<string, number> {
  const out = new Map<string, number>()
  room.getMap('votes').forEach((v, k) => out.set(k, num(v)))
  return out
}

function field(m: Y.Map<unknown>, key: string): string {
  return str(m.get(key))
}

export function readEvents(timeline: Y.Doc): TimelineEvent[] {
  const out: TimelineEvent[] = []
  timeline.getMap('events').forEach((v, k) => {
    if (!(v instanceof Y.Map)) return
    out.push({
      id: k,
      time: field(v, 'time'),
      text: field(v, 'text'),
      source: field(v, 'source') || 'other',
      link: field(v, 'link'),
      markers: arr(v.get('markers')).filter((x): x is string => typeof x === 'string'),
      created_ms: num(v.get('created_ms')),
      by: field(v, 'by'),
      recap: field(v, 'recap'),
    })
  })
  return out.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.created_ms - b.created_ms))
}

export function readActions(recap: Y.Doc): Action[] {
  const out: Action[] = []
  recap.getMap('actions').forEach((v, k) => {
    if (!(v instanceof Y.Map)) return
    out.push({
      id: k,
      what: field(v, 'what'),
      owner: field(v, 'owner'),
      due: field(v, 'due'),
      verify: field(v, 'verify'),
      kind: field(v, 'kind'),
      created_ms: num(v.get('created_ms')),
    })
  })
  return out.sort((a, b) => a.created_ms - b.created_ms || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

export function newId(prefix: string): string {
  const random = typeof crypto.randomUUID === 'function'
    ? crypto.randomUUID()
    : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('')
  return `${prefix}${random}`
}

/** An http(s) URL we may turn into a link; anything else is shown as plain text. */
export function safeUrl(value: string): string | null {
  try {
    const url = new URL(value)
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null
  } catch {
    return null
  }
}
