// A textarea bound to a Y.Text of the recap doc (the scribe's notes, the follow-ups).
import { useEffect, useRef, useState } from 'preact/hooks'
import type * as Y from 'yjs'
import { PASTE_CUT } from '../app/texts'
import { bindTextarea } from './ytext'

export function SharedTextarea({ text, id, label, help, editable, rows = 8, maxLength }: {
  text: Y.Text
  id: string
  label: string
  help?: string
  editable: boolean
  rows?: number
  /** The longest text the server takes (docs/shared-docs.md). */
  maxLength?: number
}) {
  const ref = useRef<HTMLTextAreaElement>(null)
  const [cut, setCut] = useState(false)
  useEffect(() => {
    const el = ref.current
    if (!el) return undefined
    return bindTextarea(el, text, maxLength)
  }, [text, maxLength])
  // The browser cuts a paste at maxLength without a word: say so.
  const onPaste = (e: ClipboardEvent) => {
    const el = e.currentTarget as HTMLTextAreaElement
    const pasted = e.clipboardData?.getData('text/plain') ?? ''
    const kept = el.value.length - (el.selectionEnd - el.selectionStart)
    setCut(maxLength !== undefined && kept + pasted.length > maxLength)
  }
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {help && (
        <p class="muted small" id={`${id}-help`}>
          {help}
        </p>
      )}
      <textarea
        ref={ref}
        id={id}
        rows={rows}
        readOnly={!editable}
        maxLength={maxLength}
        onPaste={onPaste}
        aria-describedby={help ? `${id}-help` : undefined}
      />
      {cut && maxLength !== undefined && (
        <p class="notice notice-warn paste-cut" role="status">
          {PASTE_CUT(maxLength)}{' '}
          <button type="button" class="btn btn-quiet btn-small" onClick={() => setCut(false)}>
            Dismiss
          </button>
        </p>
      )}
    </div>
  )
}
