// Who I am in a review. The cookie that proves it is HttpOnly, so the page keeps the
// join answer (role, name, ids: nothing secret) to know which view to show.

export type Role = 'moderator' | 'scribe' | 'participant' | 'observer'

export interface Session {
  review_id: string
  role: Role
  participant_id: string
  name: string
}

const key = (reviewId: string) => `debrief.session.${reviewId}`

export function saveSession(session: Session): void {
  try {
    localStorage.setItem(key(session.review_id), JSON.stringify(session))
  } catch {
    // private mode without storage: the session still works for this page
  }
  memory.set(session.review_id, session)
}

const memory = new Map<string, Session>()

export function loadSession(reviewId: string): Session | null {
  const known = memory.get(reviewId)
  if (known) return known
  try {
    const raw = localStorage.getItem(key(reviewId))
    if (!raw) return null
    const parsed = JSON.parse(raw) as Session
    if (parsed && parsed.review_id === reviewId && typeof parsed.role === 'string') return parsed
  } catch {
    return null
  }
  return null
}

export function forgetSession(reviewId: string): void {
  memory.delete(reviewId)
  try {
    localStorage.removeItem(key(reviewId))
  } catch {
    // nothing stored
  }
}

export const canWriteTimeline = (role: Role) => role !== 'observer'
export const canWriteRecap = (role: Role) => role === 'moderator' || role === 'scribe'
export const isAttendee = (role: Role) => role !== 'observer'
