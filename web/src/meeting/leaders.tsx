// Moderator: mark attendees as leaders, who then speak last in round-robins when the
// review's setting says so (it keeps senior voices from anchoring the room).
import { useEffect, useState } from 'preact/hooks'
import { errorText } from '../app/api'
import { attendees as listAttendees, markLeader, type Attendee } from '../app/commands'
import { useReview } from '../app/context'
import { useY } from '../app/hooks'
import { readReview } from '../app/model'
import { ROLE_LABELS } from '../app/texts'
import { ErrorText } from '../app/ui'

export function Leaders() {
  const { id, sync } = useReview()
  const meeting = sync.docs.room.getMap('meeting')
  useY(meeting, sync.docs.room.getMap('review'))
  const leadersLast = readReview(sync.docs.room).settings.leaders_last
  const [people, setPeople] = useState<Attendee[]>([])
  const [error, setError] = useState('')
  const leaderKey = JSON.stringify(meeting.get('leaders') ?? [])
  const load = async () => {
    try {
      setPeople((await listAttendees(id)).attendees)
    } catch (e) {
      setError(errorText(e))
    }
  }
  useEffect(() => {
    void load()
  }, [id, leaderKey])
  return (
    <details class="leaders">
      <summary>Attendees and leaders ({people.length})</summary>
      <p class="muted small">
        {leadersLast ? 'Leaders speak last in a round-robin.' : 'Turn on “Leaders speak last” in Prepare to use this.'}
      </p>
      <button type="button" class="btn btn-quiet btn-small" onClick={() => void load()}>
        Refresh the list
      </button>
      <ul>
        {people.map((p) => (
          <li key={p.participant_id}>
            <label class="check">
              <input
                type="checkbox"
                checked={p.leader}
                onChange={(e) => {
                  const leader = e.currentTarget.checked
                  markLeader(id, p.participant_id, leader).then(load, (err: unknown) => setError(errorText(err)))
                }}
              />
              {p.name} <span class="muted">· {ROLE_LABELS[p.role] ?? p.role}</span>
            </label>
          </li>
        ))}
      </ul>
      <ErrorText message={error} />
    </details>
  )
}
