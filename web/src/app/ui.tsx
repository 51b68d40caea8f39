// Small shared pieces: command buttons with busy/error state, copy buttons, notices.
import type { ButtonHTMLAttributes, ComponentChildren } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { errorText } from './api'
import { formatDateTime } from './intl'

/** Run an async command, tracking busy state and the last error message. */
export function useCommand(): {
  run: (fn: () => Promise<unknown>) => Promise<boolean>
  busy: boolean
  error: string
  clear: () => void
} {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  const run = async (fn: () => Promise<unknown>) => {
    setBusy(true)
    setError('')
    try {
      await fn()
      return true
    } catch (e) {
      setError(errorText(e))
      return false
    } finally {
      setBusy(false)
    }
  }
  return { run, busy, error, clear: () => setError('') }
}

export function ErrorText({ message, id }: { message: string; id?: string }) {
  if (!message) return null
  return (
    <p class="error" role="alert" id={id}>
      {message}
    </p>
  )
}

type ButtonProps = Omit<ButtonHTMLAttributes<HTMLButtonElement>, 'onClick' | 'disabled' | 'children'> & {
  onClick: () => Promise<unknown> | void
  children: ComponentChildren
  kind?: 'primary' | 'secondary' | 'danger' | 'quiet'
  disabled?: boolean
}

/** A button whose async action shows progress and reports its own errors.
 *  Unavailable (busy, or `disabled`) is marked with aria-disabled rather than the
 *  attribute: a disabled button drops keyboard focus to the page body, so after
 *  Enter on "Vote" the next Tab would start over from the top. */
export function ActionButton({ onClick, children, kind = 'secondary', disabled, ...rest }: ButtonProps) {
  const { run, busy, error } = useCommand()
  const off = !!disabled || busy
  return (
    <span class="action-button">
      <button
        type="button"
        class={`btn btn-${kind}`}
        aria-disabled={off}
        aria-busy={busy}
        onClick={() => {
          if (!off) void run(async () => onClick())
        }}
        {...rest}
      >
        {children}
      </button>
      <ErrorText message={error} />
    </span>
  )
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false)
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text)
    } catch {
      // Clipboard API refused (e.g. plain http): fall back to a selected hidden field.
      const area = document.createElement('textarea')
      area.value = text
      area.setAttribute('readonly', '')
      area.className = 'offscreen'
      document.body.appendChild(area)
      area.select()
      document.execCommand('copy')
      area.remove()
    }
    setCopied(true)
    setTimeout(() => setCopied(false), 2000)
  }
  return (
    <button type="button" class="btn btn-secondary" onClick={() => void copy()} aria-label={label}>
      {copied ? 'Copied' : 'Copy'}
    </button>
  )
}

export function Notice({ children, tone = 'info' }: { children: ComponentChildren; tone?: 'info' | 'warn' }) {
  return <div class={`notice notice-${tone}`}>{children}</div>
}

export function Section({ title, children, id, actions }: { title: string; children: ComponentChildren; id?: string; actions?: ComponentChildren }) {
  const headingId = id ? `${id}-title` : undefined
  return (
    <section class="panel" id={id} aria-labelledby={headingId}>
      <div class="panel-head">
        <h2 id={headingId}>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  )
}

/** Renders `children` only after the frame that first shows its parent has been painted:
 *  for what sits below the fold, so the part people act on first appears sooner. */
export function AfterFirstPaint({ children }: { children: ComponentChildren }) {
  const [shown, setShown] = useState(false)
  useEffect(() => setShown(true), []) // Preact runs effects once the frame is painted
  return shown ? <>{children}</> : null
}

export function formatLocalTime(iso: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return formatDateTime(d)
}

type TextFieldProps = {
  id: string
  label: string
  name: string
  value: string
  onValue: (value: string) => void
  maxLength: number
  placeholder?: string
  autoComplete?: string
}

/** A required one-line text input with its label. */
export function TextField({ id, label, onValue, ...input }: TextFieldProps) {
  return (
    <>
      <label for={id}>{label}</label>
      <input id={id} required {...input} onInput={(e) => onValue(e.currentTarget.value)} />
    </>
  )
}
