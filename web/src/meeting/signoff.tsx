// Sign-off: attendees confirm the recap wording; everyone sees how many did.
import { signOff, withdrawSignOff } from '../app/commands'
import { useReview } from '../app/context'
import { useStored, useY } from '../app/hooks'
import { readSignoffs } from '../app/model'
import { ActionButton } from '../app/ui'

export function SignOff({ readOnly }: { readOnly: boolean }) {
  const { id, sync, you } = useReview()
  useY(sync.docs.room.getMap('meeting'))
  const count = readSignoffs(sync.docs.room)
  const [signed, setSigned] = useStored(`debrief.signed.${id}.${you.participant_id}`, '')
  const canSign = you.role !== 'observer' && !readOnly
  return (
    <section class="panel signoff" aria-labelledby="signoff-title">
      <h2 id="signoff-title" class="small-heading">
        Recap sign-off
      </h2>
      <p>
        <strong class="signoff-count" data-count={count}>
          {count}
        </strong>{' '}
        {count === 1 ? 'person has' : 'people have'} confirmed the recap wording.
      </p>
      {canSign &&
        (signed ? (
          <ActionButton onClick={async () => { await withdrawSignOff(id); setSigned('') }}>Withdraw my sign-off</ActionButton>
        ) : (
          <ActionButton kind="primary" onClick={async () => { await signOff(id); setSigned('1') }}>
            I confirm the recap wording
          </ActionButton>
        ))}
    </section>
  )
}
