// Preact hooks that re-render when a shared type or the connection changes.
import { useEffect, useReducer, useState } from 'preact/hooks'
import type * as Y from 'yjs'
import { DOC_NAMES, type Review } from './sync'

/** Re-render whenever `type` or anything inside it changes (local or remote). */
export function useY(...types: (Y.AbstractType<any> | null | undefined)[]): void {
  const [, bump] = useReducer((n: number) => n + 1, 0)
  const seen = transactionsOf(types) // what this render read
  useEffect(() => {
    const live = types.filter((t): t is Y.AbstractType<any> => !!t)
    const fn = () => bump(undefined)
    live.forEach((t) => t.observeDeep(fn))
    // Effects run after the first render: a change that arrived in between (the first
    // sync of a doc, typically) was never observed, so re-read then, and only then.
    if (transactionsOf(types) !== seen) fn()
    return () => live.forEach((t) => t.unobserveDeep(fn))
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, types)
}

// Transactions per doc since we first looked at it: equal counts mean nothing changed.
const transactions = new WeakMap<Y.Doc, number>()

function transactionsOf(types: (Y.AbstractType<any> | null | undefined)[]): number {
  let sum = 0
  for (const t of types) {
    const doc = t?.doc
    if (!doc) continue
    let count = transactions.get(doc)
    if (count === undefined) {
      count = 0
      transactions.set(doc, 0)
      doc.on('afterTransaction', () => transactions.set(doc, (transactions.get(doc) ?? 0) + 1))
    }
    sum += count
  }
  return sum
}

/** A counter that moves with every change to any of `docs` (0 until the first). */
export function useDocChanges(docs: Y.Doc[]): number {
  const [count, bump] = useReducer((n: number) => n + 1, 0)
  useEffect(() => {
    // Not 'update': listening for it makes Yjs encode every change, the server's included.
    const fn = (tr: Y.Transaction) => {
      if (tr.changed.size > 0 || tr.deleteSet.clients.size > 0) bump(undefined)
    }
    docs.forEach((d) => d.on('afterTransaction', fn))
    return () => docs.forEach((d) => d.off('afterTransaction', fn))
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, docs)
  return count
}

export function useLinkState(review: Review): ReturnType<Review['state']> {
  const [state, setState] = useState(review.state())
  useEffect(() => {
    setState(review.state())
    return review.onState(() => setState(review.state()))
  }, [review])
  return state
}

export function useSynced(review: Review, doc: 'room' | 'timeline' | 'recap'): boolean {
  const [synced, setSynced] = useState(review.synced(doc))
  useEffect(() => {
    setSynced(review.synced(doc)) // it may have synced between render and subscribe
    return review.onState(() => setSynced(review.synced(doc)))
  }, [review, doc])
  return synced
}

/** True once every doc of `review` has had its first sync with the server. */
export function useAllSynced(review: Review): boolean {
  const room = useSynced(review, 'room')
  const timeline = useSynced(review, 'timeline')
  const recap = useSynced(review, 'recap')
  return room && timeline && recap
}

/** False until every doc of `review` has synced, or cannot soon (offline, link ended, or
 *  `patienceMs` passed); then true for good. A view shown once, complete, costs one render
 *  and one layout, not one of each per doc as the docs arrive. */
export function useFirstSync(review: Review, patienceMs: number): boolean {
  const settled = () =>
    DOC_NAMES.every((d) => review.synced(d)) || review.state() === 'offline' || review.state() === 'ended'
  const [done, setDone] = useState(settled)
  useEffect(() => {
    if (done) return undefined
    const check = () => settled() && setDone(true)
    check() // it may have synced between render and subscribe
    const timer = setTimeout(() => setDone(true), patienceMs)
    const stop = review.onState(check)
    return () => {
      clearTimeout(timer)
      stop()
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [review, done])
  return done
}

/** Ticks every `ms` while `active`; returns a counter to key renders on. */
export function useTick(ms: number, active = true): number {
  const [n, setN] = useState(0)
  useEffect(() => {
    if (!active) return undefined
    const id = setInterval(() => setN((x) => x + 1), ms)
    return () => clearInterval(id)
  }, [ms, active])
  return n
}

/** A value that survives reloads on this device (private drafts live here).
 *  Follows `key`: a component that switches keys (the notes board switching sections)
 *  shows and edits the value of the key it now has, never the previous key's. */
export function useStored(key: string, initial: string): [string, (v: string) => void] {
  const [edited, setEdited] = useState<Record<string, string>>({})
  const value = key in edited ? edited[key]! : readStored(key, initial)
  const set = (v: string) => {
    setEdited((prev) => ({ ...prev, [key]: v }))
    try {
      if (v) localStorage.setItem(key, v)
      else localStorage.removeItem(key)
    } catch {
      // storage unavailable: keep it in memory only
    }
  }
  return [value, set]
}

function readStored(key: string, initial: string): string {
  try {
    return localStorage.getItem(key) ?? initial
  } catch {
    return initial
  }
}
