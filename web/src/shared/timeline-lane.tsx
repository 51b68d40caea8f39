// The timeline lane: events in time order, with sources, markers and evidence links.
// Events live in the `timeline` doc; attendees add and edit them directly.
import { useState } from 'preact/hooks'
import * as Y from 'yjs'
import { useReview } from '../app/context'
import { useY } from '../app/hooks'
import { inRecap, newId, readEvents, safeUrl, type TimelineEvent } from '../app/model'
import { EVENT_SOURCES, MARKERS } from '../app/texts'
import { formatLocalTime } from '../app/ui'

function toIso(local: string): string | null {
  const d = new Date(local)
  if (Number.isNaN(d.getTime())) return null
  return d.toISOString().replace('.000Z', 'Z')
}

function toLocalInput(iso: string): string {
  const d = new Date(iso || Date.now())
  if (Number.isNaN(d.getTime())) return ''
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`
}

interface Draft {
  time: string
  text: string
  source: string
  link: string
  markers: string[]
}

function EventForm({ initial, onSave, onCancel, submitLabel, idPrefix }: {
  initial: Draft
  onSave: (d: Draft) => void
  onCancel?: () => void
  submitLabel: string
  idPrefix: string
}) {
  const [d, setD] = useState(initial)
  const [error, setError] = useState('')
  const set = (patch: Partial<Draft>) => setD({ ...d, ...patch })
  const submit = (e: Event) => {
    e.preventDefault()
    if (!d.text.trim()) return setError('Describe what happened.')
    if (!toIso(d.time)) return setError('Give the time it happened.')
    const link = d.link.trim()
    // Written out with its host (`http:x` parses, but the server wants `http://x`).
    if (link && (!safeUrl(link) || !/^https?:\/\/[^/?#]/i.test(link))) return setError('The evidence link must start with http:// or https://.')
    // The server takes no control characters in a link (a URL parser would drop them silently).
    if (/[\u0000-\u001f\u007f-\u009f]/.test(d.link)) return setError('The evidence link holds characters a link cannot have.')
    setError('')
    onSave(d)
  }
  return (
    <form class="event-form" onSubmit={submit} aria-label={submitLabel}>
      <div class="grid-2">
        <div>
          <label for={`${idPrefix}-time`}>When</label>
          <input id={`${idPrefix}-time`} type="datetime-local" required max="9999-12-31T23:59" value={d.time} onInput={(e) => set({ time: e.currentTarget.value })} />
        </div>
        <div>
          <label for={`${idPrefix}-source`}>Source</label>
          <select id={`${idPrefix}-source`} value={d.source} onChange={(e) => set({ source: e.currentTarget.value })}>
            {Object.entries(EVENT_SOURCES).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
      </div>
      <label for={`${idPrefix}-text`}>What happened</label>
      <textarea id={`${idPrefix}-text`} rows={2} maxLength={2000} value={d.text} onInput={(e) => set({ text: e.currentTarget.value })} />
      <label for={`${idPrefix}-link`}>Evidence link (optional)</label>
      <input id={`${idPrefix}-link`} type="url" placeholder="https://…" maxLength={2048} value={d.link} onInput={(e) => set({ link: e.currentTarget.value })} />
      <fieldset class="markers">
        <legend>Markers</legend>
        {Object.entries(MARKERS).map(([value, label]) => (
          <label key={value} class="check">
            <input
              type="checkbox"
              checked={d.markers.includes(value)}
              onChange={(e) =>
                set({ markers: e.currentTarget.checked ? [...d.markers, value] : d.markers.filter((m) => m !== value) })
              }
            />
            {label}
          </label>
        ))}
      </fieldset>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="row">
        <button type="submit" class="btn btn-primary">
          {submitLabel}
        </button>
        {onCancel && (
          <button type="button" class="btn btn-quiet" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  )
}

function EventItem({ event, canChange, onEdit, onDelete, onRecap }: {
  event: TimelineEvent
  canChange: boolean
  onEdit: () => void
  onDelete: () => void
  /** Set when this screen chooses what the recap keeps (scribe, moderator). */
  onRecap?: (keep: boolean) => void
}) {
  const href = event.link ? safeUrl(event.link) : null
  const [confirming, setConfirming] = useState(false)
  const when = formatLocalTime(event.time)
  return (
    <li class="event" data-event-id={event.id} data-in-recap={inRecap(event)}>
      <div class="event-meta">
        <time dateTime={event.time}>{when}</time>
        <span class={`chip source-${event.source}`}>{EVENT_SOURCES[event.source] ?? event.source}</span>
      </div>
      <p class="event-text">{event.text}</p>
      {event.markers.length > 0 && (
        <ul class="chips" aria-label="Markers">
          {event.markers.map((m) => (
            <li key={m} class="chip chip-marker">
              {MARKERS[m] ?? m}
            </li>
          ))}
        </ul>
      )}
      <div class="row">
        {onRecap && (
          <label class="small in-recap">
            <input type="checkbox" checked={inRecap(event)} onChange={(e) => onRecap(e.currentTarget.checked)} /> In the recap
          </label>
        )}
        {event.link &&
          (href ? (
            <a href={href} target="_blank" rel="noopener noreferrer nofollow" class="small">
              Evidence
            </a>
          ) : (
            <span class="small muted">Evidence: {event.link}</span>
          ))}
        {canChange && !confirming && (
          <>
            <button type="button" class="btn btn-quiet btn-small" onClick={onEdit} aria-label={`Edit the event at ${when}`}>
              Edit
            </button>
            <button type="button" class="btn btn-quiet btn-small" onClick={() => setConfirming(true)} aria-label={`Delete the event at ${when}`}>
              Delete
            </button>
          </>
        )}
        {canChange && confirming && (
          <span class="confirm-delete" role="group" aria-label="Confirm the deletion">
            <span class="small">Remove this event from the timeline for everyone?</span>{' '}
            <button type="button" class="btn btn-danger btn-small" onClick={onDelete}>
              Yes, delete it
            </button>{' '}
            <button type="button" class="btn btn-quiet btn-small" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </span>
        )}
      </div>
    </li>
  )
}

/** `recapChoice`: the scribe's view of what the recap keeps (all events, a checkbox each
 *  when the reader may choose); otherwise the whole timeline, editable or not. */
export function TimelineLane({ editable, recapChoice }: { editable: boolean; recapChoice?: boolean }) {
  const choosing = recapChoice !== undefined
  const { sync, you } = useReview()
  const doc = sync.docs.timeline
  const events = doc.getMap<Y.Map<unknown>>('events')
  useY(events)
  const [editing, setEditing] = useState<string | null>(null)
  const [adding, setAdding] = useState(false)
  const all = readEvents(doc)
  const list = all
  // The server's rule (docs/shared-docs.md): participants change only the events they
  // added; moderator and scribe change any, imported ones included.
  const anyEvent = you.role === 'moderator' || you.role === 'scribe'
  const canChange = (ev: TimelineEvent) => editable && (anyEvent || (!!ev.by && ev.by === you.participant_id))

  const add = (d: Draft) => {
    const id = newId('ev_')
    doc.transact(() => {
      const m = new Y.Map<unknown>()
      m.set('id', id)
      m.set('time', toIso(d.time))
      m.set('text', d.text.trim())
      m.set('source', d.source)
      m.set('link', d.link.trim())
      m.set('markers', d.markers)
      m.set('created_ms', Date.now())
      m.set('by', you.participant_id) // the server lets participants change only their own events
      events.set(id, m)
    })
    setAdding(false)
  }
  const save = (id: string, d: Draft) => {
    const m = events.get(id)
    if (!(m instanceof Y.Map)) return
    doc.transact(() => {
      m.set('time', toIso(d.time))
      m.set('text', d.text.trim())
      m.set('source', d.source)
      m.set('link', d.link.trim())
      m.set('markers', d.markers)
    })
    setEditing(null)
  }
  // "" whenever the default (marked: in, unmarked: out) already says it
  const choose = (ev: TimelineEvent, keep: boolean) => {
    const m = events.get(ev.id)
    if (!(m instanceof Y.Map)) return
    const byDefault = ev.markers.length > 0
    m.set('recap', keep === byDefault ? '' : keep ? 'keep' : 'drop')
  }
  const remove = (id: string) => {
    events.delete(id)
    if (editing === id) setEditing(null)
  }

  return (
    <section class="panel timeline" aria-labelledby="timeline-title">
      <div class="panel-head">
        <h2 id="timeline-title">{choosing ? 'Timeline in the recap' : 'Timeline'}</h2>
        {editable && !adding && (
          <button type="button" class="btn btn-primary" onClick={() => setAdding(true)}>
            Add an event
          </button>
        )}
      </div>
      {adding && (
        <EventForm
          idPrefix="new-event"
          submitLabel="Add to timeline"
          initial={{ time: toLocalInput(''), text: '', source: 'other', link: '', markers: [] }}
          onSave={add}
          onCancel={() => setAdding(false)}
        />
      )}
      {choosing && (
        <p class="muted small">
          Marked events go into the recap unless you leave them out; add any other event that tells the story, the recovery
          included.
        </p>
      )}
      {list.length === 0 ? (
        <p class="muted">No events yet. Facts first: what happened, and when?</p>
      ) : (
        <ol class="events">
          {list.map((ev) =>
            editing === ev.id && canChange(ev) ? (
              <li key={ev.id} class="event editing">
                <EventForm
                  idPrefix={`edit-${ev.id}`}
                  submitLabel="Save event"
                  initial={{ time: toLocalInput(ev.time), text: ev.text, source: ev.source, link: ev.link, markers: ev.markers }}
                  onSave={(d) => save(ev.id, d)}
                  onCancel={() => setEditing(null)}
                />
              </li>
            ) : (
              <EventItem
                key={ev.id}
                event={ev}
                canChange={canChange(ev)}
                onEdit={() => setEditing(ev.id)}
                onDelete={() => remove(ev.id)}
                onRecap={recapChoice ? (keep) => choose(ev, keep) : undefined}
              />
            ),
          )}
        </ol>
      )}
    </section>
  )
}
