// The team's reviews: a new one, and the archive (search, filters, pages, deletion).
import { useEffect, useState } from 'preact/hooks'
import { joinReview } from '../app/commands'
import { navigate, reviewPath } from '../app/router'
import { loadSession, saveSession } from '../app/session'
import { CARRY_OVER_HINT, REVIEW_KINDS, STATUS_LABELS } from '../app/texts'
import { ErrorText, Section, useCommand } from '../app/ui'
import { createTeamReview, deleteReview, listReviews, type ReviewFilters, type ReviewSummary } from './api'
import { isAdmin, type TeamCtx } from './team-context'

const PAGE = 20

/** One filter of the archive: a choice among ``options`` (value -> label), or any. */
function FilterSelect(props: { id: string; label: string; value?: string; options: Record<string, string>; onValue: (value: string) => void }) {
  return (
    <div>
      <label for={props.id}>{props.label}</label>
      <select id={props.id} value={props.value ?? ''} onChange={(e) => props.onValue(e.currentTarget.value)}>
        <option value="">Any</option>
        {Object.entries(props.options).map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </select>
    </div>
  )
}

export function NewReview({ ctx }: { ctx: TeamCtx }) {
  const [title, setTitle] = useState('')
  const [carry, setCarry] = useState(false)
  const cmd = useCommand()
  const pending = (ctx.team.counts.actions.open ?? 0) + (ctx.team.counts.actions['in-progress'] ?? 0) + (ctx.team.counts.actions.done ?? 0)
  const submit = (e: Event) => {
    e.preventDefault()
    void cmd.run(async () => {
      const created = await createTeamReview(ctx.team.id, title.trim(), carry)
      // The creator runs the review: join its moderator link right away, as the start page does.
      const joined = await joinReview(created.invites.moderator, ctx.team.you.name)
      saveSession(joined)
      navigate(reviewPath(joined.review_id, 'prepare'))
    })
  }
  return (
    <form class="panel new-review" onSubmit={submit} aria-labelledby="team-new-review">
      <h2 id="team-new-review">New review</h2>
      <label for="team-review-title">What are we reviewing?</label>
      <input
        id="team-review-title"
        required
        maxLength={200}
        placeholder="e.g. Checkout errors on 3 March"
        value={title}
        onInput={(e) => setTitle(e.currentTarget.value)}
      />
      <label class="check">
        <input type="checkbox" checked={carry} onChange={(e) => setCarry(e.currentTarget.checked)} />
        Start by reviewing open actions{pending ? ` (${pending} now)` : ''}
      </label>
      {carry && <p class="muted small">{CARRY_OVER_HINT}</p>}
      <div class="row">
        <button class="btn btn-primary" type="submit" disabled={cmd.busy || !title.trim()}>
          Create and prepare as moderator
        </button>
      </div>
      <ErrorText message={cmd.error} />
    </form>
  )
}

function DeleteReview({ ctx, review, onGone }: { ctx: TeamCtx; review: ReviewSummary; onGone: () => void }) {
  const [open, setOpen] = useState(false)
  const [typed, setTyped] = useState('')
  const cmd = useCommand()
  const fieldId = `delete-${review.id}`
  if (!open)
    return (
      <button type="button" class="btn btn-quiet btn-small" onClick={() => setOpen(true)}>
        Delete…
      </button>
    )
  return (
    <form
      class="delete-review"
      aria-label={`Delete ${review.title}`}
      onSubmit={(e) => {
        e.preventDefault()
        void cmd.run(async () => {
          await deleteReview(ctx.team.id, review.id, typed)
          onGone()
        })
      }}
    >
      <p class="small">
        Deleting removes the review’s docs, records, actions and exports for good. There is no undo.
      </p>
      <label for={fieldId}>Type the title “{review.title}” to confirm</label>
      <input id={fieldId} value={typed} autoComplete="off" onInput={(e) => setTyped(e.currentTarget.value)} />
      <div class="row">
        <button type="submit" class="btn btn-danger btn-small" disabled={cmd.busy || typed !== review.title}>
          Delete for good
        </button>
        <button type="button" class="btn btn-quiet btn-small" onClick={() => setOpen(false)}>
          Keep it
        </button>
      </div>
      <ErrorText message={cmd.error} />
    </form>
  )
}

function ReviewRow({ ctx, review }: { ctx: TeamCtx; review: ReviewSummary }) {
  const mine = loadSession(review.id)
  const created = review.created_ms ? new Date(review.created_ms).toISOString().slice(0, 10) : ''
  return (
    <li class="review-row" data-review-id={review.id} data-status={review.status}>
      <div class="review-row-head">
        <a href={reviewPath(review.id)} class="review-row-title">
          {review.title}
        </a>
        <span class={`badge status-${review.status}`} data-status={review.status}>
          {STATUS_LABELS[review.status] ?? review.status}
        </span>
      </div>
      <p class="small muted">
        {REVIEW_KINDS[review.kind] ?? (review.kind || 'Review')}
        {created && (
          <>
            {' '}
            · created <time dateTime={created}>{created}</time>
          </>
        )}
        {typeof review.actions === 'number' && ` · ${review.actions} ${review.actions === 1 ? 'action' : 'actions'}`}
        {mine ? ` · you joined as ${mine.role}` : ''}
      </p>
      {isAdmin(ctx) && <DeleteReview ctx={ctx} review={review} onGone={ctx.changed} />}
    </li>
  )
}

export function ReviewsList({ ctx }: { ctx: TeamCtx }) {
  const [filters, setFilters] = useState<ReviewFilters>({})
  const [q, setQ] = useState('')
  const [offset, setOffset] = useState(0)
  const [data, setData] = useState<{ reviews: ReviewSummary[]; total: number } | null>(null)
  const cmd = useCommand()
  // Typing searches after a short pause, not on every key.
  useEffect(() => {
    const t = setTimeout(() => {
      if ((filters.q ?? '') === q.trim()) return
      setFilters((f) => ({ ...f, q: q.trim() }))
      setOffset(0)
    }, 300)
    return () => clearTimeout(t)
  }, [q])
  useEffect(() => {
    void cmd.run(async () => setData(await listReviews(ctx.team.id, { ...filters, offset, limit: PAGE })))
  }, [ctx.team.id, ctx.version, filters, offset])
  const set = (key: keyof ReviewFilters, value: string) => {
    setFilters((f) => ({ ...f, [key]: value }))
    setOffset(0)
  }
  const total = data?.total ?? 0
  return (
    <Section title="Reviews" id="team-reviews">
      <form class="review-filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label for="review-search">Search titles and scope</label>
        <input id="review-search" type="search" maxLength={200} value={q} onInput={(e) => setQ(e.currentTarget.value)} />
        <div class="filter-row">
          <FilterSelect id="review-status" label="Status" value={filters.status} options={STATUS_LABELS} onValue={(v) => set('status', v)} />
          <FilterSelect id="review-kind" label="Kind" value={filters.kind} options={REVIEW_KINDS} onValue={(v) => set('kind', v)} />
          <div>
            <label for="review-since">Created from</label>
            <input id="review-since" type="date" value={filters.since ?? ''} onChange={(e) => set('since', e.currentTarget.value)} />
          </div>
          <div>
            <label for="review-until">until</label>
            <input id="review-until" type="date" value={filters.until ?? ''} onChange={(e) => set('until', e.currentTarget.value)} />
          </div>
        </div>
      </form>
      <ErrorText message={cmd.error} />
      {data && data.reviews.length === 0 && <p class="muted">No review matches.</p>}
      <ul class="review-rows" data-total={total}>
        {data?.reviews.map((r) => <ReviewRow key={r.id} ctx={ctx} review={r} />)}
      </ul>
      {total > PAGE && (
        <div class="row pager">
          <button type="button" class="btn btn-secondary btn-small" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            Newer
          </button>
          <span class="muted small">
            {offset + 1}–{Math.min(offset + PAGE, total)} of {total}
          </span>
          <button type="button" class="btn btn-secondary btn-small" disabled={offset + PAGE >= total} onClick={() => setOffset(offset + PAGE)}>
            Older
          </button>
        </div>
      )}
    </Section>
  )
}
