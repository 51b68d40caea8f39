// The learning brief of one theme group. The team edits the text as written; every
// export holds the preview, where each name, email and handle is replaced by a role.
// The preview lists each replacement: undo one, apply it again, or add one that was missed.
import type { ComponentChildren } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { BRIEF_HINT, BRIEF_PUBLISHED, BRIEF_ROLES } from '../app/texts'
import { ActionButton, ErrorText, Section, useCommand } from '../app/ui'
import { isAdmin, type TeamCtx } from '../team/team-context'
import {
  addReplacement,
  briefExportUrl,
  createBrief,
  editBriefText,
  publishBrief,
  redoReplacement,
  undoReplacement,
  type Brief,
  type Replacement,
  type ThemeGroup,
} from './api'

/** The preview text with each replacement marked where it sits. */
function PreviewText({ text, replacements }: { text: string; replacements: Replacement[] }) {
  const parts: ComponentChildren[] = []
  let at = 0
  for (const r of [...replacements].sort((a, b) => a.out_start - b.out_start)) {
    if (r.out_start < at || r.out_end > text.length) continue
    parts.push(text.slice(at, r.out_start))
    parts.push(
      <mark key={r.id} class={r.undone ? 'kept' : 'replaced'}>
        {text.slice(r.out_start, r.out_end)}
      </mark>,
    )
    at = r.out_end
  }
  parts.push(text.slice(at))
  return <pre class="brief-preview prewrap">{parts}</pre>
}

function ReplacementRow({ r, locked, onUndo, onRedo }: { r: Replacement; locked: boolean; onUndo: () => Promise<void>; onRedo: () => Promise<void> }) {
  const where = r.where ? [r.where.section, `line ${r.where.line}`].filter(Boolean).join(', ') : ''
  return (
    <li class={`replacement ${r.undone ? 'replacement-undone' : ''}`} data-replacement-id={r.id} data-undone={r.undone ? 'true' : 'false'} data-kind={r.kind}>
      <span class="replacement-original">{r.original}</span>
      <span aria-hidden="true"> → </span>
      <span class="offscreen"> becomes </span>
      <span class="replacement-new">{r.replacement}</span>
      <span class="muted small">
        {where ? ` · ${where}` : ''}
        {r.undone ? ' · kept as written' : ''}
      </span>
      {!locked &&
        (r.undone ? (
          <ActionButton kind="quiet" onClick={onRedo} aria-label={`Replace “${r.original}” again`}>
            Replace again
          </ActionButton>
        ) : (
          <ActionButton kind="quiet" onClick={onUndo} aria-label={`Undo: keep “${r.original}”`}>
            Undo
          </ActionButton>
        ))}
    </li>
  )
}

function AddReplacement({ onAdd }: { onAdd: (original: string, replacement: string) => Promise<void> }) {
  const [original, setOriginal] = useState('')
  const [replacement, setReplacement] = useState(BRIEF_ROLES[0] ?? '')
  const cmd = useCommand()
  return (
    <form
      class="add-replacement"
      aria-label="Add a replacement"
      onSubmit={(e) => {
        e.preventDefault()
        void cmd.run(async () => {
          await onAdd(original.trim(), replacement.trim())
          setOriginal('')
        })
      }}
    >
      <div class="filter-row">
        <div>
          <label for="replace-original">Also replace</label>
          <input id="replace-original" required maxLength={200} value={original} onInput={(e) => setOriginal(e.currentTarget.value)} />
        </div>
        <div>
          <label for="replace-with">with</label>
          <input id="replace-with" maxLength={100} list="brief-roles" value={replacement} onInput={(e) => setReplacement(e.currentTarget.value)} />
          <datalist id="brief-roles">
            {BRIEF_ROLES.map((r) => (
              <option key={r} value={r} />
            ))}
          </datalist>
        </div>
      </div>
      <div class="row">
        <button type="submit" class="btn btn-secondary btn-small" disabled={cmd.busy || !original.trim()}>
          Add this replacement
        </button>
      </div>
      <ErrorText message={cmd.error} />
    </form>
  )
}

export function BriefEditor({ ctx, group, onClose }: { ctx: TeamCtx; group: ThemeGroup; onClose: () => void }) {
  const [brief, setBrief] = useState<Brief | null>(null)
  const [text, setText] = useState('')
  const load = useCommand()
  const save = useCommand()
  const t = ctx.team.id
  const take = (b: Brief) => {
    setBrief(b)
    setText(b.text)
  }
  useEffect(() => {
    void load.run(async () => take(await createBrief(t, group.name, group.themes.map((th) => th.ref))))
  }, [t, group.id])
  // The editor opens below the figures: bring it to where the person is looking.
  useEffect(() => document.getElementById('learning-brief')?.scrollIntoView({ block: 'start' }), [group.id])
  const dirty = !!brief && text !== brief.text
  const published = brief?.status === 'published'
  // A replacement changes the preview on the server: keep the person's edits first.
  const keepEdits = async () => {
    if (dirty && brief) take(await editBriefText(t, brief.id, text))
  }
  const active = brief ? brief.preview.replacements.filter((r) => !r.undone).length : 0
  return (
    <Section
      title={`Learning brief: ${group.name}`}
      id="learning-brief"
      actions={
        <button type="button" class="btn btn-quiet btn-small" onClick={onClose}>
          Back to the themes
        </button>
      }
    >
      <ErrorText message={load.error} />
      {!brief && !load.error && <p class="muted">Writing the draft from the group’s reviews…</p>}
      {brief && (
        <div class="brief" data-brief-id={brief.id} data-status={brief.status}>
          <p class="muted small">{BRIEF_HINT}</p>
          {published && <p class="notice notice-info">{BRIEF_PUBLISHED}</p>}
          <div class="brief-grid">
            <div>
              <label for="brief-text">The brief as written (Markdown)</label>
              <textarea id="brief-text" class="brief-text mono" rows={22} readOnly={published} value={text} onInput={(e) => setText(e.currentTarget.value)} />
              {!published && (
                <div class="row">
                  <button
                    type="button"
                    class="btn btn-secondary"
                    disabled={!dirty || save.busy}
                    onClick={() => void save.run(async () => take(await editBriefText(t, brief.id, text)))}
                  >
                    Save the text
                  </button>
                  {dirty && <span class="muted small">Save the text to see it in the preview, export or publish it.</span>}
                </div>
              )}
              <ErrorText message={save.error} />
            </div>
            <div>
              <h3 id="brief-preview-title">Preview: what every export holds</h3>
              <PreviewText text={published && brief.published_text ? brief.published_text : brief.preview.text} replacements={published ? [] : brief.preview.replacements} />
            </div>
          </div>
          <h3>
            Replacements <span class="badge">{active}</span>
          </h3>
          {brief.preview.replacements.length === 0 && <p class="muted small">No name, email or handle was found.</p>}
          <ul class="replacements">
            {brief.preview.replacements.map((r) => (
              <ReplacementRow
                key={r.id}
                r={r}
                locked={published}
                onUndo={async () => {
                  await keepEdits()
                  take(await undoReplacement(t, brief.id, r.id))
                }}
                onRedo={async () => {
                  await keepEdits()
                  take(await redoReplacement(t, brief.id, r.id))
                }}
              />
            ))}
          </ul>
          {!published && (
            <AddReplacement
              onAdd={async (original, replacement) => {
                await keepEdits()
                take(await addReplacement(t, brief.id, original, replacement))
              }}
            />
          )}
          <div class="row">
            {dirty ? (
              <span class="muted small">Unsaved changes: save the text before exporting.</span>
            ) : (
              <>
                <a class="btn btn-secondary" href={briefExportUrl(t, brief.id, 'md')} download>
                  Download .md
                </a>
                <a class="btn btn-secondary" href={briefExportUrl(t, brief.id, 'html')} download>
                  Download .html
                </a>
                {!published && isAdmin(ctx) && (
                  <ActionButton kind="primary" onClick={async () => take(await publishBrief(t, brief.id))}>
                    Publish the brief
                  </ActionButton>
                )}
              </>
            )}
          </div>
        </div>
      )}
    </Section>
  )
}
