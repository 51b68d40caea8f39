// The big shared timer. State lives in `room` in server time; every screen computes the
// same remaining time from its clock offset. At zero: a chime and a visible cue.
import { useEffect, useRef, useState } from 'preact/hooks'
import { chime } from '../app/beep'
import { serverNow } from '../app/clock'
import { timerExtend, timerPause, timerReset, timerResume, timerStart } from '../app/commands'
import { useReview } from '../app/context'
import { useTick, useY } from '../app/hooks'
import { readAgenda, readPhaseId, readTimer } from '../app/model'
import { TIMER_DONE } from '../app/texts'
import { formatClock, remainingMs, spokenClock, timerStatus } from './timer'
import { ActionButton } from '../app/ui'

export function TimerPanel({ readOnly }: { readOnly: boolean }) {
  const { id, sync, you } = useReview()
  const room = sync.docs.room
  useY(room.getMap('meeting'))
  const timer = readTimer(room)
  const phaseId = readPhaseId(room)
  const phase = readAgenda(room).find((p) => p.id === phaseId)
  useTick(250, timer.status === 'running')
  const now = serverNow()
  const status = timerStatus(timer, now)
  const left = remainingMs(timer, now)
  const [extendBy, setExtendBy] = useState('5')

  // Chime once per deadline, and only when we saw it pass while open (not on page load).
  const seenRunning = useRef<number | null>(null)
  const [chimedFor, setChimedFor] = useState<number | null>(null)
  useEffect(() => {
    if (status === 'running') seenRunning.current = timer.deadline_ms
    if (status === 'expired' && timer.deadline_ms !== null && seenRunning.current === timer.deadline_ms && chimedFor !== timer.deadline_ms) {
      setChimedFor(timer.deadline_ms)
      chime()
    }
  }, [status, timer.deadline_ms, chimedFor])

  const isModerator = you.role === 'moderator' && !readOnly
  const label = { idle: 'Ready', running: 'Running', paused: 'Paused', expired: 'Time is up' }[status]
  const extendedMin = Math.round(timer.extended_ms / 60_000)
  return (
    <section
      class={`timer timer-${status}`}
      aria-labelledby="timer-title"
      data-status={status}
      data-chimed={chimedFor !== null && chimedFor === timer.deadline_ms}
    >
      <h2 id="timer-title" class="small-heading">
        {phase ? `Timer · ${phase.title}` : 'Timer'}
      </h2>
      <div class="timer-face" role="timer" aria-label={spokenClock(left)} data-remaining-ms={Math.round(left)}>
        {formatClock(left)}
      </div>
      <p class="timer-status">
        <span class="badge">{label}</span>
        {timer.extended_ms > 0 && <span class="muted"> · extended by {extendedMin} min</span>}
      </p>
      {status === 'expired' && (
        <p class="timer-done" role="alert">
          {TIMER_DONE}
        </p>
      )}
      {isModerator && (
        <div class="timer-controls" role="group" aria-label="Timer controls">
          {(status === 'idle' || status === 'expired') && (
            <ActionButton kind="primary" onClick={() => timerStart(id)} disabled={!timer.duration_ms && !phase}>
              Start
            </ActionButton>
          )}
          {status === 'running' && <ActionButton onClick={() => timerPause(id)}>Pause</ActionButton>}
          {status === 'paused' && (
            <ActionButton kind="primary" onClick={() => timerResume(id)}>
              Resume
            </ActionButton>
          )}
          <span class="extend">
            <label for="extend-minutes" class="offscreen">
              Minutes to add
            </label>
            <input
              id="extend-minutes"
              type="number"
              min="1"
              step="1"
              inputMode="numeric"
              value={extendBy}
              onInput={(e) => setExtendBy(e.currentTarget.value)}
            />
            <ActionButton onClick={() => timerExtend(id, Number(extendBy) || 5)}>Add minutes</ActionButton>
          </span>
          <ActionButton kind="quiet" onClick={() => timerReset(id)}>
            Reset
          </ActionButton>
        </div>
      )}
    </section>
  )
}
