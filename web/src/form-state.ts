// Local edits of server-owned data: follow the shared doc until the user starts editing.
import { useEffect, useRef, useState } from 'preact/hooks'

export function useFormState<T>(source: T): {
  value: T
  set: (next: T) => void
  dirty: boolean
  reset: () => void
} {
  const key = JSON.stringify(source)
  const [value, setValue] = useState<T>(source)
  const [dirty, setDirty] = useState(false)
  const last = useRef(key)
  useEffect(() => {
    if (key !== last.current) {
      last.current = key
      if (!dirty) setValue(JSON.parse(key) as T)
    }
  }, [key, dirty])
  return {
    value,
    dirty,
    set: (next) => {
      setValue(next)
      setDirty(true)
    },
    reset: () => {
      setDirty(false)
      setValue(JSON.parse(last.current) as T)
    },
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
