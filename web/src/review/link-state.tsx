// The connection indicator: online, reconnecting, offline (edits kept), or link ended.
import { useLinkState } from '../app/hooks'
import { useReview } from '../app/context'
import { OFFLINE, SESSION_ENDED } from '../app/texts'

export function LinkState() {
  const { sync } = useReview()
  const state = useLinkState(sync)
  const label = { online: 'Connected', connecting: 'Connecting…', offline: 'Offline', ended: 'Disconnected' }[state]
  return (
    <>
      <span class={`link-state link-${state}`} role="status" data-state={state}>
        <span class="dot" aria-hidden="true" />
        {label}
      </span>
      {state === 'offline' && (
        <div class="banner banner-offline" role="alert">
          {OFFLINE}
        </div>
      )}
      {state === 'ended' && (
        <div class="banner banner-offline" role="alert">
          {SESSION_ENDED} <span class="muted">({sync.endedReason()})</span>
        </div>
      )}
    </>
  )
}
