// The scribe's workspace: the recap editor beside its live sources.
import { ActionItems } from './action-items'
import { ClosePanel } from './close-panel'
import { useReview } from '../app/context'
import { useY } from '../app/hooks'
import { readNotes, readReview, readThemes, readVotes } from '../app/model'
import { PhaseBar } from '../shared/phase-bar'
import { SharedTextarea } from './shared-text'
import { NOTE_SECTIONS, THEME_CATEGORIES } from '../app/texts'
import { TimelineLane } from '../shared/timeline-lane'
import { TimerPanel } from '../shared/timer-panel'

function BoardSummary() {
  const { sync } = useReview()
  const room = sync.docs.room
  useY(room.getMap('notes'), room.getMap('themes'), room.getMap('votes'))
  const notes = readNotes(room)
  const themes = readThemes(room)
  const votes = readVotes(room)
  const sections = NOTE_SECTIONS.filter((s) => notes.some((n) => n.kind === s.id) || themes.some((t) => t.section === s.id))
  return (
    <section class="panel" aria-labelledby="board-summary-title">
      <h2 id="board-summary-title">From the notes board</h2>
      {sections.length === 0 && <p class="muted">Revealed notes and themes appear here.</p>}
      {sections.map((s) => {
        const ts = themes.filter((t) => t.section === s.id).sort((a, b) => (votes.get(b.id) ?? 0) - (votes.get(a.id) ?? 0))
        const loose = notes.filter((n) => n.kind === s.id && !ts.some((t) => t.id === n.theme_id))
        return (
          <div key={s.id} class="summary-section">
            <h3>{s.label}</h3>
            <ul>
              {ts.map((t) => (
                <li key={t.id}>
                  <strong>{t.title}</strong> <span class="chip">{THEME_CATEGORIES[t.category] ?? t.category}</span>
                  {votes.has(t.id) && <span class="muted"> · {votes.get(t.id)} {votes.get(t.id) === 1 ? 'vote' : 'votes'}</span>}
                  <ul>
                    {notes.filter((n) => n.theme_id === t.id).map((n) => (
                      <li key={n.id}>{n.text}</li>
                    ))}
                  </ul>
                </li>
              ))}
              {loose.map((n) => (
                <li key={n.id}>
                  {n.text}
                  {votes.has(n.id) && <span class="muted"> · {votes.get(n.id)} {votes.get(n.id) === 1 ? 'vote' : 'votes'}</span>}
                </li>
              ))}
            </ul>
          </div>
        )
      })}
    </section>
  )
}

export function ScribePage() {
  const { sync, you } = useReview()
  const room = sync.docs.room
  useY(room.getMap('review'))
  const closed = readReview(room).status === 'closed'
  const editable = !closed && (you.role === 'scribe' || you.role === 'moderator')
  const recap = sync.docs.recap
  return (
    <main class="page scribe" id="main">
      <PhaseBar readOnly />
      <div class="scribe-grid">
        <div class="scribe-main">
          <section class="panel" aria-labelledby="recap-editor-title">
            <h2 id="recap-editor-title">Recap</h2>
            <SharedTextarea
              text={recap.getText('text')}
              id="recap-text"
              label="Scribe’s notes"
              help="Findings in the group’s own words, confirmed before the meeting ends."
              editable={editable}
              rows={10}
              maxLength={100_000}
            />
            <SharedTextarea
              text={recap.getText('followups')}
              id="recap-followups"
              label="Follow-ups (one per line)"
              help="Leadership, compliance or cross-team follow-ups."
              editable={editable}
              rows={4}
              maxLength={20_000}
            />
          </section>
          <ActionItems editable={editable} />
          <ClosePanel />
        </div>
        <aside class="scribe-side" aria-label="Live sources">
          <TimerPanel readOnly />
          <BoardSummary />
          <TimelineLane editable={false} recapChoice={editable} />
        </aside>
      </div>
    </main>
  )
}
