// The team's "Insights" view: figures of a period (charts, tables, downloads), recurring
// themes with the friction ranking, the learning brief of a group, the quarterly review.
import { useEffect, useMemo, useState } from 'preact/hooks'
import { ErrorText, Section, useCommand } from '../app/ui'
import type { TeamCtx } from '../team/team-context'
import { figureUrl, getFriction, getInsights, getThemes, type FrictionEntry, type ThemeGroup } from './api'
import { BriefEditor } from './brief-editor'
import { FigurePanel } from './chart'
import { figuresOf, followThroughHeadline, type Insights } from './figures'
import { DEFAULT_PERIOD, periodOf, type Period } from './period'
import { PeriodPicker } from './period-picker'
import { QuarterlyReview } from './quarterly'
import { FrictionRanking, ThemeGroups } from './themes'

function Figures({ ctx, data, period }: { ctx: TeamCtx; data: Insights; period: Period }) {
  const f = useMemo(() => figuresOf(data), [data])
  const headline = useMemo(() => followThroughHeadline(data), [data])
  const url = (name: string) => (format: 'csv' | 'json') => figureUrl(ctx.team.id, name, format, period.since, period.until)
  return (
    <div class="insights-figures" data-reviews={data.reviews}>
      <div class="figure-grid">
        <FigurePanel figure={f.categories} download={url(f.categories.name)} />
        <FigurePanel figure={f.trend} download={url(f.trend.name)} />
      </div>
      <Section
        title="Follow-through"
        id="follow-through"
        actions={
          <div class="row tight">
            <a class="btn btn-quiet btn-small" href={url('follow-through')('csv')} download>
              CSV
            </a>
            <a class="btn btn-quiet btn-small" href={url('follow-through')('json')} download>
              JSON
            </a>
          </div>
        }
      >
        <dl class="team-counts follow-headline">
          {headline.map((h) => (
            <div key={h.key} class="count" data-count={h.key} data-value={h.value}>
              <dt>{h.label}</dt>
              <dd>{h.value}</dd>
            </div>
          ))}
        </dl>
        <div class="figure-grid">
          <FigurePanel figure={f.byKind} download={url(f.byKind.name)} />
          <FigurePanel figure={f.byOwner} download={url(f.byOwner.name)} />
        </div>
      </Section>
      <div class="figure-grid">
        <FigurePanel figure={f.distribution} download={url(f.distribution.name)} />
        <FigurePanel figure={f.perReview} download={url(f.perReview.name)} />
      </div>
    </div>
  )
}

export function InsightsView({ ctx }: { ctx: TeamCtx }) {
  const [period, setPeriod] = useState<Period>(() => periodOf(DEFAULT_PERIOD))
  const [data, setData] = useState<Insights | null>(null)
  const [groups, setGroups] = useState<ThemeGroup[] | null>(null)
  const [ranking, setRanking] = useState<FrictionEntry[]>([])
  const [briefFor, setBriefFor] = useState<ThemeGroup | null>(null)
  const figures = useCommand()
  const themes = useCommand()
  const t = ctx.team.id
  useEffect(() => {
    void figures.run(async () => setData(await getInsights(t, period.since, period.until)))
  }, [t, ctx.version, period.since, period.until])
  useEffect(() => {
    void themes.run(async () => {
      const view = await getThemes(t, period.since, period.until)
      setGroups(view.groups)
      // The themes answer carries the ranking of the same groups; ask for it only if not.
      const ranked = view.friction ?? (await getFriction(t, period.since, period.until))
      setRanking(Array.isArray(ranked) ? ranked : (ranked.friction ?? ranked.ranking ?? []))
    })
  }, [t, ctx.version, period.since, period.until])
  const reviews = data ? data.reviews : null
  return (
    <div class="insights">
      <div class="insights-top">
        <Section title="Insights" id="insights-head">
          <PeriodPicker period={period} onChange={setPeriod} />
          <p class="small" aria-live="polite" data-loading={figures.busy ? 'true' : 'false'}>
            {figures.busy ? 'Reading the figures…' : reviews === null ? '' : `${reviews} closed ${reviews === 1 ? 'review' : 'reviews'} in this period.`}
          </p>
          <ErrorText message={figures.error} />
        </Section>
        <QuarterlyReview ctx={ctx} period={period} reviews={reviews} />
      </div>
      {data && <Figures ctx={ctx} data={data} period={period} />}
      <ErrorText message={themes.error} />
      {briefFor ? (
        <BriefEditor ctx={ctx} group={briefFor} onClose={() => setBriefFor(null)} />
      ) : (
        groups && (
          <div class="team-grid">
            <ThemeGroups ctx={ctx} groups={groups} period={period} onBrief={setBriefFor} />
            <FrictionRanking ranking={ranking} />
          </div>
        )
      )}
    </div>
  )
}
