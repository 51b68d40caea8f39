// The review's actions as files for the team's issue tracker (Jira, GitHub, Linear).
import { useReview } from '../app/context'
import { TRACKER_HELP } from '../app/texts'
import { TRACKERS, reviewExportUrl } from '../team/delivery-api'

export function TrackerExports() {
  const { id } = useReview()
  return (
    <div class="tracker-exports">
      <p class="muted small">{TRACKER_HELP}</p>
      <ul class="exports">
        {TRACKERS.map(([format, label]) => (
          <li key={format}>
            <a class="btn btn-secondary" href={reviewExportUrl(id, format)} download data-tracker={format}>
              Actions for {label}
            </a>
          </li>
        ))}
      </ul>
    </div>
  )
}
