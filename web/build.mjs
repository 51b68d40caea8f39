// Bundles src/app/main.tsx into dist/assets/app.js and copies the page and the styles.
// Everything the browser loads comes from this server: no CDN, no outside fonts.
import { build } from 'esbuild'
import { copyFile, mkdir, rm, stat } from 'node:fs/promises'

const dist = new URL('./dist/', import.meta.url)
const assets = new URL('./assets/', dist)

await rm(dist, { recursive: true, force: true })
await mkdir(assets, { recursive: true })
await build({
  entryPoints: ['src/app/main.tsx'],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'linked',
  outfile: 'dist/assets/app.js',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  logLevel: 'warning',
})
await copyFile(new URL('./index.html', import.meta.url), new URL('./index.html', dist))
await copyFile(new URL('./src/app/styles.css', import.meta.url), new URL('./app.css', assets))
await copyFile(new URL('./src/app/favicon.svg', import.meta.url), new URL('./favicon.svg', assets))
const { size } = await stat(new URL('./app.js', assets))
console.log(`web/dist/assets/app.js: ${(size / 1024).toFixed(1)} KiB`)
