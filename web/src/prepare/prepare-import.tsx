// Timeline import: pick a file or drop it; the server takes all of it or none, and
// names the line it could not read.
import { useState } from 'preact/hooks'
import { ApiError, errorText } from '../app/api'
import { importTimeline } from '../app/commands'
import { useReview } from '../app/context'
import { Section } from '../app/ui'

const MAX_BYTES = 12_000_000

export function TimelineImport({ readOnly }: { readOnly: boolean }) {
  const { id } = useReview()
  const [format, setFormat] = useState('')
  const [over, setOver] = useState(false)
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null)
  const [busy, setBusy] = useState(false)

  const load = async (file: File) => {
    setResult(null)
    if (file.size > MAX_BYTES) {
      setResult({ ok: false, text: 'That file is larger than 12 MB. Split it and import the parts.' })
      return
    }
    setBusy(true)
    try {
      const content = await file.text()
      const answer = await importTimeline(id, content, file.name, format || undefined)
      const there = answer.already_there
        ? ` ${answer.already_there} ${answer.already_there === 1 ? 'was' : 'were'} already in the timeline and ${answer.already_there === 1 ? 'was' : 'were'} left as they are.`
        : ''
      setResult({ ok: true, text: `Imported ${answer.imported} events from ${file.name} (${answer.format}).${there}` })
    } catch (e) {
      const line = e instanceof ApiError && e.line !== null ? ` (line ${e.line})` : ''
      setResult({ ok: false, text: `Nothing was imported${line}: ${errorText(e)}` })
    } finally {
      setBusy(false)
    }
  }

  return (
    <Section title="Import a timeline" id="import">
      <p class="muted small">CSV (time, text, source, link), JSON lines, a Slack channel export or `git log` output.</p>
      <div class="row">
        <label for="import-format">Format</label>
        <select id="import-format" value={format} disabled={readOnly} onChange={(e) => setFormat(e.currentTarget.value)}>
          <option value="">Guess from the file</option>
          <option value="csv">CSV</option>
          <option value="jsonl">JSON lines</option>
          <option value="slack">Slack export</option>
          <option value="git">git log</option>
        </select>
      </div>
      <div
        class={`dropzone ${over ? 'over' : ''}`}
        onDragOver={(e) => {
          e.preventDefault()
          setOver(true)
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault()
          setOver(false)
          const file = e.dataTransfer?.files[0]
          if (file && !readOnly) void load(file)
        }}
      >
        <label for="import-file">Drop a file here, or choose one</label>
        <input
          id="import-file"
          type="file"
          accept=".csv,.jsonl,.json,.txt,.log,text/*,application/json"
          disabled={readOnly || busy}
          onChange={(e) => {
            const file = e.currentTarget.files?.[0]
            if (file) void load(file)
            e.currentTarget.value = ''
          }}
        />
      </div>
      {busy && <p role="status">Importing…</p>}
      {result && (
        <p class={result.ok ? 'notice notice-info' : 'error'} role={result.ok ? 'status' : 'alert'}>
          {result.text}
        </p>
      )}
    </Section>
  )
}
