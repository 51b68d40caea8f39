// Invites: one link per role; revoke or replace a link (its sessions end).
import { useEffect, useState } from 'preact/hooks'
import { listInvites, revokeInvite, rotateInvite, type InviteInfo } from '../app/commands'
import { useReview } from '../app/context'
import { ROLE_LABELS } from '../app/texts'
import { ActionButton, CopyButton, ErrorText, Section } from '../app/ui'
import { errorText } from '../app/api'

export function InvitesPanel() {
  const { id } = useReview()
  const [invites, setInvites] = useState<InviteInfo[]>([])
  const [error, setError] = useState('')
  const load = async () => {
    try {
      setInvites((await listInvites(id)).invites)
      setError('')
    } catch (e) {
      setError(errorText(e))
    }
  }
  useEffect(() => {
    void load()
  }, [id])
  const active = invites.filter((i) => !i.revoked)
  return (
    <Section title="Invite links" id="invites">
      <p class="muted small">Replacing a link ends the sessions of everyone who joined with the old one.</p>
      <ul class="invite-list">
        {active.map((inv) => (
          <li key={inv.code} class="invite" data-role={inv.role}>
            <strong>{ROLE_LABELS[inv.role] ?? inv.role}</strong>
            <div class="row">
              <input readOnly class="mono" aria-label={`${ROLE_LABELS[inv.role]} invite link`} value={inv.url} />
              <CopyButton text={inv.url} label={`Copy the ${ROLE_LABELS[inv.role]?.toLowerCase()} link`} />
              {inv.role !== 'moderator' && (
                <>
                  <ActionButton onClick={async () => { await rotateInvite(id, inv.role); await load() }} aria-label={`Replace the ${inv.role} link`}>
                    Replace
                  </ActionButton>
                  <ActionButton kind="quiet" onClick={async () => { await revokeInvite(id, inv.code); await load() }} aria-label={`Revoke the ${inv.role} link`}>
                    Revoke
                  </ActionButton>
                </>
              )}
            </div>
          </li>
        ))}
      </ul>
      <ErrorText message={error} />
    </Section>
  )
}
