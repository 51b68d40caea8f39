// The team, people and follow-through endpoints (PLAN12 "HTTP API"). The team cookie is
// per team and HttpOnly; the browser sends it along, the page never sees it.
import { get, patch, post, request } from '../app/api'
import type { Created } from '../app/commands'

export type TeamRole = 'admin' | 'member'
export type ActionStatus = 'open' | 'in-progress' | 'done' | 'verified' | 'wont-do'
export const ACTION_STATUSES: ActionStatus[] = ['open', 'in-progress', 'done', 'verified', 'wont-do']

export interface TeamCreated {
  id: string
  name: string
  links: { admin: string; member: string }
}

export interface TeamJoined {
  token: string
  team_id: string
  role: TeamRole
  name: string
}

export interface TeamInfo {
  id: string
  name: string
  you: { role: TeamRole; name: string }
  counts: {
    reviews: Partial<Record<'draft' | 'scheduled' | 'live' | 'closed', number>>
    actions: Partial<Record<ActionStatus, number>>
    overdue: number
  }
}

export interface TeamLink {
  code: string
  role: TeamRole
  revoked: boolean
  url: string
}

export interface ReviewSummary {
  id: string
  title: string
  status: string
  kind: string
  created_ms: number
  scheduled_for?: string
  closed_ms?: number | null
  actions?: number
}

export interface Person {
  id: string
  name: string
  email?: string
  handle?: string
  link?: string
  found?: boolean
}

export interface Evidence {
  url?: string
  text?: string
  at_ms?: number
  by?: string
}

export interface HistoryEntry {
  at_ms: number
  by: string
  role: string
  from: string
  to: string
  note?: string
  evidence?: Evidence | null
  reason?: string
}

/** An action as the lists show it: an index summary, or a full action state. */
export interface ActionItem {
  gid: string
  review_id: string
  review_title: string
  what: string
  owner: string
  owner_id?: string
  due: string
  status: ActionStatus
  kind: string
  verify: string
  evidence?: Evidence | null
  reason?: string
  verified_by?: string
  review_url?: string
  overdue?: boolean
  updated_ms?: number
  history?: HistoryEntry[]
}

export interface StatusChange {
  status: ActionStatus
  evidence?: { url?: string; text?: string }
  reason?: string
  note?: string
}

export interface ReviewFilters {
  q?: string
  status?: string
  kind?: string
  since?: string
  until?: string
  offset?: number
  limit?: number
}

const team = (t: string) => `/api/teams/${encodeURIComponent(t)}`
const query = (params: Record<string, string | number | undefined>) => {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v))
  const text = q.toString()
  return text ? `?${text}` : ''
}

export const createTeam = (name: string) => post<TeamCreated>('/api/teams', { name })
export const joinTeam = (link: string, name: string) => post<TeamJoined>('/api/teams/join', { link, name })
export const getTeam = (t: string) => get<TeamInfo>(team(t))

export const listLinks = (t: string) => get<{ links: TeamLink[] }>(`${team(t)}/links`)
export const rotateLink = (t: string, role: TeamRole) => post<{ link: TeamLink; revoked: string[] }>(`${team(t)}/links/rotate`, { role })
export const revokeLink = (t: string, code: string) => post<unknown>(`${team(t)}/links/${encodeURIComponent(code)}/revoke`)

export const listReviews = (t: string, f: ReviewFilters) =>
  get<{ reviews: ReviewSummary[]; total: number }>(`${team(t)}/reviews${query({ ...f })}`)
export const createTeamReview = (t: string, title: string, carryOver: boolean) =>
  post<Created>(`${team(t)}/reviews`, carryOver ? { title, carry_over: { mode: 'team' } } : { title })
export const deleteReview = (t: string, reviewId: string, confirm: string) =>
  request<{ deleted: boolean }>('DELETE', `${team(t)}/reviews/${encodeURIComponent(reviewId)}`, { confirm })

export const listPeople = (t: string) => get<{ people: Person[] }>(`${team(t)}/people`)
export const addPerson = (t: string, fields: { name: string; email?: string; handle?: string }) => post<Person>(`${team(t)}/people`, fields)
export const editPerson = (t: string, p: string, fields: { name?: string; email?: string; handle?: string }) =>
  patch<Person>(`${team(t)}/people/${encodeURIComponent(p)}`, fields)
export const newPersonLink = (t: string, p: string) => post<{ url: string }>(`${team(t)}/people/${encodeURIComponent(p)}/link`)

export type ActionView = 'pending' | 'overdue' | 'all' | ActionStatus
export const listActions = (t: string, view: ActionView, person = '', offset = 0, limit = 50) =>
  get<{ actions: ActionItem[]; total: number }>(`${team(t)}/actions${query({ view, person, offset, limit })}`)
export const teamActionStatus = (t: string, gid: string, change: StatusChange) =>
  post<ActionItem>(`${team(t)}/actions/${encodeURIComponent(gid)}/status`, change)

// The personal link: its code is the secret, no cookie involved.
const mine = (code: string) => `/api/p/${encodeURIComponent(code)}`
export interface PersonPageData {
  person: { id: string; name: string }
  team: { id: string; name: string }
  actions: ActionItem[]
  overdue: number
  settled_total: number // verified and won't do: a page at a time, latest first
  settled_offset: number
}
export const getMine = (code: string, settledOffset = 0) =>
  get<PersonPageData>(settledOffset ? `${mine(code)}?settled_offset=${settledOffset}` : mine(code))
export const getMyAction = (code: string, gid: string) => get<ActionItem>(`${mine(code)}/actions/${encodeURIComponent(gid)}`)
export const myActionStatus = (code: string, gid: string, change: StatusChange) =>
  post<ActionItem>(`${mine(code)}/actions/${encodeURIComponent(gid)}/status`, change)

// Review-scoped: the review's team directory and its actions' follow-up.
const review = (r: string) => `/api/reviews/${encodeURIComponent(r)}`
export const reviewPeople = (r: string) => get<{ people: Person[] }>(`${review(r)}/people`)
export const addReviewPerson = (r: string, name: string) => post<Person>(`${review(r)}/people`, { name })
export const setActionOwner = (r: string, actionId: string, ownerId: string) =>
  patch<unknown>(`${review(r)}/actions/${encodeURIComponent(actionId)}`, { owner_id: ownerId })
export const reviewFollowUp = (r: string) => get<{ actions: ActionItem[] }>(`${review(r)}/follow-up`)
export const reviewActionStatus = (r: string, gid: string, change: StatusChange) =>
  post<ActionItem>(`${review(r)}/follow-up/${encodeURIComponent(gid)}/status`, change)

/** Today as the server counts it (UTC), for "overdue". */
export const todayUtc = () => new Date().toISOString().slice(0, 10)
/** The server says so in its lists; worked out here for anything else. */
export const isOverdue = (a: { status: string; due: string; overdue?: boolean }) =>
  typeof a.overdue === 'boolean' ? a.overdue : (a.status === 'open' || a.status === 'in-progress') && !!a.due && a.due < todayUtc()

// Teams this browser has joined, so the start page can offer them again.
const TEAMS_KEY = 'debrief.teams'
export interface KnownTeam {
  id: string
  name: string
  role: TeamRole
}
export function knownTeams(): KnownTeam[] {
  try {
    const parsed = JSON.parse(localStorage.getItem(TEAMS_KEY) ?? '[]') as unknown
    return Array.isArray(parsed) ? (parsed.filter((t) => t && typeof t.id === 'string') as KnownTeam[]) : []
  } catch {
    return []
  }
}
export function rememberTeam(t: KnownTeam): void {
  try {
    const others = knownTeams().filter((k) => k.id !== t.id)
    localStorage.setItem(TEAMS_KEY, JSON.stringify([t, ...others].slice(0, 20)))
  } catch {
    // no storage (private mode): the team still works from its link
  }
}
export function forgetTeam(id: string): void {
  try {
    localStorage.setItem(TEAMS_KEY, JSON.stringify(knownTeams().filter((k) => k.id !== id)))
  } catch {
    // nothing stored
  }
}
