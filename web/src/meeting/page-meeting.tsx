// The meeting, for every role: agenda, timer, timeline, notes, speaking and presence.
import { useReview } from '../app/context'
import { ElmoButton } from '../shared/elmo'
import { Floor } from './floor'
import { GroundRules } from '../shared/ground-rules'
import { useEffect } from 'preact/hooks'
import { useAllSynced, useY } from '../app/hooks'
import { readAgenda, readPhaseId, readReview } from '../app/model'
import { isNotesPhase, NotesBoard, sectionOfPhase } from './notes-board'
import { PhaseBar } from '../shared/phase-bar'
import { Presence } from './presence'
import { SignOff } from './signoff'
import { TimelineLane } from '../shared/timeline-lane'
import { TimerPanel } from '../shared/timer-panel'
import { FactSheet } from './fact-sheet'
import { DiscussionPanel } from './discussion'
import { FacilitatorPrompt, ParkingLot } from './facilitation'
import { OpenActionsPanel } from './open-actions'
import { AfterFirstPaint } from '../app/ui'

// Phases about the facts (the incident template's summary, the project templates' goals
// and results): the factual summary is shown on screen.
const FACT_PHASES = new Set(['summary', 'goals', 'results'])

/** The performance mark set when the meeting view first shows every doc synced. */
export const MEETING_READY = 'debrief:meeting-ready'

export function MeetingPage() {
  const { sync, you } = useReview()
  const room = sync.docs.room
  useY(room.getMap('meeting'), room.getMap('review'))
  const review = readReview(room)
  const agenda = readAgenda(room)
  const phaseId = readPhaseId(room)
  const index = agenda.findIndex((p) => p.id === phaseId)
  const phase = index >= 0 ? agenda[index] : undefined
  const closed = review.status === 'closed'
  const readOnly = closed || you.role === 'observer'
  const opening = index <= 0 || phaseId === 'opening'
  // "Usable": the view shows the synced docs. data-ready and the performance mark are what
  // the browser tests and bench/web_load.py wait for (effects run after the frame is painted).
  const ready = useAllSynced(sync)
  useEffect(() => {
    if (ready) performance.mark(MEETING_READY)
  }, [ready])
  return (
    <main class="page meeting" id="main" data-ready={ready ? 'true' : undefined}>
      <PhaseBar readOnly={readOnly} />
      {phase?.objective && (
        <p class="objective">
          <span class="muted">This phase: </span>
          {phase.objective}
        </p>
      )}
      {you.role === 'moderator' && !readOnly && phaseId && <FacilitatorPrompt phaseId={phaseId} />}
      {review.status !== 'live' && !closed && (
        <p class="notice notice-info">The meeting has not started yet. You can already add timeline events and notes.</p>
      )}
      {you.role === 'observer' && <p class="notice notice-info">You are observing: you can see everything and change nothing.</p>}
      <div class="meeting-grid">
        <div class="meeting-main">
          {phaseId === 'open-actions' && <OpenActionsPanel readOnly={readOnly} />}
          {opening && !closed && <GroundRules compact />}
          {phaseId && FACT_PHASES.has(phaseId) && <FactSheet />}
          {isNotesPhase(phaseId) ? (
            <>
              <DiscussionPanel readOnly={readOnly} section={sectionOfPhase(phaseId)} />
              <NotesBoard readOnly={readOnly} />
              {/* Below the board: drawn a frame later, so the notes come first. */}
              <AfterFirstPaint>
                <TimelineLane editable={!readOnly} />
              </AfterFirstPaint>
            </>
          ) : (
            <>
              <TimelineLane editable={!readOnly} />
              <NotesBoard readOnly={readOnly} />
            </>
          )}
        </div>
        <aside class="meeting-side" aria-label="Timer and speaking">
          <TimerPanel readOnly={readOnly} />
          {!readOnly && (
            <div class="elmo-box">
              <ElmoButton />
              <p class="muted small" id="elmo-help">
                Enough, let’s move on: anyone may call it, without giving a reason or a name.
              </p>
            </div>
          )}
          <Floor readOnly={readOnly} />
          <SignOff readOnly={readOnly} />
          {/* Below the fold: a frame later, like the timeline. */}
          <AfterFirstPaint>
            <ParkingLot readOnly={readOnly} />
            <Presence />
          </AfterFirstPaint>
        </aside>
      </div>
    </main>
  )
}
