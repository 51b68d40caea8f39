// The ground rules, shown while the opening phase runs (and in the pre-read).
import { GROUND_RULES, OPENING } from '../app/texts'

export function GroundRules({ compact = false }: { compact?: boolean }) {
  return (
    <section class={`panel ground-rules ${compact ? 'compact' : ''}`} aria-labelledby="rules-title">
      <h2 id="rules-title">Ground rules</h2>
      <p class="lead">{OPENING}</p>
      <ol>
        {GROUND_RULES.map((rule) => (
          <li key={rule}>{rule}</li>
        ))}
      </ol>
    </section>
  )
}
