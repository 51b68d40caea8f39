// ELMO ("enough, let's move on"): anyone may call it; everyone sees a banner at once.
import { useEffect, useState } from 'preact/hooks'
import { serverNow } from '../app/clock'
import { callElmo } from '../app/commands'
import { useReview } from '../app/context'
import { useY } from '../app/hooks'
import { readElmo } from '../app/model'
import { ELMO_BANNER, ELMO_DETAIL } from '../app/texts'
import { ActionButton } from '../app/ui'

const SHOW_FOR_MS = 60_000

export function ElmoButton() {
  const { id } = useReview()
  return (
    <ActionButton kind="danger" onClick={() => callElmo(id)} aria-describedby="elmo-help">
      Call ELMO
    </ActionButton>
  )
}

export function ElmoBanner() {
  const { sync } = useReview()
  const meeting = sync.docs.room.getMap('meeting')
  useY(meeting)
  const elmo = readElmo(sync.docs.room)
  const [dismissed, setDismissed] = useState<number | null>(null)
  const [, setNow] = useState(0)
  const recent = elmo.last_ms !== null && serverNow() - elmo.last_ms < SHOW_FOR_MS
  useEffect(() => {
    if (!recent || elmo.last_ms === null) return undefined
    const id = setTimeout(() => setNow((n) => n + 1), SHOW_FOR_MS - (serverNow() - elmo.last_ms) + 50)
    return () => clearTimeout(id)
  }, [recent, elmo.last_ms])
  if (!recent || dismissed === elmo.last_ms) return null
  return (
    <div class="banner banner-elmo" role="alert" data-count={elmo.count}>
      <div>
        <strong class="elmo-title">{ELMO_BANNER}</strong>
        <span>{ELMO_DETAIL}</span>
      </div>
      <button type="button" class="btn btn-secondary" onClick={() => setDismissed(elmo.last_ms)}>
        Dismiss
      </button>
    </div>
  )
}
