import { defineConfig } from "vitest/config";

// No React plugin: esbuild compiles TSX with the automatic JSX runtime, which is all the app needs.
export default defineConfig({
  esbuild: { jsx: "automatic" },
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 1024 },
  server: { proxy: { "/api": "http://127.0.0.1:7777" } },
  test: { environment: "jsdom", globals: true, include: ["src/**/*.test.tsx"] },
});
