// Taking over what boot.js started before the app loaded (boot/handoff.ts says why).
import { HANDOFF_KEY, type Handoff } from '../boot/handoff'

function handoff(): Handoff | undefined {
  return (window as unknown as Record<string, Handoff | undefined>)[HANDOFF_KEY]
}

/** The answer boot.js already asked for at `path`, once; null if it asked for none. */
export function takeEarlyFetch(path: string): Promise<Response> | null {
  const found = handoff()
  const asked = found?.fetches.get(path)
  if (!found || !asked) return null
  found.fetches.delete(path)
  found.taken.push(path)
  return asked
}

/** y-websocket's WebSocket constructor (`WebSocketPolyfill`): boot.js's socket for `url`
 * if it opened one the app has not taken yet, otherwise a new socket.
 *
 * The provider sets the socket's handlers right after making it. What boot.js's socket
 * received before then is handed to those handlers in a microtask, before any further
 * event can be dispatched, so they see every message once and in order. The provider
 * hears that the socket is open only once the whole doc has come (the server sends it
 * unasked to boot.js's sockets): on open it asks for what it lacks, and asked with an
 * empty doc, the server would send the whole doc a second time. */
export function EarlyOrNewWebSocket(url: string | URL, protocols?: string | string[]): WebSocket {
  const found = handoff()
  const early = found?.sockets.get(String(url))
  if (!found || !early) return new WebSocket(url, protocols)
  found.sockets.delete(String(url))
  found.taken.push(String(url))
  early.release()
  const { ws, messages, opened, closed } = early
  queueMicrotask(() => {
    const { onopen, onmessage } = ws
    if (!onopen || !onmessage) return
    ws.onopen = null // swallowed: the provider hears of it below
    const untilTheDocIsIn = (event: MessageEvent) => {
      onmessage.call(ws, event)
      // Unless the provider let go of the socket meanwhile (it clears the handlers).
      if (ws.onmessage === untilTheDocIsIn && isSyncStep2(event.data)) {
        ws.onmessage = onmessage
        onopen.call(ws, opened ?? new Event('open'))
      }
    }
    ws.onmessage = untilTheDocIsIn
    for (const message of messages) ws.onmessage?.(message)
    if (closed) ws.onclose?.(closed)
  })
  return ws
}

/** y-websocket's sync message, sub-type sync step 2 (an answer holding a doc's content). */
function isSyncStep2(data: unknown): boolean {
  if (!(data instanceof ArrayBuffer) || data.byteLength < 2) return false
  const bytes = new Uint8Array(data, 0, 2)
  return bytes[0] === 0 && bytes[1] === 1
}
