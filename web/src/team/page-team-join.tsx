// Join a team /tj/<code>: a name, then straight to the team's page.
import { useState } from 'preact/hooks'
import { ApiError } from '../app/api'
import { navigate, teamPath } from '../app/router'
import { ErrorText, TextField, useCommand } from '../app/ui'
import { joinTeam, rememberTeam } from './api'

export function TeamJoinPage({ code }: { code: string }) {
  const [name, setName] = useState('')
  const { run, busy, error } = useCommand()
  const join = () =>
    run(async () => {
      try {
        const joined = await joinTeam(code, name.trim())
        rememberTeam({ id: joined.team_id, name: '', role: joined.role })
        navigate(teamPath(joined.team_id), true)
      } catch (e) {
        if (e instanceof ApiError && e.code === 'link-invalid')
          throw new Error('This team link no longer works: it was replaced or revoked. Ask a team admin for the current one.')
        throw e
      }
    })
  return (
    <main class="page narrow" id="main">
      <h1>Join the team</h1>
      <p class="lead">
        A team keeps its reviews, its people and the actions they agreed on in one place. Your name shows on
        the changes you make to actions.
      </p>
      <form
        class="panel"
        onSubmit={(e) => {
          e.preventDefault()
          void join()
        }}
      >
        <TextField id="team-member-name" label="Your name" name="name" maxLength={80} autoComplete="name" value={name} onValue={setName} />
        <div class="row">
          <button class="btn btn-primary" type="submit" disabled={busy || !name.trim()}>
            Join the team
          </button>
        </div>
        <ErrorText message={error} />
      </form>
    </main>
  )
}
