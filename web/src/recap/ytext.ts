// Two-way binding between a <textarea> and a Y.Text, keeping the caret in place when
// other people's edits arrive.
import * as Y from 'yjs'

const LOCAL = Symbol('textarea')

/** The first `max` UTF-16 units of `value`, without splitting a surrogate pair. The server
 * counts code points, never more than UTF-16 units, so the result always fits. */
export function clip(value: string, max: number): string {
  if (value.length <= max) return value
  const code = value.charCodeAt(max - 1)
  return value.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max)
}

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

/** Binds `el` to `text`; with `max`, what is typed never makes the text longer than that
 * (the server refuses a longer one). */
export function bindTextarea(el: HTMLTextAreaElement, text: Y.Text, max?: number): () => void {
  el.value = text.toString()
  const onInput = () => {
    const before = text.toString()
    const change = diff(before, el.value)
    // `maxLength` already stops typing and cuts pastes; this catches whatever bypasses it,
    // by cutting what was inserted (never what was already there).
    const room = max === undefined ? Infinity : max - (before.length - change.remove)
    if (change.insert.length > room) {
      change.insert = clip(change.insert, Math.max(0, room))
      const caret = change.at + change.insert.length
      el.value = before.slice(0, change.at) + change.insert + before.slice(change.at + change.remove)
      el.setSelectionRange(caret, caret)
    }
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
