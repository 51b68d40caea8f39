// Issue 13's endpoints: the team's channels, webhooks and delivery log, its API tokens and
// calendar feed, the trackers' exports, a person's preferences and the unsubscribe page.
// Secrets (a webhook's signing secret, a token) come back once, in the answer that made them.
import { del, get, patch, post, put } from '../app/api'

/** The events people and channels can receive (PLAN13 "Events"). */
export const EVENTS = [
  'review-scheduled',
  'review-starting',
  'recap-published',
  'action-assigned',
  'action-due-soon',
  'action-overdue',
  'action-done',
  'weekly-digest',
  'review-nudge',
] as const
export type DeliveryEvent = (typeof EVENTS)[number]

export interface SmtpSettings {
  host: string
  port: number
  starttls: boolean
  username: string
  /** Never sent back; an empty one in a PUT keeps the stored password. */
  password?: string
  password_set?: boolean
}

export interface EmailChannel {
  enabled: boolean
  from_addr: string
  /** null: the server's own mail settings (DEBRIEF_SMTP_*). */
  smtp: SmtpSettings | null
}

export type WebhookKind = 'slack' | 'mattermost' | 'json'

export interface Webhook {
  id: string
  kind: WebhookKind
  url: string
  events: string[]
  enabled: boolean
}

export interface Channels {
  email: EmailChannel
  webhooks: Webhook[]
  /** Whether the server has mail settings of its own to fall back on. */
  server_smtp?: boolean
}

export interface Attempt {
  at_ms: number
  ok: boolean
  detail: string
}

/** A line of the delivery log: its latest attempts, how many there were, the last one. */
export interface Delivery {
  id: string
  event: string
  channel: string
  to?: string[]
  subject?: string
  state: 'queued' | 'sending' | 'sent' | 'failed' | 'dead'
  attempts: Attempt[] | number
  attempt_count?: number
  last?: Attempt | null
  next_at_ms?: number | null
  created_ms: number
}

/** One delivery in full, every attempt included. */
export interface DeliveryDetail extends Omit<Delivery, 'attempts' | 'attempt_count' | 'last'> {
  text?: string
  replays?: number
  attempts: Attempt[]
}

export interface ApiToken {
  id: string
  name: string
  scope: 'read' | 'write'
  created_ms: number
  last_used_ms?: number | null
  revoked?: boolean
}

export type TrackerFormat = 'jira' | 'github' | 'linear'
export const TRACKERS: [TrackerFormat, string][] = [
  ['jira', 'Jira (CSV)'],
  ['github', 'GitHub issues (JSON)'],
  ['linear', 'Linear (CSV)'],
]

const team = (t: string) => `/api/teams/${encodeURIComponent(t)}`
const enc = encodeURIComponent

export const getChannels = (t: string) => get<Channels>(`${team(t)}/channels`)
export const putChannels = (t: string, body: { email: EmailChannel }) => put<Channels>(`${team(t)}/channels`, body)
export const addWebhook = (t: string, body: { kind: WebhookKind; url: string; events: string[] }) =>
  post<Webhook & { secret?: string }>(`${team(t)}/webhooks`, body)
export const setWebhookOn = (t: string, id: string, enabled: boolean) => patch<Webhook>(`${team(t)}/webhooks/${enc(id)}`, { enabled })
export const testEmail = (t: string, to: string) => post<{ delivery_id: string }>(`${team(t)}/channels/email/test`, { to })
export const removeWebhook = (t: string, id: string) => del<unknown>(`${team(t)}/webhooks/${enc(id)}`)
export const testWebhook = (t: string, id: string) => post<{ delivery_id?: string; id?: string }>(`${team(t)}/webhooks/${enc(id)}/test`)
/** How many attempts a log line counts, whichever way the server put it. */
export const attemptCount = (d: Delivery) => d.attempt_count ?? (Array.isArray(d.attempts) ? d.attempts.length : d.attempts)
export const listDeliveries = (t: string, offset = 0, limit = 50) =>
  get<{ deliveries: Delivery[]; total?: number }>(`${team(t)}/deliveries?offset=${offset}&limit=${limit}`)
export const getDelivery = (t: string, id: string) => get<DeliveryDetail>(`${team(t)}/deliveries/${enc(id)}`)
export const replayDelivery = (t: string, id: string) => post<Delivery>(`${team(t)}/deliveries/${enc(id)}/replay`)

export const listTokens = (t: string) => get<{ tokens: ApiToken[] }>(`${team(t)}/tokens`)
export const createToken = (t: string, name: string, scope: 'read' | 'write') =>
  post<ApiToken & { token: string }>(`${team(t)}/tokens`, { name, scope })
export const revokeToken = (t: string, id: string) => del<unknown>(`${team(t)}/tokens/${enc(id)}`)

// The feed's address holds its secret: the server shows it once, when it is made.
export const getTeamFeed = (t: string) => get<{ active: boolean; created_ms: number | null }>(`${team(t)}/feed`)
export const rotateTeamFeed = (t: string) => post<{ url: string }>(`${team(t)}/feed`)
export const stopTeamFeed = (t: string) => del<{ stopped: boolean }>(`${team(t)}/feed`)

export const teamExportUrl = (t: string, format: TrackerFormat, view = 'pending') =>
  `${team(t)}/actions/export?format=${format}&view=${enc(view)}`
export const reviewExportUrl = (r: string, format: TrackerFormat) => `/api/reviews/${enc(r)}/actions/export?format=${format}`

// A person's own link: preferences and calendar.
const mine = (code: string) => `/api/p/${enc(code)}`
export const getPrefs = (code: string) => get<{ prefs: Record<string, boolean> }>(`${mine(code)}/prefs`)
export const putPrefs = (code: string, prefs: Record<string, boolean>) => put<{ prefs: Record<string, boolean> }>(`${mine(code)}/prefs`, { prefs })
export const personCalendarUrl = (code: string) => `${location.origin}${mine(code)}/calendar.ics`

// The unsubscribe link of a message: its token is the only key.
export interface Unsubscribe {
  event: string
  /** In the server's words: the kind of message the link stops. */
  what: string
  /** The person's name, or the address of someone outside the team. */
  who?: string
  /** Whether they still get it (false once stopped). */
  subscribed: boolean
}
export const describeUnsubscribe = (token: string) => get<Unsubscribe>(`/api/unsubscribe/${enc(token)}`)
export const applyUnsubscribe = (token: string) => post<Unsubscribe>(`/api/unsubscribe/${enc(token)}`)
