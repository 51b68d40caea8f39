// "Start a quarterly review": a review of the recurring pattern across the period shown.
// Like "New review", the creator joins it as moderator and lands on its preparation.
import { useEffect, useState } from 'preact/hooks'
import { joinReview } from '../app/commands'
import { navigate, reviewPath } from '../app/router'
import { saveSession } from '../app/session'
import { QUARTERLY_HINT } from '../app/texts'
import { ErrorText, useCommand } from '../app/ui'
import type { TeamCtx } from '../team/team-context'
import { createQuarterlyReview } from './api'
import type { Period } from './period'

const titleFor = (p: Period) => `Recurring themes, ${p.since} to ${p.until}`

export function QuarterlyReview({ ctx, period, reviews }: { ctx: TeamCtx; period: Period; reviews: number | null }) {
  const [title, setTitle] = useState(titleFor(period))
  const [touched, setTouched] = useState(false)
  const cmd = useCommand()
  // Follows the period until the person writes their own title.
  useEffect(() => {
    if (!touched) setTitle(titleFor(period))
  }, [period.since, period.until])
  return (
    <form
      class="panel quarterly"
      aria-labelledby="quarterly-title"
      onSubmit={(e) => {
        e.preventDefault()
        void cmd.run(async () => {
          const created = await createQuarterlyReview(ctx.team.id, title.trim(), period.since, period.until)
          const joined = await joinReview(created.invites.moderator, ctx.team.you.name)
          saveSession(joined)
          navigate(reviewPath(joined.review_id, 'prepare'))
        })
      }}
    >
      <h2 id="quarterly-title">Start a quarterly review</h2>
      <p class="muted small">{QUARTERLY_HINT}</p>
      <label for="quarterly-review-title">Title</label>
      <input
        id="quarterly-review-title"
        required
        maxLength={200}
        value={title}
        onInput={(e) => {
          setTouched(true)
          setTitle(e.currentTarget.value)
        }}
      />
      <div class="row">
        <button class="btn btn-primary" type="submit" disabled={cmd.busy || !title.trim() || reviews === 0}>
          Start a quarterly review of {reviews === null ? 'this period' : `${reviews} ${reviews === 1 ? 'review' : 'reviews'}`}
        </button>
      </div>
      <ErrorText message={cmd.error} />
    </form>
  )
}
