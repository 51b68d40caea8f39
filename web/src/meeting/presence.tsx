// Who is here, from the room doc's awareness. The server stamps each entry's `user`
// (name, role, id) from the session, so nobody can pose as someone else.
import { useEffect, useState } from 'preact/hooks'
import { useReview } from '../app/context'
import { compareText } from '../app/intl'
import { SERVER_CLIENT_ID } from '../app/server-state'
import { ROLE_LABELS } from '../app/texts'

interface Here {
  id: string
  name: string
  role: string
}

function readPresence(states: Map<number, Record<string, unknown>>, ownClient: number, me: Here): Here[] {
  const seen = new Map<string, Here>()
  seen.set(me.id, me)
  states.forEach((state, clientId) => {
    if (clientId === ownClient) return // our own entry is only stamped on the way out
    if (clientId === SERVER_CLIENT_ID) return // the server's counts, not a person
    const user = (state.user ?? {}) as { name?: unknown; role?: unknown; id?: unknown }
    const id = typeof user.id === 'string' ? user.id : `client-${clientId}`
    seen.set(id, {
      id,
      name: typeof user.name === 'string' ? user.name : '',
      role: typeof user.role === 'string' ? user.role : 'participant',
    })
  })
  const order = ['moderator', 'scribe', 'participant', 'observer']
  return [...seen.values()].sort((a, b) => order.indexOf(a.role) - order.indexOf(b.role) || compareText(a.name, b.name))
}

export function Presence() {
  const { sync, you } = useReview()
  const provider = sync.providers.room
  const awareness = provider.awareness
  const [here, setHere] = useState<Here[]>([])
  useEffect(() => {
    // Announcing ourselves is sync.ts's job (every page of the review does it); here we read.
    const me = { id: you.participant_id, name: you.name, role: you.role }
    const update = () =>
      setHere(readPresence(awareness.getStates() as Map<number, Record<string, unknown>>, awareness.clientID, me))
    update()
    awareness.on('change', update)
    return () => {
      awareness.off('change', update)
    }
  }, [provider, awareness, you])
  const anonymous = here.filter((h) => !h.name).length
  return (
    <section class="presence" aria-label="Who is here">
      <h2 class="small-heading">Here now ({here.length})</h2>
      <ul>
        {here
          .filter((h) => h.name)
          .map((h) => (
            <li key={h.id} class={h.id === you.participant_id ? 'me' : ''}>
              <span class="dot" aria-hidden="true" />
              {h.name}
              <span class="muted"> · {ROLE_LABELS[h.role] ?? h.role}</span>
              {h.id === you.participant_id && <span class="muted"> (you)</span>}
            </li>
          ))}
        {anonymous > 0 && (
          <li class="muted">
            {anonymous} without a name
          </li>
        )}
      </ul>
    </section>
  )
}
