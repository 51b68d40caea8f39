// What every view of a team page gets: the team, and a way to say "something changed".
import type { TeamInfo } from './api'

export interface TeamCtx {
  team: TeamInfo
  /** Moves after each change made on this page; lists read again when it does. */
  version: number
  changed: () => void
}

export const isAdmin = (ctx: TeamCtx) => ctx.team.you.role === 'admin'
