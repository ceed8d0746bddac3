// Builds the browser client into dist/, which the homeserver serves at `/`
// (packages/server/src/http/web-client.ts). `npm run dev -w @parley/web`
// serves it with hot reload and passes the API and the stream on to a
// homeserver on 127.0.0.1:8008 (`npm start`), so the page and the API share
// one origin as they do in production.

import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // A chat client is one screen; one script and one stylesheet load fastest.
    chunkSizeWarningLimit: 1024,
  },
  server: {
    proxy: {
      "/_parley": { target: "http://127.0.0.1:8008", ws: true },
    },
  },
});
