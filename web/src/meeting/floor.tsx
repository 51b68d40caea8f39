// Hands and round-robin: who asked to speak, and whose turn it is.
import { lowerHand, raiseHand, roundRobin } from '../app/commands'
import { useReview } from '../app/context'
import { useY } from '../app/hooks'
import { Leaders } from './leaders'
import { readHands, readSpeaking } from '../app/model'
import { ActionButton } from '../app/ui'

const display = (name: string) => name || 'Someone without a name'

export function Floor({ readOnly }: { readOnly: boolean }) {
  const { id, sync, you } = useReview()
  useY(sync.docs.room.getMap('meeting'))
  const hands = readHands(sync.docs.room)
  const speaking = readSpeaking(sync.docs.room)
  const mine = hands.some((h) => h.participant_id === you.participant_id)
  const isModerator = you.role === 'moderator' && !readOnly
  const canHand = you.role !== 'observer' && !readOnly
  const upNext = speaking.active ? speaking.order.slice(speaking.index + 1) : []
  return (
    <section class="panel floor" aria-labelledby="floor-title">
      <div class="panel-head">
        <h2 id="floor-title">Speaking</h2>
        {canHand &&
          (mine ? (
            <ActionButton onClick={() => lowerHand(id)}>Lower my hand</ActionButton>
          ) : (
            <ActionButton kind="primary" onClick={() => raiseHand(id)}>
              Raise my hand
            </ActionButton>
          ))}
      </div>
      {speaking.active && (
        <div class="speaker" aria-live="polite">
          <span class="muted">Round-robin · now speaking</span>
          <strong class="speaker-name">{speaking.current ? display(speaking.current.name) : 'Nobody yet'}</strong>
          {upNext.length > 0 && (
            <span class="muted small">Next: {upNext.slice(0, 3).map((p) => display(p.name)).join(', ')}</span>
          )}
        </div>
      )}
      {isModerator && (
        <div class="row" role="group" aria-label="Round-robin controls">
          {!speaking.active ? (
            <ActionButton onClick={() => roundRobin(id, 'start')}>Start a round-robin</ActionButton>
          ) : (
            <>
              <ActionButton kind="primary" onClick={() => roundRobin(id, 'next')}>
                Next speaker
              </ActionButton>
              <ActionButton onClick={() => roundRobin(id, 'skip')}>Skip</ActionButton>
              <ActionButton kind="quiet" onClick={() => roundRobin(id, 'end')}>
                End round
              </ActionButton>
            </>
          )}
        </div>
      )}
      {isModerator && <Leaders />}
      <h3 class="small-heading">Raised hands ({hands.length})</h3>
      {hands.length === 0 ? (
        <p class="muted small">No hands up.</p>
      ) : (
        <ol class="hands">
          {hands.map((h) => (
            <li key={h.participant_id}>
              {display(h.name)}
              {h.participant_id === you.participant_id && <span class="muted"> (you)</span>}
              {isModerator && h.participant_id !== you.participant_id && (
                <ActionButton kind="quiet" onClick={() => lowerHand(id, h.participant_id)} aria-label={`Lower the hand of ${display(h.name)}`}>
                  Lower
                </ActionButton>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  )
}
