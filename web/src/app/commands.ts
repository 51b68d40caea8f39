// The meeting engine's HTTP commands (see GET /api/openapi.json). The room doc is
// written only by the server; everything that changes it goes through here.
import { del, get, patch, post, put, request } from './api'
import { announceOwnChange, type OwnKind } from './own-changes'
import type { Role } from './session'
import { reviewPath } from '../boot/handoff'

// The same path boot.js asks "who am I" at, so `getReview` takes that early answer.
const base = reviewPath

export interface Created {
  id: string
  title: string
  invites: Record<Role, string>
}

export interface Joined {
  token: string
  role: Role
  review_id: string
  participant_id: string
  name: string
}

export interface You {
  role: Role
  participant_id: string
  name: string
}

export interface InviteInfo {
  code: string
  role: Role
  revoked: boolean
  url: string
}

export interface MyNote {
  id: string
  text: string
  kind: string
  prompt: number | null
  revealed: boolean
  anonymous: boolean
}

export interface MyVotes {
  sections: Record<string, { votes: Record<string, number>; used: number; limit: number }>
}

export interface Attendee {
  participant_id: string
  name: string
  role: Role
  leader: boolean
}

export const createReview = (title: string) => post<Created>('/api/reviews', { title })
export const joinReview = (invite: string, name: string) => post<Joined>('/api/join', { invite, name })

export const getReview = (id: string) => get<{ you: You; status: string; title: string }>(base(id))
export const patchReview = (id: string, fields: Record<string, unknown>) => patch<unknown>(base(id), fields)
export const setStatus = (id: string, status: 'draft' | 'scheduled' | 'live') => post<unknown>(`${base(id)}/status`, { status })

export const listInvites = (id: string) => get<{ invites: InviteInfo[] }>(`${base(id)}/invites`)
export const revokeInvite = (id: string, code: string) => post<unknown>(`${base(id)}/invites/${encodeURIComponent(code)}/revoke`)
export const rotateInvite = (id: string, role: Role) =>
  post<{ invite: InviteInfo; your_session_ended: boolean }>(`${base(id)}/invites/rotate`, { role })

export const applyTemplate = (id: string, template: string) => put<unknown>(`${base(id)}/agenda`, { template })
export const addPhase = (id: string, title: string, minutes: number) => post<unknown>(`${base(id)}/agenda/phases`, { title, minutes })
export const editPhase = (id: string, phaseId: string, fields: { title?: string; minutes?: number; index?: number; objective?: string }) =>
  patch<unknown>(`${base(id)}/agenda/phases/${encodeURIComponent(phaseId)}`, fields)
export const removePhase = (id: string, phaseId: string) => del<unknown>(`${base(id)}/agenda/phases/${encodeURIComponent(phaseId)}`)
export const goToPhase = (id: string, phaseId: string) => post<unknown>(`${base(id)}/phase`, { phase_id: phaseId })

export const timerStart = (id: string) => post<unknown>(`${base(id)}/timer/start`, {})
export const timerPause = (id: string) => post<unknown>(`${base(id)}/timer/pause`)
export const timerResume = (id: string) => post<unknown>(`${base(id)}/timer/resume`)
export const timerExtend = (id: string, minutes: number) => post<unknown>(`${base(id)}/timer/extend`, { minutes })
export const timerReset = (id: string) => post<unknown>(`${base(id)}/timer/reset`)

/** Run a change to your own notes or votes, then tell your other tabs (app/own-changes.ts). */
async function own<T>(id: string, kind: OwnKind, change: Promise<T>): Promise<T> {
  const result = await change
  announceOwnChange(id, kind)
  return result
}

export const submitNote = (id: string, kind: string, text: string) => own(id, 'notes', post<MyNote>(`${base(id)}/notes`, { kind, text }))
export const myNotes = (id: string) => get<{ notes: MyNote[] }>(`${base(id)}/notes/mine`)
export const editNote = (id: string, noteId: string, text: string) =>
  own(id, 'notes', patch<MyNote>(`${base(id)}/notes/${encodeURIComponent(noteId)}`, { text }))
export const deleteNote = (id: string, noteId: string) => own(id, 'notes', del<unknown>(`${base(id)}/notes/${encodeURIComponent(noteId)}`))
export const reveal = (id: string, section: string) => post<{ revealed: number }>(`${base(id)}/reveal`, { section })

export const getQuestionnaire = (id: string) => get<{ prompts: string[]; answers: MyNote[] }>(`${base(id)}/questionnaire`)
export const answerQuestionnaire = (id: string, answers: { prompt: number; text: string }[]) =>
  put<{ answers: MyNote[] }>(`${base(id)}/questionnaire`, { answers })

export const createTheme = (id: string, title: string, category: string, section: string) =>
  post<{ id: string }>(`${base(id)}/themes`, { title, category, section })
export const deleteTheme = (id: string, themeId: string) => del<unknown>(`${base(id)}/themes/${encodeURIComponent(themeId)}`)
export const assignNotes = (id: string, themeId: string | null, noteIds: string[]) =>
  post<unknown>(`${base(id)}/themes/assign`, { theme_id: themeId, note_ids: noteIds })
export const mergeThemes = (id: string, into: string, themeIds: string[]) =>
  post<unknown>(`${base(id)}/themes/${encodeURIComponent(into)}/merge`, { theme_ids: themeIds })

export const openVoting = (id: string, section: string) => post<unknown>(`${base(id)}/voting/open`, { section })
export const closeVoting = (id: string, section: string) => post<unknown>(`${base(id)}/voting/close`, { section })
export const vote = (id: string, target: string) => own(id, 'votes', post<unknown>(`${base(id)}/votes`, { target }))
export const unvote = (id: string, target: string) => own(id, 'votes', post<unknown>(`${base(id)}/votes/retract`, { target }))
export const myVotes = (id: string) => get<MyVotes>(`${base(id)}/votes/mine`)

export const callElmo = (id: string) => post<unknown>(`${base(id)}/elmo`)
export const raiseHand = (id: string) => post<unknown>(`${base(id)}/hands/raise`)
export const lowerHand = (id: string, participantId?: string) =>
  post<unknown>(`${base(id)}/hands/lower`, participantId ? { participant_id: participantId } : {})
export const attendees = (id: string) => get<{ attendees: Attendee[] }>(`${base(id)}/attendees`)
export const markLeader = (id: string, pid: string, leader: boolean) =>
  put<unknown>(`${base(id)}/attendees/${encodeURIComponent(pid)}/leader`, { leader })
export const roundRobin = (id: string, step: 'start' | 'next' | 'skip' | 'end') => post<unknown>(`${base(id)}/round-robin/${step}`)
export const signOff = (id: string) => post<{ signoffs: number; signed: boolean; current: boolean }>(`${base(id)}/signoff`)
export const withdrawSignOff = (id: string) => del<{ signoffs: number }>(`${base(id)}/signoff`)
export interface Prompts {
  phase_hints: Record<string, string>
  timeline_questions: string[]
}
export const startDiscussion = (id: string, section: string, minutes: number) =>
  post<unknown>(`${base(id)}/discussion/start`, { section, minutes })
export const nextTheme = (id: string) => post<unknown>(`${base(id)}/discussion/next`)
export const endDiscussion = (id: string) => post<unknown>(`${base(id)}/discussion/end`)
export const commentOnTheme = (id: string, themeId: string, text: string) =>
  post<unknown>(`${base(id)}/themes/${encodeURIComponent(themeId)}/comments`, { text })
export interface SavedTemplate {
  id: string
  name: string
  phases: number
  minutes: number
  questions: number
}
export const savedTemplates = (id: string) => get<{ templates: SavedTemplate[] }>(`${base(id)}/templates`)
export const saveTemplate = (id: string, name: string) => post<SavedTemplate>(`${base(id)}/templates`, { name })
export const applySavedTemplate = (id: string, templateId: string) =>
  post<unknown>(`${base(id)}/templates/${encodeURIComponent(templateId)}/apply`)
export const prompts = (id: string) => get<Prompts>(`${base(id)}/prompts`)
export const parkTopic = (id: string, text: string) => post<unknown>(`${base(id)}/parking-lot`, { text })
export const unparkTopic = (id: string, topicId: string) => del<unknown>(`${base(id)}/parking-lot/${encodeURIComponent(topicId)}`)
export const mySignOff = (id: string) => get<{ signed: boolean; current: boolean }>(`${base(id)}/signoff`)

export const importTimeline = (id: string, content: string, filename: string, format?: string) =>
  post<{ format: string; imported: number; already_there?: number }>(`${base(id)}/timeline/import`, format ? { content, filename, format } : { content, filename })
export const lintActions = (id: string) =>
  get<{ clean: boolean; actions: Record<string, { field: string; message: string; hint: string }[]> }>(`${base(id)}/actions/lint`)
export const closeReview = (id: string, reason: string) =>
  post<{ status: string; version: { number: number; hash: string } }>(`${base(id)}/close`, reason ? { reason } : {})
export type ExportFormat = 'markdown' | 'html' | 'json'
export const exportUrl = (id: string, format: ExportFormat) => `${base(id)}/export?format=${format}`
export const getRecap = (id: string) => request<Record<string, unknown>>('GET', `${base(id)}/recap`)
