// Sign-off is for a wording: attendees confirm the recap as it reads now, shown beside the
// button; a change after people signed puts their sign-off on an earlier wording, shows
// who signed which, and asks them again.
import { useEffect, useState } from 'preact/hooks'
import { mySignOff, signOff, withdrawSignOff } from '../app/commands'
import { useReview } from '../app/context'
import { useY } from '../app/hooks'
import { readActions, readSigners, readSignoffs } from '../app/model'
import { ActionButton } from '../app/ui'

const PREVIEW_CHARS = 1200

function RecapPreview() {
  const { sync } = useReview()
  const recap = sync.docs.recap
  useY(recap.getText('text'), recap.getText('followups'), recap.getMap('actions'))
  const text = recap.getText('text').toString().trim()
  const followups = recap.getText('followups').toString().split('\n').map((l) => l.trim()).filter(Boolean)
  const actions = readActions(recap)
  return (
    <div class="signoff-preview">
      {text ? (
        <p class="preview-text">{text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text}</p>
      ) : (
        <p class="muted">The scribe has not written the recap text yet.</p>
      )}
      {actions.length > 0 && (
        <ul class="preview-actions" aria-label="Action items">
          {actions.map((a) => (
            <li key={a.id}>
              {a.what || 'An action without a description'}
              <span class="muted">
                {' '}
                · {a.owner || 'no owner'} · {a.due || 'no due date'}
              </span>
            </li>
          ))}
        </ul>
      )}
      {followups.length > 0 && <p class="muted small">Follow-ups: {followups.join('; ')}</p>}
    </div>
  )
}

export function SignOff({ readOnly }: { readOnly: boolean }) {
  const { id, sync, you } = useReview()
  const room = sync.docs.room
  useY(room.getMap('meeting'))
  const count = readSignoffs(room)
  const signers = readSigners(room)
  const canSign = you.role !== 'observer' && !readOnly
  const [mine, setMine] = useState<{ signed: boolean; current: boolean }>({ signed: false, current: false })
  // Whether your own sign-off stands for the current wording: asked again whenever the
  // room says the sign-offs changed (a recap edit among them).
  const shown = JSON.stringify(signers)
  useEffect(() => {
    if (!canSign) return
    mySignOff(id).then(setMine, () => undefined)
  }, [id, canSign, shown, count])
  const earlier = signers.filter((s) => !s.current)
  const sign = async () => setMine(await signOff(id))
  return (
    <section class="panel signoff" aria-labelledby="signoff-title">
      <h2 id="signoff-title" class="small-heading">
        Recap sign-off
      </h2>
      <details class="signoff-wording" open={canSign && !mine.current}>
        <summary>The recap as it reads now</summary>
        <RecapPreview />
      </details>
      <p>
        <strong class="signoff-count" data-count={count}>
          {count}
        </strong>{' '}
        {count === 1 ? 'person has' : 'people have'} confirmed this wording.
      </p>
      {earlier.length > 0 && (
        <p class="notice notice-info small signoff-stale" role="status">
          The recap changed after {earlier.map((s) => s.name).join(', ')} signed off: {earlier.length === 1 ? 'that sign-off is' : 'those sign-offs are'} for an
          earlier wording.
        </p>
      )}
      {canSign &&
        (mine.signed && mine.current ? (
          <ActionButton onClick={async () => setMine({ ...(await withdrawSignOff(id)), signed: false, current: false })}>
            Withdraw my sign-off
          </ActionButton>
        ) : (
          <ActionButton kind="primary" onClick={sign}>
            {mine.signed ? 'Confirm the new wording' : 'I confirm the recap wording'}
          </ActionButton>
        ))}
      {signers.length > 0 && (
        <ul class="signers small" aria-label="Who signed which wording">
          {signers.map((s, i) => (
            <li key={i} data-current={s.current}>
              {s.name} <span class="muted">· {s.current ? 'this wording' : 'an earlier wording'}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
