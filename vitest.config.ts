import { defineConfig } from "vitest/config";

// Tests run against the TypeScript sources of every workspace: the "@lockfleet/source"
// export condition points each package at src/index.ts, so no build is needed first.
export default defineConfig({
  resolve: { conditions: ["@lockfleet/source", "node", "import", "default"] },
  ssr: { resolve: { conditions: ["@lockfleet/source", "node", "import", "default"] } },
  test: {
    include: ["*/test/**/*.test.ts"],
    environment: "node",
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
});
