// A short notice when the server did not take a change of ours (see sync.ts): what was
// not saved and why, in the server's words. The screen already shows the server's state,
// except after a storage refusal (a full or stalled disk): then our change is kept.
import { useEffect, useState } from 'preact/hooks'
import { useReview } from '../app/context'
import { refusedChange, unsavedChange } from '../app/texts'

export function RefusalNotices() {
  const { sync } = useReview()
  const [refusals, setRefusals] = useState(sync.refusals())
  useEffect(() => {
    setRefusals(sync.refusals())
    return sync.onState(() => setRefusals(sync.refusals()))
  }, [sync])
  if (!refusals.length) return null
  return (
    <div class="refusals">
      {refusals.map((r) => (
        <div key={r.doc} class="notice notice-warn refusal" role="alert" data-doc={r.doc}>
          <span>{r.kept ? unsavedChange(r.doc, r.reason) : refusedChange(r.doc, r.reason)}</span>{' '}
          <button type="button" class="btn btn-quiet btn-small" onClick={() => sync.dismissRefusal(r.doc)}>
            Dismiss
          </button>
        </div>
      ))}
    </div>
  )
}
