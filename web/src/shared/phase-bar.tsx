// The agenda as a row of time-boxed phases; the moderator moves between them.
import { goToPhase } from '../app/commands'
import { useReview } from '../app/context'
import { useY } from '../app/hooks'
import { readAgenda, readPhaseId } from '../app/model'
import { useCommand, ErrorText } from '../app/ui'

export function PhaseBar({ readOnly }: { readOnly: boolean }) {
  const { id, sync, you } = useReview()
  const room = sync.docs.room
  const meeting = room.getMap('meeting')
  useY(meeting)
  const agenda = readAgenda(room)
  const current = readPhaseId(room)
  const cmd = useCommand()
  const canMove = you.role === 'moderator' && !readOnly
  if (!agenda.length) return <p class="muted">The agenda appears here once the moderator sets it.</p>
  const index = agenda.findIndex((p) => p.id === current)
  return (
    <nav class="phase-bar" aria-label="Agenda">
      <ol>
        {agenda.map((phase, i) => {
          const state = i === index ? 'current' : index >= 0 && i < index ? 'done' : 'next'
          const body = (
            <>
              <span class="phase-num">{i + 1}</span>
              <span class="phase-title">{phase.title}</span>
              <span class="phase-min">{phase.minutes} min</span>
            </>
          )
          return (
            <li key={phase.id} class={`phase phase-${state}`} aria-current={state === 'current' ? 'step' : undefined}>
              {canMove ? (
                <button
                  type="button"
                  class="phase-btn"
                  disabled={cmd.busy || state === 'current'}
                  aria-label={`Go to phase ${i + 1}: ${phase.title}, ${phase.minutes} minutes`}
                  onClick={() => void cmd.run(() => goToPhase(id, phase.id))}
                >
                  {body}
                </button>
              ) : (
                <div class="phase-btn">{body}</div>
              )}
            </li>
          )
        })}
      </ol>
      {canMove && index < 0 && (
        <p class="muted small">Pick the first phase to begin: the timer loads its time box.</p>
      )}
      <ErrorText message={cmd.error} />
    </nav>
  )
}
