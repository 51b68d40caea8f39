// Bundles src/app/main.tsx into dist/assets/app.js (+ chunks) and src/boot/boot.ts into
// dist/assets/boot.js, and copies the page and the styles.
// Everything the browser loads comes from this server: no CDN, no outside fonts.
//
// Code splitting (ESM): app.js holds what a meeting link needs (the review and its meeting
// view); the other pages and views, Chart.js and SortableJS are chunks fetched on first use.
// The chunks app.js imports statically are listed in index.html as modulepreload links,
// so the browser fetches and compiles them beside app.js instead of after it.
import { build } from 'esbuild'
import { copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'

const dist = new URL('./dist/', import.meta.url)
const assets = new URL('./assets/', dist)

await rm(dist, { recursive: true, force: true })
await mkdir(assets, { recursive: true })
const result = await build({
  entryPoints: { app: 'src/app/main.tsx' },
  bundle: true,
  splitting: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'linked',
  outdir: 'dist/assets',
  // Chunk names carry a content hash: the server lets browsers keep them (web.py).
  chunkNames: 'chunks/[name]-[hash]',
  metafile: true,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  logLevel: 'warning',
})

// boot.js: about a kilobyte that runs before app.js and starts a review's connections while
// the app's code is still on its way (src/boot/handoff.ts). A classic script in the head,
// so it runs as soon as it arrives, ahead of the module scripts (which wait for the parser).
await build({
  entryPoints: { boot: 'src/boot/boot.ts' },
  bundle: true,
  format: 'iife',
  target: 'es2022',
  minify: true,
  sourcemap: 'linked',
  outdir: 'dist/assets',
  logLevel: 'warning',
})

const outputs = result.metafile.outputs
const entry = outputs['dist/assets/app.js']
const staticImports = entry.imports.filter((i) => i.kind === 'import-statement')
const preloads = staticImports.map((i) => `    <link rel="modulepreload" href="/${i.path.replace(/^dist\//, '')}">`)
const page = (await readFile(new URL('./index.html', import.meta.url), 'utf8')).replace(
  '    <!-- modulepreload -->',
  preloads.join('\n'),
)
await writeFile(new URL('./index.html', dist), page)

// What a meeting link runs on load (app.js and the chunks it imports statically) asks V8 to
// compile every function at once, on the streaming parser's thread while the files arrive:
// otherwise each function is compiled on the main thread at its first call, and on a slow
// CPU that lazy compiling was about a third of the script time before the meeting showed
// (bench/README.md, "Web app load"). The hint must be the file's first line; the source map
// gets an empty first line to match. Chunks loaded later keep V8's lazy default.
const HINT = '//# allFunctionsCalledOnLoad\n'
const upFront = ['dist/assets/app.js', ...staticImports.map((i) => i.path)]
for (const path of upFront) {
  const file = new URL(`../${path}`, dist)
  await writeFile(file, HINT + (await readFile(file, 'utf8')))
  const mapFile = new URL(`../${path}.map`, dist)
  const map = JSON.parse(await readFile(mapFile, 'utf8'))
  map.mappings = ';' + map.mappings
  await writeFile(mapFile, JSON.stringify(map))
}
await copyFile(new URL('./src/app/styles.css', import.meta.url), new URL('./app.css', assets))
await copyFile(new URL('./src/app/favicon.svg', import.meta.url), new URL('./favicon.svg', assets))

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`
const { size } = await stat(new URL('./app.js', assets))
const first = staticImports.reduce((n, i) => n + outputs[i.path].bytes, size)
const js = Object.entries(outputs).filter(([p]) => p.endsWith('.js'))
console.log(`web/dist/assets/app.js: ${kib(size)}; loaded up front with its chunks: ${kib(first)}; all JS: ${kib(js.reduce((n, [, o]) => n + o.bytes, 0))} in ${js.length} files`)
