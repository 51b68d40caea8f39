// boot.js: runs before the app (a classic script ahead of the module scripts in index.html).
// On a review's address it opens the three doc websockets at once, each asking the server
// for the whole doc with the connection itself (`?sync=full`,
// server/debrief/http/websocket.py), and asks who the user is; the app takes all of it
// over (app/early.ts). Nothing here waits for the page: while the browser is still
// compiling and running the app, the docs arrive and wait in the sockets. Whatever the
// app has not taken after UNCLAIMED_MS is closed, so a page that fails to load holds no
// connection.
import { DOC_NAMES, docSocketUrl, HANDOFF_KEY, reviewOfPath, reviewPath, SYNC_FULL, type EarlySocket, type Handoff } from './handoff'

const UNCLAIMED_MS = 10_000

function open(url: string): EarlySocket {
  const ws = new WebSocket(`${url}?${SYNC_FULL}`)
  ws.binaryType = 'arraybuffer' // what y-websocket reads
  const early: EarlySocket = {
    ws,
    messages: [],
    opened: null,
    closed: null,
    release() {
      ws.removeEventListener('open', onOpen)
      ws.removeEventListener('message', onMessage)
      ws.removeEventListener('close', onClose)
    },
  }
  const onOpen = (event: Event) => {
    early.opened = event
  }
  const onMessage = (event: MessageEvent) => early.messages.push(event)
  const onClose = (event: CloseEvent) => {
    early.closed = event
  }
  ws.addEventListener('open', onOpen)
  ws.addEventListener('message', onMessage)
  ws.addEventListener('close', onClose)
  return early
}

function start(): void {
  const reviewId = reviewOfPath(location.pathname)
  if (reviewId === null || !navigator.onLine || typeof WebSocket === 'undefined') return
  const handoff: Handoff = { sockets: new Map(), fetches: new Map(), taken: [] }
  for (const doc of DOC_NAMES) {
    const url = docSocketUrl(reviewId, doc)
    handoff.sockets.set(url, open(url))
  }
  const path = reviewPath(reviewId)
  const asked = fetch(path, { credentials: 'same-origin', cache: 'no-store' })
  asked.catch(() => {}) // the app sees the failure when it takes the answer
  handoff.fetches.set(path, asked)
  ;(window as unknown as Record<string, Handoff>)[HANDOFF_KEY] = handoff
  setTimeout(() => {
    for (const early of handoff.sockets.values()) {
      early.release()
      early.ws.close(1000, 'the page did not take this connection')
    }
    handoff.sockets.clear()
    handoff.fetches.clear()
  }, UNCLAIMED_MS)
}

start()
