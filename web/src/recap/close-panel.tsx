// Finalize and export: the moderator closes the meeting (freezing a version); anyone
// downloads the recap as Markdown, HTML or JSON (a draft until closed).
import { useState } from 'preact/hooks'
import { closeReview, exportUrl, type ExportFormat } from '../app/commands'
import { useReview } from '../app/context'
import { useY } from '../app/hooks'
import { lintAction } from './lint'
import { readActions, readReview, readSignoffs } from '../app/model'
import { reviewPath } from '../app/router'
import { NO_ACTIONS_REASON_HELP, NO_ACTIONS_REASON_LABEL } from '../app/texts'
import { ErrorText, useCommand } from '../app/ui'

const FORMATS: [ExportFormat, string][] = [
  ['markdown', 'Markdown'],
  ['html', 'HTML (printable)'],
  ['json', 'JSON'],
]

export function ExportLinks() {
  const { id } = useReview()
  return (
    <ul class="exports">
      {FORMATS.map(([format, label]) => (
        <li key={format}>
          <a class="btn btn-secondary" href={exportUrl(id, format)} download data-format={format}>
            Download {label}
          </a>
        </li>
      ))}
    </ul>
  )
}

export function ClosePanel() {
  const { id, sync, you } = useReview()
  const room = sync.docs.room
  useY(room.getMap('review'), room.getMap('meeting'), sync.docs.recap.getMap('actions'))
  const review = readReview(room)
  const actions = readActions(sync.docs.recap)
  const needWork = actions.filter((a) => lintAction(a).length > 0).length
  const [reason, setReason] = useState('')
  const cmd = useCommand()
  const closed = review.status === 'closed'
  // Closing without a single action needs a written reason (the server insists too).
  const noActions = actions.length === 0
  return (
    <section class="panel close-panel" aria-labelledby="close-title">
      <h2 id="close-title">Finalize and export</h2>
      <p>
        <strong class="signoff-count" data-count={readSignoffs(room)}>{readSignoffs(room)}</strong> sign-offs ·{' '}
        {actions.length} action items, {needWork} still need work.
      </p>
      {closed ? (
        <p class="notice notice-info" data-closed="true">
          The meeting is closed. Version {review.version?.number ?? 1} is frozen
          {review.version ? ` (fingerprint ${review.version.hash.slice(0, 12)}…)` : ''}. <a href={reviewPath(id, 'recap')}>Open the final recap</a>
        </p>
      ) : you.role === 'moderator' ? (
        <form
          onSubmit={(e) => {
            e.preventDefault()
            void cmd.run(() => closeReview(id, reason.trim()))
          }}
        >
          {needWork > 0 && (
            <div class="field">
              <label for="close-reason">Why close with action items that still need work?</label>
              <textarea id="close-reason" rows={2} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
              <p class="muted small">The reason is written into the recap.</p>
            </div>
          )}
          {noActions && (
            <div class="field">
              <label for="close-reason">{NO_ACTIONS_REASON_LABEL}</label>
              <textarea id="close-reason" rows={2} maxLength={2000} required value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
              <p class="muted small">{NO_ACTIONS_REASON_HELP}</p>
            </div>
          )}
          <button type="submit" class="btn btn-primary" disabled={cmd.busy || review.status !== 'live' || (noActions && !reason.trim())}>
            Close the meeting and freeze the recap
          </button>
          {review.status !== 'live' && <p class="muted small">Only a meeting in progress can be closed.</p>}
          <ErrorText message={cmd.error} />
        </form>
      ) : (
        <p class="muted">The moderator closes the meeting once the group has confirmed the recap.</p>
      )}
      <h3 class="small-heading">Download {closed ? 'the final recap' : 'a draft'}</h3>
      <ExportLinks />
    </section>
  )
}
