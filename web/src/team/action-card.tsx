// One action after its meeting: wording, owner, due date, status, evidence, and the
// buttons that move it on. Used by the team page, the person page and the recap.
import type { ComponentChildren } from 'preact'
import { useState } from 'preact/hooks'
import { safeUrl } from '../app/model'
import { reviewPath } from '../app/router'
import { ACTION_KINDS, ACTION_STATUS_LABELS, EVIDENCE_HELP, WONT_DO_HELP } from '../app/texts'
import { ErrorText, formatLocalTime, useCommand } from '../app/ui'
import { isOverdue, type ActionItem, type ActionStatus, type Evidence, type StatusChange } from './api'

export function StatusChip({ status }: { status: string }) {
  return (
    <span class={`badge action-status status-${status}`} data-action-status={status}>
      {ACTION_STATUS_LABELS[status] ?? status}
    </span>
  )
}

export function EvidenceView({ evidence }: { evidence: Evidence | null | undefined }) {
  if (!evidence || (!evidence.url && !evidence.text)) return null
  const href = evidence.url ? safeUrl(evidence.url) : null
  return (
    <div class="evidence">
      <strong>Evidence: </strong>
      {href ? (
        <a href={href} rel="noopener noreferrer nofollow">
          {evidence.url}
        </a>
      ) : (
        evidence.url
      )}
      {evidence.url && evidence.text ? ' · ' : ''}
      {evidence.text && <span class="prewrap">{evidence.text}</span>}
      {(evidence.by || evidence.at_ms) && (
        <span class="muted small">
          {' '}
          ({[evidence.by, evidence.at_ms ? formatLocalTime(new Date(evidence.at_ms).toISOString()) : ''].filter(Boolean).join(', ')})
        </span>
      )}
    </div>
  )
}

/** Where the action stands beyond its chip: evidence, reason, who verified. */
export function StatusDetails({ action }: { action: ActionItem }) {
  return (
    <>
      <EvidenceView evidence={action.evidence} />
      {action.status === 'wont-do' && action.reason && (
        <p class="small">
          <strong>Reason: </strong>
          {action.reason}
        </p>
      )}
      {action.status === 'verified' && action.verified_by && <p class="small muted">Verified by {action.verified_by}</p>}
    </>
  )
}

type Asking = '' | 'done' | 'wont-do'

/** Status buttons. "Done" asks for evidence, "won't do" for a reason; "verify" only when allowed. */
export function StatusControls({
  action,
  canVerify,
  change,
}: {
  action: ActionItem
  canVerify: boolean
  change: (c: StatusChange) => Promise<unknown>
}) {
  const [asking, setAsking] = useState<Asking>('')
  const [url, setUrl] = useState('')
  const [text, setText] = useState('')
  const [reason, setReason] = useState('')
  const [note, setNote] = useState('')
  const cmd = useCommand()
  const id = (f: string) => `st-${action.gid}-${f}`.replace(/[^a-zA-Z0-9_-]/g, '_')
  const send = (c: StatusChange) =>
    cmd.run(async () => {
      const trimmed = note.trim()
      await change(trimmed ? { ...c, note: trimmed } : c)
      setAsking('')
      setNote('')
    })
  const go = (status: ActionStatus) => void send({ status })
  const s = action.status
  return (
    <div class="status-controls" data-gid={action.gid}>
      <div class="row tight">
        {s !== 'in-progress' && s !== 'verified' && (
          <button type="button" class="btn btn-secondary btn-small" disabled={cmd.busy} onClick={() => go('in-progress')}>
            {s === 'open' ? 'Mark in progress' : 'Back to in progress'}
          </button>
        )}
        {s !== 'done' && s !== 'verified' && (
          <button type="button" class="btn btn-secondary btn-small" aria-expanded={asking === 'done'} onClick={() => setAsking(asking === 'done' ? '' : 'done')}>
            Mark done…
          </button>
        )}
        {s !== 'wont-do' && s !== 'verified' && (
          <button type="button" class="btn btn-quiet btn-small" aria-expanded={asking === 'wont-do'} onClick={() => setAsking(asking === 'wont-do' ? '' : 'wont-do')}>
            Won’t do…
          </button>
        )}
        {canVerify && s === 'done' && (
          <button type="button" class="btn btn-primary btn-small" disabled={cmd.busy} onClick={() => go('verified')}>
            Verify
          </button>
        )}
        {(s === 'verified' || s === 'wont-do' || s === 'done') && (
          <button type="button" class="btn btn-quiet btn-small" disabled={cmd.busy} onClick={() => go('open')}>
            Reopen
          </button>
        )}
      </div>
      {asking === 'done' && (
        <form
          class="status-form"
          aria-label="Evidence that it is done"
          onSubmit={(e) => {
            e.preventDefault()
            const evidence: { url?: string; text?: string } = {}
            if (url.trim()) evidence.url = url.trim()
            if (text.trim()) evidence.text = text.trim()
            void send({ status: 'done', evidence })
          }}
        >
          {action.verify && (
            <p class="small">
              <strong>How we said we would check: </strong>
              {action.verify}
            </p>
          )}
          <p class="muted small">{EVIDENCE_HELP}</p>
          <label for={id('url')}>Evidence link</label>
          <input id={id('url')} type="url" maxLength={2000} placeholder="https://…" value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
          <label for={id('text')}>Or describe the evidence</label>
          <textarea id={id('text')} rows={2} maxLength={2000} value={text} onInput={(e) => setText(e.currentTarget.value)} />
          <div class="row">
            <button type="submit" class="btn btn-primary btn-small" disabled={cmd.busy || (!url.trim() && !text.trim())}>
              Mark done with this evidence
            </button>
          </div>
        </form>
      )}
      {asking === 'wont-do' && (
        <form
          class="status-form"
          aria-label="Why it will not be done"
          onSubmit={(e) => {
            e.preventDefault()
            void send({ status: 'wont-do', reason: reason.trim() })
          }}
        >
          <label for={id('reason')}>Why will this not be done?</label>
          <textarea id={id('reason')} rows={2} maxLength={2000} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          <p class="muted small">{WONT_DO_HELP}</p>
          <div class="row">
            <button type="submit" class="btn btn-primary btn-small" disabled={cmd.busy || !reason.trim()}>
              Record “won’t do”
            </button>
          </div>
        </form>
      )}
      <details class="status-note">
        <summary class="small">Add a note to the next change</summary>
        <label for={id('note')}>Note (optional)</label>
        <input id={id('note')} maxLength={2000} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
      </details>
      <ErrorText message={cmd.error} />
    </div>
  )
}

/** The card of one action in a list. `children` go below (controls, history). */
export function ActionCard({ action, showOwner = true, children }: { action: ActionItem; showOwner?: boolean; children?: ComponentChildren }) {
  const late = isOverdue(action)
  const reviewHref = action.review_url || reviewPath(action.review_id, 'recap')
  return (
    <li class={`followup ${late ? 'followup-overdue' : ''}`} data-gid={action.gid} data-status={action.status}>
      <div class="followup-head">
        <strong class="followup-what">{action.what || 'An action without wording'}</strong>
        <span class="row tight">
          <StatusChip status={action.status} />
          {late && <span class="badge badge-late">Overdue</span>}
        </span>
      </div>
      <p class="small muted followup-meta">
        {showOwner && (
          <>
            Owner <strong class="followup-owner">{action.owner || 'nobody yet'}</strong> ·{' '}
          </>
        )}
        {action.due ? <>Due <time dateTime={action.due}>{action.due}</time></> : 'No due date'}
        {action.kind && <> · {ACTION_KINDS[action.kind] ?? action.kind}</>} · from{' '}
        <a href={reviewHref}>{action.review_title || 'its review'}</a>
      </p>
      {action.verify && (
        <p class="small">
          <span class="muted">How we check: </span>
          {action.verify}
        </p>
      )}
      <StatusDetails action={action} />
      {children}
    </li>
  )
}
