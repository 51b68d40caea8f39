// The team's delivery (admin): where messages go (email, webhooks) and what happened to
// each one sent, with its attempts and a way to send it again.
import { useEffect, useState } from 'preact/hooks'
import {
  DELIVERY_STATE_LABELS,
  EVENT_LABELS,
  EVENT_SHORT,
  SECRET_ONCE,
  WEBHOOK_KIND_LABELS,
  WEBHOOK_SECRET_HELP,
} from '../app/texts'
import { CopyButton, ErrorText, Section, formatLocalTime, useCommand } from '../app/ui'
import {
  EVENTS,
  addWebhook,
  attemptCount,
  getChannels,
  getDelivery,
  setWebhookOn,
  testEmail,
  listDeliveries,
  putChannels,
  removeWebhook,
  replayDelivery,
  testWebhook,
  type Channels,
  type Delivery,
  type DeliveryDetail,
  type EmailChannel,
  type SmtpSettings,
  type Webhook,
  type WebhookKind,
} from './delivery-api'
import type { TeamCtx } from './team-context'

const when = (ms: number) => formatLocalTime(new Date(ms).toISOString())
const DEFAULT_SMTP: SmtpSettings = { host: '', port: 587, starttls: true, username: '', password: '' }

function EmailForm({ ctx, channels, saved }: { ctx: TeamCtx; channels: Channels; saved: () => void }) {
  const [email, setEmail] = useState<EmailChannel>(channels.email)
  const [said, setSaid] = useState('')
  const cmd = useCommand()
  useEffect(() => setEmail(channels.email), [channels])
  const own = email.smtp !== null
  const smtp = email.smtp ?? DEFAULT_SMTP
  const setSmtp = (fields: Partial<typeof smtp>) => setEmail({ ...email, smtp: { ...smtp, ...fields } })
  return (
    <form
      aria-labelledby="email-channel-title"
      onSubmit={(e) => {
        e.preventDefault()
        setSaid('')
        void cmd.run(async () => {
          const body: EmailChannel = {
            enabled: email.enabled,
            from_addr: email.from_addr.trim(),
            // An empty password field keeps the saved password (the server's rule for a missing one).
            smtp: own
              ? { host: smtp.host.trim(), port: Number(smtp.port), starttls: smtp.starttls, username: smtp.username.trim(), ...(smtp.password ? { password: smtp.password } : {}) }
              : null,
          }
          await putChannels(ctx.team.id, { email: body })
          setSaid('Email settings saved.')
          saved()
        })
      }}
    >
      <h3 id="email-channel-title">Email</h3>
      <label class="check">
        <input type="checkbox" checked={email.enabled} onChange={(e) => setEmail({ ...email, enabled: e.currentTarget.checked })} />
        Send email to the team’s people
      </label>
      <label for="email-from">Sender address</label>
      <input id="email-from" type="email" maxLength={254} placeholder="debrief@example.org" value={email.from_addr} onInput={(e) => setEmail({ ...email, from_addr: e.currentTarget.value })} />
      <fieldset class="smtp-choice">
        <legend>Mail server</legend>
        <label class="check">
          <input type="radio" name="smtp-source" checked={!own} onChange={() => setEmail({ ...email, smtp: null })} />
          The one this Debrief server is set up with{channels.server_smtp === false ? ' (none is set up)' : ''}
        </label>
        <label class="check">
          <input type="radio" name="smtp-source" checked={own} onChange={() => setEmail({ ...email, smtp: { ...DEFAULT_SMTP } })} />
          Our own mail server
        </label>
      </fieldset>
      {own && (
        <div class="smtp-fields">
          <div class="grid-2">
            <div>
              <label for="smtp-host">Server name</label>
              <input id="smtp-host" required maxLength={253} placeholder="smtp.example.org" value={smtp.host} onInput={(e) => setSmtp({ host: e.currentTarget.value })} />
            </div>
            <div>
              <label for="smtp-port">Port</label>
              <input id="smtp-port" type="number" min={1} max={65535} required value={smtp.port} onInput={(e) => setSmtp({ port: Number(e.currentTarget.value) })} />
            </div>
          </div>
          <label class="check">
            <input type="checkbox" checked={smtp.starttls} onChange={(e) => setSmtp({ starttls: e.currentTarget.checked })} />
            Encrypt the connection (STARTTLS)
          </label>
          <div class="grid-2">
            <div>
              <label for="smtp-user">User name (optional)</label>
              <input id="smtp-user" maxLength={254} autoComplete="off" value={smtp.username} onInput={(e) => setSmtp({ username: e.currentTarget.value })} />
            </div>
            <div>
              <label for="smtp-password">Password{smtp.password_set ? ' (leave empty to keep the saved one)' : ' (optional)'}</label>
              <input id="smtp-password" type="password" maxLength={500} autoComplete="new-password" value={smtp.password ?? ''} onInput={(e) => setSmtp({ password: e.currentTarget.value })} />
            </div>
          </div>
        </div>
      )}
      <div class="row">
        <button type="submit" class="btn btn-primary" disabled={cmd.busy}>
          Save email settings
        </button>
      </div>
      {said && <p class="notice notice-info" role="status">{said}</p>}
      <ErrorText message={cmd.error} />
    </form>
  )
}

function TestEmail({ ctx, sent }: { ctx: TeamCtx; sent: () => void }) {
  const [to, setTo] = useState('')
  const [said, setSaid] = useState('')
  const cmd = useCommand()
  return (
    <form
      class="test-email"
      aria-label="Send a test email"
      onSubmit={(e) => {
        e.preventDefault()
        setSaid('')
        void cmd.run(async () => {
          await testEmail(ctx.team.id, to.trim())
          setSaid(`A test email to ${to.trim()} is on its way; the delivery log shows how it went.`)
          sent()
        })
      }}
    >
      <label for="test-email-to">Send a test email to</label>
      <div class="row">
        <input id="test-email-to" type="email" required maxLength={254} value={to} onInput={(e) => setTo(e.currentTarget.value)} />
        <button type="submit" class="btn btn-secondary btn-small" disabled={cmd.busy || !to.trim()}>
          Send a test email
        </button>
      </div>
      {said && <p class="muted small" role="status">{said}</p>}
      <ErrorText message={cmd.error} />
    </form>
  )
}

function WebhookRow({ ctx, hook, changed }: { ctx: TeamCtx; hook: Webhook; changed: () => void }) {
  const [said, setSaid] = useState('')
  const cmd = useCommand()
  const all = hook.events.includes('*')
  return (
    <li class="webhook" data-webhook-id={hook.id} data-kind={hook.kind}>
      <div class="row tight">
        <strong>{WEBHOOK_KIND_LABELS[hook.kind] ?? hook.kind}</strong>
        {!hook.enabled && <span class="badge badge-warn">Off</span>}
      </div>
      <p class="mono small webhook-url">{hook.url}</p>
      <p class="muted small">{all ? 'Every event' : hook.events.map((e) => EVENT_SHORT[e] ?? e).join(', ')}</p>
      <div class="row tight">
        <button
          type="button"
          class="btn btn-secondary btn-small"
          disabled={cmd.busy}
          onClick={() =>
            void cmd.run(async () => {
              await testWebhook(ctx.team.id, hook.id)
              setSaid('A test message is on its way; the delivery log below shows how it went.')
              changed()
            })
          }
        >
          Send a test
        </button>
        <button
          type="button"
          class="btn btn-quiet btn-small"
          disabled={cmd.busy}
          onClick={() =>
            void cmd.run(async () => {
              await setWebhookOn(ctx.team.id, hook.id, !hook.enabled)
              setSaid(hook.enabled ? 'Turned off: it gets nothing until you turn it on again.' : 'Turned on.')
              changed()
            })
          }
        >
          {hook.enabled ? 'Turn off' : 'Turn on'}
        </button>
        <button
          type="button"
          class="btn btn-quiet btn-small"
          disabled={cmd.busy}
          aria-label={`Remove the webhook ${hook.url}`}
          onClick={() =>
            void cmd.run(async () => {
              await removeWebhook(ctx.team.id, hook.id)
              changed()
            })
          }
        >
          Remove
        </button>
      </div>
      {said && <p class="muted small" role="status">{said}</p>}
      <ErrorText message={cmd.error} />
    </li>
  )
}

function AddWebhook({ ctx, added }: { ctx: TeamCtx; added: () => void }) {
  const [kind, setKind] = useState<WebhookKind>('json')
  const [url, setUrl] = useState('')
  const [all, setAll] = useState(true)
  const [events, setEvents] = useState<string[]>([])
  const [secret, setSecret] = useState('')
  const cmd = useCommand()
  const toggle = (event: string, on: boolean) => setEvents(on ? [...events, event] : events.filter((e) => e !== event))
  return (
    <form
      class="add-webhook"
      aria-labelledby="add-webhook-title"
      onSubmit={(e) => {
        e.preventDefault()
        setSecret('')
        void cmd.run(async () => {
          const hook = await addWebhook(ctx.team.id, { kind, url: url.trim(), events: all ? ['*'] : events })
          setSecret(hook.secret ?? '')
          setUrl('')
          added()
        })
      }}
    >
      <h3 id="add-webhook-title">Add a webhook</h3>
      <label for="webhook-kind">Kind</label>
      <select id="webhook-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value as WebhookKind)}>
        {(['slack', 'mattermost', 'json'] as WebhookKind[]).map((k) => (
          <option key={k} value={k}>
            {WEBHOOK_KIND_LABELS[k]}
          </option>
        ))}
      </select>
      <label for="webhook-url">Address (https://…)</label>
      <input id="webhook-url" type="url" required maxLength={2000} placeholder="https://hooks.example.org/…" value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
      <fieldset>
        <legend>Which events</legend>
        <label class="check">
          <input type="checkbox" checked={all} onChange={(e) => setAll(e.currentTarget.checked)} />
          Every event
        </label>
        {!all && (
          <ul class="event-choices">
            {EVENTS.map((ev) => (
              <li key={ev}>
                <label class="check">
                  <input type="checkbox" checked={events.includes(ev)} onChange={(e) => toggle(ev, e.currentTarget.checked)} />
                  {EVENT_LABELS[ev]}
                </label>
              </li>
            ))}
          </ul>
        )}
      </fieldset>
      <div class="row">
        <button type="submit" class="btn btn-primary" disabled={cmd.busy || !url.trim() || (!all && events.length === 0)}>
          Add the webhook
        </button>
      </div>
      <ErrorText message={cmd.error} />
      {secret && (
        <div class="notice notice-warn secret-once" role="status">
          <p>
            <strong>The signing secret of this webhook.</strong> {SECRET_ONCE}
          </p>
          <div class="row">
            <input readOnly class="mono" aria-label="Webhook signing secret" value={secret} onFocus={(e) => e.currentTarget.select()} />
            <CopyButton text={secret} label="Copy the signing secret" />
          </div>
          <p class="muted small">{WEBHOOK_SECRET_HELP}</p>
        </div>
      )}
    </form>
  )
}

/** Where a delivery went, in words: the addresses, or the webhook's kind and host. */
function channelText(d: Delivery, hooks: Webhook[]): string {
  if (d.channel === 'email') return `Email to ${(d.to ?? []).join(', ')}`
  const id = d.channel.replace(/^webhook:/, '')
  const hook = hooks.find((h) => h.id === id)
  if (!hook) return 'A webhook since removed'
  let where = hook.url
  try {
    const url = new URL(hook.url)
    where = url.host + url.pathname
  } catch {
    // shown as it was typed
  }
  return `${hook.kind === 'json' ? 'JSON webhook' : hook.kind === 'slack' ? 'Slack' : 'Mattermost'}: ${where}`
}

function Attempts({ ctx, delivery }: { ctx: TeamCtx; delivery: Delivery }) {
  const [detail, setDetail] = useState<DeliveryDetail | null>(null)
  const cmd = useCommand()
  useEffect(() => {
    void cmd.run(async () => setDetail(await getDelivery(ctx.team.id, delivery.id)))
  }, [delivery.id, attemptCount(delivery), delivery.state])
  if (cmd.error) return <ErrorText message={cmd.error} />
  if (!detail) return <p class="muted small">Loading…</p>
  if (detail.attempts.length === 0) return <p class="muted small">Not tried yet.</p>
  return (
    <ol class="attempts small">
      {detail.attempts.map((a, i) => (
        <li key={i} data-ok={a.ok ? 'true' : 'false'}>
          {when(a.at_ms)} · {a.ok ? 'accepted' : 'not accepted'}
          {a.detail ? ` · ${a.detail}` : ''}
        </li>
      ))}
    </ol>
  )
}

function DeliveryRow({ ctx, delivery, hooks, replayed }: { ctx: TeamCtx; delivery: Delivery; hooks: Webhook[]; replayed: () => void }) {
  const [open, setOpen] = useState(false)
  const cmd = useCommand()
  const last = delivery.last
  const canReplay = delivery.state === 'sent' || delivery.state === 'failed' || delivery.state === 'dead'
  const waiting = delivery.state === 'queued' || delivery.state === 'sending'
  const count = attemptCount(delivery)
  return (
    <tr class="delivery" data-delivery-id={delivery.id} data-event={delivery.event} data-channel={delivery.channel} data-state={delivery.state}>
      <td>
        <time dateTime={new Date(delivery.created_ms).toISOString()}>{when(delivery.created_ms)}</time>
      </td>
      <td>
        <strong>{EVENT_SHORT[delivery.event] ?? delivery.event}</strong>
        {delivery.subject && <div class="small">{delivery.subject}</div>}
      </td>
      <td class="small delivery-channel">{channelText(delivery, hooks)}</td>
      <td>
        <span class={`badge ${delivery.state === 'sent' ? 'badge-ok' : waiting ? '' : 'badge-late'}`} data-delivery-state={delivery.state}>
          {DELIVERY_STATE_LABELS[delivery.state] ?? delivery.state}
        </span>
        {delivery.state === 'queued' && count > 0 && delivery.next_at_ms ? <div class="muted small">next try {when(delivery.next_at_ms)}</div> : null}
      </td>
      <td>
        <button type="button" class="btn btn-quiet btn-small" aria-expanded={open} onClick={() => setOpen(!open)}>
          {count} {count === 1 ? 'attempt' : 'attempts'}
        </button>
        {!open && last && !last.ok && <div class="muted small">{last.detail}</div>}
        {open && <Attempts ctx={ctx} delivery={delivery} />}
      </td>
      <td>
        {canReplay && (
          <button
            type="button"
            class="btn btn-secondary btn-small"
            disabled={cmd.busy}
            onClick={() =>
              void cmd.run(async () => {
                await replayDelivery(ctx.team.id, delivery.id)
                replayed()
              })
            }
          >
            Send again
          </button>
        )}
        <ErrorText message={cmd.error} />
      </td>
    </tr>
  )
}

const PAGE = 50

function DeliveryLog({ ctx, hooks, version, changed }: { ctx: TeamCtx; hooks: Webhook[]; version: number; changed: () => void }) {
  const [items, setItems] = useState<Delivery[] | null>(null)
  const [total, setTotal] = useState(0)
  const [offset, setOffset] = useState(0)
  const cmd = useCommand()
  const load = () =>
    cmd.run(async () => {
      const answer = await listDeliveries(ctx.team.id, offset, PAGE)
      setItems(answer.deliveries)
      setTotal(answer.total ?? answer.deliveries.length)
    })
  useEffect(() => {
    void load()
    // Messages leave in the background: read the log again while it is on screen.
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void load()
    }, 4000)
    return () => clearInterval(timer)
  }, [ctx.team.id, version, offset])
  return (
    <Section
      title="Delivery log"
      id="delivery-log"
      actions={
        <button type="button" class="btn btn-quiet btn-small" onClick={() => void load()}>
          Refresh
        </button>
      }
    >
      <p class="muted small">Every message Debrief sent for this team, newest first. A refused message is tried again after 1 minute, 5, 30, 2 hours and 12 hours, then given up.</p>
      <ErrorText message={cmd.error} />
      {items && items.length === 0 && <p class="muted">Nothing sent yet.</p>}
      {items && items.length > 0 && (
        <div class="table-wrap">
          <table class="table delivery-log">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">What</th>
                <th scope="col">Where</th>
                <th scope="col">State</th>
                <th scope="col">Attempts</th>
                <th scope="col">
                  <span class="offscreen">Send again</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <DeliveryRow key={d.id} ctx={ctx} delivery={d} hooks={hooks} replayed={changed} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {total > PAGE && (
        <div class="row pager">
          <button type="button" class="btn btn-quiet btn-small" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            Newer
          </button>
          <span class="muted small">
            {offset + 1}–{Math.min(offset + PAGE, total)} of {total}
          </span>
          <button type="button" class="btn btn-quiet btn-small" disabled={offset + PAGE >= total} onClick={() => setOffset(offset + PAGE)}>
            Older
          </button>
        </div>
      )}
    </Section>
  )
}

export function DeliveryView({ ctx }: { ctx: TeamCtx }) {
  const [channels, setChannels] = useState<Channels | null>(null)
  // Moves after a change here, so the channels and the log read again.
  const [version, setVersion] = useState(0)
  const changed = () => setVersion((n) => n + 1)
  const cmd = useCommand()
  useEffect(() => {
    void cmd.run(async () => setChannels(await getChannels(ctx.team.id)))
  }, [ctx.team.id, ctx.version, version])
  return (
    <div class="delivery-view">
      <div class="team-grid">
        <Section title="Channels" id="team-channels">
          <p class="muted small">Where Debrief sends reminders, invites and recaps. Each person still chooses what they receive, from their own page.</p>
          <ErrorText message={cmd.error} />
          {channels && <EmailForm ctx={ctx} channels={channels} saved={changed} />}
          {channels?.email.enabled && <TestEmail ctx={ctx} sent={changed} />}
        </Section>
        <Section title="Webhooks" id="team-webhooks">
          {channels && channels.webhooks.length === 0 && <p class="muted">No webhook yet.</p>}
          <ul class="webhooks">
            {channels?.webhooks.map((h) => <WebhookRow key={h.id} ctx={ctx} hook={h} changed={changed} />)}
          </ul>
          <AddWebhook ctx={ctx} added={changed} />
        </Section>
      </div>
      <DeliveryLog ctx={ctx} hooks={channels?.webhooks ?? []} version={version} changed={changed} />
    </div>
  )
}
