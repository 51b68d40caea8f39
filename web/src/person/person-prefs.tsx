// On a person's own page: what Debrief may send them, and their calendar address.
// Each switch saves at once; the personal link is the only key, as for the rest of the page.
import { useEffect, useState } from 'preact/hooks'
import { EVENT_LABELS, MY_CALENDAR_HELP, PREFS_HELP } from '../app/texts'
import { CopyButton, ErrorText, useCommand } from '../app/ui'
import { EVENTS, getPrefs, personCalendarUrl, putPrefs } from '../team/delivery-api'

export function PersonPrefs({ code }: { code: string }) {
  const [prefs, setPrefs] = useState<Record<string, boolean> | null>(null)
  const [said, setSaid] = useState('')
  const load = useCommand()
  const save = useCommand()
  useEffect(() => {
    void load.run(async () => setPrefs((await getPrefs(code)).prefs))
  }, [code])
  const toggle = (event: string, on: boolean) => {
    if (!prefs) return
    setSaid('')
    const before = prefs
    setPrefs({ ...prefs, [event]: on })
    void save.run(async () => {
      try {
        setPrefs((await putPrefs(code, { [event]: on })).prefs)
        setSaid(on ? 'Saved: you will get these again.' : 'Saved: Debrief stops sending these to you.')
      } catch (e) {
        setPrefs(before) // show what is really stored
        throw e
      }
    })
  }
  const calendar = personCalendarUrl(code)
  return (
    <div class="person-delivery">
      <section class="panel" aria-labelledby="my-prefs-title" id="my-prefs">
        <h2 id="my-prefs-title">What Debrief sends me</h2>
        <p class="muted small">{PREFS_HELP}</p>
        <ErrorText message={load.error} />
        {prefs && (
          <ul class="prefs">
            {EVENTS.map((event) => (
              <li key={event}>
                <label class="check">
                  <input type="checkbox" data-event={event} checked={prefs[event] !== false} onChange={(e) => toggle(event, e.currentTarget.checked)} />
                  {EVENT_LABELS[event]}
                </label>
              </li>
            ))}
          </ul>
        )}
        {said && <p class="muted small" role="status">{said}</p>}
        <ErrorText message={save.error} />
      </section>
      <section class="panel" aria-labelledby="my-calendar-title" id="my-calendar">
        <h2 id="my-calendar-title">My calendar</h2>
        <p class="muted small">{MY_CALENDAR_HELP}</p>
        <div class="row">
          <input readOnly class="mono" aria-label="My calendar address" value={calendar} onFocus={(e) => e.currentTarget.select()} />
          <CopyButton text={calendar} label="Copy my calendar address" />
        </div>
      </section>
    </div>
  )
}
