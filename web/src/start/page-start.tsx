// Start: create a team (its reviews, people and actions live together) or a single review
// that hands out one invite link per role.
import { useState } from 'preact/hooks'
import { createReview, joinReview, type Created } from '../app/commands'
import { codeOf, navigate, reviewPath, teamPath } from '../app/router'
import { saveSession, type Role } from '../app/session'
import { ROLE_HINTS, ROLE_LABELS } from '../app/texts'
import { CopyButton, ErrorText, TextField, useCommand } from '../app/ui'
import { createTeam, joinTeam, knownTeams, rememberTeam } from '../team/api'

const ROLES: Role[] = ['moderator', 'scribe', 'participant', 'observer']

function YourTeams() {
  const teams = knownTeams().filter((t) => t.name)
  if (!teams.length) return null
  return (
    <section class="panel" aria-labelledby="your-teams">
      <h2 id="your-teams">Your teams</h2>
      <ul class="team-links-list">
        {teams.map((t) => (
          <li key={t.id}>
            <a
              href={teamPath(t.id)}
              onClick={(e) => {
                e.preventDefault()
                navigate(teamPath(t.id))
              }}
            >
              {t.name}
            </a>
          </li>
        ))}
      </ul>
    </section>
  )
}

/** A new team: its admin link is joined right away, so the creator lands on the team page. */
function NewTeam() {
  const [name, setName] = useState('')
  const [you, setYou] = useState('')
  const cmd = useCommand()
  const submit = (e: Event) => {
    e.preventDefault()
    void cmd.run(async () => {
      const team = await createTeam(name.trim())
      const joined = await joinTeam(codeOf(team.links.admin), you.trim())
      rememberTeam({ id: team.id, name: team.name, role: joined.role })
      navigate(teamPath(team.id))
    })
  }
  return (
    <form class="panel" onSubmit={submit} aria-labelledby="new-team">
      <h2 id="new-team">New team</h2>
      <p class="muted small">
        A team keeps its reviews, its people and every action they agreed on, so nobody loses track after the meeting.
      </p>
      <TextField id="team-name" label="Team name" name="team" maxLength={120} placeholder="e.g. Payments platform" value={name} onValue={setName} />
      <TextField id="team-admin-name" label="Your name" name="admin" maxLength={80} autoComplete="name" value={you} onValue={setYou} />
      <div class="row">
        <button class="btn btn-primary" type="submit" disabled={cmd.busy || !name.trim() || !you.trim()}>
          Create the team
        </button>
      </div>
      <ErrorText message={cmd.error} />
    </form>
  )
}

export function StartPage() {
  const [title, setTitle] = useState('')
  const [name, setName] = useState('')
  const [created, setCreated] = useState<Created | null>(null)
  const create = useCommand()
  const open = useCommand()

  const submit = (e: Event) => {
    e.preventDefault()
    void create.run(async () => setCreated(await createReview(title.trim())))
  }

  const openAsModerator = () =>
    open.run(async () => {
      if (!created) return
      const joined = await joinReview(created.invites.moderator, name.trim())
      saveSession(joined)
      navigate(reviewPath(joined.review_id, 'prepare'))
    })

  return (
    <main class="page narrow" id="main">
      <h1>Start a blameless review</h1>
      <p class="lead">
        Debrief helps a group look back at an incident, a launch or a project phase and leave with
        changes that each have one owner. No accounts: everyone joins from a link.
      </p>
      {!created && <YourTeams />}
      {!created && <NewTeam />}
      {!created && (
        <form class="panel" onSubmit={submit} aria-labelledby="new-review">
          <h2 id="new-review">Just one review</h2>
          <label for="review-title">What are we reviewing?</label>
          <input
            id="review-title"
            name="title"
            required
            maxLength={200}
            placeholder="e.g. Checkout errors on 3 March"
            value={title}
            onInput={(e) => setTitle(e.currentTarget.value)}
          />
          <label for="moderator-name">Your name as moderator (optional)</label>
          <input
            id="moderator-name"
            name="name"
            maxLength={80}
            autoComplete="nickname"
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
          />
          <div class="row">
            <button class="btn btn-primary" type="submit" disabled={create.busy || !title.trim()}>
              Create the review
            </button>
          </div>
          <ErrorText message={create.error} />
        </form>
      )}
      {created && (
        <section class="panel" aria-labelledby="invites-title">
          <h2 id="invites-title">Invite links for “{created.title}”</h2>
          <p>Send each link only to the people in that role. Anyone holding a link can join with it.</p>
          <ul class="invite-list">
            {ROLES.map((role) => (
              <li key={role} class="invite" data-role={role}>
                <div>
                  <strong>{ROLE_LABELS[role]}</strong>
                  <span class="muted"> · {ROLE_HINTS[role]}</span>
                </div>
                <div class="row">
                  <input
                    readOnly
                    class="mono"
                    aria-label={`${ROLE_LABELS[role]} invite link`}
                    value={created.invites[role]}
                    onFocus={(e) => e.currentTarget.select()}
                  />
                  <CopyButton text={created.invites[role]} label={`Copy the ${ROLE_LABELS[role]?.toLowerCase()} link`} />
                </div>
              </li>
            ))}
          </ul>
          <div class="row">
            <button type="button" class="btn btn-primary" onClick={() => void openAsModerator()} disabled={open.busy}>
              Prepare the review as moderator
            </button>
          </div>
          <ErrorText message={open.error} />
        </section>
      )}
    </main>
  )
}
