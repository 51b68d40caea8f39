// Prepare: when the meeting is, who is invited, and who only gets the recap. Marking the
// review as scheduled sends the invites; closing it sends the recap to the recap-only list.
import { useEffect, useState } from 'preact/hooks'
import { get, patch } from '../app/api'
import { useReview } from '../app/context'
import { useY } from '../app/hooks'
import { readReview } from '../app/model'
import { ATTENDEES_HELP, RECAP_ONLY_HELP } from '../app/texts'
import { ErrorText, Section, useCommand } from '../app/ui'
import { reviewPeople, type Person } from '../team/api'
import { isoToLocalInput, localInputToIso } from './form-state'

type Recipient = { person_id: string } | { email: string; name: string }

interface DeliveryFields {
  schedule: { starts_at: string; minutes: number } | null
  attendees: string[]
  recap_recipients: Recipient[]
}

const base = (id: string) => `/api/reviews/${encodeURIComponent(id)}`
const readFields = (r: Record<string, unknown>): DeliveryFields => ({
  schedule: r.schedule && typeof r.schedule === 'object' ? (r.schedule as DeliveryFields['schedule']) : null,
  attendees: Array.isArray(r.attendees) ? (r.attendees as string[]) : [],
  recap_recipients: Array.isArray(r.recap_recipients) ? (r.recap_recipients as Recipient[]) : [],
})
const isPerson = (r: Recipient): r is { person_id: string } => 'person_id' in r

function PeoplePicker({ label, people, chosen, onChange, disabled, name }: {
  label: string
  people: Person[]
  chosen: string[]
  onChange: (ids: string[]) => void
  disabled: boolean
  name: string
}) {
  return (
    <fieldset class="people-picker" data-picker={name} disabled={disabled}>
      <legend>{label}</legend>
      {people.length === 0 && <p class="muted small">The team has nobody in its directory yet.</p>}
      <ul class="picker-list">
        {people.map((p) => (
          <li key={p.id}>
            <label class="check">
              <input
                type="checkbox"
                checked={chosen.includes(p.id)}
                onChange={(e) => onChange(e.currentTarget.checked ? [...chosen, p.id] : chosen.filter((x) => x !== p.id))}
              />
              {p.name}
              {!p.email && <span class="muted small"> (no email address)</span>}
            </label>
          </li>
        ))}
      </ul>
    </fieldset>
  )
}

export function DeliveryPanel({ readOnly }: { readOnly: boolean }) {
  const { id, sync } = useReview()
  useY(sync.docs.room.getMap('review'))
  const status = readReview(sync.docs.room).status
  const [people, setPeople] = useState<Person[]>([])
  const [saved, setSaved] = useState<DeliveryFields | null>(null)
  const [when, setWhen] = useState('')
  const [minutes, setMinutes] = useState(60)
  const [attendees, setAttendees] = useState<string[]>([])
  const [recipients, setRecipients] = useState<Recipient[]>([])
  const [outside, setOutside] = useState({ email: '', name: '' })
  const [said, setSaid] = useState('')
  const load = useCommand()
  const save = useCommand()
  const apply = (f: DeliveryFields) => {
    setSaved(f)
    setWhen(f.schedule ? isoToLocalInput(f.schedule.starts_at) : '')
    setMinutes(f.schedule?.minutes ?? 60)
    setAttendees(f.attendees)
    setRecipients(f.recap_recipients)
  }
  useEffect(() => {
    void load.run(async () => {
      apply(readFields(await get<Record<string, unknown>>(base(id))))
      // A review outside any team has no directory: only outside addresses then.
      try {
        setPeople((await reviewPeople(id)).people)
      } catch {
        setPeople([])
      }
    })
  }, [id])
  const recapPeople = recipients.filter(isPerson).map((r) => r.person_id)
  const outsiders = recipients.filter((r): r is { email: string; name: string } => !isPerson(r))
  const setRecapPeople = (ids: string[]) => setRecipients([...ids.map((person_id) => ({ person_id })), ...outsiders])
  const addOutside = () => {
    const email = outside.email.trim()
    if (!email || outsiders.some((o) => o.email.toLowerCase() === email.toLowerCase())) return
    setRecipients([...recipients, { email, name: outside.name.trim() }])
    setOutside({ email: '', name: '' })
  }
  const submit = (e: Event) => {
    e.preventDefault()
    setSaid('')
    void save.run(async () => {
      const startsAt = localInputToIso(when)
      const body: DeliveryFields = {
        schedule: startsAt ? { starts_at: startsAt, minutes } : null,
        attendees,
        recap_recipients: recipients,
      }
      const answer = await patch<Record<string, unknown>>(base(id), body)
      apply('attendees' in answer ? readFields(answer) : body)
      setSaid(status === 'draft' && startsAt ? 'Saved. Mark the review as scheduled to send the invites.' : 'Saved.')
    })
  }
  const locked = readOnly || status === 'closed'
  return (
    <Section title="Schedule and recipients" id="delivery">
      <ErrorText message={load.error} />
      {saved && (
        <form onSubmit={submit} aria-label="Schedule and recipients">
          <fieldset disabled={locked}>
            <div class="grid-2">
              <div>
                <label for="schedule-start">Meeting starts</label>
                <input id="schedule-start" type="datetime-local" value={when} onInput={(e) => setWhen(e.currentTarget.value)} />
              </div>
              <div>
                <label for="schedule-minutes">Length in minutes</label>
                <input id="schedule-minutes" type="number" min={1} max={1440} value={minutes} onInput={(e) => setMinutes(Number(e.currentTarget.value) || 60)} />
              </div>
            </div>
            <p class="muted small">{ATTENDEES_HELP}</p>
            <PeoplePicker label="Attendees" name="attendees" people={people} chosen={attendees} onChange={setAttendees} disabled={locked} />
            <p class="muted small">{RECAP_ONLY_HELP}</p>
            <PeoplePicker label="Only the recap" name="recap-only" people={people} chosen={recapPeople} onChange={setRecapPeople} disabled={locked} />
            {outsiders.length > 0 && (
              <ul class="picker-list outsiders">
                {outsiders.map((o) => (
                  <li key={o.email} class="row tight">
                    <span>{o.name ? `${o.name} <${o.email}>` : o.email}</span>
                    <button
                      type="button"
                      class="btn btn-quiet btn-small"
                      aria-label={`Remove ${o.email} from the recap list`}
                      onClick={() => setRecipients(recipients.filter((r) => isPerson(r) || r.email !== o.email))}
                    >
                      Remove
                    </button>
                  </li>
                ))}
              </ul>
            )}
            <div class="grid-2">
              <div>
                <label for="outside-email">Someone outside the team: email</label>
                <input id="outside-email" type="email" maxLength={254} value={outside.email} onInput={(e) => setOutside({ ...outside, email: e.currentTarget.value })} />
              </div>
              <div>
                <label for="outside-name">Name (optional)</label>
                <input id="outside-name" maxLength={200} value={outside.name} onInput={(e) => setOutside({ ...outside, name: e.currentTarget.value })} />
              </div>
            </div>
            <div class="row">
              <button type="button" class="btn btn-secondary btn-small" disabled={!outside.email.trim()} onClick={addOutside}>
                Add to the recap list
              </button>
            </div>
            <div class="row">
              <button type="submit" class="btn btn-primary" disabled={save.busy}>
                Save schedule and recipients
              </button>
            </div>
          </fieldset>
          {said && <p class="muted small" role="status">{said}</p>}
          <ErrorText message={save.error} />
        </form>
      )}
    </Section>
  )
}
