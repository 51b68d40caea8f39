// Evidence links of a review, as a list: a link where the address is safe to open.
import type { Link } from '../app/model'
import { safeUrl } from '../app/model'

export function EvidenceLinks({ links }: { links: Link[] }) {
  return (
    <ul class="evidence-links">
      {links.map((l, i) => {
        const href = safeUrl(l.url)
        return (
          <li key={i}>
            {href ? (
              <a href={href} target="_blank" rel="noopener noreferrer nofollow">
                {l.title || l.url}
              </a>
            ) : (
              l.title || l.url
            )}
          </li>
        )
      })}
    </ul>
  )
}
