// The three shared docs of a review, each on its own y-websocket connection.
// The provider reconnects by itself; edits made meanwhile stay in the local doc and are
// exchanged by the sync handshake on reconnect, so nothing typed offline is lost.
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

export type DocName = 'room' | 'timeline' | 'recap'
export const DOC_NAMES: readonly DocName[] = ['room', 'timeline', 'recap']

export type LinkState = 'online' | 'connecting' | 'offline' | 'ended'

export interface Review {
  id: string
  docs: Record<DocName, Y.Doc>
  providers: Record<DocName, WebsocketProvider>
  /** Current overall state; listen with onState. */
  state(): LinkState
  synced(doc: DocName): boolean
  onState(listener: () => void): () => void
  endedReason(): string
  close(): void
}

function wsBase(): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
  return `${scheme}://${location.host}/ws`
}

export function openReview(reviewId: string): Review {
  const listeners = new Set<() => void>()
  const notify = () => listeners.forEach((fn) => fn())
  let browserOffline = !navigator.onLine
  let ended = ''
  const docs = {} as Record<DocName, Y.Doc>
  const providers = {} as Record<DocName, WebsocketProvider>
  const status: Record<DocName, string> = { room: 'connecting', timeline: 'connecting', recap: 'connecting' }
  const synced: Record<DocName, boolean> = { room: false, timeline: false, recap: false }

  for (const name of DOC_NAMES) {
    const doc = new Y.Doc()
    const provider = new WebsocketProvider(`${wsBase()}/${encodeURIComponent(reviewId)}`, name, doc, {
      disableBc: true,
      maxBackoffTime: 5000,
    })
    provider.on('status', ({ status: s }) => {
      status[name] = s
      notify()
    })
    provider.on('sync', (isSynced: boolean) => {
      synced[name] = isSynced
      notify()
    })
    provider.on('closed', (event: { code: number; reason: string }) => {
      // 4401 / 4403 / 4404: reconnecting cannot help.
      ended = event.reason || `closed (${event.code})`
      notify()
    })
    docs[name] = doc
    providers[name] = provider
  }

  // When the browser knows it is offline, stop trying: edits stay in the local docs.
  // Back online, reconnect at once; the sync handshake exchanges whatever either side
  // missed, so edits made meanwhile (here or elsewhere) arrive.
  const onOffline = () => {
    browserOffline = true
    for (const name of DOC_NAMES) providers[name].disconnect()
    notify()
  }
  const onOnline = () => {
    browserOffline = false
    if (!ended) for (const name of DOC_NAMES) providers[name].connect()
    notify()
  }
  window.addEventListener('offline', onOffline)
  window.addEventListener('online', onOnline)

  return {
    id: reviewId,
    docs,
    providers,
    state() {
      if (ended) return 'ended'
      if (browserOffline) return 'offline'
      const all = DOC_NAMES.map((n) => status[n])
      if (all.every((s) => s === 'connected')) return 'online'
      if (all.some((s) => s === 'disconnected')) return 'offline'
      return 'connecting'
    },
    synced: (doc) => synced[doc],
    onState(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    endedReason: () => ended,
    close() {
      window.removeEventListener('offline', onOffline)
      window.removeEventListener('online', onOnline)
      for (const name of DOC_NAMES) {
        providers[name].destroy()
        docs[name].destroy()
      }
      listeners.clear()
    },
  }
}
