import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The function app serves the built files at /api/console/ (functions/http_console.py): same origin as the API,
// so App Service Authentication's browser sign-in covers both.
export default defineConfig({
  base: "/api/console/",
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 2048 },
});
