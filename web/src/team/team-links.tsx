// The team's links (admin): who holds which one, replace or revoke them.
import { useEffect, useState } from 'preact/hooks'
import { CopyButton, ErrorText, Section, useCommand } from '../app/ui'
import { TEAM_ROLE_LABELS } from '../app/texts'
import { listLinks, revokeLink, rotateLink, type TeamLink, type TeamRole } from './api'
import type { TeamCtx } from './team-context'

const HINTS: Record<TeamRole, string> = {
  admin: 'Runs the team: links, people, deleting reviews, verifying any action.',
  member: 'Sees the team’s reviews and actions, starts reviews, adds people.',
}

export function LinksView({ ctx }: { ctx: TeamCtx }) {
  const [links, setLinks] = useState<TeamLink[] | null>(null)
  const [said, setSaid] = useState('')
  const cmd = useCommand()
  const load = () => cmd.run(async () => setLinks((await listLinks(ctx.team.id)).links))
  useEffect(() => {
    void load()
  }, [ctx.team.id, ctx.version])
  const rotate = (role: TeamRole) =>
    cmd.run(async () => {
      const answer = await rotateLink(ctx.team.id, role)
      setSaid(`A new ${TEAM_ROLE_LABELS[role]?.toLowerCase()} link is ready; ${answer.revoked.length} old one(s) stopped working.`)
      await load()
    })
  const revoke = (code: string) =>
    cmd.run(async () => {
      await revokeLink(ctx.team.id, code)
      setSaid('The link is revoked: whoever joined with it is signed out of the team.')
      await load()
    })
  return (
    <Section title="Team links" id="team-links">
      <p class="muted small">Anyone holding a link can join the team in its role. Replace a link that went too far.</p>
      {said && <p class="notice notice-info" role="status">{said}</p>}
      <ErrorText message={cmd.error} />
      {(['admin', 'member'] as TeamRole[]).map((role) => (
        <div key={role} class="team-link-group" data-role={role}>
          <h3>{TEAM_ROLE_LABELS[role]}</h3>
          <p class="muted small">{HINTS[role]}</p>
          <ul class="invite-list">
            {links
              ?.filter((l) => l.role === role)
              .map((l) => (
                <li key={l.code} class="invite" data-revoked={l.revoked ? 'true' : 'false'}>
                  <div class="row">
                    <input readOnly class="mono" aria-label={`${TEAM_ROLE_LABELS[role]} link`} value={l.url} onFocus={(e) => e.currentTarget.select()} />
                    {l.revoked ? (
                      <span class="badge badge-warn">Revoked</span>
                    ) : (
                      <>
                        <CopyButton text={l.url} label={`Copy the ${TEAM_ROLE_LABELS[role]?.toLowerCase()} link`} />
                        <button type="button" class="btn btn-quiet btn-small" disabled={cmd.busy} onClick={() => void revoke(l.code)}>
                          Revoke
                        </button>
                      </>
                    )}
                  </div>
                </li>
              ))}
          </ul>
          <button type="button" class="btn btn-secondary btn-small" disabled={cmd.busy} onClick={() => void rotate(role)}>
            Replace the {TEAM_ROLE_LABELS[role]?.toLowerCase()} link
          </button>
        </div>
      ))}
    </Section>
  )
}
