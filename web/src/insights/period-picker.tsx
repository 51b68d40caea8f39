// Which stretch of time the insights cover. Changing it reads the figures again.
import { useState } from 'preact/hooks'
import { PRESETS, periodOf, type Period, type PresetId } from './period'

export function PeriodPicker({ period, onChange }: { period: Period; onChange: (p: Period) => void }) {
  const [since, setSince] = useState(period.since)
  const [until, setUntil] = useState(period.until)
  const choose = (preset: PresetId) => {
    const next = periodOf(preset, new Date(), { since: period.since, until: period.until })
    setSince(next.since)
    setUntil(next.until)
    onChange(next)
  }
  return (
    <form
      class="period-picker"
      aria-label="Period of the insights"
      onSubmit={(e) => {
        e.preventDefault()
        if (since && until && since <= until) onChange({ preset: 'custom', since, until })
      }}
    >
      <div>
        <label for="insights-period">Period</label>
        <select id="insights-period" value={period.preset} onChange={(e) => choose(e.currentTarget.value as PresetId)}>
          {PRESETS.map(([id, label]) => (
            <option key={id} value={id}>
              {label}
            </option>
          ))}
        </select>
      </div>
      {period.preset === 'custom' && (
        <>
          <div>
            <label for="insights-since">From</label>
            <input id="insights-since" type="date" required value={since} max={until} onInput={(e) => setSince(e.currentTarget.value)} />
          </div>
          <div>
            <label for="insights-until">Until</label>
            <input id="insights-until" type="date" required value={until} min={since} onInput={(e) => setUntil(e.currentTarget.value)} />
          </div>
          <button type="submit" class="btn btn-secondary" disabled={!since || !until || since > until}>
            Show this period
          </button>
        </>
      )}
      <p class="muted small period-range" data-since={period.since} data-until={period.until}>
        {period.since} to {period.until}
      </p>
    </form>
  )
}
