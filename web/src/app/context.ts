// What every view of an open review needs: the synced docs and who I am.
import { createContext } from 'preact'
import { useContext } from 'preact/hooks'
import type { You } from './commands'
import type { Review } from './sync'

export interface ReviewContext {
  id: string
  sync: Review
  you: You
  /** Moves when a doc of `sync` was replaced (after a refused write). */
  generation: number
}

export const Ctx = createContext<ReviewContext | null>(null)

export function useReview(): ReviewContext {
  const ctx = useContext(Ctx)
  if (!ctx) throw new Error('useReview outside of a review')
  return ctx
}
