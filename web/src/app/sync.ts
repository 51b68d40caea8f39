// The three shared docs of a review, each on its own y-websocket connection.
// The provider reconnects by itself; edits made meanwhile stay in the local doc and are
// exchanged by the sync handshake on reconnect, so nothing typed offline is lost.
//
// The server checks every write to `timeline` and `recap` and refuses, with the
// permission-denied message, one that breaks the schema or someone's rights. The refused
// change stays in our local doc, and everything we send afterwards builds on it, so the
// server would refuse that too. After a refusal we therefore drop the local doc and start
// again from the server's state: a fresh Y.Doc (a fresh client id) and a fresh provider.
// `docs` and `providers` are replaced in place; views re-read them when `generation()` moves.
// A refusal whose reason starts with "storage" is different: the server could not store
// anything (its disk is full or stalled), the change itself was fine. We keep our doc;
// once storage is back the server asks for what it lacks and the change is sent then.
import * as decoding from 'lib0/decoding'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { DOC_NAMES, docSocketBase, type DocName } from '../boot/handoff'
import { EarlyOrNewWebSocket } from './early'
import { keepServerCounts } from './server-state'

export { DOC_NAMES, type DocName }

/** The docs clients write; a refusal on these means our copy has diverged. */
const CLIENT_WRITTEN: readonly DocName[] = ['timeline', 'recap']

// y-websocket's message types for sync and auth, and y-protocols' sub-type for permission denied.
const MESSAGE_SYNC = 0
const MESSAGE_AUTH = 2
const PERMISSION_DENIED = 0

export type LinkState = 'online' | 'connecting' | 'offline' | 'ended'

/** A write the server did not take, and why (the server's own words). */
export interface Refusal {
  doc: DocName
  reason: string
  /** The server could not store it (storage trouble): our doc still holds the change. */
  kept: boolean
}

export interface Review {
  id: string
  /** The current docs; an entry is replaced after a refused write (see `generation`). */
  docs: Record<DocName, Y.Doc>
  providers: Record<DocName, WebsocketProvider>
  /** Current overall state; listen with onState. */
  state(): LinkState
  synced(doc: DocName): boolean
  onState(listener: () => void): () => void
  endedReason(): string
  /** Moves each time a doc was replaced; listen with onState. */
  generation(): number
  /** Refused writes not yet dismissed, at most one per doc (the latest). */
  refusals(): Refusal[]
  dismissRefusal(doc: DocName): void
  close(): void
}

/** Reads the reason of a permission-denied message; null for any other auth message. */
function deniedReason(decoder: decoding.Decoder): string | null {
  if (decoding.readVarUint(decoder) !== PERMISSION_DENIED) return null
  return decoding.readVarString(decoder)
}

export function openReview(reviewId: string): Review {
  const listeners = new Set<() => void>()
  const notify = () => listeners.forEach((fn) => fn())
  let browserOffline = !navigator.onLine
  let ended = ''
  let generation = 0
  let closed = false
  const refused: Partial<Record<DocName, string>> = {}
  const kept: Partial<Record<DocName, boolean>> = {}
  const docs = {} as Record<DocName, Y.Doc>
  const providers = {} as Record<DocName, WebsocketProvider>
  const status: Record<DocName, string> = { room: 'connecting', timeline: 'connecting', recap: 'connecting' }
  const synced: Record<DocName, boolean> = { room: false, timeline: false, recap: false }
  const quietReasons = new Set<string>()

  const connect = (name: DocName) => {
    // A guid of our own: Yjs would otherwise draw a random one, 36 calls to
    // crypto.getRandomValues per doc, which cost a slow machine ~10 ms before first paint.
    const doc = new Y.Doc({ guid: `${reviewId}/${name}` })
    const provider = new WebsocketProvider(`${docSocketBase()}/${encodeURIComponent(reviewId)}`, name, doc, {
      // The first connection of each doc may be one boot.js opened before the app loaded.
      WebSocketPolyfill: EarlyOrNewWebSocket as unknown as typeof WebSocket,
      disableBc: true,
      maxBackoffTime: 5000,
      connect: !browserOffline && !ended,
    })
    if (CLIENT_WRITTEN.includes(name)) {
      // Presence lives on the room doc only: these connections send none, so a refusal
      // on them can only be about a write.
      provider.awareness.setLocalState(null)
    } else {
      announcePresence(provider)
      keepServerCounts(provider)
    }
    applyQuietly(provider)
    provider.messageHandlers[MESSAGE_AUTH] = (_encoder, decoder) => {
      const reason = deniedReason(decoder)
      if (reason === null || closed || providers[name] !== provider) return
      if (CLIENT_WRITTEN.includes(name) && reason.startsWith('storage')) {
        refused[name] = reason
        kept[name] = true
        notify()
      } else if (CLIENT_WRITTEN.includes(name)) {
        resync(name, reason)
      } else if (!quietReasons.has(reason)) {
        // The room doc takes no writes; the server may still say our presence is hidden.
        // Say it once, not per message.
        quietReasons.add(reason)
        console.info(`Debrief: the server says about ${name}: ${reason}`)
      }
    }
    provider.on('status', ({ status: s }) => {
      if (providers[name] !== provider) return
      status[name] = s
      notify()
    })
    provider.on('sync', (isSynced: boolean) => {
      if (providers[name] !== provider) return
      synced[name] = isSynced
      notify()
    })
    provider.on('closed', (event: { code: number; reason: string }) => {
      if (providers[name] !== provider) return
      // 4401 / 4403 / 4404: reconnecting cannot help.
      ended = event.reason || `closed (${event.code})`
      notify()
    })
    docs[name] = doc
    providers[name] = provider
    status[name] = browserOffline ? 'disconnected' : 'connecting'
    synced[name] = false
  }

  // Drop our copy of `name` (it holds a change the server refused) and load the server's.
  const resync = (name: DocName, reason: string) => {
    const oldProvider = providers[name]
    const oldDoc = docs[name]
    connect(name) // replaces the entries first, so the old provider's events are ignored
    oldProvider.destroy()
    oldDoc.destroy()
    refused[name] = reason
    kept[name] = false
    generation += 1
    notify()
  }

  for (const name of DOC_NAMES) connect(name)

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

  const review: Review = {
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
    generation: () => generation,
    refusals: () =>
      CLIENT_WRITTEN.flatMap((doc) => (refused[doc] ? [{ doc, reason: refused[doc] as string, kept: !!kept[doc] }] : [])),
    dismissRefusal(doc) {
      delete refused[doc]
      delete kept[doc]
      notify()
    },
    close() {
      if (closed) return
      closed = true
      window.removeEventListener('offline', onOffline)
      window.removeEventListener('online', onOnline)
      for (const name of DOC_NAMES) {
        providers[name].destroy()
        docs[name].destroy()
      }
      listeners.clear()
      if (exposed().debrief === review) delete exposed().debrief
    },
  }
  // For the browser tests and for support from the console: the docs are this user's own
  // copy of what the server already sends them, so exposing them reveals nothing new.
  exposed().debrief = review
  return review
}

/** Apply what the server sends without encoding it a second time.
 *
 * Yjs encodes every change as an 'update' event whenever anyone listens for 'update', and
 * the provider always does: that is how it sends our own edits. What comes from the server
 * is applied with the provider as its origin, and the provider does not send that back, so
 * the encoding is thrown away. For a review's first sync (the whole of three docs) that was
 * about a tenth of the main thread's work before the meeting view is usable on a slow
 * machine (bench/README.md, "Web app load"). So the provider stops listening while it
 * applies a sync message and listens again right after, in the same task: nothing of ours
 * can change the doc in between, so none of our edits goes unsent. */
function applyQuietly(provider: WebsocketProvider): void {
  const handleSync = provider.messageHandlers[MESSAGE_SYNC]
  provider.messageHandlers[MESSAGE_SYNC] = (encoder, decoder, p, emitSynced, type) => {
    const doc = provider.doc
    doc.off('update', provider._updateHandler)
    try {
      handleSync(encoder, decoder, p, emitSynced, type)
    } finally {
      doc.on('update', provider._updateHandler)
    }
  }
}

/** Say we are here on the room doc, from whichever page of the review is open.
 *
 * A fresh awareness holds its state at clock 0, and Yjs clients only take a state whose
 * clock is above the one they know (0 for a stranger): without a first change, others would
 * not see us until the awareness renews itself, 15 s later. On every reconnect we announce
 * ourselves afresh (a newer clock): the server may still hold our old connection (a network
 * that dropped without a goodbye), and it hands our presence to the new one only for
 * something newer than what it has. */
function announcePresence(provider: WebsocketProvider): void {
  const awareness = provider.awareness
  const announce = () => awareness.setLocalState({ ...(awareness.getLocalState() ?? {}), here: true })
  announce()
  provider.on('status', ({ status }: { status: string }) => {
    if (status === 'connected') announce()
  })
}

function exposed(): { debrief?: Review } {
  return window as unknown as { debrief?: Review }
}
