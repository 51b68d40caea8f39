// The open-actions phase: earlier reviews' actions that still wait on someone, overdue
// first. Their status changes from anywhere (an owner's personal link, a team admin, the
// moderator or scribe here); the server shows every change in the room doc
// (meeting.carried) and this list fetches again. What was said about each action lives
// in the recap doc (its `carried` map), so everyone sees it at once and the recap keeps it.
import { useEffect, useState } from 'preact/hooks'
import type * as Y from 'yjs'
import { get, post } from '../app/api'
import { useReview } from '../app/context'
import { useY } from '../app/hooks'
import { ErrorText, useCommand } from '../app/ui'
import { ActionCard, StatusControls } from '../team/action-card'
import type { ActionItem, StatusChange } from '../team/api'

interface Carried extends ActionItem {
  status_carried: string
  overdue: boolean
  note: string
  note_by: string
  gone: boolean
}

const base = (id: string) => `/api/reviews/${encodeURIComponent(id)}`
const listCarried = (id: string) => get<{ carry_over: unknown; actions: Carried[] }>(`${base(id)}/carried`)
const changeStatus = (id: string, gid: string, change: StatusChange) =>
  post<unknown>(`${base(id)}/follow-up/${encodeURIComponent(gid)}/status`, change)
const writeNote = (id: string, gid: string, text: string) => post<unknown>(`${base(id)}/carried/${encodeURIComponent(gid)}/note`, { text })

const record = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {})
const text = (v: unknown): string => (typeof v === 'string' ? v : '')

/** A key that moves whenever the server shows a carried action's new status. */
function statusKey(room: Y.Doc): string {
  const carried = record(room.getMap('meeting').get('carried'))
  return Object.keys(carried)
    .sort()
    .map((gid) => `${gid}=${text(record(carried[gid]).status)}@${String(record(carried[gid]).at_ms ?? '')}`)
    .join('|')
}

/** What was said about each carried action, as the recap doc holds it now. */
function readNotes(recap: Y.Doc): Record<string, { note: string; by: string }> {
  const out: Record<string, { note: string; by: string }> = {}
  recap.getMap('carried').forEach((v, gid) => {
    const o = record(v)
    out[gid] = { note: text(o.note), by: text(o.note_by) }
  })
  return out
}

function NoteBox({ gid, note }: { gid: string; note: string }) {
  const { id } = useReview()
  const [draft, setDraft] = useState<string | null>(null)
  const cmd = useCommand()
  const field = `carried-note-${gid}`.replace(/[^a-zA-Z0-9_-]/g, '_')
  const value = draft ?? note
  return (
    <form
      class="row carried-note-form"
      onSubmit={(e) => {
        e.preventDefault()
        void cmd.run(() => writeNote(id, gid, value.trim())).then((ok) => ok && setDraft(null))
      }}
    >
      <label for={field} class="offscreen">
        What was said about this action
      </label>
      <input id={field} value={value} maxLength={1000} placeholder="What was said: progress, what is in the way, what happens next" onInput={(e) => setDraft(e.currentTarget.value)} />
      <button type="submit" class="btn btn-secondary btn-small" disabled={cmd.busy || draft === null || draft.trim() === note}>
        Save the note
      </button>
      <ErrorText message={cmd.error} />
    </form>
  )
}

export function OpenActionsPanel({ readOnly }: { readOnly: boolean }) {
  const { id, sync, you } = useReview()
  const room = sync.docs.room
  const recap = sync.docs.recap
  useY(room.getMap('meeting'), recap.getMap('carried'))
  const key = statusKey(room)
  const notes = readNotes(recap)
  const [actions, setActions] = useState<Carried[] | null>(null)
  const [error, setError] = useState('')
  const [asked, setAsked] = useState(0)
  useEffect(() => {
    let current = true
    listCarried(id).then(
      (data) => {
        if (!current) return
        setActions(data.actions)
        setError('')
      },
      (e: unknown) => current && setError(e instanceof Error ? e.message : String(e)),
    )
    return () => {
      current = false
    }
  }, [id, key, asked])
  const manage = !readOnly && (you.role === 'moderator' || you.role === 'scribe')
  const late = actions?.filter((a) => a.overdue).length ?? 0
  return (
    <section class="panel open-actions" aria-labelledby="open-actions-title" aria-busy={actions === null}>
      <div class="panel-head">
        <h2 id="open-actions-title">Open actions from earlier reviews</h2>
        {actions && actions.length > 0 && (
          <span class="muted small">
            {actions.length} {actions.length === 1 ? 'action' : 'actions'}
            {late > 0 && `, ${late} overdue`}
          </span>
        )}
      </div>
      <p class="muted small">
        Ask where each one stands and what is in the way, not who is late. Owners can update their own actions from their personal link; every change shows here for everyone.
      </p>
      <ErrorText message={error} />
      {actions && actions.length === 0 && <p class="muted">No earlier action is waiting on anyone. Nothing to walk today.</p>}
      {actions && actions.length > 0 && (
        <ul class="followups carried-actions">
          {actions.map((a) => {
            const said = notes[a.gid] ?? { note: a.note, by: a.note_by }
            return (
              <ActionCard key={a.gid} action={a}>
                {a.status_carried && a.status_carried !== a.status && <p class="small muted">Changed during this meeting.</p>}
                {manage && !a.gone && (
                  <StatusControls action={a} canVerify={true} change={(c) => changeStatus(id, a.gid, c).then(() => setAsked((n) => n + 1))} />
                )}
                {manage ? (
                  <NoteBox gid={a.gid} note={said.note} />
                ) : (
                  said.note && (
                    <p class="small carried-note">
                      <span class="muted">What was said: </span>
                      {said.note}
                    </p>
                  )
                )}
              </ActionCard>
            )
          })}
        </ul>
      )}
    </section>
  )
}

const STATUS_AT_CLOSE: Record<string, string> = {
  open: 'Open',
  'in-progress': 'In progress',
  done: 'Done, awaiting verification',
  verified: 'Verified',
  'wont-do': 'Won’t do',
}

/** The recap's "Open actions reviewed": each walked action as the meeting left it. */
export function WalkedActions({ rows }: { rows: unknown }) {
  const walked = (Array.isArray(rows) ? rows : []).map(record)
  if (walked.length === 0) return null
  const label = (status: string) => STATUS_AT_CLOSE[status] ?? status
  return (
    <section class="carried-recap">
      <h2>Open actions reviewed</h2>
      <ol>
        {walked.map((r, i) => {
          const now = text(r.status)
          const then = text(r.status_carried)
          return (
            <li key={i}>
              <strong>{text(r.what) || 'An action without wording'}</strong>
              <br />
              <span class="small">
                Owner: {text(r.owner) || 'not set'} · Due: {text(r.due) || 'not set'} · From: {text(r.from_review) || 'an earlier review'} · Status at close:{' '}
                {label(now) || 'not known'}
                {then && then !== now && ` (was ${label(then).toLowerCase()})`}
              </span>
              {text(r.note) && (
                <p class="small">
                  <span class="muted">What was said: </span>
                  {text(r.note)}
                </p>
              )}
            </li>
          )
        })}
      </ol>
    </section>
  )
}
