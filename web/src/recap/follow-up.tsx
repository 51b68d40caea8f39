// The life of a closed review's actions: the recap keeps the wording as agreed; the
// status and the evidence are as of now, read from GET /api/reviews/{r}/follow-up.
import { useEffect, useState } from 'preact/hooks'
import { useReview } from '../app/context'
import { ErrorText, useCommand } from '../app/ui'
import { EvidenceView, StatusChip } from '../team/action-card'
import { reviewActionStatus, reviewFollowUp, isOverdue, type ActionItem } from '../team/api'

type Row = Record<string, unknown>
const s = (v: unknown) => (typeof v === 'string' ? v : '')

/** Follow-up states, read again when the page comes back into view. */
export function useFollowUp(closed: boolean): { states: ActionItem[]; reload: () => void; error: string } {
  const { id } = useReview()
  const [states, setStates] = useState<ActionItem[]>([])
  const [version, setVersion] = useState(0)
  const cmd = useCommand()
  useEffect(() => {
    if (!closed) return
    void cmd.run(async () => setStates((await reviewFollowUp(id)).actions))
  }, [id, closed, version])
  useEffect(() => {
    const again = () => document.visibilityState === 'visible' && setVersion((n) => n + 1)
    document.addEventListener('visibilitychange', again)
    return () => document.removeEventListener('visibilitychange', again)
  }, [])
  return { states, reload: () => setVersion((n) => n + 1), error: cmd.error }
}

/** Pair each frozen recap row with its live state: same wording, owner and date, in order. */
export function matchStates(rows: Row[], states: ActionItem[]): (ActionItem | null)[] {
  const left = [...states]
  return rows.map((row) => {
    const at = left.findIndex((st) => st.what === s(row.what) && st.owner === s(row.owner) && st.due === s(row.due))
    const loose = at >= 0 ? at : left.findIndex((st) => st.what === s(row.what))
    if (loose < 0) return null
    return left.splice(loose, 1)[0] ?? null
  })
}

/** The "status now" cell: chip, evidence, reason, and "Verify" for those who may. */
export function StatusCell({ state, reload }: { state: ActionItem | null; reload: () => void }) {
  const { id, you } = useReview()
  const cmd = useCommand()
  if (!state) return <span class="muted">—</span>
  const mayVerify = (you.role === 'moderator' || you.role === 'scribe') && state.status === 'done'
  return (
    <div class="status-cell" data-gid={state.gid} data-status={state.status}>
      <StatusChip status={state.status} />
      {isOverdue(state) && <span class="badge badge-late">Overdue</span>}
      <EvidenceView evidence={state.evidence} />
      {state.status === 'wont-do' && state.reason && <p class="small">Reason: {state.reason}</p>}
      {state.status === 'verified' && state.verified_by && <p class="small muted">Verified by {state.verified_by}</p>}
      {mayVerify && (
        <button
          type="button"
          class="btn btn-primary btn-small no-print"
          disabled={cmd.busy}
          onClick={() =>
            void cmd.run(async () => {
              await reviewActionStatus(id, state.gid, { status: 'verified' })
              reload()
            })
          }
        >
          Verify the evidence
        </button>
      )}
      <ErrorText message={cmd.error} />
    </div>
  )
}
