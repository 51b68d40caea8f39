// Local edits of server-owned data: show the shared doc's value until the user edits,
// then the edit until it is saved (or undone), then the doc's value again.
import { useState } from 'preact/hooks'

export function useFormState<T>(source: T): {
  value: T
  set: (next: T) => void
  dirty: boolean
  reset: () => void
} {
  const [edited, setEdited] = useState<{ value: T } | null>(null)
  return {
    value: edited ? edited.value : source,
    dirty: edited !== null,
    set: (next) => setEdited({ value: next }),
    reset: () => setEdited(null),
  }
}

export function isoToLocalInput(iso: string): string {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return ''
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`
}

export function localInputToIso(local: string): string {
  if (!local) return ''
  const d = new Date(local)
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().replace('.000Z', 'Z')
}
