// What the server shows in its own awareness entry of the `room` doc: how many notes wait
// unrevealed in each section. The entry is the server's alone (its client id no browser may
// take), and it changes only when a count does. Yjs forgets a peer's state it has not heard
// from for 30 s, so the counts last shown are kept here, per provider, from the moment the
// provider is made (the notes board may open long after they came).
import { useEffect, useState } from 'preact/hooks'
import type { WebsocketProvider } from 'y-websocket'

/** The server's awareness client id (server/debrief/protocol/awareness.py). */
export const SERVER_CLIENT_ID = 0xdeb12ef

type Counts = Record<string, number>

const kept = new WeakMap<WebsocketProvider, Counts>()
const listeners = new WeakMap<WebsocketProvider, Set<() => void>>()

function shown(provider: WebsocketProvider): Counts | null {
  const state = provider.awareness.getStates().get(SERVER_CLIENT_ID) as { note_counts?: unknown } | undefined
  const counts = state?.note_counts
  if (!counts || typeof counts !== 'object') return null
  const out: Counts = {}
  for (const [section, n] of Object.entries(counts as Record<string, unknown>)) {
    if (typeof n === 'number' && Number.isFinite(n) && n >= 0) out[section] = n
  }
  return out
}

/** Keep what the server shows on `provider` (the room doc's) for as long as it lives. */
export function keepServerCounts(provider: WebsocketProvider): void {
  listeners.set(provider, new Set())
  provider.awareness.on('change', ({ added, updated }: { added: number[]; updated: number[] }) => {
    // Someone's presence moving (a cursor, twice a second) is no reason to redraw the board.
    if (!added.includes(SERVER_CLIENT_ID) && !updated.includes(SERVER_CLIENT_ID)) return
    const now = shown(provider)
    if (!now) return // gone after 30 s of quiet: the last counts still hold
    kept.set(provider, now)
    listeners.get(provider)?.forEach((fn) => fn())
  })
}

/** The hidden notes per section as the server last showed them; null before it has. */
export function useServerCounts(provider: WebsocketProvider): Counts | null {
  const [counts, setCounts] = useState<Counts | null>(() => kept.get(provider) ?? null)
  useEffect(() => {
    const update = () => setCounts(kept.get(provider) ?? null)
    update()
    const set = listeners.get(provider)
    set?.add(update)
    return () => {
      set?.delete(update)
    }
  }, [provider])
  return counts
}
