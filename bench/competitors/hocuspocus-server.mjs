// Minimal Hocuspocus server for the Debrief benchmarks: in-memory documents, any token accepted.
// Usage: HOST=127.0.0.1 PORT=1234 node hocuspocus-server.mjs
import { Server } from "@hocuspocus/server";

const server = new Server({
  address: process.env.HOST || "127.0.0.1",
  port: Number(process.env.PORT || 1234),
  quiet: true,
  // Idle clients in the capacity scenario send nothing; keep them connected for the whole run.
  timeout: 10 * 60 * 1000,
  async onAuthenticate() {
    return {};
  },
});

await server.listen();
console.log(`hocuspocus listening on ${server.webSocketURL}`);

const stop = async () => {
  await server.destroy();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
