// For the moderator, the prompt of the phase at hand (and, on the timeline, questions
// that open the process up); for everyone, the parking lot of off-scope topics.
import { useEffect, useState } from 'preact/hooks'
import { parkTopic, prompts, unparkTopic, type Prompts } from '../app/commands'
import { useReview } from '../app/context'
import { useY } from '../app/hooks'
import { readParked } from '../app/model'
import { ActionButton, ErrorText, useCommand } from '../app/ui'

export function FacilitatorPrompt({ phaseId }: { phaseId: string }) {
  const { id } = useReview()
  const [known, setKnown] = useState<Prompts | null>(null)
  useEffect(() => {
    prompts(id).then(setKnown, () => undefined)
  }, [id])
  const hint = known?.phase_hints[phaseId]
  if (!known || (!hint && phaseId !== 'timeline')) return null
  return (
    <aside class="notice notice-info facilitator-prompt" aria-label="Prompt for the moderator">
      {hint && <p>{hint}</p>}
      {phaseId === 'timeline' && (
        <>
          <p class="small-heading">Questions that open the process up</p>
          <ul>
            {known.timeline_questions.map((q) => (
              <li key={q}>{q}</li>
            ))}
          </ul>
        </>
      )}
      <p class="muted small">Only you see this.</p>
    </aside>
  )
}

export function ParkingLot({ readOnly }: { readOnly: boolean }) {
  const { id, sync, you } = useReview()
  const room = sync.docs.room
  useY(room.getMap('parking_lot'))
  const topics = readParked(room)
  const [text, setText] = useState('')
  const cmd = useCommand()
  const canPark = !readOnly && you.role !== 'observer'
  return (
    <section class="panel parking-lot" aria-labelledby="parking-title">
      <h2 id="parking-title" class="small-heading">
        Parking lot
      </h2>
      <p class="muted small">Topics that matter but are off this review’s scope. They stay in the recap.</p>
      {topics.length > 0 && (
        <ul class="parked">
          {topics.map((t) => (
            <li key={t.id}>
              {t.text}{' '}
              {you.role === 'moderator' && !readOnly && (
                <ActionButton kind="quiet" onClick={() => unparkTopic(id, t.id)} aria-label={`Take off the parking lot: ${t.text}`}>
                  Remove
                </ActionButton>
              )}
            </li>
          ))}
        </ul>
      )}
      {canPark && (
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault()
            const topic = text.trim()
            void cmd.run(() => parkTopic(id, topic)).then((ok) => ok && setText(''))
          }}
        >
          <label for="park-topic" class="offscreen">
            Topic to park
          </label>
          <input id="park-topic" value={text} maxLength={300} placeholder="A topic for another time" onInput={(e) => setText(e.currentTarget.value)} />
          <button type="submit" class="btn btn-secondary btn-small" disabled={cmd.busy || !text.trim()}>
            Park it
          </button>
        </form>
      )}
      <ErrorText message={cmd.error} />
    </section>
  )
}
