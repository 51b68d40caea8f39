// Prepare (moderator): everything the meeting needs before it starts.
import { setStatus } from '../app/commands'
import { useReview } from '../app/context'
import { useY } from '../app/hooks'
import { readReview } from '../app/model'
import { AgendaEditor, QuestionnaireEditor } from './prepare-agenda'
import { TimelineImport } from './prepare-import'
import { InvitesPanel } from './prepare-invites'
import { DeliveryPanel } from './prepare-delivery'
import { LinksForm, MetricsForm, ScopeForm, SettingsForm } from './prepare-scope'
import { navigate, reviewPath } from '../app/router'
import { STATUS_LABELS } from '../app/texts'
import { TimelineLane } from '../shared/timeline-lane'
import { ActionButton } from '../app/ui'

export function PreparePage() {
  const { id, sync } = useReview()
  useY(sync.docs.room.getMap('review'))
  const review = readReview(sync.docs.room)
  const readOnly = review.status === 'closed'
  return (
    <main class="page prepare" id="main">
      <div class="panel status-panel">
        <p>
          Status: <strong>{STATUS_LABELS[review.status]}</strong>
        </p>
        <div class="row">
          {review.status === 'draft' && <ActionButton onClick={() => setStatus(id, 'scheduled')}>Mark as scheduled</ActionButton>}
          {review.status === 'scheduled' && <ActionButton kind="quiet" onClick={() => setStatus(id, 'draft')}>Back to draft</ActionButton>}
          {(review.status === 'draft' || review.status === 'scheduled') && (
            <ActionButton
              kind="primary"
              onClick={async () => {
                await setStatus(id, 'live')
                navigate(reviewPath(id, 'meeting'))
              }}
            >
              Start the meeting
            </ActionButton>
          )}
          {review.status === 'live' && (
            <button type="button" class="btn btn-primary" onClick={() => navigate(reviewPath(id, 'meeting'))}>
              Go to the meeting
            </button>
          )}
        </div>
      </div>
      <div class="prepare-grid">
        <div>
          <ScopeForm readOnly={readOnly} />
          <MetricsForm readOnly={readOnly} />
          <LinksForm readOnly={readOnly} />
          <QuestionnaireEditor readOnly={readOnly} />
        </div>
        <div>
          <AgendaEditor readOnly={readOnly} />
          <SettingsForm readOnly={readOnly} />
          <DeliveryPanel readOnly={readOnly} />
          <InvitesPanel />
          <TimelineImport readOnly={readOnly} />
          <TimelineLane editable={!readOnly} />
        </div>
      </div>
    </main>
  )
}
