// Two-way binding between a <textarea> and a Y.Text, keeping the caret in place when
// other people's edits arrive.
import * as Y from 'yjs'

const LOCAL = Symbol('textarea')

function diff(before: string, after: string): { at: number; remove: number; insert: string } {
  let start = 0
  while (start < before.length && start < after.length && before[start] === after[start]) start++
  let endBefore = before.length
  let endAfter = after.length
  while (endBefore > start && endAfter > start && before[endBefore - 1] === after[endAfter - 1]) {
    endBefore--
    endAfter--
  }
  return { at: start, remove: endBefore - start, insert: after.slice(start, endAfter) }
}

type Delta = { insert?: unknown; delete?: number; retain?: number }[]

function shift(pos: number, delta: Delta): number {
  let index = 0
  let result = pos
  for (const op of delta) {
    if (op.retain) index += op.retain
    else if (typeof op.insert === 'string') {
      if (index < result) result += op.insert.length
      index += op.insert.length
    } else if (op.delete) {
      if (index < result) result = Math.max(index, result - op.delete)
    }
  }
  return result
}

export function bindTextarea(el: HTMLTextAreaElement, text: Y.Text): () => void {
  el.value = text.toString()
  const onInput = () => {
    const change = diff(text.toString(), el.value)
    if (!change.remove && !change.insert) return
    text.doc?.transact(() => {
      if (change.remove) text.delete(change.at, change.remove)
      if (change.insert) text.insert(change.at, change.insert)
    }, LOCAL)
  }
  const onChange = (event: Y.YTextEvent, tx: Y.Transaction) => {
    if (tx.origin === LOCAL) return
    const focused = document.activeElement === el
    const start = el.selectionStart
    const end = el.selectionEnd
    const delta = event.delta as Delta
    el.value = text.toString()
    if (focused) el.setSelectionRange(shift(start, delta), shift(end, delta))
  }
  el.addEventListener('input', onInput)
  text.observe(onChange)
  return () => {
    el.removeEventListener('input', onInput)
    text.unobserve(onChange)
  }
}
