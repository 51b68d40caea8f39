// A textarea bound to a Y.Text of the recap doc (the scribe's notes, the follow-ups).
import { useEffect, useRef } from 'preact/hooks'
import type * as Y from 'yjs'
import { bindTextarea } from './ytext'

export function SharedTextarea({ text, id, label, help, editable, rows = 8 }: {
  text: Y.Text
  id: string
  label: string
  help?: string
  editable: boolean
  rows?: number
}) {
  const ref = useRef<HTMLTextAreaElement>(null)
  useEffect(() => {
    const el = ref.current
    if (!el) return undefined
    return bindTextarea(el, text)
  }, [text])
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {help && (
        <p class="muted small" id={`${id}-help`}>
          {help}
        </p>
      )}
      <textarea ref={ref} id={id} rows={rows} readOnly={!editable} aria-describedby={help ? `${id}-help` : undefined} />
    </div>
  )
}
