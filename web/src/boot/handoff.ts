// What boot.js starts while the app's code is still on its way, and the names both sides
// agree on. A meeting link used to wait for app.js and its chunks to download, compile and
// run before it opened the review's three websockets and asked who the user is, and then
// waited a round trip more for each doc. boot.js, about a kilobyte, runs first: it opens
// those connections and sends that request at once, and the app takes them over
// (app/early.ts) instead of opening its own (bench/README.md, "Web app load").

/** The review's shared docs, one websocket each. */
export const DOC_NAMES = ['room', 'timeline', 'recap'] as const
export type DocName = (typeof DOC_NAMES)[number]

/** The query by which a doc socket asks for the whole doc at once (the server's `SYNC_FULL`). */
export const SYNC_FULL = 'sync=full'

/** Where boot.js leaves what it started, on `window`. */
export const HANDOFF_KEY = '__debriefEarly'

/** A websocket boot.js opened, with what happened on it before the app took it. Its url
 * carries `SYNC_FULL`; it is filed under the url without it, the one y-websocket asks for. */
export interface EarlySocket {
  ws: WebSocket
  /** Messages received so far, in order. */
  messages: MessageEvent[]
  opened: Event | null
  closed: CloseEvent | null
  /** Stop recording: from now on the socket's own handlers get its events. */
  release(): void
}

export interface Handoff {
  /** By url, until the app takes each one. */
  sockets: Map<string, EarlySocket>
  /** Responses to GET requests, by path, until the app takes each one. */
  fetches: Map<string, Promise<Response>>
  /** Urls and paths the app has taken (for the browser tests and support). */
  taken: string[]
}

/** The websocket of one of a review's docs; y-websocket builds the same url from its parts.
 * (A reconnect asks without `SYNC_FULL`: it sends what it has, and gets only what it lacks.) */
export function docSocketUrl(reviewId: string, doc: DocName): string {
  return `${docSocketBase()}/${encodeURIComponent(reviewId)}/${doc}`
}

export function docSocketBase(): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
  return `${scheme}://${location.host}/ws`
}

/** The request that says who I am in a review (app/commands.ts `getReview`). */
export function reviewPath(reviewId: string): string {
  return `/api/reviews/${encodeURIComponent(reviewId)}`
}

/** The review a page address opens (app/router.ts), or null. */
export function reviewOfPath(path: string): string | null {
  const parts = path.split('/').filter(Boolean)
  if (parts[0] !== 'r' || !parts[1]) return null
  try {
    return decodeURIComponent(parts[1])
  } catch {
    return null
  }
}
