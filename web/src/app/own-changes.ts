// Your own notes and votes are fetched, not synced (nobody else may learn them), so a
// second tab of the same review would go on showing what it fetched last. Each tab tells
// this browser's other tabs when it changed them, and they fetch again.
import { useEffect, useState } from 'preact/hooks'

export type OwnKind = 'notes' | 'votes'

const channel: BroadcastChannel | null =
  typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel('debrief.own-changes')

/** Tell this browser's other tabs that your `kind` changed in `review`. */
export function announceOwnChange(review: string, kind: OwnKind): void {
  channel?.postMessage({ review, kind })
}

/** A counter that moves whenever another tab changed your `kind` in `review`. */
export function useOwnChanges(review: string, kind: OwnKind): number {
  const [count, setCount] = useState(0)
  useEffect(() => {
    if (!channel) return undefined
    const heard = (e: MessageEvent) => {
      const data = e.data as { review?: unknown; kind?: unknown } | null
      if (data?.review === review && data.kind === kind) setCount((n) => n + 1)
    }
    channel.addEventListener('message', heard)
    return () => channel.removeEventListener('message', heard)
  }, [review, kind])
  return count
}
